/**
 * The latest token readings per inference profile: CloudWatch's (written by the usage poller) and,
 * when the operator reads the tenant gateway's counters, the gateway's (written by the gateway
 * counter poller); read by the ModelAccess reconciler. In memory only; after a restart the first
 * polls fill it again.
 */
import { isDeepStrictEqual } from 'node:util';
import type { GatewayReading } from './gateway-counters.js';
import type { ProfileReading } from './queries.js';
import { dayKey, monthKey } from './windows.js';

/** A CloudWatch reading and when it was taken. */
export interface StoredReading extends ProfileReading {
  readAt: Date;
  /**
   * The gateway's counters read right after CloudWatch answered: an upper bound of the gateway's
   * tokens this reading can contain (see counted.ts). Absent without the gateway, or when they
   * could not be read.
   */
  gatewayAtRead?: GatewayReading;
}

/** Tokens of the current UTC day and month, zero for a window the reading does not cover. */
export interface CurrentTokens extends ProfileReading {
  /** When the numbers were read; undefined when nothing was read yet. */
  readAt?: Date;
}

/** The gateway's tokens of the current UTC day and month, zero for a window the reading does not cover. */
export interface CurrentGatewayTokens {
  dayTokens: number;
  monthTokens: number;
  readAt: Date;
}

const numbersOf = (r: GatewayReading | undefined): unknown => r && { ...r, readAt: undefined };

/** Readings by profile ARN. */
export class UsageBook {
  private readonly readings = new Map<string, StoredReading>();
  private readonly gateway = new Map<string, GatewayReading>();

  /** The latest CloudWatch reading of a profile. */
  get(profileArn: string): StoredReading | undefined {
    return this.readings.get(profileArn);
  }

  /** The latest reading of the gateway's counters of a profile's tenant and model. */
  getGateway(profileArn: string): GatewayReading | undefined {
    return this.gateway.get(profileArn);
  }

  /**
   * Stores a CloudWatch reading (token counts rounded to whole tokens) with the gateway's counters
   * read right after it; true when its numbers changed.
   */
  set(profileArn: string, reading: ProfileReading, readAt: Date, gatewayAtRead?: GatewayReading): boolean {
    const rounded: ProfileReading = {
      month: reading.month,
      day: reading.day,
      monthInput: Math.round(reading.monthInput),
      monthOutput: Math.round(reading.monthOutput),
      dayInput: Math.round(reading.dayInput),
      dayOutput: Math.round(reading.dayOutput),
    };
    const before = this.readings.get(profileArn);
    this.readings.set(profileArn, { ...rounded, readAt, ...(gatewayAtRead ? { gatewayAtRead } : {}) });
    if (!before) return true;
    const { readAt: _ignored, gatewayAtRead: seenBefore, ...numbers } = before;
    return !isDeepStrictEqual(numbers, rounded) || !isDeepStrictEqual(numbersOf(seenBefore), numbersOf(gatewayAtRead));
  }

  /** Stores a reading of the gateway's counters unless an as recent one is stored; true when its numbers changed. */
  setGateway(profileArn: string, reading: GatewayReading): boolean {
    const before = this.gateway.get(profileArn);
    if (before && before.readAt.getTime() > reading.readAt.getTime()) return false;
    this.gateway.set(profileArn, reading);
    return !isDeepStrictEqual(numbersOf(before), numbersOf(reading));
  }

  /** Forgets profiles no longer polled. */
  retain(profileArns: ReadonlySet<string>): void {
    for (const map of [this.readings, this.gateway]) for (const arn of [...map.keys()]) if (!profileArns.has(arn)) map.delete(arn);
  }
}

/**
 * The tokens that count at `now`: a reading from an earlier UTC day contributes nothing to today,
 * and one from an earlier month nothing at all, so quotas reset on the boundary without waiting
 * for the next poll.
 */
export function currentTokens(reading: StoredReading | undefined, now: Date): CurrentTokens {
  const month = monthKey(now);
  const day = dayKey(now);
  const zero: CurrentTokens = { month, day, monthInput: 0, monthOutput: 0, dayInput: 0, dayOutput: 0 };
  if (!reading || reading.month !== month) return reading ? { ...zero, readAt: reading.readAt } : zero;
  const sameDay = reading.day === day;
  return {
    month,
    day,
    monthInput: reading.monthInput,
    monthOutput: reading.monthOutput,
    dayInput: sameDay ? reading.dayInput : 0,
    dayOutput: sameDay ? reading.dayOutput : 0,
    readAt: reading.readAt,
  };
}

/** The gateway's tokens that count at `now`, windowed like {@link currentTokens}. */
export function currentGatewayTokens(reading: GatewayReading, now: Date): CurrentGatewayTokens {
  const sameMonth = reading.month === monthKey(now);
  return {
    monthTokens: sameMonth ? reading.monthTokens : 0,
    dayTokens: sameMonth && reading.day === dayKey(now) ? reading.dayTokens : 0,
    readAt: reading.readAt,
  };
}
