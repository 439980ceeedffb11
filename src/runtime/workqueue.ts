/**
 * A keyed work queue in the manner of client-go's: it holds keys, not objects, so any number of
 * events for one key collapse into one pass; a key is never processed by two workers at once;
 * failures back off per key (exponential with jitter) and overall (token bucket); delayed adds
 * share one timer.
 *
 * Keys wait in two lanes (PriorityLanes, the order the rate budgets serve calls in): `high` keys,
 * whose passes unblock chains of work waiting on them (a dedicated tenant; a requeue that
 * continues a chain a pass has started), go before `low` ones, which start work nothing waits on
 * (a pool tenant's first pass). Otherwise a chain requeued while its knowledge base is CREATING
 * waits behind the whole backlog of first passes. A key's priority is the higher of its own
 * (`priorityOf`) and the one it was added with. Low keeps a bounded share twice over: at most
 * `highsPerLow` high keys are taken in a row while a low one waits, and while low keys wait, high
 * passes hold at most `highsPerLow` workers per low pass in flight (plus `highsPerLow`): a high
 * pass may wait long in a rate budget, and taking turns alone would let such passes fill every
 * worker.
 */
import type { CallPriority } from './call-priority.js';
import type { Clock, TimerHandle } from './clock.js';
import { PriorityLanes } from './priority-bucket.js';
import { type KeyedBackoff, TokenBucket } from './ratelimit.js';

/** Options of a work queue. */
export interface WorkQueueOptions {
  clock: Clock;
  backoff: KeyedBackoff;
  /** Overall retry budget: retries of all keys together at most this often. */
  retryRatePerSec: number;
  retryBurst: number;
  /** The priority of a key's passes, asked whenever it is added; `low` for every key when unset. */
  priorityOf?: (key: string) => CallPriority;
  /** High keys taken in a row, and high passes in flight per low one, while low keys wait (3). */
  highsPerLow?: number;
}

const higher = (a: CallPriority, b: CallPriority): CallPriority => (a === 'high' || b === 'high' ? 'high' : 'low');

/** The keyed work queue. */
export class WorkQueue {
  private readonly queue: PriorityLanes<string>;
  /** Keys waiting (queued, or to be queued again when their pass ends), by priority. */
  private readonly dirty = new Map<string, CallPriority>();
  /** Keys being processed, by priority. */
  private readonly processing = new Map<string, CallPriority>();
  private readonly delayed = new Map<string, { at: number; priority: CallPriority }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly bucket: TokenBucket;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private shuttingDown = false;
  private drainedWaiters: (() => void)[] = [];

  private readonly highsPerLow: number;

  constructor(private readonly opts: WorkQueueOptions) {
    this.bucket = new TokenBucket(opts.retryRatePerSec, opts.retryBurst, opts.clock);
    this.highsPerLow = opts.highsPerLow ?? 3;
    this.queue = new PriorityLanes(this.highsPerLow);
  }

  /**
   * Queues `key` unless it is already waiting (then it only moves up to `high` if asked); a key
   * in flight is queued again when done.
   */
  add(key: string, priority: CallPriority = 'low'): void {
    if (this.shuttingDown) return;
    const p = higher(priority, this.opts.priorityOf?.(key) ?? 'low');
    const waiting = this.dirty.get(key);
    if (waiting !== undefined) {
      if (p === 'high' && waiting === 'low') this.promote(key);
      return;
    }
    this.dirty.set(key, p);
    this.delayed.delete(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.set(key, p);
      waiter(key);
    } else {
      this.queue.push(key, p);
    }
  }

  /** Queues `key` after `ms`; an earlier pending time for the key wins, and so does `high`. */
  addAfter(key: string, ms: number, priority: CallPriority = 'low'): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key, priority);
    const at = this.opts.clock.now() + ms;
    const existing = this.delayed.get(key);
    const p = higher(priority, existing?.priority ?? 'low');
    if (existing !== undefined && existing.at <= at) {
      existing.priority = p;
      return;
    }
    this.delayed.set(key, { at, priority: p });
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
    const key = this.queue.shift(this.highHoldsItsShare());
    if (key !== undefined) {
      this.processing.set(key, this.dirty.get(key) ?? 'low');
      this.dirty.delete(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Marks `key` finished; if it was added meanwhile it goes back in the queue. */
  done(key: string): void {
    this.processing.delete(key);
    const again = this.dirty.get(key);
    if (again !== undefined) {
      this.dirty.delete(key);
      this.add(key, again);
    }
    if (this.processing.size === 0) {
      for (const w of this.drainedWaiters.splice(0)) w();
    }
  }

  /** Keys waiting to be processed (not counting delayed ones). */
  depth(): number {
    return this.queue.size();
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
    this.queue.clear();
    this.dirty.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    if (this.processing.size > 0) await new Promise<void>((r) => this.drainedWaiters.push(r));
  }

  /** A queued key moves to the high lane, at its back. */
  private promote(key: string): void {
    this.dirty.set(key, 'high');
    if (this.queue.remove(key)) this.queue.push(key, 'high');
  }

  /** Whether high passes in flight already hold their share of the workers (see the module comment). */
  private highHoldsItsShare(): boolean {
    let high = 0;
    for (const p of this.processing.values()) if (p === 'high') high++;
    const low = this.processing.size - high;
    return high >= this.highsPerLow * (low + 1);
  }

  private armTimer(): void {
    let earliest = Infinity;
    for (const { at } of this.delayed.values()) earliest = Math.min(earliest, at);
    if (earliest === Infinity || earliest >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = earliest;
    this.timer = this.opts.clock.setTimer(earliest - this.opts.clock.now(), () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.opts.clock.now();
    for (const [key, { at, priority }] of [...this.delayed]) {
      if (at <= now) {
        this.delayed.delete(key);
        this.add(key, priority);
      }
    }
    this.armTimer();
  }
}
