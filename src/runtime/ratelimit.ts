/** Rate limiters: per-key exponential backoff with jitter, and a token bucket. */
import type { Clock } from './clock.js';

/** Per-key exponential backoff: base * 2^failures, capped, with +/- jitter. */
export class KeyedBackoff {
  private failures = new Map<string, number>();
  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly jitter = 0.1,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a failure of `key` and returns how long to wait before the next attempt. */
  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const raw = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(n, 52));
    const spread = raw * this.jitter * (2 * this.random() - 1);
    return Math.max(0, Math.min(this.maxMs, Math.round(raw + spread)));
  }

  /** How many failures in a row `key` has had. */
  attempts(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Forgets `key` after a success. */
  forget(key: string): void {
    this.failures.delete(key);
  }
}

/**
 * A token bucket: `ratePerSec` tokens refill continuously up to `burst`. `reserve` takes a token
 * now or books one in the future and says how long to wait for it, so callers never spin.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    if (ratePerSec <= 0 || burst < 1) throw new RangeError('TokenBucket needs ratePerSec > 0 and burst >= 1');
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
  }

  /** Takes a token and returns the wait in ms before it may be used (0 when one was free). */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.ratePerSec) * 1000);
  }

  /** Waits for a token. */
  async take(signal?: AbortSignal): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.clock.sleep(wait, signal);
  }
}
