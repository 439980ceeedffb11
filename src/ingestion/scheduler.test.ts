import type { BedrockAgentClient } from '@aws-sdk/client-bedrock-agent';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock, type Clock, type TimerHandle } from '../runtime/clock.js';
import { bedrockAgentIngestionPort, fromSdkJob } from './bedrock-port.js';
import { awsError, FakeIngestionPort, type FakeJobPlan } from './fake-port.js';
import { ingestionClientToken, ordered, startFailureAction, type QueueEntry } from './queue.js';
import { zeroStatistics } from './types.js';
import { IngestionScheduler, type IngestionEvent, type IngestionSchedulerOptions, type IngestionTarget } from './scheduler.js';

/** A manual clock that counts live timers, to check the scheduler holds one at most. */
class CountingClock implements Clock {
  readonly inner = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  live = 0;
  maxLive = 0;
  now(): number {
    return this.inner.now();
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    let done = false;
    const end = (): void => {
      if (!done) this.live--;
      done = true;
    };
    this.live++;
    this.maxLive = Math.max(this.maxLive, this.live);
    const h = this.inner.setTimer(ms, () => {
      end();
      fn();
    });
    return {
      cancel: () => {
        end();
        h.cancel();
      },
    };
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const t = this.setTimer(ms, resolve);
      signal?.addEventListener(
        'abort',
        () => {
          t.cancel();
          resolve();
        },
        { once: true },
      );
    });
  }
  advance(ms: number): void {
    this.inner.advance(ms);
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}

function target(key: string, kb = `kb-${key}`, ds = `ds-${key}`): IngestionTarget {
  return { key, knowledgeBaseId: kb, dataSourceId: ds };
}

interface HarnessOptions extends Partial<IngestionSchedulerOptions> {
  accountLimit?: number;
  plan?: FakeJobPlan;
}

function harness(o: HarnessOptions = {}) {
  const clock = new CountingClock();
  const port = new FakeIngestionPort(clock, o.accountLimit ?? 5, o.plan ?? { durationMs: 60_000 });
  const changes: string[] = [];
  const events: IngestionEvent[] = [];
  let maxRunning = 0;
  const s = new IngestionScheduler({
    port,
    clock,
    logger: pino({ level: 'silent' }),
    onChange: (k) => changes.push(k),
    onEvent: (e) => events.push(e),
    nonce: 'test-nonce',
    random: () => 0.5, // no jitter
    ...o,
  });
  /** Moves time forward in steps, letting the loop run between them. */
  async function run(ms: number, step = 250): Promise<void> {
    await flush();
    for (let t = 0; t < ms; t += step) {
      clock.advance(step);
      await flush();
      maxRunning = Math.max(maxRunning, s.snapshot().running);
    }
  }
  /** Registers the targets' data sources and requests them. */
  function add(targets: IngestionTarget[], reason: 'scheduled' | 'on-demand' = 'scheduled'): void {
    for (const t of targets) {
      port.addDataSource(t);
      s.request(t, reason);
    }
  }
  const started = () => port.startCalls.filter((c) => c.result === 'started');
  return { clock, port, s, changes, events, run, add, started, maxRunning: () => maxRunning };
}

