/**
 * A keyed work queue in the manner of client-go's: it holds keys, not objects, so any number of
 * events for one key collapse into one pass; a key is never processed by two workers at once;
 * failures back off per key (exponential with jitter) and overall (token bucket); delayed adds
 * share one timer.
 *
 * Keys wait in lanes (PriorityLanes, the order the rate budgets serve calls in): `high` keys,
 * whose passes unblock chains of work (a dedicated tenant's), go before `low` ones, which start
 * work nothing waits on (a pool tenant's first pass); and a key requeued to continue a chain its
 * last pass started (`continuing`, say while its knowledge base is CREATING) goes before every
 * other high key, so chains under way finish before new ones take the workers. Otherwise such a
 * requeue waits behind the whole backlog of first passes. A key's lane is the higher of its own
 * priority (`priorityOf`) and the lane it was added to. Low keeps a bounded share twice over: at
 * most `highsPerLow` high keys are taken in a row while a low one waits, and while low keys
 * wait, high passes hold at most `highsPerLow` workers per low pass in flight (plus
 * `highsPerLow`): a high pass may wait long in a rate budget, and taking turns alone would let
 * such passes fill every worker.
 */
import type { CallPriority } from './call-priority.js';
import type { Clock, TimerHandle } from './clock.js';
import { type Lane, PriorityLanes } from './priority-bucket.js';
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

const RANK: Record<Lane, number> = { low: 0, high: 1, continuing: 2 };
/** The lane that goes first of `a` and `b`. */
const higher = (a: Lane, b: Lane): Lane => (RANK[a] >= RANK[b] ? a : b);

/** The keyed work queue. */
export class WorkQueue {
  private readonly queue: PriorityLanes<string>;
  /** Keys waiting (queued, or to be queued again when their pass ends), by lane. */
  private readonly dirty = new Map<string, Lane>();
  /** Keys being processed, by lane. */
  private readonly processing = new Map<string, Lane>();
  private readonly delayed = new Map<string, { at: number; lane: Lane }>();
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
   * Queues `key` in `lane` or its own priority's, whichever goes first, unless it is already
   * waiting (then it only moves up if `lane` goes first); a key in flight is queued again when done.
   * A pending delayed add of the key is taken up by this one, lane and all.
   */
  add(key: string, lane: Lane = 'low'): void {
    if (this.shuttingDown) return;
    const p = higher(lane, this.opts.priorityOf?.(key) ?? 'low');
    const waiting = this.dirty.get(key);
    if (waiting !== undefined) {
      if (higher(p, waiting) !== waiting) this.promote(key, p);
      return;
    }
    const queued = higher(p, this.delayed.get(key)?.lane ?? 'low');
    this.dirty.set(key, queued);
    this.delayed.delete(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.set(key, queued);
      waiter(key);
    } else {
      this.queue.push(key, queued);
    }
  }

  /** Queues `key` after `ms`; an earlier pending time for the key wins, and so does the lane that goes first. */
  addAfter(key: string, ms: number, lane: Lane = 'low'): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key, lane);
    const at = this.opts.clock.now() + ms;
    const existing = this.delayed.get(key);
    const p = higher(lane, existing?.lane ?? 'low');
    if (existing !== undefined && existing.at <= at) {
      existing.lane = p;
      return;
    }
    this.delayed.set(key, { at, lane: p });
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

  /** A waiting key moves up to `lane`, at its back. */
  private promote(key: string, lane: Lane): void {
    this.dirty.set(key, lane);
    if (this.queue.remove(key)) this.queue.push(key, lane);
  }

  /** Whether high passes in flight already hold their share of the workers (see the module comment). */
  private highHoldsItsShare(): boolean {
    let high = 0;
    for (const lane of this.processing.values()) if (lane !== 'low') high++;
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
    for (const [key, { at, lane }] of [...this.delayed]) {
      if (at <= now) {
        this.delayed.delete(key);
        this.add(key, lane);
      }
    }
    this.armTimer();
  }
}
