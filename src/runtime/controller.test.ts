import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConflictError, TerminalError } from '../core/errors.js';
import { ManualClock } from './clock.js';
import { Controller, type Reconciler, type Result } from './controller.js';
import { createMetrics } from './metrics.js';
import { KeyedBackoff } from './ratelimit.js';
import { WorkQueue } from './workqueue.js';

/** A reconciler that answers each pass from a script and records when it ran. */
function scripted(outcomes: (() => Result)[], clock: ManualClock): Reconciler & { runs: number[] } {
  const runs: number[] = [];
  return {
    runs,
    reconcile: () => {
      runs.push(clock.now());
      const next = outcomes.shift();
      return Promise.resolve(next ? next() : {});
    },
  };
}

/** Lets the workers take and finish whatever is due. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function controllerWith(reconciler: Reconciler, clock: ManualClock): { controller: Controller; queue: WorkQueue } {
  const queue = new WorkQueue({ clock, backoff: new KeyedBackoff(500, 300_000, 0), retryRatePerSec: 10, retryBurst: 100 });
  const controller = new Controller({
    name: 'things',
    queue,
    reconciler,
    workers: 1,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(false),
    clock,
    resyncMs: 3_600_000,
    exists: () => true,
  });
  return { controller, queue };
}

describe('Controller', () => {
  it('requeues a pass that lost a write race through the per-key backoff, not at a fixed rate', async () => {
    const clock = new ManualClock(0);
    const conflict = (): Result => {
      throw new ConflictError('stale');
    };
    const r = scripted([conflict, conflict, conflict, () => ({})], clock);
    const { controller, queue } = controllerWith(r, clock);
    controller.start();
    controller.enqueue('a');
    await settle();
    for (const step of [500, 1_000, 2_000]) {
      clock.advance(step);
      await settle();
    }
    // 500 ms, then 1 s, then 2 s after each conflict: the backoff doubles per key.
    expect(r.runs).toEqual([0, 500, 1_500, 3_500]);
    // The success forgets the key's failures.
    expect(queue.retries('a')).toBe(0);
    await controller.stop();
  });

  it('does not retry a terminal error with backoff: it comes back with the resync', async () => {
    const clock = new ManualClock(0);
    const r = scripted(
      [
        () => {
          throw new TerminalError('Bad', 'needs a spec change');
        },
      ],
      clock,
    );
    const { controller, queue } = controllerWith(r, clock);
    controller.start();
    controller.enqueue('a');
    await settle();
    clock.advance(60_000);
    await settle();
    expect(r.runs).toEqual([0]);
    expect(queue.retries('a')).toBe(0);
    expect(queue.delayedCount()).toBe(1);
    await controller.stop();
  });
});

describe('Controller requeues', () => {
  it('a requeue soon after a pass continues its chain: it goes ahead of first passes already queued', async () => {
    const clock = new ManualClock(0);
    const order: string[] = [];
    const reconciler: Reconciler = {
      reconcile: async (key) => {
        order.push(key);
        // The chain waits a second for what it created; each first pass takes half a second.
        if (key === 'chain') return order.length === 1 ? { requeueAfterMs: 1_000 } : {};
        await clock.sleep(500);
        return {};
      },
    };
    const { controller } = controllerWith(reconciler, clock);
    controller.start();
    for (const key of ['chain', 'p1', 'p2', 'p3', 'p4', 'p5']) controller.enqueue(key);
    for (let t = 0; t < 4_000; t += 100) {
      await settle();
      clock.advance(100);
    }
    expect(order).toEqual(['chain', 'p1', 'p2', 'chain', 'p3', 'p4', 'p5']);
    await controller.stop();
  });

  it("a far-off requeue (a schedule) keeps the key's own priority: it goes behind keys already queued", async () => {
    const clock = new ManualClock(0);
    const order: string[] = [];
    const reconciler: Reconciler = {
      reconcile: async (key) => {
        order.push(key);
        if (key === 'scheduled') return order.length === 1 ? { requeueAfterMs: 120_000 } : {};
        await clock.sleep(500);
        return {};
      },
    };
    const { controller } = controllerWith(reconciler, clock);
    controller.start();
    controller.enqueue('scheduled');
    await settle();
    clock.advance(119_000);
    for (const key of ['p1', 'p2', 'p3']) controller.enqueue(key);
    for (let t = 0; t < 4_000; t += 100) {
      await settle();
      clock.advance(100);
    }
    expect(order).toEqual(['scheduled', 'p1', 'p2', 'p3', 'scheduled']);
    await controller.stop();
  });
});

describe('Controller pass signals', () => {
  it('gives each pass its own signal, aborted when the controller halts, and leaves no listener behind', async () => {
    const clock = new ManualClock(0);
    const signals: AbortSignal[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((ok) => (release = ok));
    const reconciler: Reconciler = {
      reconcile: async (key, ctx) => {
        signals.push(ctx.signal);
        if (key === 'held') await held;
        return {};
      },
    };
    const { controller } = controllerWith(reconciler, clock);
    controller.start();
    controller.enqueue('done');
    await settle();
    controller.enqueue('held');
    await settle();
    expect(signals).toHaveLength(2);
    expect(signals[0]).not.toBe(signals[1]);
    // The finished pass's signal is no longer tied to the controller.
    controller.halt();
    expect(signals[0]?.aborted).toBe(false);
    expect(signals[1]?.aborted).toBe(true);
    release();
    await settle();
  });
});
