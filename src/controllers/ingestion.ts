/**
 * The ingestion step of a reconcile pass, for an owner whose knowledge base and data source are
 * ready: resume a job recorded on status after a restart, decide whether to sync (planSync), make
 * sure what must precede a sync has happened (pool tenants' metadata sidecars), hand the request
 * to the account-wide scheduler, and compute the status and condition it leaves. Never waits on
 * AWS: the scheduler runs the job and requeues the owner when it starts and finishes.
 */
import type { ConditionInput } from '../core/conditions.js';
import { type IngestionStatus, type SchedulerSnapshot, ingestionCondition, nextIngestionStatus, planSync } from '../core/ingestion-plan.js';
import type { IngestionScheduler, IngestionTarget } from '../ingestion/scheduler.js';

/** How soon to come back when sidecars remain to be written before a sync. */
const MORE_SIDECARS_MS = 1_000;

/** What one owner's step needs. */
export interface SyncInput {
  target: IngestionTarget;
  /** How often to sync; undefined: on demand only (the tier schedules a pool's shared source). */
  intervalMs?: number;
  status: IngestionStatus | undefined;
  /** The `rag.tenancy.dev/sync-requested-at` annotation. */
  requestedAt?: string;
  now: Date;
  /** Work that must finish before a sync starts; resolves false while more remains. */
  beforeSync?: () => Promise<boolean>;
  /** Other keys whose jobs also count for this owner (a pool tenant sees its tier's syncs). */
  alsoFrom?: string[];
}

/** What the step leaves. */
export interface SyncOutcome {
  ingestion: IngestionStatus;
  condition: ConditionInput;
  /** Unset: nothing to look at until the scheduler or the user changes something. */
  requeueAfterMs?: number;
}

/** The latest-started job among several keys' snapshots. */
function merged(scheduler: IngestionScheduler, keys: string[]): SchedulerSnapshot {
  const states = keys.map((k) => scheduler.state(k));
  const newest = <T extends { startedAt?: string }>(xs: (T | undefined)[]): T | undefined =>
    xs.filter((x): x is T => x !== undefined).sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''))[0];
  return {
    queued: states.some((s) => s.queued),
    running: newest(states.map((s) => s.running)),
    last: newest(states.map((s) => s.last)),
  };
}

/** Runs the step; see the module comment. */
export async function syncStep(scheduler: IngestionScheduler, i: SyncInput): Promise<SyncOutcome> {
  const key = i.target.key;
  const keys = [key, ...(i.alsoFrom ?? [])];
  const own = scheduler.state(key);
  // After a restart the scheduler knows nothing: resume polling the job status recorded.
  if (!own.queued && !own.running && !own.last && i.status?.lastJobId && ['STARTING', 'IN_PROGRESS'].includes(i.status.lastStatus ?? '')) {
    scheduler.recover(i.target, i.status.lastJobId);
  }
  const decision = planSync({
    now: i.now,
    intervalMs: i.intervalMs ?? Number.POSITIVE_INFINITY,
    status: i.status,
    scheduler: merged(scheduler, keys),
    requestedAt: i.requestedAt,
  });
  let acted: string | undefined;
  let requeueAfterMs: number | undefined = decision.requeueAfterMs;
  // On demand only: a first sync is the scheduling owner's business, not this one's.
  const wanted = i.intervalMs === undefined && decision.request === 'scheduled' ? undefined : decision.request;
  if (wanted) {
    if (i.beforeSync && !(await i.beforeSync())) {
      requeueAfterMs = MORE_SIDECARS_MS;
    } else {
      scheduler.request(i.target, wanted);
      if (wanted === 'on-demand') acted = i.requestedAt;
    }
  }
  const now = merged(scheduler, keys);
  // The scheduler requeues the owner when a job starts or ends; the poll is a safety net.
  if (i.intervalMs === undefined && !now.queued && !now.running) requeueAfterMs = undefined;
  const ingestion = nextIngestionStatus(i.status, now, acted);
  return {
    ingestion,
    condition: ingestionCondition(ingestion, now),
    ...(requeueAfterMs !== undefined ? { requeueAfterMs: Math.min(requeueAfterMs, 2_147_000_000) } : {}),
  };
}

/** What the controllers need for ingestion: the scheduler and a resumable sidecar writer. */
export interface IngestionDeps {
  scheduler: IngestionScheduler;
  /**
   * Writes the metadata sidecars under `prefix` (pool tenants), one bounded batch per call;
   * resolves true once every object has its sidecar.
   */
  sidecars(bucket: string, prefix: string, tenantId: string, signal: AbortSignal): Promise<boolean>;
}

/** The scheduler key of a tenant's or a tier's data source. */
export function ingestionKey(kind: 'Tenant' | 'TenantTier', name: string): string {
  return `${kind}/${name}`;
}
