/**
 * The account-wide Bedrock knowledge-base ingestion scheduler: one per operator process, shared
 * by every tenant, so the operator stays inside AWS's non-adjustable ingestion quotas (at most 5
 * concurrent jobs per account, 1 per knowledge base and 1 per data source, StartIngestionJob at
 * 0.1/s, GetIngestionJob at 10/s) however many tenants ask for a sync at once.
 *
 * Design:
 * - Callers queue a key (say a tenant) with its data source; each key is in the queue at most
 *   once, and a request while the key is queued or running is absorbed (idempotent). A request
 *   absorbed by a running job is not replayed after it: the owner learns of the finish through
 *   `onChange` and asks again if it needs documents uploaded after the job started.
 * - Order is FIFO by first request time. An on-demand request counts as if made
 *   `onDemandBoostMs` (10 min) earlier: it jumps scheduled work queued less than that before it,
 *   yet scheduled work is never starved for longer. A key never ranks before the start of its
 *   own previous job, so a tenant that asks again (even on-demand) as soon as its job ends goes
 *   behind everyone already waiting: one tenant's repeated requests cannot starve the others.
 * - Keys sharing a data source (pool tenants in one knowledge base) share the job: starting it
 *   takes every queued key of that data source along, since a sync covers the whole data source.
 * - One loop and one timer: the loop sleeps on the injected clock until the next poll or start is
 *   due, and `request`/`recover`/`stop` wake it. Starts are spaced `startIntervalMs` (10 s) apart
 *   and never exceed `maxConcurrent` running jobs; GetIngestionJob/ListIngestionJobs share a
 *   local budget of `readsPerSec` (5/s, half of AWS's 10/s). Running jobs are polled every
 *   `pollIntervalMs` (10 s). `onChange(key)` fires when a key's job starts, changes status or ends.
 * - Start failures, by classifyAwsError: Conflict (a job already runs on the data source, for
 *   example one started before an operator restart) adopts the running job found by
 *   ListIngestionJobs instead of starting a second one; QuotaExceeded (the account's 5 slots are
 *   taken by someone else) and Throttled pause all starts with backoff while the request keeps its
 *   place; Transient and Unknown back off that key alone; NotFound (data source gone),
 *   AccessDenied and InvalidInput drop the request and report a FAILED job view. A retried start
 *   reuses the request's clientToken, so a start that succeeded but whose answer was lost returns
 *   the same job instead of starting another.
 * - Crash safety: the queue is in memory. After a restart the controller calls `recover` with the
 *   job id kept in status (polling resumes) and `request` again where a sync is still wanted;
 *   a request whose data source already runs a job adopts it through the Conflict path.
 * - The loop never throws: every failure is classified, logged and retried or reported.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { classifyAwsError } from '../adapters/aws/errors.js';
import type { Clock } from '../runtime/clock.js';
import { KeyedBackoff, TokenBucket } from '../runtime/ratelimit.js';
import { WakeableLoop } from './loop.js';
import { ingestionClientToken, ordered, pickNext, startFailureAction, type QueueEntry } from './queue.js';
import {
  ACTIVE_STATUSES,
  TERMINAL_STATUSES,
  dataSourceKey,
  toJobView,
  zeroStatistics,
  type DataSourceRef,
  type IngestionPort,
  type IngestionEvent,
  type IngestionReason,
  type IngestionState,
  type IngestionTarget,
  type JobView,
  type PortJob,
  type RequestOutcome,
} from './types.js';

export { bedrockAgentIngestionPort } from './bedrock-port.js';
export { ingestionClientToken } from './queue.js';
export * from './types.js';

/** Options of the scheduler; the defaults follow AWS's quotas. */
export interface IngestionSchedulerOptions {
  port: IngestionPort;
  clock: Clock;
  logger: Logger;
  /** Called when a key's job starts, changes status or ends (also when a request is dropped). */
  onChange?: (key: string) => void;
  /** Optional metrics hook. */
  onEvent?: (event: IngestionEvent) => void;
  /** Concurrent jobs (AWS: 5 per account). */
  maxConcurrent?: number;
  /** Minimum time between two StartIngestionJob calls (AWS: 0.1/s). */
  startIntervalMs?: number;
  /** How often a running job is polled. */
  pollIntervalMs?: number;
  /** Budget of GetIngestionJob + ListIngestionJobs calls (AWS: 10/s for the account). */
  readsPerSec?: number;
  /** How much earlier than its arrival an on-demand request is ranked. */
  onDemandBoostMs?: number;
  /** Backoff of account-wide start failures (quota, throttling). */
  accountBackoff?: { baseMs: number; maxMs: number };
  /** Backoff of one key's start failures and of polls. */
  keyBackoff?: { baseMs: number; maxMs: number };
  /** Per-process nonce of client tokens (tests pin it). */
  nonce?: string;
  /** Jitter source (tests pin it). */
  random?: () => number;
}

