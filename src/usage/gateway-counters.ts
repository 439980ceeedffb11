/**
 * The operator's read-only view of the tenant gateway's quota counters in Redis: the tokens the
 * gateway has counted for each tenant and model in the current UTC day and month, under the keys
 * the gateway itself writes (core/quota-counters). One MGET per poll reads every ModelAccess; the
 * operator never writes a counter (the gateway's reservations and settles are its alone).
 */
import type { Redis } from 'ioredis';
import { quotaCounterKey } from '../core/quota-counters.js';
import { dayKey, monthKey } from './windows.js';

/** Reads counters by key; a key that does not exist counts 0. */
export interface GatewayCounters {
  read(keys: readonly string[]): Promise<number[]>;
  /** Lets go of the connection; a later read connects again. */
  close(): Promise<void>;
}

/** What the gateway counted for one tenant and model, and when it was read. */
export interface GatewayReading {
  /** The UTC month and day the numbers belong to, e.g. `2026-11` and `2026-11-05`. */
  month: string;
  day: string;
  monthTokens: number;
  dayTokens: number;
  readAt: Date;
}

/** Who the gateway counts a ModelAccess's tokens under: the tenant's name and spec.model. */
export interface CounterOwner {
  tenant: string;
  model: string;
}

/**
 * Reads the day and month counters of `owners` (by profile ARN) for the windows `now` falls in, in
 * one call; the readings carry `readAt`, when the answer came back.
 */
export async function readGatewayTokens(
  counters: GatewayCounters,
  prefix: string,
  owners: ReadonlyMap<string, CounterOwner>,
  now: Date,
  clock: () => Date,
): Promise<Map<string, GatewayReading>> {
  const month = monthKey(now);
  const day = dayKey(now);
  const arns = [...owners.keys()];
  const keys = arns.flatMap((arn) => {
    const o = owners.get(arn) as CounterOwner;
    return [quotaCounterKey(prefix, o.tenant, o.model, 'day', day), quotaCounterKey(prefix, o.tenant, o.model, 'month', month)];
  });
  const values = keys.length === 0 ? [] : await counters.read(keys);
  const readAt = clock();
  return new Map(arns.map((arn, i) => [arn, { month, day, dayTokens: values[2 * i] ?? 0, monthTokens: values[2 * i + 1] ?? 0, readAt }]));
}

/** Settings of the Redis connection (the operator's gatewayRedis setting). */
export interface RedisCounterOptions {
  /** `redis://` or `rediss://` (TLS). */
  url: string;
  password?: string;
  /** Milliseconds a command may take. */
  timeoutMs: number;
}

/** Keys per MGET: large enough for one call per poll in most clusters, small enough not to block Redis. */
const KEYS_PER_CALL = 2000;

/** The longest a read waits for the connection (TLS and AUTH included) before it fails. */
const CONNECT_WAIT_MS = 2000;

/** The Redis-backed reader: connects on the first read, fails fast while Redis is unreachable. */
export class RedisGatewayCounters implements GatewayCounters {
  private redis: Promise<Redis> | undefined;

  constructor(private readonly o: RedisCounterOptions) {}

  async read(keys: readonly string[]): Promise<number[]> {
    const redis = await this.connected();
    const out: number[] = [];
    for (let i = 0; i < keys.length; i += KEYS_PER_CALL) {
      const values = await redis.mget(...keys.slice(i, i + KEYS_PER_CALL));
      // The gateway's settle never goes below zero; anything unparseable counts as nothing.
      out.push(...values.map((v) => Math.max(0, Number(v ?? 0) || 0)));
    }
    return out;
  }

  async close(): Promise<void> {
    const r = this.redis;
    this.redis = undefined;
    (await r)?.disconnect();
  }

  /** The connection, once ready; throws when it is not ready within the timeout. */
  private async connected(): Promise<Redis> {
    this.redis ??= this.open().catch((e: unknown) => {
      // A URL the client refuses: tried again on the next read, as before it was loaded lazily.
      this.redis = undefined;
      throw e;
    });
    const redis = await this.redis;
    if (redis.status === 'ready') return redis;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        redis.off('ready', onReady);
        if (err) reject(err);
        else resolve();
      };
      const onReady = (): void => done();
      const waitMs = Math.max(this.o.timeoutMs, CONNECT_WAIT_MS);
      const timer = setTimeout(() => done(new Error(`gateway counters: Redis not reachable within ${waitMs} ms`)), waitMs);
      redis.on('ready', onReady);
    });
    return redis;
  }

  private async open(): Promise<Redis> {
    // Loaded only when gatewayRedis is set: the client is 4.5 MiB of an operator's peak RSS
    // (docs/performance.md, "Memory").
    const { Redis: RedisClient } = await import('ioredis');
    const redis = new RedisClient(this.o.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.o.timeoutMs,
      connectTimeout: CONNECT_WAIT_MS,
      retryStrategy: (n) => Math.min(100 * 2 ** Math.min(n, 6), 5000),
      ...(this.o.password ? { password: this.o.password } : {}),
    });
    // Errors surface on the reads; the connection's own events would otherwise be unhandled.
    redis.on('error', () => undefined);
    return redis;
  }
}
