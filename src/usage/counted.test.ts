/**
 * Usage counted once from the gateway's counters and CloudWatch: exact when every call goes
 * through the gateway (however far CloudWatch lags or catches up), CloudWatch's count without the
 * gateway, gateway plus what bypassed it when mixed, and in a simulated month of mixed traffic
 * with CloudWatch's delay never more than the real use and never less than either source.
 */
import { describe, expect, it } from 'vitest';
import type { StoredReading } from './book.js';
import { countOnce, countedTokens } from './counted.js';
import type { GatewayReading } from './gateway-counters.js';

const at = (iso: string): Date => new Date(iso);
const now = at('2026-11-05T12:00:00Z');

/** A CloudWatch reading of `day` and `month` tokens (all input), with the gateway's counters read after it. */
const cw = (day: number, month: number, readAt: Date, seen?: { day: number; month: number }): StoredReading => ({
  month: readAt.toISOString().slice(0, 7),
  day: readAt.toISOString().slice(0, 10),
  monthInput: month,
  monthOutput: 0,
  dayInput: day,
  dayOutput: 0,
  readAt,
  ...(seen ? { gatewayAtRead: gw(seen.day, seen.month, readAt) } : {}),
});
const gw = (day: number, month: number, readAt: Date): GatewayReading => ({
  month: readAt.toISOString().slice(0, 7),
  day: readAt.toISOString().slice(0, 10),
  dayTokens: day,
  monthTokens: month,
  readAt,
});

describe('countOnce', () => {
  it.each([
    { name: 'all through the gateway, CloudWatch behind', cloudWatch: 700, now: 1000, seen: 900, want: 1000 },
    { name: 'all through the gateway, CloudWatch caught up', cloudWatch: 1000, now: 1000, seen: 1000, want: 1000 },
    { name: 'no gateway traffic: CloudWatch alone', cloudWatch: 500, now: 0, seen: 0, want: 500 },
    { name: 'mixed: the gateway now plus what CloudWatch saw beyond it', cloudWatch: 1300, now: 1200, seen: 1000, want: 1500 },
  ])('$name', ({ cloudWatch, now: g, seen, want }) => {
    expect(countOnce(cloudWatch, g, seen)).toBe(want);
  });
});

describe('countedTokens', () => {
  it('without a gateway reading is CloudWatch, and says so', () => {
    const c = countedTokens(cw(100, 300, at('2026-11-05T11:55:00Z')), undefined, now);
    expect(c).toMatchObject({ dayTokens: 100, monthTokens: 300, source: 'CloudWatch' });
    expect(c.gateway).toBeUndefined();
  });

  it('with the gateway ahead of a lagging CloudWatch is the gateway, not the two added', () => {
    const c = countedTokens(cw(400, 900, at('2026-11-05T11:55:00Z'), { day: 600, month: 1100 }), gw(800, 1300, now), now);
    expect(c).toMatchObject({ dayTokens: 800, monthTokens: 1300, source: 'Gateway', gateway: { dayTokens: 800, monthTokens: 1300 } });
  });

  it('adds what bypassed the gateway once CloudWatch shows it', () => {
    // The gateway had served 600 today when CloudWatch reported 750: 150 came from elsewhere.
    const c = countedTokens(cw(750, 750, at('2026-11-05T11:55:00Z'), { day: 600, month: 600 }), gw(800, 800, now), now);
    expect([c.dayTokens, c.monthTokens]).toEqual([950, 950]);
  });

  it("without the gateway's counters read after CloudWatch takes the larger of the two", () => {
    const c = countedTokens(cw(750, 750, at('2026-11-05T11:55:00Z')), gw(700, 700, now), now);
    expect([c.dayTokens, c.monthTokens]).toEqual([750, 750]);
  });

  it('a new UTC day counts only what the gateway counted today', () => {
    const next = at('2026-11-06T00:00:05Z');
    const c = countedTokens(cw(750, 750, at('2026-11-05T23:58:00Z'), { day: 600, month: 600 }), gw(20, 820, next), next);
    expect([c.dayTokens, c.monthTokens]).toEqual([20, 970]);
  });

  it("a gateway reading from an earlier month counts nothing; the newer of the CloudWatch poll's and the gateway poll's counts", () => {
    const dec = at('2026-12-01T00:00:05Z');
    expect(countedTokens(undefined, gw(5, 5, now), dec)).toMatchObject({ dayTokens: 0, monthTokens: 0, source: 'Gateway' });
    const newer = countedTokens(cw(0, 0, now, { day: 90, month: 90 }), gw(80, 80, at('2026-11-05T11:59:00Z')), now);
    expect(newer.gateway?.dayTokens).toBe(90);
  });
});

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('a simulated day of traffic with a lagging CloudWatch', () => {
  it.each([
    { name: 'every call through the gateway', bypassShare: 0 },
    { name: 'a third of the calls bypassing it', bypassShare: 0.33 },
    { name: 'most calls bypassing it', bypassShare: 0.9 },
  ])('$name: never double, never above the real use, exact without bypass', ({ bypassShare }) => {
    const rnd = random(42);
    const start = Date.parse('2026-11-05T00:00:00Z');
    // Calls finished so far: when, how many tokens, through the gateway or not.
    const calls: { t: number; tokens: number; gateway: boolean }[] = [];
    let stored: StoredReading | undefined;
    let latest: GatewayReading | undefined;
    const gatewayAt = (t: number): number => calls.filter((c) => c.gateway && c.t <= t).reduce((n, c) => n + c.tokens, 0);
    for (let t = start; t < start + 6 * 3_600_000; t += 10_000) {
      if (rnd() < 0.5) calls.push({ t, tokens: 1 + Math.floor(rnd() * 500), gateway: rnd() >= bypassShare });
      const date = new Date(t);
      // Every 10 s the gateway poller reads the counters; every 5 min CloudWatch is read, seeing
      // only calls older than its delay (1 to 5 minutes), then the counters right after.
      latest = gw(gatewayAt(t), gatewayAt(t), date);
      if ((t - start) % 300_000 === 0) {
        const delay = 60_000 + Math.floor(rnd() * 240_000);
        const seen = calls.filter((c) => c.t <= t - delay).reduce((n, c) => n + c.tokens, 0);
        stored = cw(seen, seen, date, { day: gatewayAt(t), month: gatewayAt(t) });
      }
      const real = calls.reduce((n, c) => n + c.tokens, 0);
      const c = countedTokens(stored, latest, date);
      expect(c.dayTokens).toBeLessThanOrEqual(real);
      expect(c.dayTokens).toBeGreaterThanOrEqual(Math.max(latest.dayTokens, stored ? stored.dayInput : 0));
      if (bypassShare === 0) expect(c.dayTokens).toBe(real);
    }
    expect(calls.length).toBeGreaterThan(500);
  });
});
