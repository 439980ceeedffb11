import { describe, expect, it } from 'vitest';
import { pollDelay } from './poll.js';

describe('pollDelay', () => {
  it('looks again at half the age in transition, between 1 s and the cap', () => {
    const now = 1_000_000;
    expect(pollDelay(now - 500, 15_000, now)).toBe(1_000);
    expect(pollDelay(now - 6_000, 15_000, now)).toBe(3_000);
    expect(pollDelay(new Date(now - 120_000), 15_000, now)).toBe(15_000);
    expect(pollDelay(undefined, 10_000, now)).toBe(10_000);
    expect(pollDelay(Number.NaN, 10_000, now)).toBe(10_000);
  });
});
