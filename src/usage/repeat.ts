/**
 * A job run now and then every interval after the previous run finished (runs never overlap), on
 * the injected clock: what each usage poller runs on. A failed run is logged and the schedule goes on.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../runtime/clock.js';

/** A repeating job; see the module comment. */
export class Repeating {
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private abort = new AbortController();
  private stopped = true;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly run: (signal: AbortSignal) => Promise<unknown>,
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  /** Runs now and then every interval. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.abort = new AbortController();
    this.schedule(0);
  }

  /** Stops the schedule and waits for a run in flight (aborted) to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.abort.abort();
    await this.running;
  }

  private schedule(ms: number): void {
    this.timer = this.clock.setTimer(ms, () => {
      this.running = this.run(this.abort.signal)
        .then(() => undefined)
        .catch((e: unknown) => this.logger.warn({ err: e }, `${this.what} failed`))
        .finally(() => {
          if (!this.stopped) this.schedule(this.intervalMs);
        });
    });
  }
}
