import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { KeyedBackoff, TokenBucket } from './ratelimit.js';

describe('KeyedBackoff', () => {
  it.each([
    { name: 'first failure waits the base', failures: 1, want: 100 },
    { name: 'doubles on each failure', failures: 4, want: 800 },
    { name: 'is capped at the maximum', failures: 20, want: 5000 },
  ])('$name', ({ failures, want }) => {
    const b = new KeyedBackoff(100, 5000, 0);
    let last = 0;
    for (let i = 0; i < failures; i++) last = b.next('k');
    expect(last).toBe(want);
  });

  it('keeps keys apart and forgets on success', () => {
    const b = new KeyedBackoff(100, 5000, 0);
    b.next('a');
    b.next('a');
    expect(b.next('b')).toBe(100);
    b.forget('a');
    expect(b.attempts('a')).toBe(0);
    expect(b.next('a')).toBe(100);
  });

  it.each([
    { name: 'low jitter bound', random: 0, want: 90 },
    { name: 'high jitter bound', random: 0.999999, want: 110 },
  ])('jitter stays within +/-10%: $name', ({ random, want }) => {
    expect(new KeyedBackoff(100, 5000, 0.1, () => random).next('k')).toBe(want);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then spaces requests at the rate', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(2, 3, clock);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 0]);
    expect(bucket.reserve()).toBe(500);
    expect(bucket.reserve()).toBe(1000);
  });

  it('refills over time but never beyond the burst', () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1, 2, clock);
    bucket.reserve();
    bucket.reserve();
    clock.advance(60_000);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 1000]);
  });

  it('take waits for the booked token', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(0.1, 1, clock);
    await bucket.take();
    let done = false;
    const p = bucket.take().then(() => {
      done = true;
    });
    clock.advance(9_999);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await p;
    expect(done).toBe(true);
  });

  it('rejects a nonsensical configuration', () => {
    expect(() => new TokenBucket(0, 1, new ManualClock())).toThrow(RangeError);
  });
});