describe('IngestionScheduler limits', () => {
  it('never runs more than 5 jobs, spaces starts by 10 s and holds one timer', async () => {
    const h = harness();
    const targets = Array.from({ length: 12 }, (_, i) => target(`t${i}`));
    h.add(targets);
    h.s.start();
    await h.run(10 * 60_000);
    await h.s.stop();

    expect(h.port.maxActiveSeen).toBe(5);
    expect(h.maxRunning()).toBeLessThanOrEqual(5);
    const times = h.started().map((c) => c.at);
    expect(times).toHaveLength(12);
    for (let i = 1; i < times.length; i++) expect((times[i] ?? 0) - (times[i - 1] ?? 0)).toBeGreaterThanOrEqual(10_000);
    expect(h.port.startCalls.filter((c) => c.result !== 'started')).toEqual([]);
    for (const t of targets) expect(h.s.state(t.key).last?.status).toBe('COMPLETE');
    expect(h.clock.maxLive).toBe(1);
    expect(h.clock.live).toBe(0);
  });

  it.each([
    { name: 'two keys of one data source share one job', b: target('b', 'kb1', 'ds1'), requestBAfterMs: 0, jobs: 1 },
    { name: 'a key on a busy data source waits for the running job', b: target('b', 'kb1', 'ds1'), requestBAfterMs: 15_000, jobs: 2 },
    { name: 'two data sources of one knowledge base never run together', b: target('b', 'kb1', 'ds2'), requestBAfterMs: 0, jobs: 2 },
  ])('$name', async ({ b, requestBAfterMs, jobs }) => {
    const h = harness();
    h.add([target('a', 'kb1', 'ds1')]);
    h.s.start();
    if (requestBAfterMs) await h.run(requestBAfterMs);
    h.add([b]);
    await h.run(5 * 60_000);
    await h.s.stop();

    expect(h.port.jobs).toHaveLength(jobs);
    expect(h.port.startCalls.map((c) => c.result)).toEqual(Array<string>(jobs).fill('started'));
    // No two jobs of the knowledge base overlapped.
    const spans = h.port.jobs.map((j) => [j.startedAt, j.startedAt + j.plan.durationMs] as const);
    for (let i = 1; i < spans.length; i++) expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] ?? Infinity);
    expect(h.s.state('a').last?.status).toBe('COMPLETE');
    expect(h.s.state('b').last?.status).toBe('COMPLETE');
    if (jobs === 1) expect(h.s.state('b').last?.jobId).toBe(h.s.state('a').last?.jobId);
  });
});

