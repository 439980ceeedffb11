/**
 * The latest token readings per inference profile: written by the usage poller, read by the
 * ModelAccess reconciler. In memory only; after a restart the first poll fills it again.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ProfileReading } from './queries.js';
import { dayKey, monthKey } from './windows.js';

/** A reading and when it was taken. */
export interface StoredReading extends ProfileReading {
  readAt: Date;
}

/** Tokens of the current UTC day and month, zero for a window the reading does not cover. */
export interface CurrentTokens extends ProfileReading {
  /** When the numbers were read; undefined when nothing was read yet. */
  readAt?: Date;
}

/** Readings by profile ARN. */
export class UsageBook {
  private readonly readings = new Map<string, StoredReading>();

  /** The latest reading of a profile. */
  get(profileArn: string): StoredReading | undefined {
    return this.readings.get(profileArn);
  }

  /** Stores a reading (token counts rounded to whole tokens); true when its numbers changed. */
  set(profileArn: string, reading: ProfileReading, readAt: Date): boolean {
    const rounded: ProfileReading = {
      month: reading.month,
      day: reading.day,
      monthInput: Math.round(reading.monthInput),
      monthOutput: Math.round(reading.monthOutput),
      dayInput: Math.round(reading.dayInput),
      dayOutput: Math.round(reading.dayOutput),
    };
    const before = this.readings.get(profileArn);
    this.readings.set(profileArn, { ...rounded, readAt });
    if (!before) return true;
    const { readAt: _ignored, ...numbers } = before;
    return !isDeepStrictEqual(numbers, rounded);
  }

  /** Forgets profiles no longer polled. */
  retain(profileArns: ReadonlySet<string>): void {
    for (const arn of [...this.readings.keys()]) if (!profileArns.has(arn)) this.readings.delete(arn);
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
