/**
 * A loop with one timer: it runs a pass, sleeps on the injected clock until the pass says the
 * next one is due (or indefinitely, with no timer at all), and wakes early when asked. Stopping
 * aborts the signal passes see and waits for the current pass to end.
 */
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.js';

/** One pass: does what is due and returns the delay until the next (undefined: until woken). */
export type Pass = (signal: AbortSignal) => Promise<number | undefined>;

/** How long to wait after a pass threw, so a bug cannot spin the loop. */
const AFTER_ERROR_MS = 1000;

/** The loop. */
export class WakeableLoop {
  private loop: Promise<void> | undefined;
  private stopping = false;
  private abort = new AbortController();
  private sleeper: AbortController | undefined;
  private woken = false;

  constructor(
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly pass: Pass,
  ) {}

  /** True between `start` and `stop`. */
  get running(): boolean {
    return this.loop !== undefined && !this.stopping;
  }

  /** Starts the loop (a no-op when it runs). */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.abort = new AbortController();
    this.loop = this.run();
  }

  /** Stops: aborts the current pass's signal, cancels the timer and waits for the loop to end. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.abort.abort();
    this.wake();
    await this.loop;
    this.loop = undefined;
  }

  /** Runs a pass soon: now if sleeping, else right after the current pass. */
  wake(): void {
    if (this.sleeper) this.sleeper.abort();
    else this.woken = true;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let delay: number | undefined;
      try {
        delay = await this.pass(this.abort.signal);
      } catch (e) {
        this.log.error({ err: e }, 'loop pass failed');
        delay = AFTER_ERROR_MS;
      }
      if (this.stopping) break;
      if (delay !== undefined && delay <= 0) {
        this.woken = false;
        continue;
      }
      await this.idle(delay);
    }
  }

  /** Sleeps `ms` (forever when undefined) or until woken: the loop's only timer. */
  private async idle(ms: number | undefined): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return;
    }
    const ac = new AbortController();
    this.sleeper = ac;
    try {
      if (ms === undefined) await new Promise<void>((resolve) => ac.signal.addEventListener('abort', () => resolve(), { once: true }));
      else await this.clock.sleep(ms, ac.signal);
    } finally {
      this.sleeper = undefined;
      this.woken = false;
    }
  }
}