/** A job the scheduler tracks (it holds a concurrency slot until it ends). */
interface Tracked {
  ds: DataSourceRef;
  jobId: string;
  /** Keys waiting on this job; empty when they were forgotten (the job still holds its slot). */
  keys: Set<string>;
  view?: JobView;
  nextPollAt: number;
  /** A read token was booked for the next poll already. */
  tokenBooked: boolean;
  trackedAt: number;
}

/** The scheduler. */
export class IngestionScheduler {
  private readonly queue = new Map<string, QueueEntry>();
  private readonly running: Tracked[] = [];
  private readonly byKey = new Map<string, Tracked>();
  private readonly last = new Map<string, JobView>();
  /** Clock time each key's latest job started (or was adopted), for the queue's rank floor. */
  private readonly lastStart = new Map<string, number>();
  private readonly reads: TokenBucket;
  private readonly accountBackoff: KeyedBackoff;
  private readonly keyBackoff: KeyedBackoff;
  private readonly pollBackoff: KeyedBackoff;
  private readonly log: Logger;
  private readonly nonce: string;
  private readonly maxConcurrent: number;
  private readonly startIntervalMs: number;
  private readonly pollIntervalMs: number;
  private readonly boostMs: number;
  private seq = 0;
  private nextStartAt = 0;
  private readonly loop: WakeableLoop;
  /** The signal of the current pass (aborted by `stop`). */
  private signal: AbortSignal = new AbortController().signal;

  constructor(private readonly o: IngestionSchedulerOptions) {
    this.maxConcurrent = o.maxConcurrent ?? 5;
    this.startIntervalMs = o.startIntervalMs ?? 10_000;
    this.pollIntervalMs = o.pollIntervalMs ?? 10_000;
    this.boostMs = o.onDemandBoostMs ?? 600_000;
    const readsPerSec = o.readsPerSec ?? 5;
    this.reads = new TokenBucket(readsPerSec, Math.max(1, Math.floor(readsPerSec)), o.clock);
    const random = o.random ?? Math.random;
    const account = o.accountBackoff ?? { baseMs: 30_000, maxMs: 300_000 };
    const key = o.keyBackoff ?? { baseMs: 15_000, maxMs: 300_000 };
    this.accountBackoff = new KeyedBackoff(account.baseMs, account.maxMs, 0.1, random);
    this.keyBackoff = new KeyedBackoff(key.baseMs, key.maxMs, 0.1, random);
    this.pollBackoff = new KeyedBackoff(Math.max(this.pollIntervalMs, 1000), key.maxMs, 0.1, random);
    this.nonce = o.nonce ?? randomUUID();
    this.log = o.logger.child({ component: 'ingestion-scheduler' });
    this.loop = new WakeableLoop(o.clock, this.log, (signal) => this.pass(signal));
  }

