/**
 * The gateway counter poller: every interval (seconds, not CloudWatch's minutes) it reads the
 * tenant gateway's day and month counters of every granted ModelAccess in one Redis round trip,
 * stores them in the UsageBook and hands the keys whose numbers changed to `onChanged` (the work
 * queue), so status shows what the gateway served and the quota conditions follow it within a
 * pass. Run it on the leader only, next to the CloudWatch poller (which owns it).
 */
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.js';
import type { UsageBook } from './book.js';
import { type GatewayCounters, RedisGatewayCounters, readGatewayTokens } from './gateway-counters.js';
import { Repeating } from './repeat.js';
import { type UsageTarget, byProfile } from './targets.js';

/** Where the gateway's counters are and how often to read them. */
export interface GatewayCounterSource {
  counters: GatewayCounters;
  /** The gateway's key prefix (GATEWAY_REDIS_KEY_PREFIX). */
  prefix: string;
  intervalMs: number;
}

/** The operator's gatewayRedis setting, as the config file spells it. */
export interface GatewayRedisSettings {
  url: string;
  timeoutMs: number;
  keyPrefix: string;
  pollSeconds: number;
}

/** The gateway's counters in Redis per the settings; undefined when the gateway's Redis is not configured. */
export function gatewayCounterSource(s: GatewayRedisSettings | undefined, password?: string): GatewayCounterSource | undefined {
  if (!s) return undefined;
  return {
    counters: new RedisGatewayCounters({ url: s.url, timeoutMs: s.timeoutMs, ...(password ? { password } : {}) }),
    prefix: s.keyPrefix,
    intervalMs: s.pollSeconds * 1000,
  };
}

/** Options of the gateway counter poller. */
export interface GatewayPollerOptions extends GatewayCounterSource {
  clock: Clock;
  logger: Logger;
  targets: () => UsageTarget[];
  book: UsageBook;
  onChanged: (keys: string[]) => void;
}

/** What one poll did. */
export interface GatewayPollReport {
  profiles: number;
  changed: string[];
}

/** The poller; see the module comment. */
export class GatewayCounterPoller {
  private readonly repeat: Repeating;

  constructor(private readonly o: GatewayPollerOptions) {
    this.repeat = new Repeating(o.clock, o.intervalMs, () => this.pollOnce(), o.logger, 'gateway counter poll');
  }

  start(): void {
    this.repeat.start();
  }

  /** Stops the schedule and lets go of the Redis connection. */
  async stop(): Promise<void> {
    await this.repeat.stop();
    await this.o.counters.close();
  }

  /** Reads every target's counters once; a failed read keeps the previous readings. */
  async pollOnce(): Promise<GatewayPollReport> {
    const now = new Date(this.o.clock.now());
    const { keys, owners } = byProfile(this.o.targets());
    this.o.book.retain(new Set(keys.keys()));
    const readings = await readGatewayTokens(this.o.counters, this.o.prefix, owners, now, () => new Date(this.o.clock.now()));
    const changed: string[] = [];
    for (const [arn, reading] of readings) if (this.o.book.setGateway(arn, reading)) changed.push(...(keys.get(arn) ?? []));
    this.o.logger.debug({ profiles: owners.size, changed: changed.length }, 'gateway counters read');
    if (changed.length > 0) this.o.onChanged(changed);
    return { profiles: owners.size, changed };
  }
}