describe('IngestionScheduler requests', () => {
  it('deduplicates requests while queued or running', async () => {
    const h = harness();
    h.port.addDataSource(target('a'));
    const outcomes = [1, 2, 3].map(() => h.s.request(target('a'), 'scheduled'));
    expect(outcomes).toEqual(['queued', 'already-queued', 'already-queued']);
    expect(h.s.state('a')).toEqual({ queued: true, position: 1 });
    h.s.start();
    await h.run(11_000);
    expect(h.s.request(target('a'), 'on-demand')).toBe('running');
    expect(h.s.state('a').running?.status).toBe('IN_PROGRESS');
    await h.run(120_000);
    await h.s.stop();
    expect(h.port.jobs).toHaveLength(1);
    expect(h.s.state('a').last?.status).toBe('COMPLETE');
    // onChange on start, on STARTING -> IN_PROGRESS, and on the finish.
    expect(h.changes.filter((k) => k === 'a').length).toBeGreaterThanOrEqual(2);
  });

  it('serves keys FIFO so a key that asks again at once cannot starve the others', async () => {
    const order: string[] = [];
    const ref: { s?: IngestionScheduler } = {};
    const h = harness({
      maxConcurrent: 1,
      plan: { durationMs: 20_000 },
      onChange: (k) => {
        const st = ref.s?.state(k);
        // Key "a" asks again each time its job ends.
        if (k === 'a' && st?.last && !st.running && !st.queued && order.filter((x) => x === 'a').length < 3)
          ref.s?.request(target('a'), 'on-demand');
      },
      onEvent: (e) => {
        if (e.type === 'started') order.push(...e.keys);
      },
    });
    ref.s = h.s;
    h.add(['a', 'b', 'c'].map((k) => target(k)));
    h.s.start();
    await h.run(5 * 60_000);
    await h.s.stop();
    // "a" asked again right after its first job, yet ran again only after "b" and "c".
    expect(order).toEqual(['a', 'b', 'c', 'a', 'a']);
  });

  it('starts an on-demand request ahead of recently queued scheduled work', async () => {
    const order: string[] = [];
    const h = harness({ maxConcurrent: 1, plan: { durationMs: 20_000 }, onEvent: (e) => e.type === 'started' && order.push(...e.keys) });
    h.add(['s1', 's2', 's3'].map((k) => target(k)));
    h.add([target('o')], 'on-demand');
    expect(h.s.state('o').position).toBe(1);
    h.s.start();
    await h.run(3 * 60_000);
    await h.s.stop();
    expect(order).toEqual(['o', 's1', 's2', 's3']);
  });

  it('drops a request whose data source is gone and reports a failed job', async () => {
    const h = harness();
    h.s.request(target('gone'), 'scheduled');
    h.add([target('ok')]);
    h.s.start();
    await h.run(90_000);
    await h.s.stop();
    const st = h.s.state('gone');
    expect(st.queued).toBe(false);
    expect(st.last?.status).toBe('FAILED');
    expect(st.last?.failureReasons[0]).toMatch(/not found/);
    expect(h.changes).toContain('gone');
    expect(h.s.state('ok').last?.status).toBe('COMPLETE');
  });

  it.each([
    {
      name: 'complete',
      plan: { durationMs: 30_000, statistics: { scanned: 10, metadataScanned: 10, newIndexed: 7, modifiedIndexed: 2, deleted: 1 } },
    },
    {
      name: 'failed',
      plan: { durationMs: 30_000, outcome: 'FAILED' as const, failureReasons: ['bad PDF'], statistics: { scanned: 3, failed: 3 } },
    },
  ])('surfaces the statistics of a $name job', async ({ plan }) => {
    const h = harness({ plan });
    h.add([target('a')]);
    h.s.start();
    await h.run(60_000);
    await h.s.stop();
    const last = h.s.state('a').last;
    expect(last?.status).toBe(plan.outcome ?? 'COMPLETE');
    expect(last?.statistics).toEqual({ ...zeroStatistics(), ...plan.statistics });
    expect(last?.failureReasons).toEqual(plan.failureReasons ?? []);
    expect(last?.startedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(h.events.find((e) => e.type === 'finished')).toMatchObject({ keys: ['a'], status: plan.outcome ?? 'COMPLETE' });
  });

  it('reports a failed job when the data source disappears while its job runs', async () => {
    const h = harness();
    h.add([target('a')]);
    h.s.start();
    await h.run(5_000);
    h.port.removeDataSource(target('a'));
    await h.run(20_000);
    await h.s.stop();
    expect(h.s.state('a').last).toMatchObject({ status: 'FAILED', jobId: 'job-0001' });
    expect(h.s.snapshot().running).toBe(0);
  });
});

describe('IngestionScheduler forget', () => {
  it('drops queued work of a forgotten key', async () => {
    const h = harness({ maxConcurrent: 1 });
    h.add([target('a'), target('b'), target('c')]);
    h.s.start();
    await h.run(1_000);
    h.s.forget('b');
    await h.run(5 * 60_000);
    await h.s.stop();
    expect(h.port.startCalls.map((c) => c.ds)).toEqual(['kb-a/ds-a', 'kb-c/ds-c']);
    expect(h.s.state('b')).toEqual({ queued: false });
  });

  it('keeps counting the slot of a forgotten running job until it ends', async () => {
    const h = harness({ maxConcurrent: 1, plan: { durationMs: 60_000 } });
    h.add([target('a')]);
    h.s.start();
    await h.run(15_000);
    h.s.forget('a');
    expect(h.s.state('a')).toEqual({ queued: false });
    h.add([target('b')]);
    await h.run(30_000);
    expect(h.started()).toHaveLength(1);
    await h.run(60_000);
    await h.s.stop();
    expect(h.started()).toHaveLength(2);
    expect(h.changes.filter((k) => k === 'a').length).toBeLessThanOrEqual(2); // none after forget
    expect(h.s.state('a')).toEqual({ queued: false });
  });
});

describe('IngestionScheduler AWS errors', () => {
  it('adopts a job already running on the data source instead of starting a second one', async () => {
    const h = harness();
    const external = h.port.startExternal(target('a'), { durationMs: 90_000, statistics: { scanned: 4, newIndexed: 4 } });
    h.s.request(target('a'), 'on-demand');
    h.s.start();
    await h.run(5_000);
    expect(h.port.startCalls.map((c) => c.result)).toEqual(['ConflictException']);
    expect(h.s.state('a').running?.jobId).toBe(external);
    expect(h.events).toContainEqual(expect.objectContaining({ type: 'started', jobId: external, adopted: true }));
    await h.run(120_000);
    await h.s.stop();
    expect(h.port.jobs).toHaveLength(1);
    expect(h.s.state('a').last).toMatchObject({ jobId: external, status: 'COMPLETE', statistics: { scanned: 4, newIndexed: 4 } });
  });

  it('resumes polling a recovered job id after a restart', async () => {
    const h = harness();
    const running = h.port.startExternal(target('a'), { durationMs: 60_000 });
    h.clock.advance(20_000);
    h.s.recover(target('a'), running);
    h.s.start();
    await h.run(1_000);
    expect(h.s.state('a').running).toMatchObject({ jobId: running, status: 'IN_PROGRESS' });
    expect(h.s.request(target('a'), 'scheduled')).toBe('running');
    await h.run(60_000);
    await h.s.stop();
    expect(h.port.startCalls).toEqual([]);
    expect(h.s.state('a').last).toMatchObject({ jobId: running, status: 'COMPLETE' });
  });

  it('keeps a request queued and backs off while the account quota is taken by others', async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) h.port.startExternal(target(`other${i}`), { durationMs: 100_000 });
    h.add([target('a')]);
    h.s.start();
    await h.run(5_000);
    expect(h.s.state('a')).toMatchObject({ queued: true, position: 1, lastError: 'QuotaExceeded' });
    await h.run(300_000);
    await h.s.stop();
    const calls = h.port.startCalls;
    expect(calls.at(-1)?.result).toBe('started');
    expect(calls.slice(0, -1).every((c) => c.result === 'ServiceQuotaExceededException')).toBe(true);
    // Exponential backoff from 30 s: tries at 0, 30, 90 (refused) and 210 s (the others ended at 100 s).
    const gaps = calls.slice(1).map((c, i) => c.at - (calls[i]?.at ?? 0));
    expect(gaps.every((g) => g >= 30_000)).toBe(true);
    expect(gaps[1]).toBeGreaterThanOrEqual(60_000);
    expect(h.s.state('a').last?.status).toBe('COMPLETE');
  });

  it.each([
    { name: 'throttling', error: awsError('ThrottlingException', 429), afterCreate: false, results: ['ThrottlingException', 'started'] },
    {
      name: 'a 5xx after the job was created',
      error: awsError('InternalServerException', 500),
      afterCreate: true,
      results: ['InternalServerException', 'replayed'],
    },
    { name: 'a non-AWS error', error: new TypeError('socket hang up'), afterCreate: false, results: ['TypeError', 'started'] },
  ])('retries a start after $name with the same client token', async ({ error, afterCreate, results }) => {
    const h = harness();
    h.port.failNextStart.push({ error, afterCreate });
    h.add([target('a')]);
    h.s.start();
    await h.run(120_000);
    await h.s.stop();
    expect(h.port.startCalls.map((c) => c.result)).toEqual(results);
    expect(new Set(h.port.startCalls.map((c) => c.token)).size).toBe(1);
    expect(h.port.jobs).toHaveLength(1);
    expect(h.s.state('a').last?.status).toBe('COMPLETE');
  });

  it('keeps polling after GetIngestionJob errors', async () => {
    const h = harness({ plan: { durationMs: 15_000 } });
    h.add([target('a')]);
    h.port.failNextGet.push(awsError('ThrottlingException', 429), new TypeError('boom'));
    h.s.start();
    await h.run(90_000);
    await h.s.stop();
    expect(h.s.state('a').last?.status).toBe('COMPLETE');
    expect(h.events.filter((e) => e.type === 'poll-error').map((e) => (e.type === 'poll-error' ? e.kind : ''))).toEqual([
      'Throttled',
      'Unknown',
    ]);
  });

  it('keeps GetIngestionJob within its budget when many jobs are recovered', async () => {
    const h = harness({ readsPerSec: 5 });
    const ids = Array.from({ length: 40 }, (_, i) => {
      const t = target(`r${i}`);
      return { t, id: h.port.startExternal(t, { durationMs: 30_000 }) };
    });
    for (const { t, id } of ids) h.s.recover(t, id);
    h.s.start();
    await h.run(120_000, 100);
    await h.s.stop();
    for (const { t } of ids) expect(h.s.state(t.key).last?.status).toBe('COMPLETE');
    const calls = h.port.getCalls;
    for (const at of calls) expect(calls.filter((c) => c >= at && c < at + 1000).length).toBeLessThanOrEqual(10);
  });
});

