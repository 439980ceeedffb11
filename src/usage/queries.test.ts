import { describe, expect, it } from 'vitest';
import { MAX_QUERIES_PER_CALL, foldResults, modelIdDimension, planBatches } from './queries.js';

const arn = (i: number): string => `arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p${String(i).padStart(5, '0')}`;
const now = new Date('2026-11-05T13:00:00Z');

describe('planBatches', () => {
  it.each([
    { profiles: 0, calls: 0 },
    { profiles: 1, calls: 1 },
    { profiles: 100, calls: 1 },
    { profiles: 250, calls: 1 },
    { profiles: 251, calls: 2 },
    { profiles: 1000, calls: 4 },
    { profiles: 1001, calls: 5 },
  ])('$profiles profiles -> $calls GetMetricData calls', ({ profiles, calls }) => {
    const batches = planBatches(Array.from({ length: profiles }, (_, i) => arn(i)));
    expect(batches).toHaveLength(calls);
    for (const b of batches) {
      expect(b.queries.length).toBeLessThanOrEqual(MAX_QUERIES_PER_CALL);
      expect(new Set(b.queries.map((q) => q.Id)).size).toBe(b.queries.length);
      for (const q of b.queries) expect(q.Id).toMatch(/^[a-z][a-zA-Z0-9_]*$/);
    }
    expect(batches.reduce((n, b) => n + b.queries.length, 0)).toBe(profiles * 2);
  });

  it('reads each profile by its id in the ModelId dimension, daily sums, and dedups profiles', () => {
    const [b] = planBatches([arn(1), arn(1)]);
    expect(b?.queries).toHaveLength(2);
    expect(b?.queries[0]?.MetricStat).toMatchObject({
      Metric: { Namespace: 'AWS/Bedrock', MetricName: 'InputTokenCount', Dimensions: [{ Name: 'ModelId', Value: 'p00001' }] },
      Period: 86400,
      Stat: 'Sum',
    });
    expect(modelIdDimension(arn(7))).toBe('p00007');
  });
});

describe('foldResults', () => {
  const [batch] = planBatches([arn(1), arn(2)]);
  it('month is the sum of the days, day is today; pages of one query add up; silence is zero', () => {
    if (!batch) throw new Error('no batch');
    const days = (d: number): Date => new Date(Date.UTC(2026, 10, d));
    const r = foldResults(
      batch,
      [
        { Id: 'i0', Timestamps: [days(1), days(3)], Values: [100, 200] },
        { Id: 'i0', Timestamps: [days(5)], Values: [50] },
        { Id: 'o0', Timestamps: [days(5)], Values: [7] },
      ],
      now,
    );
    expect(r.get(arn(1))).toEqual({ month: '2026-11', day: '2026-11-05', monthInput: 350, monthOutput: 7, dayInput: 50, dayOutput: 7 });
    expect(r.get(arn(2))).toMatchObject({ monthInput: 0, monthOutput: 0 });
  });

  it('a query CloudWatch failed gives its profile no reading rather than a zero', () => {
    if (!batch) throw new Error('no batch');
    const r = foldResults(batch, [{ Id: 'i1', StatusCode: 'InternalError' }], now);
    expect(r.has(arn(2))).toBe(false);
    expect(r.has(arn(1))).toBe(true);
  });
});
