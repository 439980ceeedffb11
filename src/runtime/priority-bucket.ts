/**
 * A token bucket that serves waiting callers by priority. `ratePerSec` tokens refill continuously
 * up to `burst`; a caller takes a free token at once when no one is waiting, otherwise it queues,
 * and each token, as it refills, goes to the oldest waiting `high` caller before any `low` one.
 * So a call that unblocks a waiting chain of work overtakes the calls that start new work, and
 * the rate stays the bucket's whatever the order.
 *
 * Low priority is never starved: while both wait, at most `highsPerLow` (3) high callers are
 * served in a row before the oldest low one, so low calls keep at least a quarter of the rate
 * however many high calls arrive, and the k-th waiting low call is served within
 * k * (highsPerLow + 1) tokens. A share rather than aging: it bounds low's rate as well as each
 * low caller's wait, and needs no timestamps. The order itself is PriorityLanes', which the work
 * queue serves its keys by too.
 */
import type { CallPriority } from './call-priority.js';
import type { Clock, TimerHandle } from './clock.js';

/** A queued caller: called with the token. */
type Waiter = () => void;

/**
 * Where an item waits in PriorityLanes: a `high` or `low` priority, or `continuing`: high work
 * that continues a chain already under way, taken before every other high item so that chains
 * started are finished before new ones are started.
 */
export type Lane = CallPriority | 'continuing';

/**
 * Items waiting in first-in, first-out lanes, taken high first with a bounded share for low:
 * while low items wait, at most `highsPerLow` high items (`continuing` ones first, then `high`)
 * are taken in a row before the oldest low one, so the k-th waiting low item is taken within
 * k * (highsPerLow + 1) takes.
 */
export class PriorityLanes<T> {
  private readonly lanes: Record<Lane, T[]> = { continuing: [], high: [], low: [] };
  /** High items taken in a row while a low one waited. */
  private highsInARow = 0;

  constructor(private readonly highsPerLow = 3) {
    if (highsPerLow < 1) throw new RangeError('PriorityLanes needs highsPerLow >= 1');
  }

  /** Puts `item` at the back of its lane. */
  push(item: T, lane: Lane): void {
    this.lanes[lane].push(item);
  }

  /**
   * Takes the oldest high item, unless a low one has already let `highsPerLow` go ahead of it;
   * `lowFirst` gives the oldest low item its turn now (the caller knows of a share this order
   * cannot see, such as workers held by long high passes).
   */
  shift(lowFirst = false): T | undefined {
    const { continuing, high, low } = this.lanes;
    if (low.length > 0 && (this.size('high') === 0 || lowFirst || this.highsInARow >= this.highsPerLow)) {
      this.highsInARow = 0;
      return low.shift();
    }
    this.highsInARow = low.length > 0 ? this.highsInARow + 1 : 0;
    return continuing.shift() ?? high.shift();
  }

  /** Takes `item` out of whichever lane holds it; false when none does. */
  remove(item: T): boolean {
    for (const lane of Object.values(this.lanes)) {
      const at = lane.indexOf(item);
      if (at >= 0) {
        lane.splice(at, 1);
        return true;
      }
    }
    return false;
  }

  /** Items waiting at `priority` (`high` counts `continuing` ones too), or in every lane. */
  size(priority?: CallPriority): number {
    const { continuing, high, low } = this.lanes;
    if (priority === 'high') return continuing.length + high.length;
    return priority === 'low' ? low.length : continuing.length + high.length + low.length;
  }

  /** Empties every lane. */
  clear(): void {
    for (const lane of Object.values(this.lanes)) lane.length = 0;
    this.highsInARow = 0;
  }
}

/** See the module comment. */
export class PriorityTokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiters: PriorityLanes<Waiter>;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly clock: Clock,
    highsPerLow = 3,
  ) {
    if (ratePerSec <= 0 || burst < 1 || highsPerLow < 1)
      throw new RangeError('PriorityTokenBucket needs ratePerSec > 0, burst >= 1 and highsPerLow >= 1');
    this.waiters = new PriorityLanes(highsPerLow);
    this.tokens = burst;
    this.last = clock.now();
  }

  /**
   * Waits for a token at `priority`; true when the caller had to wait. An abort ends the wait
   * without a token (the caller's own call then fails on the same signal).
   */
  take(priority: CallPriority, signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    this.refill();
    if (this.waiting() === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const aborted = (): void => {
        this.waiters.remove(served);
        resolve(true);
      };
      const served: Waiter = () => {
        signal?.removeEventListener('abort', aborted);
        resolve(true);
      };
      this.waiters.push(served, priority);
      signal?.addEventListener('abort', aborted, { once: true });
      this.schedule();
    });
  }

  /** How many callers are waiting. */
  waiting(): number {
    return this.waiters.size();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
  }

  /** One timer at a time, due when the next whole token has refilled. */
  private schedule(): void {
    if (this.timer || this.waiting() === 0) return;
    const ms = Math.max(1, Math.ceil(((1 - this.tokens) / this.ratePerSec) * 1000));
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = undefined;
      this.serve();
    });
  }

  /** Hands every whole token to the next waiter in priority order, then waits for the next one. */
  private serve(): void {
    this.refill();
    while (this.tokens >= 1) {
      const next = this.waiters.shift();
      if (!next) break;
      this.tokens -= 1;
      next();
    }
    this.schedule();
  }
}
