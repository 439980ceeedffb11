import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';
import { KeyedBackoff } from './ratelimit.js';
import { WorkQueue } from './workqueue.js';

function queue(clock = new ManualClock()): { q: WorkQueue; clock: ManualClock } {
  return { q: new WorkQueue({ clock, backoff: new KeyedBackoff(100, 10_000, 0), retryRatePerSec: 10, retryBurst: 100 }), clock };
}

describe('WorkQueue', () => {
  it('collapses repeated adds of a key into one entry', async () => {
    const { q } = queue();
    q.add('a');
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.depth()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('never hands out a key that is in flight; it comes back once done', async () => {
    const { q } = queue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    expect(q.depth()).toBe(0);
    q.done(key ?? '');
    expect(q.depth()).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('is fair: a key re-added while in flight goes behind keys already waiting', async () => {
    const { q } = queue();
    q.add('hot');
    q.add('b');
    q.add('c');
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const k = await q.get();
      if (k === undefined) break;
      order.push(k);
      if (k === 'hot') q.add('hot');
      q.done(k);
      if (q.depth() === 0) break;
    }
    expect(order.slice(0, 4)).toEqual(['hot', 'b', 'c', 'hot']);
  });

  it('delivers delayed keys when their time comes, earliest time winning', async () => {
    const { q, clock } = queue();
    q.addAfter('a', 1000);
    q.addAfter('a', 500);
    q.addAfter('a', 2000);
    clock.advance(499);
    expect(q.depth()).toBe(0);
    clock.advance(1);
    expect(q.depth()).toBe(1);
    expect(await q.get()).toBe('a');
    expect(q.delayedCount()).toBe(0);
  });

  it('backs off per key exponentially and forgets on success', () => {
    const { q } = queue();
    expect([q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')]).toEqual([100, 200, 400]);
    expect(q.addRateLimited('b')).toBe(100);
    q.forget('a');
    expect(q.addRateLimited('a')).toBe(100);
  });

  it('caps retries of all keys together with the token bucket', () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, backoff: new KeyedBackoff(1, 10_000, 0), retryRatePerSec: 1, retryBurst: 2 });
    const delays = ['a', 'b', 'c', 'd'].map((k) => q.addRateLimited(k));
    expect(delays).toEqual([1, 1, 1000, 2000]);
  });

  it('hands a key straight to a waiting worker', async () => {
    const { q } = queue();
    const pending = q.get();
    q.add('x');
    expect(await pending).toBe('x');
    expect(q.inFlight()).toBe(1);
  });

  it('shutdown wakes idle workers and waits for in-flight keys', async () => {
    const { q } = queue();
    q.add('a');
    const key = await q.get();
    const idle = q.get();
    let drained = false;
    const shut = q.shutDown().then(() => {
      drained = true;
    });
    expect(await idle).toBeUndefined();
    await Promise.resolve();
    expect(drained).toBe(false);
    q.done(key ?? '');
    await shut;
    expect(drained).toBe(true);
    q.add('late');
    expect(q.depth()).toBe(0);
  });
});
