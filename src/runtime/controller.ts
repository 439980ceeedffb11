/**
 * The controller loop: N workers take keys from the work queue and run the reconciler. A pass
 * returns a requeue delay (an expected wait), succeeds, or throws. Terminal errors are not
 * retried (the reconciler has written why to status); every other error, write conflicts
 * included, is retried with the queue's per-key backoff, the one place retry lives. Successful
 * keys come back after a jittered resync period to catch drift. A requeue soon after a pass
 * continues the chain that pass started, so it goes ahead of other keys in the work queue.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { ConflictError, TerminalError, asError } from '../core/errors.js';
import type { Clock } from './clock.js';
import type { RuntimeMetrics } from './metrics.js';
import type { WorkQueue } from './workqueue.js';

/** What a reconcile pass returns. */
export interface Result {
  requeueAfterMs?: number;
}

/** The context of one pass. */
export interface ReconcileContext {
  logger: Logger;
  signal: AbortSignal;
  reconcileId: string;
}

/** Something that brings one object's world in line with its spec. */
export interface Reconciler {
  reconcile(name: string, ctx: ReconcileContext): Promise<Result>;
}

/** Options of a controller. */
export interface ControllerOptions {
  name: string;
  queue: WorkQueue;
  reconciler: Reconciler;
  workers: number;
  logger: Logger;
  metrics: RuntimeMetrics;
  clock: Clock;
  /** Every object is reconciled again at about this interval (+0-10% jitter). */
  resyncMs: number;
  /** Whether the key's object still exists; gone keys are not scheduled for resync. */
  exists: (key: string) => boolean;
}

/**
 * A requeue a pass asks for within this time waits for a short transition of something it set in
 * motion (a knowledge base CREATING, a write settling, a first sync): it continues a chain, and
 * is queued `continuing`, ahead of keys that would start one. Later ones are schedules (the next
 * sync, a slow poll) and keep the key's own priority.
 */
export const CHAIN_REQUEUE_MAX_MS = 60_000;

/** The name of the innermost error in the cause chain (the SDK's AccessDenied under a wrapper). */
function innermostName(e: Error): string {
  let name = e.name;
  let x: unknown = e.cause;
  for (let depth = 0; depth < 8 && x instanceof Error; depth++, x = x.cause) name = x.name;
  return name;
}

/** A running controller. */
export class Controller {
  private workers: Promise<void>[] = [];
  private readonly abort = new AbortController();
  private seq = 0;

  constructor(private readonly opts: ControllerOptions) {
    // One listener per pass in progress (see work()), so at most one per worker.
    setMaxListeners(opts.workers + 1, this.abort.signal);
  }

  /** Queues a key for reconciliation. */
  enqueue(name: string): void {
    this.opts.queue.add(name);
    this.opts.metrics.queueDepth.set({ controller: this.opts.name }, this.opts.queue.depth());
  }

  /** Starts the workers. */
  start(): void {
    for (let i = 0; i < this.opts.workers; i++) this.workers.push(this.work());
  }

  /** Stops taking keys and waits for in-flight passes to finish. */
  async stop(): Promise<void> {
    await this.opts.queue.shutDown();
    await Promise.all(this.workers);
  }

  /** Stops at once: no new passes start and in-flight passes see their signal aborted. */
  halt(): void {
    this.abort.abort();
    void this.opts.queue.shutDown();
  }

  private resyncDelay(): number {
    return Math.round(this.opts.resyncMs * (1 + Math.random() * 0.1));
  }

  private scheduleResync(key: string): void {
    if (this.opts.exists(key)) this.opts.queue.addAfter(key, this.resyncDelay());
  }

  private async work(): Promise<void> {
    const { queue, name: controller, metrics } = this.opts;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      metrics.queueDepth.set({ controller }, queue.depth());
      const reconcileId = `${controller}-${(++this.seq).toString(36)}`;
      const logger = this.opts.logger.child({ controller, name: key, reconcileId });
      const end = metrics.reconcileDuration.startTimer({ controller });
      // Each pass gets its own signal, tied to the controller's: every AWS call waiting to retry
      // listens on the signal it was given, so one signal shared by all workers collected a
      // listener per waiting call (Node 20 warned past 10); now the controller's signal holds one
      // listener per pass in progress, at most one per worker.
      const pass = new AbortController();
      const stop = (): void => pass.abort();
      this.abort.signal.addEventListener('abort', stop, { once: true });
      try {
        const result = await this.opts.reconciler.reconcile(key, { logger, signal: pass.signal, reconcileId });
        queue.forget(key);
        if (result.requeueAfterMs !== undefined) {
          metrics.reconcileTotal.inc({ controller, result: 'requeue' });
          // A far-off requeue (the next scheduled sync) must not postpone the drift check.
          const after = Math.min(result.requeueAfterMs, this.resyncDelay());
          queue.addAfter(key, after, after <= CHAIN_REQUEUE_MAX_MS ? 'continuing' : 'low');
        } else {
          metrics.reconcileTotal.inc({ controller, result: 'success' });
          this.scheduleResync(key);
        }
      } catch (e) {
        const err = asError(e);
        if (err instanceof TerminalError) {
          // Needs a spec change; the watch brings the key back when that happens, and the resync
          // still looks for drift meanwhile.
          queue.forget(key);
          metrics.reconcileTotal.inc({ controller, result: 'terminal' });
          metrics.reconcileErrors.inc({ controller, reason: err.reason });
          logger.info({ reason: err.reason }, err.message);
          this.scheduleResync(key);
        } else if (err instanceof ConflictError) {
          // Lost a write race: not a failure worth a log line, but it goes through the per-key
          // backoff like one, so a cache that stays stale (a watch that stopped delivering) backs
          // off instead of looping at a fixed interval.
          const delay = queue.addRateLimited(key);
          metrics.reconcileTotal.inc({ controller, result: 'conflict' });
          logger.debug({ err: err.message, retryInMs: delay }, 'write conflict; requeued');
        } else {
          const delay = queue.addRateLimited(key);
          metrics.reconcileTotal.inc({ controller, result: 'error' });
          metrics.reconcileErrors.inc({ controller, reason: innermostName(err) });
          metrics.queueRetries.inc({ controller });
          logger.error({ err, retryInMs: delay, attempts: queue.retries(key) }, 'reconcile failed');
        }
      } finally {
        this.abort.signal.removeEventListener('abort', stop);
        end();
        queue.done(key);
      }
    }
  }
}
