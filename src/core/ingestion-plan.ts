/**
 * When to sync a knowledge base's data source, and what its owner's status says about it, as pure
 * functions of the tier's interval, the on-demand annotation, what status last recorded and what
 * the account-wide scheduler knows now.
 */
import { CONDITION } from '../api/v1alpha1/constants.js';
import type { ConditionInput } from './conditions.js';

/** Parses a Kubernetes-style duration (`90s`, `15m`, `1h30m`) into milliseconds. */
export function parseDuration(d: string): number {
  const unit: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const m of d.matchAll(/([0-9]+(?:\.[0-9]+)?)(s|m|h)/g)) total += Number(m[1]) * (unit[m[2] ?? 's'] ?? 0);
  return total;
}

/** The ingestion fields of a status (Tenant.status.ingestion). */
export interface IngestionStatus {
  lastJobId?: string;
  lastStatus?: string;
  lastStartedAt?: string;
  lastCompletedAt?: string;
  lastRequestedAt?: string;
  documentsScanned?: number;
  documentsIndexed?: number;
  documentsFailed?: number;
}

/** A job as the scheduler reports it. */
export interface JobSnapshot {
  jobId: string;
  status: string;
  startedAt?: string;
  updatedAt?: string;
  statistics: { scanned: number; newIndexed: number; modifiedIndexed: number; failed: number };
  failureReasons: string[];
}

/** What the scheduler knows of one key. */
export interface SchedulerSnapshot {
  queued: boolean;
  running?: JobSnapshot;
  last?: JobSnapshot;
}

/** The decision of one pass. */
export interface SyncDecision {
  /** Ask the scheduler for a sync, and why. */
  request?: 'scheduled' | 'on-demand';
  /** Look again after this long (the next scheduled sync, or a poll while one runs). */
  requeueAfterMs: number;
}

/**
 * How often an owner with a job queued or running looks at the scheduler even without news. The
 * scheduler requeues the owner itself when its job starts, changes status or ends, so this is only
 * a safety net: each look is a full pass over the owner's AWS resources, and first syncs can queue
 * for minutes at 0.1 starts per second.
 */
export const INGESTION_POLL_MS = 300_000;

/**
 * Sync when none ever ran, when the interval has passed since the last start, or when the
 * on-demand annotation names a time not yet acted on; never while one is queued or running.
 */
export function planSync(i: {
  now: Date;
  intervalMs: number;
  status: IngestionStatus | undefined;
  scheduler: SchedulerSnapshot;
  requestedAt?: string;
}): SyncDecision {
  if (i.scheduler.queued || i.scheduler.running) return { requeueAfterMs: INGESTION_POLL_MS };
  if (i.requestedAt && i.requestedAt !== i.status?.lastRequestedAt) return { request: 'on-demand', requeueAfterMs: INGESTION_POLL_MS };
  const lastStart = i.scheduler.last?.startedAt ?? i.status?.lastStartedAt;
  if (!lastStart) return { request: 'scheduled', requeueAfterMs: INGESTION_POLL_MS };
  const due = Date.parse(lastStart) + i.intervalMs - i.now.getTime();
  if (due <= 0) return { request: 'scheduled', requeueAfterMs: INGESTION_POLL_MS };
  return { requeueAfterMs: due };
}

/** The status after this pass: the running or last job, and the annotation acted on. */
export function nextIngestionStatus(
  prev: IngestionStatus | undefined,
  s: SchedulerSnapshot,
  actedOnRequest: string | undefined,
): IngestionStatus {
  const job = s.running ?? s.last;
  const out: IngestionStatus = { ...prev, ...(actedOnRequest ? { lastRequestedAt: actedOnRequest } : {}) };
  if (!job) return out;
  const done = ['COMPLETE', 'FAILED', 'STOPPED'].includes(job.status);
  return {
    ...out,
    lastJobId: job.jobId,
    lastStatus: job.status,
    ...(job.startedAt ? { lastStartedAt: job.startedAt } : {}),
    ...(done && job.updatedAt ? { lastCompletedAt: job.updatedAt } : {}),
    documentsScanned: job.statistics.scanned,
    documentsIndexed: job.statistics.newIndexed + job.statistics.modifiedIndexed,
    documentsFailed: job.statistics.failed,
  };
}

/** The IngestionReady condition for a status and the scheduler's view. */
export function ingestionCondition(st: IngestionStatus, s: SchedulerSnapshot): ConditionInput {
  const c = (status: ConditionInput['status'], reason: string, message: string): ConditionInput => ({
    type: CONDITION.IngestionReady,
    status,
    reason,
    message,
  });
  if (st.lastStatus === 'FAILED') {
    const why = s.last?.failureReasons.join('; ') || 'see the ingestion job in the Bedrock console';
    return c(
      'False',
      'IngestionFailed',
      `ingestion job ${st.lastJobId ?? ''} failed: ${why}; fix the documents or permissions and annotate rag.tenancy.dev/sync-requested-at to retry`,
    );
  }
  if (st.lastStatus === 'COMPLETE' || st.lastStatus === 'STOPPED') {
    return c(
      'True',
      'Synced',
      `last sync ${st.lastJobId ?? ''} ${st.lastStatus.toLowerCase()} at ${st.lastCompletedAt ?? '?'}: ${st.documentsIndexed ?? 0} indexed, ${st.documentsFailed ?? 0} failed`,
    );
  }
  if (s.running || st.lastStatus) return c('True', 'Syncing', `ingestion job ${st.lastJobId ?? ''} is ${st.lastStatus ?? 'starting'}`);
  return c('True', 'SyncQueued', 'the first sync is queued (AWS runs at most 5 ingestion jobs per account at a time)');
}
