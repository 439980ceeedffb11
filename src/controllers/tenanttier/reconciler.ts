/** Reconciles a TenantTier: its shared AWS resources, the pool's scheduled syncs, tenant count, and deletion guard. */
import { ANNOTATIONS, CONDITION, FINALIZER, REASON } from '../../api/v1alpha1/constants.js';
import type { Tenant, TenantTier, TenantTierStatus } from '../../api/v1alpha1/types.js';
import { type ConditionInput, summarize } from '../../core/conditions.js';
import { TerminalError } from '../../core/errors.js';
import type { ObjectStore } from '../../ports/kube.js';
import type { BoundResource } from '../../resources/managed-resource.js';
import type { ReconcileContext, Reconciler, Result } from '../../runtime/controller.js';
import { runResources } from '../engine.js';
import { type IngestionDeps, ingestionKey, syncStep } from '../ingestion.js';
import { parseDuration } from '../../core/ingestion-plan.js';
import { tenantPrefix } from '../../core/naming.js';
import { applyConditions, commitStatus, type StatusDeps } from '../status.js';
import { SpotChecks, steadyBasis } from '../spot-checks.js';

/** The resources a tier shares among its tenants, bound to its spec (AWS drivers plug in here). */
export type TierResources = (tier: TenantTier) => Promise<BoundResource[]>;

/** Names of tenants whose documents are still in the tier bucket (under `tenants/<name>/`). */
export type TenantsWithDocuments = (bucket: string, signal: AbortSignal) => Promise<string[]>;

/** How often a tier held by retained tenants' documents looks again. */
const RETAINED_POLL_MS = 60_000;

/** Reconciler of TenantTier. */
export class TenantTierReconciler implements Reconciler {
  constructor(
    private readonly tiers: ObjectStore<TenantTier>,
    private readonly tenants: ObjectStore<Tenant>,
    private readonly deps: StatusDeps<TenantTier>,
    private readonly resources: TierResources = () => Promise.resolve([]),
    private readonly ingestion?: IngestionDeps,
    private readonly withDocuments?: TenantsWithDocuments,
  ) {}

  /** Steady-state drift checks, one read per resource per pass. */
  private readonly spots = new SpotChecks();