  /** Asks for a sync of `target`'s data source; a no-op while the key is queued or running. */
  request(target: IngestionTarget, reason: IngestionReason): RequestOutcome {
    const key = target.key;
    if (this.byKey.has(key)) return 'running';
    const existing = this.queue.get(key);
    if (existing) {
      // Upgrading to on-demand only ever moves the entry forward; its arrival time is kept.
      if (reason === 'on-demand') existing.reason = 'on-demand';
      if (dataSourceKey(existing.target) !== dataSourceKey(target)) {
        // The ids changed (a recreated knowledge base): the old token must not be replayed.
        existing.target = { ...target };
        existing.seq = ++this.seq;
        existing.clientToken = ingestionClientToken(key, this.nonce, existing.seq);
      }
      this.wake();
      return 'already-queued';
    }
    const now = this.o.clock.now();
    const seq = ++this.seq;
    this.queue.set(key, {
      target: { ...target },
      reason,
      enqueuedAt: now,
      seq,
      clientToken: ingestionClientToken(key, this.nonce, seq),
      rankFloor: this.lastStart.get(key) ?? -Infinity,
      notBefore: now,
    });
    this.log.debug({ key, reason }, 'ingestion requested');
    this.wake();
    return 'queued';
  }

  /**
   * Resumes tracking a job whose id the owner kept in status (after a restart), so the
   * scheduler polls it and counts its slot; a no-op when the key is already queued or running.
   */
  recover(target: IngestionTarget, jobId: string): void {
    const key = target.key;
    if (this.byKey.has(key) || this.queue.has(key)) return;
    // One job per data source: a tracked job there is the one this key waits on.
    const same = this.running.find((j) => j.jobId === jobId || dataSourceKey(j.ds) === dataSourceKey(target));
    if (same) {
      same.keys.add(key);
      this.byKey.set(key, same);
      return;
    }
    const now = this.o.clock.now();
    const tracked: Tracked = {
      ds: { knowledgeBaseId: target.knowledgeBaseId, dataSourceId: target.dataSourceId },
      jobId,
      keys: new Set([key]),
      nextPollAt: now,
      tokenBooked: false,
      trackedAt: now,
    };
    this.running.push(tracked);
    this.byKey.set(key, tracked);
    this.wake();
  }

  /** Where `key` stands. */
  state(key: string): IngestionState {
    const entry = this.queue.get(key);
    const out: IngestionState = { queued: entry !== undefined };
    if (entry) {
      out.position = ordered(this.queue.values(), this.boostMs).indexOf(entry) + 1;
      if (entry.lastError) out.lastError = entry.lastError;
    }
    const view = this.byKey.get(key)?.view;
    if (view) out.running = structuredClone(view);
    const last = this.last.get(key);
    if (last) out.last = structuredClone(last);
    return out;
  }

  /** Drops everything known about `key` (its tenant is gone); a running job keeps its slot until it ends. */
  forget(key: string): void {
    this.queue.delete(key);
    this.last.delete(key);
    this.lastStart.delete(key);
    this.keyBackoff.forget(key);
    const tracked = this.byKey.get(key);
    if (tracked) {
      tracked.keys.delete(key);
      this.byKey.delete(key);
    }
  }

  /** Counts for gauges. */
  snapshot(): { queued: number; running: number } {
    return { queued: this.queue.size, running: this.running.length };
  }

  /** Starts the loop. */
  start(): void {
    this.loop.start();
  }

  /** Stops the loop, aborting in-flight calls, and waits for it to end; no timer is left behind. */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  /** One pass of the loop: polls what is due, starts at most one job, says when to come back. */
  private async pass(signal: AbortSignal): Promise<number | undefined> {
    this.signal = signal;
    await this.pollDue();
    if (!signal.aborted) await this.startOne();
    return this.nextDelay();
  }

  private wake(): void {
    this.loop.wake();
  }

  /** How long until something is due; undefined when nothing is (sleep until woken). */
  private nextDelay(): number | undefined {
    let at = Infinity;
    for (const j of this.running) at = Math.min(at, j.nextPollAt);
    if (this.running.length < this.maxConcurrent) {
      let earliest = Infinity;
      for (const e of this.queue.values()) if (!this.busy(e.target)) earliest = Math.min(earliest, e.notBefore);
      if (earliest < Infinity) at = Math.min(at, Math.max(earliest, this.nextStartAt));
    }
    return at === Infinity ? undefined : at - this.o.clock.now();
  }

  /** Whether a job runs on the target's data source or knowledge base (AWS: 1 per each). */
  private busy(t: DataSourceRef): boolean {
    return this.running.some((j) => j.ds.knowledgeBaseId === t.knowledgeBaseId);
  }

