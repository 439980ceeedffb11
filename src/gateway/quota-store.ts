/**
 * Quota counters in Redis (or Valkey), shared by every gateway replica. A reservation is one Lua
 * script, atomic on the server: it reads the day, month and minute counters and either refuses
 * (naming the first window the request would exceed) or adds the worst case to all of them, so
 * concurrent requests on any number of replicas can never together pass a Throttle limit. After
 * the call, a second script settles the day and month counters to the real usage (adds the
 * difference, never going below zero); a request that failed gives its reservation back.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { QuotaLimits, QuotaName, Windows } from './quota.js';

/** The store cannot be reached or did not answer in time. */
export class QuotaStoreUnavailable extends Error {
  override readonly name = 'QuotaStoreUnavailable';
}

/** A request over a limit. */
export interface QuotaRefusal {
  quota: QuotaName;
  /** The window's name, e.g. `2026-12-04`. */
  window: string;
  used: number;
  limit: number;
  reset: Date;
}

/** Tokens held for one request, to be settled once. */
export interface Reservation {
  keys: { day: string; month: string };
  reserved: number;
  /** Limits the request passed over under `Alert` (it went through and was counted). */
  alerts: QuotaName[];
}

/** The outcome of a reservation. */
export type ReserveResult = { ok: true; reservation: Reservation } | { ok: false; refusal: QuotaRefusal };

/** What the gateway needs from a counter store. */
export interface QuotaStore {
  reserve(windows: Windows, limits: QuotaLimits, tokens: number): Promise<ReserveResult>;
  settle(r: Reservation, actualTokens: number): Promise<void>;
  /** Tokens counted so far in a window key (for tests and status). */
  used(key: string): Promise<number>;
  close(): Promise<void>;
}

// KEYS: day, month, minute. ARGV: tokens, dayLimit, monthLimit, rpmLimit (-1: none), dayTtl,
// monthTtl, minuteTtl, enforce (1: Throttle, 0: Alert). Returns {ok, overIndex..., used...}:
// over is a bit set (1 day, 2 month, 4 minute) of the limits the request passes.
const RESERVE = `
local tokens = tonumber(ARGV[1])
local day = tonumber(redis.call('GET', KEYS[1]) or '0')
local month = tonumber(redis.call('GET', KEYS[2]) or '0')
local minute = tonumber(redis.call('GET', KEYS[3]) or '0')
local over = 0
if tonumber(ARGV[4]) >= 0 and minute + 1 > tonumber(ARGV[4]) then over = over + 4 end
if tonumber(ARGV[2]) >= 0 and day + tokens > tonumber(ARGV[2]) then over = over + 1 end
if tonumber(ARGV[3]) >= 0 and month + tokens > tonumber(ARGV[3]) then over = over + 2 end
if over > 0 and ARGV[8] == '1' then return {0, over, day, month, minute} end
redis.call('INCRBY', KEYS[1], tokens)
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('INCRBY', KEYS[2], tokens)
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[7])
return {1, over, day, month, minute}
`;

// KEYS: day, month. ARGV: delta (real minus reserved). Never below zero; keeps the expiry.
const SETTLE = `
for i = 1, 2 do
  local v = redis.call('INCRBY', KEYS[i], ARGV[1])
  if v < 0 then redis.call('SET', KEYS[i], 0, 'KEEPTTL') end
end
return 1
`;

type ScriptReply = [number, number, number, number, number];
interface WithScripts {
  reserveTokens(k1: string, k2: string, k3: string, ...args: (string | number)[]): Promise<ScriptReply>;
  settleTokens(k1: string, k2: string, delta: number): Promise<number>;
}

const ORDER: [number, QuotaName][] = [
  [4, 'requestsPerMinute'],
  [1, 'tokensPerDay'],
  [2, 'tokensPerMonth'],
];

/** Settings of the Redis connection. */
export interface RedisQuotaOptions {
  /** `redis://` or `rediss://` (TLS) URL. */
  url: string;
  password?: string;
  /** Milliseconds a command may take before the store counts as unavailable. */
  commandTimeoutMs?: number;
}

/** The Redis-backed store. Commands fail fast while disconnected (no offline queue). */
export class RedisQuotaStore implements QuotaStore {
  private readonly redis: Redis;

  constructor(o: RedisQuotaOptions) {
    const opts: RedisOptions = {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: o.commandTimeoutMs ?? 500,
      connectTimeout: 2000,
      retryStrategy: (n) => Math.min(100 * 2 ** Math.min(n, 6), 2000),
      ...(o.password ? { password: o.password } : {}),
    };
    this.redis = new Redis(o.url, opts);
    // Errors surface on the commands; the connection's own events would otherwise be unhandled.
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('reserveTokens', { numberOfKeys: 3, lua: RESERVE });
    this.redis.defineCommand('settleTokens', { numberOfKeys: 2, lua: SETTLE });
  }

  /**
   * Waits until the connection is up, at most `timeoutMs`; false when it is not (the store keeps
   * trying, and model calls get 503 until it connects).
   */
  async connect(timeoutMs = 5000): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.redis.off('ready', onReady);
        resolve(ok);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.redis.on('ready', onReady);
    });
  }

  /** Whether the connection is up (for /readyz detail and metrics). */
  connected(): boolean {
    return this.redis.status === 'ready';
  }

  async reserve(w: Windows, limits: QuotaLimits, tokens: number): Promise<ReserveResult> {
    const lim = (n: number | undefined): number => (n === undefined ? -1 : n);
    const r = await this.call(() =>
      (this.redis as unknown as WithScripts).reserveTokens(
        w.keys.day,
        w.keys.month,
        w.keys.minute,
        tokens,
        lim(limits.tokensPerDay),
        lim(limits.tokensPerMonth),
        lim(limits.requestsPerMinute),
        w.ttls.day,
        w.ttls.month,
        w.ttls.minute,
        limits.onExceeded === 'Throttle' ? '1' : '0',
      ),
    );
    const [ok, over, day, month, minute] = r;
    const passed = ORDER.filter(([bit]) => (over & bit) !== 0).map(([, name]) => name);
    if (ok === 1) return { ok: true, reservation: { keys: { day: w.keys.day, month: w.keys.month }, reserved: tokens, alerts: passed } };
    const quota = passed[0] ?? 'tokensPerDay';
    const detail = {
      requestsPerMinute: { window: w.names.minute, used: minute, limit: lim(limits.requestsPerMinute), reset: w.resets.minute },
      tokensPerDay: { window: w.names.day, used: day, limit: lim(limits.tokensPerDay), reset: w.resets.day },
      tokensPerMonth: { window: w.names.month, used: month, limit: lim(limits.tokensPerMonth), reset: w.resets.month },
    }[quota];
    return { ok: false, refusal: { quota, ...detail } };
  }

  async settle(r: Reservation, actualTokens: number): Promise<void> {
    const delta = actualTokens - r.reserved;
    if (delta === 0) return;
    await this.call(() => (this.redis as unknown as WithScripts).settleTokens(r.keys.day, r.keys.month, delta));
  }

  async used(key: string): Promise<number> {
    return Number((await this.call(() => this.redis.get(key))) ?? 0);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await Promise.resolve();
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw new QuotaStoreUnavailable(`quota store: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}
