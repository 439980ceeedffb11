/**
 * A keyed work queue in the manner of client-go's: it holds keys, not objects, so any number of
 * events for one key collapse into one pass; a key is never processed by two workers at once;
 * failures back off per key (exponential with jitter) and overall (token bucket); delayed adds
 * share one timer.
 */
import type { Clock, TimerHandle } from './clock.js';
import { type KeyedBackoff, TokenBucket } from './ratelimit.js';

/** Options of a work queue. */
export interface WorkQueueOptions {
  clock: Clock;
  backoff: KeyedBackoff;
  /** Overall retry budget: retries of all keys together at most this often. */
  retryRatePerSec: number;
  retryBurst: number;
}

/** The keyed work queue. */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, number>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly bucket: TokenBucket;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private shuttingDown = false;
  private drainedWaiters: (() => void)[] = [];

  constructor(private readonly opts: WorkQueueOptions) {
    this.bucket = new TokenBucket(opts.retryRatePerSec, opts.retryBurst, opts.clock);
  }

  /** Queues `key` unless it is already waiting; a key in flight is queued again when done. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.delayed.delete(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Queues `key` after `ms`; an earlier pending time for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.opts.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing !== undefined && existing <= at) return;
    this.delayed.set(key, at);
    this.armTimer();
  }

  /** Queues `key` after its backoff, and after a token of the overall retry budget. */
  addRateLimited(key: string): number {
    const delay = Math.max(this.opts.backoff.next(key), this.bucket.reserve());
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the key's failure history after a successful pass. */
  forget(key: string): void {
    this.opts.backoff.forget(key);
  }

  /** Failures in a row for `key`. */
  retries(key: string): number {
    return this.opts.backoff.attempts(key);
  }

  /** Waits for the next key; undefined once the queue is shut down and empty. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` finished; if it was added meanwhile it goes back in the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
    if (this.processing.size === 0) {
      for (const w of this.drainedWaiters.splice(0)) w();
    }
  }

  /** Keys waiting to be processed (not counting delayed ones). */
  depth(): number {
    return this.queue.length;
  }

  /** Keys scheduled for later. */
  delayedCount(): number {
    return this.delayed.size;
  }

  /** Keys being processed right now. */
  inFlight(): number {
    return this.processing.size;
  }

  /** Stops taking keys, wakes idle workers, and resolves when in-flight keys are done. */
  async shutDown(): Promise<void> {
    this.shuttingDown = true;
    this.timer?.cancel();
    this.delayed.clear();
    this.queue.length = 0;
    this.dirty.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    if (this.processing.size > 0) await new Promise<void>((r) => this.drainedWaiters.push(r));
  }

  private armTimer(): void {
    let earliest = Infinity;
    for (const at of this.delayed.values()) earliest = Math.min(earliest, at);
    if (earliest === Infinity || earliest >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = earliest;
    this.timer = this.opts.clock.setTimer(earliest - this.opts.clock.now(), () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.opts.clock.now();
    for (const [key, at] of [...this.delayed]) {
      if (at <= now) {
        this.delayed.delete(key);
        this.add(key);
      }
    }
    this.armTimer();
  }
}
