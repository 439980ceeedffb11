/**
 * The gateway's quota store against a real Redis: reservations are atomic under concurrency,
 * Alert lets requests through and reports the limits passed, settling never goes below zero, the
 * request rate counts per minute, and an unreachable store is reported as such.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { windowsAt } from '../../src/gateway/quota.js';
import { QuotaStoreUnavailable, RedisQuotaStore } from '../../src/gateway/quota-store.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
let store: RedisQuotaStore;
const now = new Date('2026-12-04T10:00:00Z');

beforeAll(async () => {
  redis = await startRedis();
  store = new RedisQuotaStore({ url: redis.url, commandTimeoutMs: 300 });
  expect(await store.connect()).toBe(true);
});
afterAll(async () => {
  await store?.close();
  await redis?.close();
});

describe('RedisQuotaStore', () => {
  it('never lets concurrent reservations pass a Throttle limit together', async () => {
    const w = windowsAt('t', 'acme', 'm1', now);
    const results = await Promise.all(
      Array.from({ length: 500 }, () => store.reserve(w, { tokensPerDay: 10_000, onExceeded: 'Throttle' }, 97)),
    );
    const granted = results.filter((r) => r.ok).length;
    expect(granted).toBe(Math.floor(10_000 / 97));
    expect(await store.used(w.keys.day)).toBe(granted * 97);
    const refused = results.find((r) => !r.ok);
    expect(refused && !refused.ok && refused.refusal).toMatchObject({ quota: 'tokensPerDay', window: '2026-12-04', limit: 10_000 });
  });

  it('settles to the real usage and gives back a failed request, never below zero', async () => {
    const w = windowsAt('t', 'acme', 'm2', now);
    const r = await store.reserve(w, { tokensPerMonth: 1000, onExceeded: 'Throttle' }, 300);
    if (!r.ok) throw new Error('refused');
    await store.settle(r.reservation, 120);
    expect(await store.used(w.keys.day)).toBe(120);
    expect(await store.used(w.keys.month)).toBe(120);
    const again = await store.reserve(w, { tokensPerMonth: 1000, onExceeded: 'Throttle' }, 500);
    if (!again.ok) throw new Error('refused');
    await store.settle(again.reservation, 0);
    expect(await store.used(w.keys.month)).toBe(120);
    await store.settle({ ...again.reservation, reserved: 10_000 }, 0);
    expect(await store.used(w.keys.month)).toBe(0);
  });

  it('lets an Alert request through, counting it and naming the limits it passed', async () => {
    const w = windowsAt('t', 'acme', 'm3', now);
    const limits = { tokensPerDay: 100, tokensPerMonth: 150, onExceeded: 'Alert' as const };
    const a = await store.reserve(w, limits, 120);
    const b = await store.reserve(w, limits, 60);
    expect(a).toMatchObject({ ok: true, reservation: { alerts: ['tokensPerDay'] } });
    expect(b).toMatchObject({ ok: true, reservation: { alerts: ['tokensPerDay', 'tokensPerMonth'] } });
    expect(await store.used(w.keys.day)).toBe(180);
  });

  it('refuses the request over requestsPerMinute and resets with the minute', async () => {
    const limits = { requestsPerMinute: 3, onExceeded: 'Throttle' as const };
    const w = windowsAt('t', 'acme', 'm4', now);
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push((await store.reserve(w, limits, 1)).ok);
    expect(outcomes).toEqual([true, true, true, false]);
    const next = windowsAt('t', 'acme', 'm4', new Date(now.getTime() + 60_000));
    expect((await store.reserve(next, limits, 1)).ok).toBe(true);
  });

  it('reports an unreachable store as QuotaStoreUnavailable, and recovers', async () => {
    const w = windowsAt('t', 'acme', 'm5', now);
    await redis.stop();
    try {
      await expect(store.reserve(w, { onExceeded: 'Throttle' }, 1)).rejects.toBeInstanceOf(QuotaStoreUnavailable);
    } finally {
      await redis.start();
    }
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await store.reserve(w, { onExceeded: 'Throttle' }, 1).then(
        (r) => r.ok,
        () => false,
      );
      if (ok || Date.now() > deadline) {
        expect(ok).toBe(true);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