describe('IngestionScheduler lifecycle', () => {
  it('stop aborts an in-flight start and leaves no timer', async () => {
    const h = harness();
    h.port.hangStarts = true;
    h.add([target('a')]);
    h.s.start();
    await h.run(1_000);
    await h.s.stop();
    expect(h.clock.live).toBe(0);
    expect(h.s.state('a').queued).toBe(true);
    // Restartable: the queued request starts when the loop runs again.
    h.port.hangStarts = false;
    h.s.start();
    await h.run(20_000);
    await h.s.stop();
    expect(h.started()).toHaveLength(1);
    expect(h.clock.live).toBe(0);
  });

  it('sleeps without a timer when idle', async () => {
    const h = harness();
    h.s.start();
    await h.run(1_000);
    expect(h.clock.live).toBe(0);
    await h.s.stop();
  });
});

describe('queue order', () => {
  const entry = (key: string, enqueuedAt: number, reason: 'scheduled' | 'on-demand', seq: number, rankFloor = -Infinity): QueueEntry => ({
    target: target(key),
    reason,
    enqueuedAt,
    seq,
    clientToken: '',
    rankFloor,
    notBefore: 0,
  });
  it.each([
    { name: 'FIFO among scheduled', entries: [entry('a', 0, 'scheduled', 1), entry('b', 5, 'scheduled', 2)], want: ['a', 'b'] },
    { name: 'arrival order breaks ties', entries: [entry('b', 0, 'scheduled', 2), entry('a', 0, 'scheduled', 1)], want: ['a', 'b'] },
    {
      name: 'on-demand goes ahead of recent scheduled work',
      entries: [entry('s', 0, 'scheduled', 1), entry('o', 60_000, 'on-demand', 2)],
      want: ['o', 's'],
    },
    {
      name: 'scheduled work older than the boost keeps its place',
      entries: [entry('s', 0, 'scheduled', 1), entry('o', 700_000, 'on-demand', 2)],
      want: ['s', 'o'],
    },
    {
      name: 'an on-demand key that ran since the others queued goes behind them',
      entries: [entry('s', 0, 'scheduled', 1), entry('a', 60_000, 'on-demand', 2, 30_000)],
      want: ['s', 'a'],
    },
  ])('$name', ({ entries, want }) => {
    expect(ordered(entries, 600_000).map((e) => e.target.key)).toEqual(want);
  });
});

