import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../core/errors.js';
import type { LeaseRecord, LeaseStore } from '../ports/kube.js';
import { ManualClock } from './clock.js';
import { LeaderElector } from './leader.js';

/** An in-memory Lease with resourceVersion checks, as the API server does them. */
class MemoryLeaseStore implements LeaseStore {
  record: LeaseRecord | undefined;
  private rv = 0;
  failing = false;
  hanging = false;
  get(): Promise<LeaseRecord | undefined> {
    if (this.hanging) return new Promise(() => undefined);
    if (this.failing) return Promise.reject(new Error('apiserver down'));
    return Promise.resolve(this.record && { ...this.record });
  }
  create(r: LeaseRecord): Promise<LeaseRecord> {
    if (this.record) return Promise.reject(new ConflictError('exists'));
    this.record = { ...r, resourceVersion: String(++this.rv) };
    return Promise.resolve({ ...this.record });
  }
  update(r: LeaseRecord): Promise<LeaseRecord> {
    if (this.failing) return Promise.reject(new Error('apiserver down'));
    if (r.resourceVersion !== this.record?.resourceVersion) return Promise.reject(new ConflictError('stale'));
    this.record = { ...r, resourceVersion: String(++this.rv) };
    return Promise.resolve({ ...this.record });
  }
}

const timings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const log = pino({ level: 'silent' });

describe('LeaderElector.tryAcquireOrRenew', () => {
  it('the first candidate takes a free lease; a second is refused while it is fresh', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    const a = new LeaderElector(store, 'a', clock, timings, log);
    const b = new LeaderElector(store, 'b', clock, timings, log);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    clock.advance(14_000);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(store.record?.holderIdentity).toBe('a');
  });

  it('takes over a lease whose holder stopped renewing, counting the transition', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    const a = new LeaderElector(store, 'a', clock, timings, log);
    const b = new LeaderElector(store, 'b', clock, timings, log);
    await a.tryAcquireOrRenew();
    expect(await b.tryAcquireOrRenew()).toBe(false);
    clock.advance(15_001);
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(store.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it("measures expiry from when it saw the record change, not from the holder's clock", async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    // The holder's renewTime is far in the past (skewed clock) but it keeps renewing.
    store.record = { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: new Date(0), resourceVersion: '1' };
    const b = new LeaderElector(store, 'b', clock, timings, log);
    expect(await b.tryAcquireOrRenew()).toBe(false);
  });

  it('a released lease is taken at once', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    const a = new LeaderElector(store, 'a', clock, timings, log);
    const b = new LeaderElector(store, 'b', clock, timings, log);
    let started = 0;
    a.run({
      onStartedLeading: () => {
        started++;
      },
      onStoppedLeading: () => undefined,
    });
    await new Promise((r) => setImmediate(r));
    expect(a.isLeader()).toBe(true);
    await a.shutdown();
    expect(store.record?.holderIdentity).toBe('');
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(started).toBe(1);
  });

  it('steps down when it cannot renew within the renew deadline', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    const a = new LeaderElector(store, 'a', clock, timings, log);
    let stopped = false;
    a.run({
      onStartedLeading: () => undefined,
      onStoppedLeading: () => {
        stopped = true;
      },
    });
    await new Promise((r) => setImmediate(r));
    store.failing = true;
    for (let i = 0; i < 6 && !stopped; i++) {
      clock.advance(2_000);
      await new Promise((r) => setImmediate(r));
    }
    expect(stopped).toBe(true);
    expect(a.isLeader()).toBe(false);
  });

  it('steps down within the renew deadline even when the API server never answers', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new MemoryLeaseStore();
    const a = new LeaderElector(store, 'a', clock, timings, log);
    let stoppedAt: number | undefined;
    a.run({
      onStartedLeading: () => undefined,
      onStoppedLeading: () => {
        stoppedAt = clock.now();
      },
    });
    await new Promise((r) => setImmediate(r));
    const hungFrom = clock.now();
    store.hanging = true;
    for (let i = 0; i < 40 && stoppedAt === undefined; i++) {
      clock.advance(500);
      await new Promise((r) => setImmediate(r));
    }
    expect(stoppedAt).toBeDefined();
    // Stepped down before the lease (15 s) could have expired for the others.
    expect((stoppedAt ?? Infinity) - hungFrom).toBeLessThan(timings.leaseDurationMs);
  });
});
