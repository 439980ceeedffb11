import { describe, expect, it } from 'vitest';
import type { CallPriority } from './call-priority.js';
import { ManualClock } from './clock.js';
import { PriorityLanes, PriorityTokenBucket } from './priority-bucket.js';

/** Lets the callers whose tokens were handed out run their continuations. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** A bucket with callers queued by name; `served` lists their names in the order they got a token. */
function harness(ratePerSec: number, burst: number) {
  const clock = new ManualClock();
  const bucket = new PriorityTokenBucket(ratePerSec, burst, clock);
  const served: { name: string; at: number }[] = [];
  const call = (name: string, priority: CallPriority, signal?: AbortSignal): Promise<void> =>
    bucket.take(priority, signal).then(() => void served.push({ name, at: clock.now() }));
  /** Advances the clock a token at a time until every caller is served. */
  const drain = async (): Promise<void> => {
    for (let i = 0; i < 10_000 && bucket.waiting() > 0; i++) {
      clock.advance(1000 / ratePerSec);
      await settle();
    }
    await settle();
  };
  /** Advances `ms` a millisecond at a time, so each caller's time is when it got its token. */
  const step = async (ms: number): Promise<void> => {
    for (let i = 0; i < ms; i++) {
      clock.advance(1);
      await settle();
    }
  };
  return { clock, bucket, served, call, drain, step, names: () => served.map((s) => s.name) };
}

describe('PriorityTokenBucket', () => {
  it('hands out the burst at once, then one token per interval, first come first served within a priority', async () => {
    const h = harness(10, 2);
    for (const name of ['a', 'b', 'c', 'd']) void h.call(name, 'low');
    await settle();
    expect(h.names()).toEqual(['a', 'b']);
    await h.drain();
    expect(h.names()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('serves a high-priority call issued after many low-priority ones first, when the bucket is saturated', async () => {
    const h = harness(10, 1);
    void h.call('first', 'low');
    await settle();
    for (let i = 0; i < 8; i++) void h.call(`low${i}`, 'low');
    void h.call('high', 'high');
    await h.drain();
    expect(h.names().slice(0, 2)).toEqual(['first', 'high']);
    expect(h.names().slice(2)).toEqual(['low0', 'low1', 'low2', 'low3', 'low4', 'low5', 'low6', 'low7']);
  });

  it('a high-priority call overtakes low ones already waiting, which keep their order among themselves', async () => {
    const h = harness(10, 1);
    void h.call('first', 'low');
    void h.call('low0', 'low');
    void h.call('low1', 'low');
    await settle();
    h.clock.advance(100);
    await settle();
    void h.call('high0', 'high');
    void h.call('high1', 'high');
    await h.drain();
    expect(h.names()).toEqual(['first', 'low0', 'high0', 'high1', 'low1']);
  });

  it('low priority keeps a share under a steady stream of high-priority calls: one low after every three highs', async () => {
    const h = harness(10, 1);
    void h.call('first', 'high');
    await settle();
    for (let i = 0; i < 3; i++) void h.call(`low${i}`, 'low');
    for (let i = 0; i < 12; i++) void h.call(`high${i}`, 'high');
    await h.drain();
    const lows = h.names().flatMap((n, i) => (n.startsWith('low') ? [i] : []));
    expect(lows).toEqual([4, 8, 12]);
    expect(h.names()).toHaveLength(16);
  });

  it('never exceeds its rate, whatever the mix of priorities and arrival times', async () => {
    const rate = 5;
    const burst = 3;
    const h = harness(rate, burst);
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 200; i++) {
      void h.call(`c${i}`, random() < 0.3 ? 'high' : 'low');
      await h.step(Math.floor(random() * 300));
    }
    while (h.bucket.waiting() > 0) await h.step(1000);
    await settle();
    expect(h.served).toHaveLength(200);
    // In any window of w ms no more than the burst plus what refills in it.
    const times = h.served.map((s) => s.at);
    for (const [i, start] of times.entries())
      for (const w of [0, 100, 1000, 10_000]) {
        const inWindow = times.slice(i).filter((t) => t <= start + w).length;
        expect(inWindow).toBeLessThanOrEqual(burst + Math.floor((w / 1000) * rate));
      }
  });

  it('an aborted wait leaves the queue without a token, and the next caller gets it', async () => {
    const h = harness(10, 1);
    void h.call('first', 'low');
    const abort = new AbortController();
    const aborted = h.bucket.take('high', abort.signal);
    void h.call('next', 'low');
    abort.abort();
    expect(await aborted).toBe(true);
    expect(h.bucket.waiting()).toBe(1);
    h.clock.advance(100);
    await settle();
    expect(h.names()).toEqual(['first', 'next']);
  });

  it('says whether the caller had to wait', async () => {
    const clock = new ManualClock();
    const bucket = new PriorityTokenBucket(1, 1, clock);
    expect(await bucket.take('low')).toBe(false);
    const second = bucket.take('low');
    clock.advance(1000);
    expect(await second).toBe(true);
  });

  it('rejects a nonsensical configuration', () => {
    expect(() => new PriorityTokenBucket(0, 1, new ManualClock())).toThrow(RangeError);
    expect(() => new PriorityTokenBucket(1, 1, new ManualClock(), 0)).toThrow(RangeError);
  });
});

describe('PriorityLanes', () => {
  it('takes high first, a low after every three highs while both wait, and low first when told', () => {
    const lanes = new PriorityLanes<string>();
    for (const x of ['l0', 'l1', 'l2']) lanes.push(x, 'low');
    for (const x of ['h0', 'h1', 'h2', 'h3', 'h4']) lanes.push(x, 'high');
    const taken = [lanes.shift(), lanes.shift(), lanes.shift(), lanes.shift(), lanes.shift(true), lanes.shift()];
    expect(taken).toEqual(['h0', 'h1', 'h2', 'l0', 'l1', 'h3']);
    expect(lanes.size()).toBe(2);
    expect(lanes.size('low')).toBe(1);
  });

  it("takes continuing items before other high ones, counting them as high for low's share", () => {
    const lanes = new PriorityLanes<string>();
    lanes.push('l0', 'low');
    lanes.push('h0', 'high');
    for (const x of ['c0', 'c1', 'c2']) lanes.push(x, 'continuing');
    expect([lanes.shift(), lanes.shift(), lanes.shift(), lanes.shift(), lanes.shift()]).toEqual(['c0', 'c1', 'c2', 'l0', 'h0']);
  });

  it('takes an item out of whichever lane holds it', () => {
    const lanes = new PriorityLanes<string>();
    lanes.push('a', 'low');
    lanes.push('b', 'high');
    expect(lanes.remove('a')).toBe(true);
    expect(lanes.remove('a')).toBe(false);
    expect(lanes.shift()).toBe('b');
    expect(lanes.shift()).toBeUndefined();
  });
});