describe('startFailureAction', () => {
  it.each([
    { kind: 'Conflict', want: 'adopt', why: 'a job already runs on the data source' },
    { kind: 'QuotaExceeded', want: 'pause-starts', why: 'the account has 5 jobs running' },
    { kind: 'Throttled', want: 'pause-starts', why: 'StartIngestionJob is 0.1/s for the account' },
    { kind: 'NotFound', want: 'drop', why: 'the data source is gone' },
    { kind: 'AccessDenied', want: 'drop', why: 'needs an IAM fix, reported as a failed job' },
    { kind: 'InvalidInput', want: 'drop', why: 'retrying the same input cannot help' },
    { kind: 'Transient', want: 'retry-key', why: '5xx and network errors pass' },
    { kind: 'Unknown', want: 'retry-key', why: 'unclassified errors are retried with backoff' },
  ] as const)('$kind -> $want ($why)', ({ kind, want }) => {
    expect(startFailureAction(kind)).toBe(want);
  });
});

describe('ingestionClientToken', () => {
  it('is 33-256 characters, stable for one request and distinct across requests and processes', () => {
    const t = ingestionClientToken('tenant-a', 'nonce', 1);
    expect(t.length).toBeGreaterThanOrEqual(33);
    expect(t.length).toBeLessThanOrEqual(256);
    expect(ingestionClientToken('tenant-a', 'nonce', 1)).toBe(t);
    expect(
      new Set([
        t,
        ingestionClientToken('tenant-a', 'nonce', 2),
        ingestionClientToken('tenant-a', 'other', 1),
        ingestionClientToken('b', 'nonce', 1),
      ]).size,
    ).toBe(4);
  });
});

