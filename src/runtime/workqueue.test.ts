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

describe('WorkQueue priorities', () => {
  /** A queue whose keys named `high*` are high priority, as a dedicated tenant's are. */
  function prioritized(clock = new ManualClock()): { q: WorkQueue; clock: ManualClock } {
    const q = new WorkQueue({
      clock,
      backoff: new KeyedBackoff(100, 10_000, 0),
      retryRatePerSec: 10,
      retryBurst: 100,
      priorityOf: (key) => (key.startsWith('high') ? 'high' : 'low'),
    });
    return { q, clock };
  }

  /** Takes every queued key one at a time, finishing each before the next, and says in what order. */
  async function drain(q: WorkQueue, onTake: (key: string) => void = () => undefined): Promise<string[]> {
    const order: string[] = [];
    while (q.depth() > 0) {
      const key = (await q.get()) ?? '';
      order.push(key);
      onTake(key);
      q.done(key);
    }
    return order;
  }

  it('takes a high key added after many low keys first; the low keys keep their order', async () => {
    const { q } = prioritized();
    for (let i = 0; i < 8; i++) q.add(`pool${i}`);
    q.add('high-silo');
    expect(await drain(q)).toEqual(['high-silo', ...Array.from({ length: 8 }, (_, i) => `pool${i}`)]);
  });

  it('takes a key added as high (a chain continuing) ahead of low keys, whatever its own priority', async () => {
    const { q } = prioritized();
    q.add('pool0');
    q.add('pool1');
    q.add('chain', 'high');
    expect(await drain(q)).toEqual(['chain', 'pool0', 'pool1']);
  });

  it("takes a key continuing a chain before high keys queued earlier, and as a high one for low's share", async () => {
    const { q } = prioritized();
    q.add('pool0');
    q.add('high-bridge0');
    q.add('high-bridge1');
    q.add('high-bridge2');
    q.add('high-silo', 'continuing');
    q.add('pool1', 'continuing');
    expect(await drain(q)).toEqual(['high-silo', 'pool1', 'high-bridge0', 'pool0', 'high-bridge1', 'high-bridge2']);
  });

  it('low keys still progress under a steady stream of high keys: one low after every three highs', async () => {
    const { q } = prioritized();
    for (let i = 0; i < 3; i++) q.add(`pool${i}`);
    let n = 0;
    q.add(`high${n++}`);
    // Every high pass brings in another high key, so the high lane never runs dry.
    const order = await drain(q, (key) => {
      if (key.startsWith('high') && n < 20) q.add(`high${n++}`);
    });
    const lows = order.flatMap((k, i) => (k.startsWith('pool') ? [i] : []));
    expect(lows).toEqual([3, 7, 11]);
    expect(order).toHaveLength(23);
  });

  it('while low keys wait, high passes in flight hold at most three workers per low pass', async () => {
    const { q } = prioritized();
    for (let i = 0; i < 6; i++) q.add(`high${i}`);
    for (let i = 0; i < 4; i++) q.add(`pool${i}`);
    // Three workers take high keys and hold them (passes waiting long in a rate budget).
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['high0', 'high1', 'high2']);
    // Every other worker goes to the low keys, however quick their passes, until one high pass ends.
    const next: string[] = [];
    for (let i = 0; i < 3; i++) {
      const key = (await q.get()) ?? '';
      next.push(key);
      q.done(key);
    }
    expect(next).toEqual(['pool0', 'pool1', 'pool2']);
    q.done('high0');
    expect(await q.get()).toBe('high3');
  });

  it('collapses adds of one key whatever their priority, moving a waiting low key up to high', async () => {
    const { q } = prioritized();
    q.add('pool0');
    q.add('pool1');
    q.add('pool1', 'high');
    q.add('pool1');
    q.add('pool1', 'high');
    expect(q.depth()).toBe(2);
    expect(await drain(q)).toEqual(['pool1', 'pool0']);
  });

  it('never hands out a key in flight, even added as high; it comes back high once done', async () => {
    const { q } = prioritized();
    q.add('pool0');
    q.add('chain');
    const key = await q.get();
    expect(key).toBe('pool0');
    q.add('pool0', 'high');
    expect(q.depth()).toBe(1);
    expect(q.inFlight()).toBe(1);
    q.done('pool0');
    expect(q.depth()).toBe(2);
    expect(await drain(q)).toEqual(['pool0', 'chain']);
  });

  it('a delayed key keeps the priority it was added with, the earliest time and the highest priority winning', async () => {
    const { q, clock } = prioritized();
    q.addAfter('chain', 1000, 'high');
    q.addAfter('chain', 5000);
    q.addAfter('resync', 500);
    q.addAfter('resync', 2000, 'high');
    q.add('pool0');
    clock.advance(1000);
    expect(q.depth()).toBe(3);
    expect(await drain(q)).toEqual(['resync', 'chain', 'pool0']);
  });

  it('an add that takes up a pending delayed add of the key keeps its lane', async () => {
    const { q } = prioritized();
    q.add('pool0');
    q.addAfter('pool1', 1000, 'continuing');
    q.add('pool1');
    expect(q.delayedCount()).toBe(0);
    expect(await drain(q)).toEqual(['pool1', 'pool0']);
  });

  it('retries with backoff at the key’s own priority', async () => {
    const { q, clock } = prioritized();
    q.addRateLimited('pool0');
    q.addRateLimited('high-bridge');
    clock.advance(100);
    expect(await drain(q)).toEqual(['high-bridge', 'pool0']);
  });
});
