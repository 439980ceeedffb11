import { CloudWatchClient, type GetMetricDataCommandInput, type GetMetricDataCommandOutput } from '@aws-sdk/client-cloudwatch';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../runtime/clock.js';
import { UsageBook } from './book.js';
import { UsagePoller, type UsageTarget } from './poller.js';

type Answer = (input: GetMetricDataCommandInput, call: number) => Partial<GetMetricDataCommandOutput> | Error;

/** A real CloudWatch client whose GetMetricData calls are answered in process, and counted. */
function cloudwatch(answer: Answer): { client: CloudWatchClient; inputs: GetMetricDataCommandInput[] } {
  const client = new CloudWatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const inputs: GetMetricDataCommandInput[] = [];
  client.middlewareStack.add(
    () => (args) => {
      const input = args.input as GetMetricDataCommandInput;
      inputs.push(input);
      const out = answer(input, inputs.length);
      if (out instanceof Error) return Promise.reject(out);
      return Promise.resolve({ output: { $metadata: {}, ...out }, response: {} });
    },
    { step: 'initialize', name: 'answerInProcess' },
  );
  return { client, inputs };
}

const now = Date.parse('2026-11-05T13:00:00Z');
const targets = (n: number): UsageTarget[] =>
  Array.from({ length: n }, (_, i) => ({
    key: `ma-${i}`,
    profileArn: `arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p${i}`,
    tenant: `t${i}`,
    model: 'm',
  }));

function poller(answer: Answer, t: UsageTarget[], onChanged: (k: string[]) => void = () => undefined) {
  const cw = cloudwatch(answer);
  const clock = new ManualClock(now);
  const book = new UsageBook();
  const p = new UsagePoller({
    cloudwatch: cw.client,
    clock,
    logger: pino({ level: 'silent' }),
    intervalMs: 300_000,
    targets: () => t,
    book,
    onChanged,
  });
  return { p, cw, clock, book };
}

describe('UsagePoller', () => {
  it.each([
    { profiles: 0, calls: 0 },
    { profiles: 100, calls: 1 },
    { profiles: 1000, calls: 4 },
  ])('$profiles profiles take $calls GetMetricData calls per poll', async ({ profiles, calls }) => {
    const { p, cw } = poller(() => ({ MetricDataResults: [] }), targets(profiles));
    const report = await p.pollOnce();
    console.log(
      `usage poll: ${profiles} inference profiles -> ${report.calls} GetMetricData call(s), ${cw.inputs.reduce((n, i) => n + (i.MetricDataQueries?.length ?? 0), 0)} queries`,
    );
    expect(report.calls).toBe(calls);
    expect(cw.inputs.every((i) => (i.MetricDataQueries?.length ?? 0) <= 500)).toBe(true);
    if (calls > 0) {
      expect(cw.inputs[0]?.StartTime?.toISOString()).toBe('2026-11-01T00:00:00.000Z');
      expect(cw.inputs[0]?.EndTime?.toISOString()).toBe('2026-11-06T00:00:00.000Z');
    }
  });

  it('follows NextToken pages and adds them up; reports only keys whose numbers changed', async () => {
    const today = new Date('2026-11-05T00:00:00Z');
    const changed: string[][] = [];
    const { p, book } = poller(
      (input, call) =>
        input.NextToken
          ? { MetricDataResults: [{ Id: 'i0', Timestamps: [today], Values: [5] }] }
          : {
              MetricDataResults: [{ Id: 'i0', Timestamps: [new Date('2026-11-01T00:00:00Z')], Values: [10] }],
              NextToken: call % 2 ? 'page2' : undefined,
            },
      targets(2),
      (k) => changed.push(k),
    );
    const first = await p.pollOnce();
    expect(first.calls).toBe(2);
    expect(book.get(targets(1)[0]?.profileArn ?? '')).toMatchObject({ monthInput: 15, dayInput: 5 });
    expect(changed).toEqual([['ma-0', 'ma-1']]);
    await p.pollOnce();
    expect(changed).toHaveLength(1);
  });

  it('a failed call keeps the previous readings and reports no change', async () => {
    let fail = false;
    const { p, book } = poller(
      () => (fail ? new Error('boom') : { MetricDataResults: [{ Id: 'o0', Timestamps: [new Date('2026-11-05T00:00:00Z')], Values: [3] }] }),
      targets(1),
    );
    await p.pollOnce();
    fail = true;
    const r = await p.pollOnce();
    expect(r.failedBatches).toBe(1);
    expect(book.get(targets(1)[0]?.profileArn ?? '')?.dayOutput).toBe(3);
  });

  it('runs on a schedule: now, then every interval, never overlapping; stops', async () => {
    const { p, cw, clock } = poller(() => ({ MetricDataResults: [] }), targets(3));
    p.start();
    clock.advance(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(cw.inputs).toHaveLength(1);
    clock.advance(299_000);
    await new Promise((r) => setTimeout(r, 10));
    expect(cw.inputs).toHaveLength(1);
    clock.advance(1_000);
    await new Promise((r) => setTimeout(r, 10));
    expect(cw.inputs).toHaveLength(2);
    await p.stop();
    clock.advance(600_000);
    await new Promise((r) => setTimeout(r, 10));
    expect(cw.inputs).toHaveLength(2);
  });
});