describe('bedrockAgentIngestionPort', () => {
  const sdkJob = (id: string, status: string, startedAt: number) => ({
    ingestionJobId: id,
    knowledgeBaseId: 'kb',
    dataSourceId: 'ds',
    status,
    startedAt: new Date(startedAt),
    updatedAt: new Date(startedAt + 1),
    statistics: { numberOfDocumentsScanned: 3, numberOfNewDocumentsIndexed: 2, numberOfDocumentsFailed: 1 },
  });

  it('sends the client token and maps jobs', async () => {
    const inputs: { name: string; input: unknown }[] = [];
    const client = {
      send: (cmd: { constructor: { name: string }; input: unknown }) => {
        inputs.push({ name: cmd.constructor.name, input: cmd.input });
        if (cmd.constructor.name === 'ListIngestionJobsCommand') {
          return Promise.resolve({ ingestionJobSummaries: [sdkJob('old', 'COMPLETE', 1), sdkJob('new', 'IN_PROGRESS', 2)] });
        }
        return Promise.resolve({ ingestionJob: sdkJob('j1', 'STARTING', 0) });
      },
    } as unknown as BedrockAgentClient;
    const port = bedrockAgentIngestionPort(client);
    const signal = new AbortController().signal;
    const ds = { knowledgeBaseId: 'kb', dataSourceId: 'ds' };
    const token = ingestionClientToken('a', 'n', 1);

    expect(await port.startJob(ds, token, signal)).toMatchObject({ jobId: 'j1', status: 'STARTING' });
    expect(inputs[0]).toMatchObject({
      name: 'StartIngestionJobCommand',
      input: { knowledgeBaseId: 'kb', dataSourceId: 'ds', clientToken: token },
    });
    expect((await port.getJob(ds, 'j1', signal)).statistics).toEqual({
      scanned: 3,
      metadataScanned: 0,
      newIndexed: 2,
      modifiedIndexed: 0,
      deleted: 0,
      failed: 1,
    });
    expect(inputs[1]).toMatchObject({ name: 'GetIngestionJobCommand', input: { ingestionJobId: 'j1' } });
    expect((await port.listJobs(ds, ['STARTING', 'IN_PROGRESS'], signal)).map((j) => j.jobId)).toEqual(['new']);
    expect(inputs[2]).toMatchObject({
      name: 'ListIngestionJobsCommand',
      input: { sortBy: { attribute: 'STARTED_AT', order: 'DESCENDING' } },
    });
  });

  it('takes an unknown status as still running and rejects a job without an id', () => {
    expect(fromSdkJob({ ingestionJobId: 'x', status: 'SOMETHING_NEW' }).status).toBe('IN_PROGRESS');
    expect(() => fromSdkJob({ status: 'COMPLETE' })).toThrow(/without an id/);
  });
});