  async reconcile(name: string, ctx: ReconcileContext): Promise<Result> {
    const tier = this.tiers.get(name);
    if (!tier) return {};
    const members = this.tenants.list().filter((t) => t.spec.tier === name);
    const generation = tier.metadata.generation ?? 0;
    const now = this.deps.now();

    if (tier.metadata.deletionTimestamp) {
      if (!tier.metadata.finalizers?.includes(FINALIZER)) return {};
      if (members.length > 0) {
        const names = members.map((t) => t.metadata.name).sort();
        const blocked: ConditionInput = {
          type: CONDITION.Ready,
          status: 'False',
          reason: REASON.TierInUse,
          message: `${members.length} tenant(s) still use this tier (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}): delete them or move them to another tier first`,
        };
        await commitStatus(
          tier,
          { ...tier.status, tenantCount: members.length, conditions: applyConditions(tier.status?.conditions, [blocked], generation, now) },
          this.deps,
        );
        // Tenant deletions requeue the tier through the watch mapping; nothing to poll.
        return {};
      }
      // Tenants deleted with Retain leave their documents (and, in a bridge, their knowledge
      // bases on the tier's collection) in the tier's shared resources: deleting those would
      // destroy what they were retained for.
      const bucket = tier.status?.shared?.bucket;
      const retained = bucket && tier.spec.isolation !== 'silo' ? ((await this.withDocuments?.(bucket, ctx.signal)) ?? []) : [];
      if (retained.length > 0) {
        const kept: ConditionInput = {
          type: CONDITION.Ready,
          status: 'False',
          reason: REASON.RetainedTenantData,
          message: `the tier bucket ${bucket ?? ''} still holds documents of tenants deleted with deletionPolicy Retain (${retained.slice(0, 5).join(', ')}${retained.length > 5 ? ', ...' : ''}); deleting the tier would destroy them: move or delete what is under tenants/<name>/ first`,
        };
        await commitStatus(
          tier,
          { ...tier.status, conditions: applyConditions(tier.status?.conditions, [kept], generation, now) },
          this.deps,
        );
        // Nothing in the cluster changes when the documents go: look again from time to time.
        return { requeueAfterMs: RETAINED_POLL_MS };
      }
      const run = await runResources(ctx, await this.resources(tier), { deleting: true, known: sharedIds(tier) });
      if (run.terminal) {
        // What holds the deletion (a key that retained tenants' buckets still use) says so.
        const held: ConditionInput = { type: CONDITION.Ready, status: 'False', reason: run.terminal.reason, message: run.terminal.message };
        await commitStatus(
          tier,
          { ...tier.status, conditions: applyConditions(tier.status?.conditions, [...run.components, held], generation, now) },
          this.deps,
        );
        throw new TerminalError(run.terminal.reason, run.terminal.message);
      }
      if (!run.complete) return { requeueAfterMs: run.requeueAfterMs };
      this.ingestion?.scheduler.forget(ingestionKey('TenantTier', name));
      this.spots.forget(name);
      await this.deps.writer.removeFinalizer(tier);
      ctx.logger.info('tier deleted; finalizer removed');
      return {};
    }

    // Continue with the updated object so this pass's status write is not a stale one.
    let latest = await this.deps.writer.addFinalizer(tier);
    // Ids AWS assigns are on status before anything else can fail (no duplicate after a crash).
    const persist = async (_kind: string, ids: Record<string, string>): Promise<void> => {
      latest = await this.deps.writer.writeStatus(latest, { ...latest.status, shared: { ...latest.status?.shared, ...ids } });
    };
    const spot = this.spots.pass(name, steadyBasis(latest), now.getTime(), latest.metadata.annotations?.[ANNOTATIONS.reconcileRequestedAt]);
    const run = await runResources(ctx, await this.resources(latest), { onCreated: persist, known: sharedIds(latest), spot });
    // A complete pass knows every id; a partial one keeps those it did not reach.
    const shared = run.complete ? run.outputs : { ...latest.status?.shared, ...run.outputs };
    const components = [...run.components];
    // A pool's shared data source is synced on the tier's interval, after every admitted
    // tenant's documents have their sidecars (what the query-time tenant filter matches).
    const sync =
      run.complete && tier.spec.isolation === 'pool' && this.ingestion && shared.knowledgeBaseId && shared.dataSourceId && shared.bucket
        ? await syncStep(this.ingestion.scheduler, {
            target: { key: ingestionKey('TenantTier', name), knowledgeBaseId: shared.knowledgeBaseId, dataSourceId: shared.dataSourceId },
            intervalMs: parseDuration(tier.spec.ingestion?.interval ?? '1h'),
            status: latest.status?.ingestion,
            requestedAt: tier.metadata.annotations?.[ANNOTATIONS.syncRequestedAt],
            now: now,
            beforeSync: () => this.writeSidecars(shared.bucket ?? '', members, ctx),
          })
        : undefined;
    if (sync) components.push(sync.condition);
    const ready = summarize(components, REASON.Reconciled, `tier is ready (${tier.spec.isolation}); ${members.length} tenant(s)`);
    const status: TenantTierStatus = {
      ...latest.status,
      tenantCount: members.length,
      shared,
      ...(sync ? { ingestion: sync.ingestion } : {}),
      conditions: applyConditions(latest.status?.conditions, [...components, ready], generation, now),
      observedGeneration: run.complete ? generation : latest.status?.observedGeneration,
    };
    await commitStatus(latest, status, this.deps);
    if (run.terminal) throw new TerminalError(run.terminal.reason, run.terminal.message);
    const requeueAfterMs = sync ? sync.requeueAfterMs : run.requeueAfterMs;
    return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
  }

  /** Sidecars for every admitted tenant of a pool tier; true once all are written. */
  private async writeSidecars(bucket: string, members: readonly Tenant[], ctx: ReconcileContext): Promise<boolean> {
    let done = true;
    for (const t of members) {
      // Tenants not yet admitted (or leaving) have no documents the shared index should hold.
      if (!t.metadata.finalizers?.includes(FINALIZER) || t.metadata.deletionTimestamp) continue;
      const name = t.metadata.name;
      try {
        if (!(await this.ingestion?.sidecars(bucket, tenantPrefix(name), name, ctx.signal))) done = false;
      } catch (e) {
        // One tenant's unwritable object must not stop the tier's syncs; its documents without a
        // sidecar match no tenant filter (fail safe) until the next round writes them.
        ctx.logger.warn({ tenant: name, err: e }, 'sidecars could not be written; syncing without them');
      }
    }
    return done;
  }
}

/** The ids the tier's status records, handed to the engine (see runResources). */
function sharedIds(tier: TenantTier): Record<string, string> {
  return Object.fromEntries(Object.entries(tier.status?.shared ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
