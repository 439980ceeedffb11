/**
 * Lease-based leader election following client-go's algorithm: a candidate takes the lease when
 * it is free or its holder has not renewed within the lease duration, measured on the local clock
 * from when this candidate last saw the record change (so clock skew between nodes cannot make two
 * leaders); the leader renews every retry period and steps down if it cannot renew within the
 * renew deadline; on shutdown it releases the lease so a successor takes over at once.
 */
import type { Logger } from 'pino';
import { ConflictError } from '../core/errors.js';
import type { LeaseRecord, LeaseStore } from '../ports/kube.js';
import type { Clock } from './clock.js';

/** Timings of leader election (controller-runtime defaults: 15 s, 10 s, 2 s). */
export interface LeaderElectionTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** Default timings, those of controller-runtime. */
export const DEFAULT_LEADER_TIMINGS: LeaderElectionTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** Callbacks when leadership starts and ends. */
export interface LeaderCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/** One candidate in a leader election. */
export class LeaderElector {
  private observed: LeaseRecord | undefined;
  private observedAt = 0;
  private leading = false;
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly store: LeaseStore,
    readonly identity: string,
    private readonly clock: Clock,
    private readonly timings: LeaderElectionTimings,
    private readonly logger: Logger,
  ) {
    if (timings.renewDeadlineMs >= timings.leaseDurationMs) throw new RangeError('renewDeadline must be shorter than leaseDuration');
  }

  /** Whether this candidate holds the lease. */
  isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns in the background until `shutdown`. */
  run(callbacks: LeaderCallbacks): void {
    this.loop = this.campaign(callbacks);
  }

  private jittered(ms: number): number {
    return ms * (1 + Math.random() * 0.2);
  }

  /**
   * One attempt bounded by `budgetMs`: a call that hangs (a silent connection) counts as a failed
   * attempt when the budget runs out, so a leader can never believe it renewed a lease that
   * others already saw expire.
   */
  private attempt(budgetMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimer(Math.max(0, budgetMs), () => {
        this.logger.warn({ budgetMs }, 'leader election attempt timed out');
        resolve(false);
      });
      void this.tryAcquireOrRenew().then((ok) => {
        timer.cancel();
        resolve(ok);
      });
    });
  }

  private async campaign(cb: LeaderCallbacks): Promise<void> {
    const signal = this.stop.signal;
    const { retryPeriodMs, renewDeadlineMs } = this.timings;
    while (!signal.aborted && !(await this.attempt(renewDeadlineMs))) {
      await this.clock.sleep(this.jittered(retryPeriodMs), signal);
    }
    if (signal.aborted) return;
    this.leading = true;
    this.logger.info('became leader');
    cb.onStartedLeading();
    // Renewal counts from when an attempt started, not when its answer came back.
    let lastRenew = this.clock.now();
    while (!signal.aborted) {
      await this.clock.sleep(retryPeriodMs, signal);
      if (signal.aborted) break;
      const started = this.clock.now();
      if (await this.attempt(renewDeadlineMs - (started - lastRenew))) {
        lastRenew = started;
      } else if (this.clock.now() - lastRenew >= renewDeadlineMs) {
        this.leading = false;
        this.logger.error('lost leadership: could not renew the lease in time');
        cb.onStoppedLeading();
        return;
      }
    }
  }

  /** One attempt: true when this candidate holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const leaseDurationSeconds = Math.ceil(this.timings.leaseDurationMs / 1000);
    try {
      const current = await this.store.get();
      if (!current) {
        this.observe(
          await this.store.create({
            holderIdentity: this.identity,
            leaseDurationSeconds,
            acquireTime: new Date(now),
            renewTime: new Date(now),
            leaseTransitions: 0,
          }),
        );
        return true;
      }
      if (!sameRecord(current, this.observed)) this.observe(current);
      const held = current.holderIdentity && current.holderIdentity !== this.identity;
      const expiresAt = this.observedAt + (current.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
      if (held && expiresAt > now) return false;
      const mine = current.holderIdentity === this.identity;
      this.observe(
        await this.store.update({
          ...current,
          holderIdentity: this.identity,
          leaseDurationSeconds,
          acquireTime: mine ? current.acquireTime : new Date(now),
          renewTime: new Date(now),
          leaseTransitions: (current.leaseTransitions ?? 0) + (mine ? 0 : 1),
        }),
      );
      return true;
    } catch (e) {
      if (!(e instanceof ConflictError)) this.logger.warn({ err: e }, 'leader election attempt failed');
      return false;
    }
  }

  private observe(r: LeaseRecord): void {
    this.observed = r;
    this.observedAt = this.clock.now();
  }

  /** Stops campaigning and, if leading, releases the lease so another candidate can take over. */
  async shutdown(): Promise<void> {
    this.stop.abort();
    await this.loop;
    if (!this.leading) return;
    this.leading = false;
    try {
      const current = await this.store.get();
      if (current?.holderIdentity === this.identity) {
        await this.store.update({ ...current, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new Date(this.clock.now()) });
        this.logger.info('released the lease');
      }
    } catch (e) {
      this.logger.warn({ err: e }, 'could not release the lease; it will expire');
    }
  }
}

function sameRecord(a: LeaseRecord, b: LeaseRecord | undefined): boolean {
  return (
    !!b &&
    a.holderIdentity === b.holderIdentity &&
    a.renewTime?.getTime() === b.renewTime?.getTime() &&
    a.resourceVersion === b.resourceVersion
  );
}
