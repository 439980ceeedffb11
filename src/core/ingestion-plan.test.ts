import { describe, expect, it } from 'vitest';
import { INGESTION_POLL_MS, ingestionCondition, nextIngestionStatus, parseDuration, planSync } from './ingestion-plan.js';

const now = new Date('2026-11-23T12:00:00Z');
const hour = 3_600_000;
const job = (status: string, startedAt = '2026-11-23T11:30:00Z') => ({
  jobId: 'J1',
  status,
  startedAt,
  updatedAt: '2026-11-23T11:31:00Z',
  statistics: { scanned: 3, newIndexed: 2, modifiedIndexed: 1, failed: 0 },
  failureReasons: status === 'FAILED' ? ['AccessDenied on s3://b/k'] : [],
});

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
  ])('%s', (d, ms) => expect(parseDuration(d)).toBe(ms));
});

describe('planSync', () => {
  it.each([
    { name: 'first sync when none ran', status: undefined, scheduler: { queued: false }, want: { request: 'scheduled' } },
    { name: 'nothing while one is queued', status: undefined, scheduler: { queued: true }, want: { request: undefined } },
    {
      name: 'nothing while one runs',
      status: undefined,
      scheduler: { queued: false, running: job('IN_PROGRESS') },
      want: { request: undefined },
    },
    {
      name: 'nothing before the interval has passed; look again when it will have',
      status: { lastStartedAt: '2026-11-23T11:30:00Z' },
      scheduler: { queued: false },
      want: { request: undefined, requeueAfterMs: hour / 2 },
    },
    {
      name: 'scheduled once the interval has passed',
      status: { lastStartedAt: '2026-11-23T10:59:00Z' },
      scheduler: { queued: false },
      want: { request: 'scheduled' },
    },
    {
      name: 'on demand for an annotation not yet acted on',
      status: { lastStartedAt: '2026-11-23T11:59:00Z', lastRequestedAt: 'a' },
      scheduler: { queued: false },
      requestedAt: 'b',
      want: { request: 'on-demand' },
    },
    {
      name: 'not again for an annotation already acted on',
      status: { lastStartedAt: '2026-11-23T11:59:00Z', lastRequestedAt: 'b' },
      scheduler: { queued: false },
      requestedAt: 'b',
      want: { request: undefined },
    },
  ])('$name', ({ status, scheduler, requestedAt, want }) => {
    const got = planSync({ now, intervalMs: hour, status, scheduler, requestedAt });
    expect(got.request).toBe(want.request);
    if ('requeueAfterMs' in want) expect(got.requeueAfterMs).toBe(want.requeueAfterMs);
  });
});

describe('ingestion status and condition', () => {
  it('records the finished job with its statistics and the annotation acted on', () => {
    const st = nextIngestionStatus({}, { queued: false, last: job('COMPLETE') }, 'x');
    expect(st).toEqual({
      lastRequestedAt: 'x',
      lastJobId: 'J1',
      lastStatus: 'COMPLETE',
      lastStartedAt: '2026-11-23T11:30:00Z',
      lastCompletedAt: '2026-11-23T11:31:00Z',
      documentsScanned: 3,
      documentsIndexed: 3,
      documentsFailed: 0,
    });
    expect(ingestionCondition(st, { queued: false })).toMatchObject({ status: 'True', reason: 'Synced' });
  });

  it('a failed job says why and how to retry', () => {
    const s = { queued: false, last: job('FAILED') };
    const c = ingestionCondition(nextIngestionStatus(undefined, s, undefined), s);
    expect(c).toMatchObject({ status: 'False', reason: 'IngestionFailed' });
    expect(c.message).toContain('AccessDenied on s3://b/k');
    expect(c.message).toContain('sync-requested-at');
  });

  it('polls while a job runs', () => {
    expect(
      planSync({ now, intervalMs: hour, status: undefined, scheduler: { queued: false, running: job('STARTING') } }).requeueAfterMs,
    ).toBe(INGESTION_POLL_MS);
  });
});
