/**
 * The gateway counter poller and the CloudWatch poller's read of the gateway's counters, over an
 * in-memory counter store holding the keys the gateway's own code names: the operator reads what
 * the gateway writes, requeues only what changed, keeps readings when Redis fails, reads the
 * counters only after CloudWatch answered, and runs on its own shorter schedule.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { windowsAt } from '../gateway/quota.js';
import { ManualClock } from '../runtime/clock.js';
import { UsageBook } from './book.js';
import type { GatewayCounters } from './gateway-counters.js';
import { GatewayCounterPoller, gatewayCounterSource } from './gateway-poller.js';
import { UsagePoller } from './poller.js';
import type { UsageTarget } from './targets.js';

const logger = pino({ level: 'silent' });
const now = Date.parse('2026-11-05T13:00:00Z');
const PREFIX = 'tro:quota';
const target = (i: number): UsageTarget => ({
  key: `ma-${i}`,
  profileArn: `arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/p${i}`,
  tenant: `tenant-${i}`,
  model: 'anthropic.claude-3-haiku-20240307-v1:0',
});

/** Counters in memory; `log` records each read, `fail` makes reads throw. */
class MemoryCounters implements GatewayCounters {
  readonly values = new Map<string, number>();
  readonly log: string[] = [];
  fail = false;
  closed = 0;
  read(keys: readonly string[]): Promise<number[]> {
    this.log.push('redis');
    if (this.fail) return Promise.reject(new Error('ECONNREFUSED'));
    return Promise.resolve(keys.map((k) => this.values.get(k) ?? 0));
  }
  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
  /** What the gateway's settle leaves in the day and month counters of a target. */
  serve(t: UsageTarget, tokens: number, at = now): void {
    const w = windowsAt(PREFIX, t.tenant, t.model, new Date(at));
    for (const k of [w.keys.day, w.keys.month]) this.values.set(k, (this.values.get(k) ?? 0) + tokens);
  }
}

function setup(targets: UsageTarget[]) {
  const clock = new ManualClock(now);
  const counters = new MemoryCounters();
  const book = new UsageBook();
  const changed: string[][] = [];
  const poller = new GatewayCounterPoller({
    counters,
    prefix: PREFIX,
    intervalMs: 10_000,
    clock,
    logger,
    targets: () => targets,
    book,
    onChanged: (k) => changed.push(k),
  });
  return { clock, counters, book, changed, poller };
}

describe('GatewayCounterPoller', () => {
  it("reads the counters the gateway's code writes, and requeues only the accesses whose numbers moved", async () => {
    const [a, b] = [target(0), target(1)];
    const { counters, book, changed, poller } = setup([a, b]);
    counters.serve(a, 120);
    counters.serve(a, 30, Date.parse('2026-11-02T08:00:00Z'));
    await poller.pollOnce();
    expect(book.getGateway(a.profileArn)).toMatchObject({ day: '2026-11-05', dayTokens: 120, month: '2026-11', monthTokens: 150 });
    expect(book.getGateway(b.profileArn)).toMatchObject({ dayTokens: 0, monthTokens: 0 });
    expect(changed).toEqual([['ma-0', 'ma-1']]);
    await poller.pollOnce();
    expect(changed).toHaveLength(1);
    counters.serve(b, 7);
    await poller.pollOnce();
    expect(changed.at(-1)).toEqual(['ma-1']);
  });

  it('a failed read keeps the previous readings and requeues nothing', async () => {
    const a = target(0);
    const { counters, book, changed, poller } = setup([a]);
    counters.serve(a, 50);
    await poller.pollOnce();
    counters.fail = true;
    await expect(poller.pollOnce()).rejects.toThrow(/ECONNREFUSED/);
    expect(book.getGateway(a.profileArn)?.dayTokens).toBe(50);
    expect(changed).toHaveLength(1);
  });
});

/** A CloudWatch client answering in process, logging each call into `log`. */
function cloudwatch(log: string[], value: number): CloudWatchClient {
  const client = new CloudWatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  client.middlewareStack.add(
    () => () => {
      log.push('cloudwatch');
      const output = { $metadata: {}, MetricDataResults: [{ Id: 'i0', Timestamps: [new Date('2026-11-05T00:00:00Z')], Values: [value] }] };
      return Promise.resolve({ output, response: {} });
    },
    { step: 'initialize', name: 'answerInProcess' },
  );
  return client;
}

describe('UsagePoller with the gateway', () => {
  function usage(a: UsageTarget) {
    const { clock, counters, book } = setup([a]);
    const poller = new UsagePoller({
      cloudwatch: cloudwatch(counters.log, 400),
      clock,
      logger,
      intervalMs: 300_000,
      targets: () => [a],
      book,
      onChanged: () => undefined,
      gateway: { counters, prefix: PREFIX, intervalMs: 10_000 },
    });
    return { clock, counters, book, poller };
  }

  it("reads the gateway's counters right after CloudWatch answered and keeps them with the reading", async () => {
    const a = target(0);
    const { counters, book, poller } = usage(a);
    counters.serve(a, 300);
    await poller.pollOnce();
    expect(counters.log).toEqual(['cloudwatch', 'redis']);
    expect(book.get(a.profileArn)).toMatchObject({ dayInput: 400, gatewayAtRead: { dayTokens: 300 } });
    expect(book.getGateway(a.profileArn)?.dayTokens).toBe(300);
  });

  it("stores CloudWatch's reading without them when Redis fails", async () => {
    const a = target(0);
    const { counters, book, poller } = usage(a);
    counters.fail = true;
    const r = await poller.pollOnce();
    expect(r.failedBatches).toBe(0);
    expect(book.get(a.profileArn)?.dayInput).toBe(400);
    expect(book.get(a.profileArn)?.gatewayAtRead).toBeUndefined();
  });

  it('runs the gateway poll on its own interval; stopping stops both and lets go of Redis', async () => {
    const a = target(0);
    const { clock, counters, poller } = usage(a);
    const tick = async (ms: number): Promise<void> => {
      clock.advance(ms);
      await new Promise((r) => setTimeout(r, 10));
    };
    poller.start();
    await tick(0);
    const count = (what: string): number => counters.log.filter((x) => x === what).length;
    expect(count('cloudwatch')).toBe(1);
    await tick(10_000);
    await tick(10_000);
    expect(count('cloudwatch')).toBe(1);
    // One read right after CloudWatch, one at start, one per 10 s.
    expect(count('redis')).toBe(4);
    await poller.stop();
    expect(counters.closed).toBe(1);
    await tick(600_000);
    expect(count('redis')).toBe(4);
  });
});

describe('gatewayCounterSource', () => {
  it('is nothing without the setting, and the settings with it', () => {
    expect(gatewayCounterSource(undefined)).toBeUndefined();
    const s = gatewayCounterSource({ url: 'redis://127.0.0.1:1', timeoutMs: 100, keyPrefix: 'p', pollSeconds: 7 });
    expect(s).toMatchObject({ prefix: 'p', intervalMs: 7000 });
  });
});