  private async pollDue(): Promise<void> {
    const now = this.o.clock.now();
    const batch: Tracked[] = [];
    for (const j of this.running) {
      if (j.nextPollAt > now) continue;
      if (!j.tokenBooked) {
        const wait = this.reads.reserve();
        if (wait > 0) {
          // The token is booked for later: poll then without taking another.
          j.nextPollAt = now + wait;
          j.tokenBooked = true;
          continue;
        }
      }
      j.tokenBooked = false;
      batch.push(j);
    }
    await Promise.all(batch.map((j) => this.poll(j)));
  }

  private async poll(j: Tracked): Promise<void> {
    try {
      const job = await this.o.port.getJob(j.ds, j.jobId, this.signal);
      this.pollBackoff.forget(j.jobId);
      this.observe(j, job);
    } catch (e) {
      if (this.signal.aborted) return;
      const kind = classifyAwsError(e);
      this.emit({ type: 'poll-error', jobId: j.jobId, kind });
      if (kind === 'NotFound') {
        // The job went with its data source or knowledge base.
        this.finish(j, failedView(j.jobId, 'ingestion job not found (its data source or knowledge base was deleted)'));
        return;
      }
      j.nextPollAt = this.o.clock.now() + this.pollBackoff.next(j.jobId);
      this.log.warn({ err: e, kind, jobId: j.jobId }, 'GetIngestionJob failed; will poll again');
    }
  }

  private observe(j: Tracked, job: PortJob): void {
    const before = j.view?.status;
    j.view = toJobView(job);
    if (TERMINAL_STATUSES.has(job.status)) {
      this.finish(j, j.view);
      return;
    }
    j.nextPollAt = this.o.clock.now() + this.pollIntervalMs;
    if (before !== job.status) this.notify(j.keys);
  }

  private finish(j: Tracked, view: JobView): void {
    const i = this.running.indexOf(j);
    if (i >= 0) this.running.splice(i, 1);
    this.pollBackoff.forget(j.jobId);
    const keys = [...j.keys];
    for (const key of keys) {
      this.last.set(key, view);
      this.byKey.delete(key);
    }
    this.log.info({ jobId: j.jobId, keys, status: view.status, statistics: view.statistics }, 'ingestion job finished');
    this.emit({ type: 'finished', jobId: j.jobId, keys, status: view.status, durationMs: this.o.clock.now() - j.trackedAt });
    this.notify(keys);
    this.wake();
  }

  private async startOne(): Promise<void> {
    const now = this.o.clock.now();
    if (this.running.length >= this.maxConcurrent || now < this.nextStartAt) return;
    const entry = pickNext(this.queue.values(), now, this.boostMs, (t) => this.busy(t));
    if (!entry) return;
    // Every StartIngestionJob call, failed or not, spends AWS's 0.1/s budget.
    this.nextStartAt = now + this.startIntervalMs;
    try {
      const job = await this.o.port.startJob(entry.target, entry.clientToken, this.signal);
      this.accountBackoff.forget('start');
      this.track(entry, job, false);
    } catch (e) {
      if (this.signal.aborted) return;
      await this.startFailed(entry, e);
    }
  }

  private async startFailed(entry: QueueEntry, e: unknown): Promise<void> {
    const key = entry.target.key;
    const kind = classifyAwsError(e);
    const action = startFailureAction(kind);
    const now = this.o.clock.now();
    entry.lastError = kind;
    this.emit({ type: 'start-error', key, kind, retry: action !== 'drop' });
    switch (action) {
      case 'adopt':
        await this.adopt(entry);
        return;
      case 'pause-starts': {
        // Account-wide: every start would fail alike, so all starts pause; the entry keeps its place.
        const wait = this.accountBackoff.next('start');
        this.nextStartAt = Math.max(this.nextStartAt, now + wait);
        this.log.warn({ key, kind, retryInMs: wait }, 'StartIngestionJob refused; pausing starts');
        return;
      }
      case 'drop': {
        const reason = kind === 'NotFound' ? 'data source or knowledge base not found' : `StartIngestionJob refused: ${errorName(e)}`;
        this.log.warn({ err: e, key, kind }, 'ingestion request dropped');
        this.drop(entry, failedView('', reason));
        return;
      }
      case 'retry-key': {
        const wait = this.keyBackoff.next(key);
        entry.notBefore = now + wait;
        this.log.warn({ err: e, key, kind, retryInMs: wait }, 'StartIngestionJob failed; will retry');
      }
    }
  }

