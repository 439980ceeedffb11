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
 * low caller's wait, and needs no timestamps.
 */
import type { CallPriority } from './call-priority.js';
import type { Clock, TimerHandle } from './clock.js';

/** A queued caller: called with the token. */
type Waiter = () => void;

/** See the module comment. */
export class PriorityTokenBucket {
  private tokens: number;
  private last: number;
  private readonly queues: Record<CallPriority, Waiter[]> = { high: [], low: [] };
  /** High callers served in a row while a low one waited. */
  private highsInARow = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly clock: Clock,
    private readonly highsPerLow = 3,
  ) {
    if (ratePerSec <= 0 || burst < 1 || highsPerLow < 1)
      throw new RangeError('PriorityTokenBucket needs ratePerSec > 0, burst >= 1 and highsPerLow >= 1');
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
      const queue = this.queues[priority];
      const aborted = (): void => {
        const at = queue.indexOf(served);
        if (at >= 0) queue.splice(at, 1);
        resolve(true);
      };
      const served: Waiter = () => {
        signal?.removeEventListener('abort', aborted);
        resolve(true);
      };
      queue.push(served);
      signal?.addEventListener('abort', aborted, { once: true });
      this.schedule();
    });
  }

  /** How many callers are waiting. */
  waiting(): number {
    return this.queues.high.length + this.queues.low.length;
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
      const next = this.next();
      if (!next) break;
      this.tokens -= 1;
      next();
    }
    this.schedule();
  }

  /** The oldest high waiter, unless a low one has already let `highsPerLow` go ahead of it. */
  private next(): Waiter | undefined {
    const { high, low } = this.queues;
    if (low.length > 0 && (high.length === 0 || this.highsInARow >= this.highsPerLow)) {
      this.highsInARow = 0;
      return low.shift();
    }
    this.highsInARow = low.length > 0 ? this.highsInARow + 1 : 0;
    return high.shift();
  }
}
