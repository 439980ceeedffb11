/**
 * A tenant's ingestion: its own data source on the tier's interval (bridge, silo), or in a pool
 * on-demand syncs of the tier's shared data source after its sidecars are written; and, when a
 * pool tenant is deleted, the sync that removes its vectors from the shared index.
 */
import { ANNOTATIONS } from '../../api/v1alpha1/constants.js';
import type { Tenant, TenantTier } from '../../api/v1alpha1/types.js';
import { parseDuration } from '../../core/ingestion-plan.js';
import { type IngestionDeps, type SyncOutcome, ingestionKey, syncStep } from '../ingestion.js';

/** Runs the tenant's ingestion step; undefined when there is no data source yet. */
export async function tenantSync(
  ingestion: IngestionDeps,
  tenant: Tenant,
  tier: TenantTier,
  r: Record<string, string>,
  now: Date,
  signal: AbortSignal,
): Promise<SyncOutcome | undefined> {
  const { knowledgeBaseId, dataSourceId, bucket, prefix } = r;
  if (!knowledgeBaseId || !dataSourceId) return undefined;
  const name = tenant.metadata.name;
  const pool = tier.spec.isolation === 'pool';
  return syncStep(ingestion.scheduler, {
    target: { key: ingestionKey('Tenant', name), knowledgeBaseId, dataSourceId },
    intervalMs: pool ? undefined : parseDuration(tier.spec.ingestion?.interval ?? '1h'),
    status: tenant.status?.ingestion,
    requestedAt: tenant.metadata.annotations?.[ANNOTATIONS.syncRequestedAt],
    now,
    ...(pool && bucket && prefix
      ? {
          beforeSync: () => ingestion.sidecars(bucket, prefix, name, signal),
          alsoFrom: [ingestionKey('TenantTier', tier.metadata.name)],
        }
      : {}),
  });
}

/** Deleted pool tenants' purge syncs, in memory (a restart asks again). */
export class Purges {
  private readonly asked = new Set<string>();

  constructor(private readonly ingestion: IngestionDeps) {}

  /**
   * After a pool tenant's documents are gone from the shared bucket, a sync of the shared data
   * source removes its vectors from the shared index; true once one that started after the
   * documents were gone has finished.
   */
  done(tenant: Tenant, tier: TenantTier): boolean {
    const shared = tier.status?.shared;
    if (tier.spec.isolation !== 'pool' || !shared?.knowledgeBaseId || !shared.dataSourceId) return true;
    const key = ingestionKey('Tenant', tenant.metadata.name);
    const scheduler = this.ingestion.scheduler;
    const state = scheduler.state(key);
    if (this.asked.has(key) && !state.queued && !state.running && state.last) {
      this.asked.delete(key);
      // The key's history was cleared when the purge was asked for, so this job is the purge.
      if (state.last.status === 'COMPLETE') return true;
    }
    if (!this.asked.has(key)) {
      // Forget earlier syncs of this key; a job already running may have read the documents
      // before they went, so only one started for this request counts.
      scheduler.forget(key);
      const outcome = scheduler.request({ key, knowledgeBaseId: shared.knowledgeBaseId, dataSourceId: shared.dataSourceId }, 'on-demand');
      if (outcome !== 'running') this.asked.add(key);
    }
    return false;
  }

  /** Forgets the tenant (finalized). */
  forget(tenant: string): void {
    const key = ingestionKey('Tenant', tenant);
    this.asked.delete(key);
    this.ingestion.scheduler.forget(key);
  }
}
