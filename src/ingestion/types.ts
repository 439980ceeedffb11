/**
 * The vocabulary of the ingestion scheduler: what is synced (a knowledge base's data source), the
 * job as the operator reports it, and the narrow port over bedrock-agent that the scheduler uses.
 */
import type { AwsErrorKind } from '../adapters/aws/errors.js';

/** The status values of a Bedrock ingestion job. */
export const JOB_STATUSES = ['STARTING', 'IN_PROGRESS', 'COMPLETE', 'FAILED', 'STOPPING', 'STOPPED'] as const;

/** A Bedrock ingestion job status. */
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses after which a job never changes again. */
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['COMPLETE', 'FAILED', 'STOPPED']);

/** Statuses of a job that is doing work (and holds a concurrency slot we may adopt). */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['STARTING', 'IN_PROGRESS'];

/** True when `s` is a known job status. */
export function isJobStatus(s: unknown): s is JobStatus {
  return typeof s === 'string' && (JOB_STATUSES as readonly string[]).includes(s);
}

/** The data source a sync runs on. */
export interface DataSourceRef {
  knowledgeBaseId: string;
  dataSourceId: string;
}

/** What a caller asks to sync: `key` is the owner's identity (for example a tenant name). */
export interface IngestionTarget extends DataSourceRef {
  key: string;
}

/** Why a sync was asked for. */
export type IngestionReason = 'scheduled' | 'on-demand';

/** Document counts of a job, as AWS reports them (0 when AWS omits one). */
export interface JobStatistics {
  scanned: number;
  metadataScanned: number;
  newIndexed: number;
  modifiedIndexed: number;
  deleted: number;
  failed: number;
}

/** An ingestion job as the operator shows it in status. */
export interface JobView {
  jobId: string;
  status: JobStatus;
  /** ISO 8601. */
  startedAt?: string;
  /** ISO 8601. */
  updatedAt?: string;
  statistics: JobStatistics;
  failureReasons: string[];
}

/** A job as the port returns it. */
export interface PortJob {
  jobId: string;
  status: JobStatus;
  startedAt?: Date;
  updatedAt?: Date;
  statistics: JobStatistics;
  failureReasons: string[];
}

/** The calls the scheduler makes to bedrock-agent; errors are AWS SDK errors (see classifyAwsError). */
export interface IngestionPort {
  /** StartIngestionJob; `clientToken` (33-256 chars) makes a retried start return the same job. */
  startJob(ds: DataSourceRef, clientToken: string, signal: AbortSignal): Promise<PortJob>;
  /** GetIngestionJob. */
  getJob(ds: DataSourceRef, jobId: string, signal: AbortSignal): Promise<PortJob>;
  /** The data source's recent jobs whose status is one of `statuses`, newest start first. */
  listJobs(ds: DataSourceRef, statuses: readonly JobStatus[], signal: AbortSignal): Promise<PortJob[]>;
}

/** Something the scheduler did, for metrics. */
export type IngestionEvent =
  | { type: 'started'; jobId: string; keys: string[]; adopted: boolean; waitedMs: number }
  /** `durationMs` counts from when the scheduler started (or began tracking) the job. */
  | { type: 'finished'; jobId: string; keys: string[]; status: JobStatus; durationMs: number }
  | { type: 'start-error'; key: string; kind: AwsErrorKind; retry: boolean }
  | { type: 'poll-error'; jobId: string; kind: AwsErrorKind };

/** Where a key stands. */
export interface IngestionState {
  queued: boolean;
  /** 1-based place in the queue when queued. */
  position?: number;
  /** The key's running job, once its status is known. */
  running?: JobView;
  /** The key's last finished (or dropped) job. */
  last?: JobView;
  /** Why the last start attempt of the queued request did not start a job (an AwsErrorKind). */
  lastError?: string;
}

/** What `request` did. */
export type RequestOutcome = 'queued' | 'already-queued' | 'running';

/** All-zero statistics. */
export function zeroStatistics(): JobStatistics {
  return { scanned: 0, metadataScanned: 0, newIndexed: 0, modifiedIndexed: 0, deleted: 0, failed: 0 };
}

/** The status view of a port job. */
export function toJobView(j: PortJob): JobView {
  return {
    jobId: j.jobId,
    status: j.status,
    ...(j.startedAt ? { startedAt: j.startedAt.toISOString() } : {}),
    ...(j.updatedAt ? { updatedAt: j.updatedAt.toISOString() } : {}),
    statistics: { ...j.statistics },
    failureReasons: [...j.failureReasons],
  };
}

/** The identity of a data source (one job may run on it at a time). */
export function dataSourceKey(ds: DataSourceRef): string {
  return `${ds.knowledgeBaseId}/${ds.dataSourceId}`;
}
