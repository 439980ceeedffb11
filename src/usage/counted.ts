/**
 * Usage counted once from two sources that overlap. CloudWatch sees every call (through the tenant
 * gateway or not) but a minute or more late; the gateway's Redis counters see only the calls it
 * served, at once. Adding them would count every gateway call twice once CloudWatch catches up;
 * taking the larger would drop calls that bypassed the gateway whenever the gateway is ahead.
 *
 * The count used here: the gateway's counter now, plus what CloudWatch saw beyond the gateway's
 * counter read right after that CloudWatch reading,
 *
 *     counted = gatewayNow + max(0, cloudWatch − gatewayAtCloudWatchRead)
 *
 * A CloudWatch reading can only contain gateway calls that had finished (and so were settled in
 * Redis) when it was taken, so `gatewayAtCloudWatchRead` is at least the gateway's share of it and
 * the difference is at most the tokens of calls that bypassed the gateway: no token is counted
 * twice, and `counted` never exceeds the real use (but for a call in flight, which the gateway
 * counts at its reservation until it settles). With every call through the gateway it is exactly
 * the gateway's real-time count; without the gateway it is CloudWatch's. Calls that bypassed the
 * gateway show once CloudWatch publishes them, as they did before.
 *
 * Without a gateway reading taken after the CloudWatch reading, the gateway's latest counter stands
 * in, which makes the count max(cloudWatch, gatewayNow): smaller, still never double.
 */
import { type CurrentGatewayTokens, type CurrentTokens, type StoredReading, currentGatewayTokens, currentTokens } from './book.js';
import type { GatewayReading } from './gateway-counters.js';

/** One window's tokens, counted once from the gateway's counter and CloudWatch. */
export function countOnce(cloudWatch: number, gatewayNow: number, gatewayAtCloudWatchRead: number): number {
  return gatewayNow + Math.max(0, cloudWatch - gatewayAtCloudWatchRead);
}

/** The source quota decisions follow: the gateway's counters when the operator reads them, else CloudWatch. */
export type UsageSource = 'Gateway' | 'CloudWatch';

/** What each source says of the current windows, and the tokens counted once. */
export interface CountedTokens {
  /** CloudWatch's reading, split into input and output (the only source that splits them). */
  cloudWatch: CurrentTokens;
  /** The gateway's counters now; absent when the operator does not read them (or has not yet). */
  gateway?: CurrentGatewayTokens;
  /** Tokens this UTC day and month, each counted once: what quotas measure. */
  dayTokens: number;
  monthTokens: number;
  source: UsageSource;
}

/** The newer of two gateway readings. */
function newest(a: GatewayReading | undefined, b: GatewayReading | undefined): GatewayReading | undefined {
  if (!a || !b) return a ?? b;
  return b.readAt.getTime() > a.readAt.getTime() ? b : a;
}

/** Counts the tokens of one profile at `now` from the stored CloudWatch and gateway readings. */
export function countedTokens(stored: StoredReading | undefined, gatewayReading: GatewayReading | undefined, now: Date): CountedTokens {
  const cloudWatch = currentTokens(stored, now);
  const latest = newest(gatewayReading, stored?.gatewayAtRead);
  const cwDay = cloudWatch.dayInput + cloudWatch.dayOutput;
  const cwMonth = cloudWatch.monthInput + cloudWatch.monthOutput;
  if (!latest) return { cloudWatch, dayTokens: cwDay, monthTokens: cwMonth, source: 'CloudWatch' };
  const gateway = currentGatewayTokens(latest, now);
  // The snapshot shares the CloudWatch reading's windows; a stale window is zero in both.
  const seen = stored?.gatewayAtRead ? currentGatewayTokens(stored.gatewayAtRead, now) : gateway;
  return {
    cloudWatch,
    gateway,
    dayTokens: countOnce(cwDay, gateway.dayTokens, seen.dayTokens),
    monthTokens: countOnce(cwMonth, gateway.monthTokens, seen.monthTokens),
    source: 'Gateway',
  };
}