  /** A job already runs on the data source: track it rather than start a second one. */
  private async adopt(entry: QueueEntry): Promise<void> {
    const key = entry.target.key;
    try {
      await this.reads.take(this.signal);
      const active = await this.o.port.listJobs(entry.target, ACTIVE_STATUSES, this.signal);
      const job = active[0];
      if (job) {
        this.log.info({ key, jobId: job.jobId }, 'adopting the ingestion job already running on the data source');
        this.track(entry, job, true);
        return;
      }
      // Nothing running on this data source: it ended meanwhile, or the conflict is another
      // data source's job on the same knowledge base. Try again later.
      entry.notBefore = this.o.clock.now() + this.keyBackoff.next(key);
    } catch (e) {
      if (this.signal.aborted) return;
      const kind = classifyAwsError(e);
      if (kind === 'NotFound') {
        this.drop(entry, failedView('', 'data source or knowledge base not found'));
        return;
      }
      entry.lastError = kind;
      entry.notBefore = this.o.clock.now() + this.keyBackoff.next(key);
      this.log.warn({ err: e, key, kind }, 'ListIngestionJobs failed; will retry');
    }
  }

  /** Tracks a started or adopted job for the entry and every queued key of the same data source. */
  private track(entry: QueueEntry, job: PortJob, adopted: boolean): void {
    const now = this.o.clock.now();
    const ds = dataSourceKey(entry.target);
    const keys = new Set<string>();
    // The entry may have been forgotten while the call was in flight: the job still holds a slot.
    if (this.queue.get(entry.target.key) === entry) keys.add(entry.target.key);
    for (const e of this.queue.values()) if (dataSourceKey(e.target) === ds) keys.add(e.target.key);
    let tracked = this.running.find((j) => j.jobId === job.jobId);
    if (!tracked) {
      tracked = {
        ds: { knowledgeBaseId: entry.target.knowledgeBaseId, dataSourceId: entry.target.dataSourceId },
        jobId: job.jobId,
        keys: new Set(),
        nextPollAt: now + this.pollIntervalMs,
        tokenBooked: false,
        trackedAt: now,
      };
      this.running.push(tracked);
    }
    for (const key of keys) {
      this.queue.delete(key);
      this.keyBackoff.forget(key);
      tracked.keys.add(key);
      this.byKey.set(key, tracked);
      this.lastStart.set(key, now);
    }
    this.log.info({ jobId: job.jobId, keys: [...keys], adopted }, adopted ? 'ingestion job adopted' : 'ingestion job started');
    this.emit({ type: 'started', jobId: job.jobId, keys: [...keys], adopted, waitedMs: now - entry.enqueuedAt });
    tracked.view = toJobView(job);
    if (TERMINAL_STATUSES.has(job.status)) this.finish(tracked, tracked.view);
    else this.notify(keys);
  }

  private drop(entry: QueueEntry, view: JobView): void {
    const key = entry.target.key;
    if (this.queue.get(key) !== entry) return;
    this.queue.delete(key);
    this.keyBackoff.forget(key);
    this.last.set(key, view);
    this.notify([key]);
  }

  private notify(keys: Iterable<string>): void {
    if (!this.o.onChange) return;
    for (const key of keys) {
      try {
        this.o.onChange(key);
      } catch (e) {
        this.log.error({ err: e, key }, 'ingestion onChange callback threw');
      }
    }
  }

  private emit(event: IngestionEvent): void {
    try {
      this.o.onEvent?.(event);
    } catch (e) {
      this.log.error({ err: e }, 'ingestion metrics callback threw');
    }
  }
}

/** A FAILED view for a job that could not be started or was lost. */
function failedView(jobId: string, reason: string): JobView {
  return { jobId, status: 'FAILED', statistics: zeroStatistics(), failureReasons: [reason] };
}

function errorName(e: unknown): string {
  return e instanceof Error ? e.name : 'UnknownError';
}
