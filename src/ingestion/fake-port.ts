/**
 * An in-memory bedrock-agent ingestion service for tests: it enforces AWS's rules (1 job per
 * knowledge base and data source, an account-wide concurrency limit, idempotent client tokens)
 * and answers with the same errors, so the scheduler is tested against behaviour, not call order.
 */
import type { Clock } from '../runtime/clock.js';
import {
  dataSourceKey,
  zeroStatistics,
  type DataSourceRef,
  type IngestionPort,
  type JobStatistics,
  type JobStatus,
  type PortJob,
} from './types.js';

/** An error shaped like an AWS SDK service error. */
export function awsError(name: string, httpStatusCode: number): Error {
  const e = new Error(`${name} (fake)`);
  e.name = name;
  return Object.assign(e, { $metadata: { httpStatusCode } });
}

/** How a job created by the fake behaves. */
export interface FakeJobPlan {
  durationMs: number;
  outcome?: 'COMPLETE' | 'FAILED';
  statistics?: Partial<JobStatistics>;
  failureReasons?: string[];
}

interface FakeJob extends DataSourceRef {
  jobId: string;
  token?: string;
  startedAt: number;
  plan: FakeJobPlan;
  external: boolean;
}

/** A scripted start failure; `afterCreate` models a start whose answer was lost. */
export interface ScriptedFailure {
  error: Error;
  afterCreate?: boolean;
}

/** How long a fake job stays STARTING. */
const STARTING_MS = 1000;

/** The fake service. */
export class FakeIngestionPort implements IngestionPort {
  readonly jobs: FakeJob[] = [];
  readonly startCalls: { at: number; ds: string; token: string; result: string }[] = [];
  readonly getCalls: number[] = [];
  readonly listCalls: number[] = [];
  readonly failNextStart: ScriptedFailure[] = [];
  /** Errors thrown by the next GetIngestionJob calls. */
  readonly failNextGet: Error[] = [];
  /** Most jobs seen active at once. */
  maxActiveSeen = 0;
  /** When set, StartIngestionJob never answers until its signal aborts. */
  hangStarts = false;
  private readonly dataSources = new Set<string>();
  private readonly plans = new Map<string, FakeJobPlan>();
  private nextId = 1;

  constructor(
    private readonly clock: Clock,
    private readonly accountLimit = 5,
    private readonly defaultPlan: FakeJobPlan = { durationMs: 60_000 },
  ) {}

  /** Registers a data source (starts on unknown ones fail with ResourceNotFoundException). */
  addDataSource(ds: DataSourceRef, plan?: FakeJobPlan): void {
    this.dataSources.add(dataSourceKey(ds));
    if (plan) this.plans.set(dataSourceKey(ds), plan);
  }

  /** Deletes a data source and its jobs. */
  removeDataSource(ds: DataSourceRef): void {
    this.dataSources.delete(dataSourceKey(ds));
  }

  /** A job started by someone else (or by this operator before a restart). */
  startExternal(ds: DataSourceRef, plan?: FakeJobPlan): string {
    this.dataSources.add(dataSourceKey(ds));
    return this.create(ds, undefined, true, plan).jobId;
  }

  /** The status of a job now. */
  status(job: FakeJob): JobStatus {
    const now = this.clock.now();
    if (now < job.startedAt + STARTING_MS) return 'STARTING';
    if (now < job.startedAt + job.plan.durationMs) return 'IN_PROGRESS';
    return job.plan.outcome ?? 'COMPLETE';
  }

  /** Jobs STARTING or IN_PROGRESS now. */
  active(): FakeJob[] {
    return this.jobs.filter((j) => ['STARTING', 'IN_PROGRESS'].includes(this.status(j)));
  }

  startJob(ds: DataSourceRef, clientToken: string, signal: AbortSignal): Promise<PortJob> {
    if (this.hangStarts) {
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(awsError('AbortError', 0)), { once: true }));
    }
    const record = (result: string): void => {
      this.startCalls.push({ at: this.clock.now(), ds: dataSourceKey(ds), token: clientToken, result });
    };
    const scripted = this.failNextStart.shift();
    if (scripted && !scripted.afterCreate) {
      record(scripted.error.name);
      return Promise.reject(scripted.error);
    }
    const replay = this.jobs.find((j) => j.token === clientToken);
    if (replay) {
      record('replayed');
      return Promise.resolve(this.view(replay));
    }
    if (!this.dataSources.has(dataSourceKey(ds))) {
      record('ResourceNotFoundException');
      return Promise.reject(awsError('ResourceNotFoundException', 404));
    }
    const active = this.active();
    if (active.some((j) => j.knowledgeBaseId === ds.knowledgeBaseId)) {
      record('ConflictException');
      return Promise.reject(awsError('ConflictException', 409));
    }
    if (active.length >= this.accountLimit) {
      record('ServiceQuotaExceededException');
      return Promise.reject(awsError('ServiceQuotaExceededException', 402));
    }
    const job = this.create(ds, clientToken, false);
    if (scripted) {
      record(scripted.error.name);
      return Promise.reject(scripted.error);
    }
    record('started');
    return Promise.resolve(this.view(job));
  }

  getJob(ds: DataSourceRef, jobId: string): Promise<PortJob> {
    this.getCalls.push(this.clock.now());
    const failure = this.failNextGet.shift();
    if (failure) return Promise.reject(failure);
    const job = this.jobs.find((j) => j.jobId === jobId && dataSourceKey(j) === dataSourceKey(ds));
    if (!job || !this.dataSources.has(dataSourceKey(ds))) return Promise.reject(awsError('ResourceNotFoundException', 404));
    return Promise.resolve(this.view(job));
  }

  listJobs(ds: DataSourceRef, statuses: readonly JobStatus[]): Promise<PortJob[]> {
    this.listCalls.push(this.clock.now());
    if (!this.dataSources.has(dataSourceKey(ds))) return Promise.reject(awsError('ResourceNotFoundException', 404));
    return Promise.resolve(
      this.jobs
        .filter((j) => dataSourceKey(j) === dataSourceKey(ds) && statuses.includes(this.status(j)))
        .sort((a, b) => b.startedAt - a.startedAt)
        .map((j) => this.view(j)),
    );
  }

  private create(ds: DataSourceRef, token: string | undefined, external: boolean, plan?: FakeJobPlan): FakeJob {
    const job: FakeJob = {
      knowledgeBaseId: ds.knowledgeBaseId,
      dataSourceId: ds.dataSourceId,
      jobId: `job-${String(this.nextId++).padStart(4, '0')}`,
      ...(token ? { token } : {}),
      startedAt: this.clock.now(),
      plan: plan ?? this.plans.get(dataSourceKey(ds)) ?? this.defaultPlan,
      external,
    };
    this.jobs.push(job);
    this.maxActiveSeen = Math.max(this.maxActiveSeen, this.active().length);
    return job;
  }

  private view(j: FakeJob): PortJob {
    const status = this.status(j);
    const done = status === 'COMPLETE' || status === 'FAILED';
    return {
      jobId: j.jobId,
      status,
      startedAt: new Date(j.startedAt),
      updatedAt: new Date(this.clock.now()),
      statistics: done ? { ...zeroStatistics(), ...j.plan.statistics } : zeroStatistics(),
      failureReasons: status === 'FAILED' ? (j.plan.failureReasons ?? ['failed']) : [],
    };
  }
}
