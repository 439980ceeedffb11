/**
 * Reconciles a TenantTier through the owner template: its shared AWS resources, the pool's
 * scheduled syncs and its tenant count; on deletion it waits for its tenants and for documents
 * retained tenants left in its bucket, then removes what it shares.
 */
import { ANNOTATIONS, CONDITION, FINALIZER, REASON } from '../../api/v1alpha1/constants.js';
import type { Tenant, TenantTier, TenantTierStatus } from '../../api/v1alpha1/types.js';
import { summarize } from '../../core/conditions.js';
import { parseDuration } from '../../core/ingestion-plan.js';
import { tenantPrefix } from '../../core/naming.js';
import type { RetainedData } from '../../ports/retained.js';
import type { BoundResource } from '../../resources/managed-resource.js';
import type { ReconcileContext, Reconciler } from '../../runtime/controller.js';
import { runResources } from '../engine.js';
import { nextInSync } from '../in-sync.js';
import { type IngestionDeps, ingestionKey, syncStep } from '../ingestion.js';
import { type KindDeps, OwnerReconciler, type OwnerSteps, type Pass, type Step } from '../owner/template.js';
import { SpotChecks, steadyBasis } from '../spot-checks.js';

/** The resources a tier shares among its tenants, bound to its spec. */
export type TierResources = (tier: TenantTier) => Promise<BoundResource[]>;

/** What the TenantTier reconciler is built from. */
export interface TierDeps extends KindDeps<TenantTier> {
  tenants: KindDeps<Tenant>['store'];
  resources: TierResources;
  ingestion: IngestionDeps;
  /** Which tenants deleted with Retain still have documents in the tier's bucket. */
  retained: Pick<RetainedData, 'tenantsWithDocuments'>;
}

/** How often a tier held by retained tenants' documents looks again. */
const RETAINED_POLL_MS = 60_000;

/** The TenantTier reconciler. */
export function tierReconciler(deps: TierDeps): Reconciler {
  const { store, writer, events, now, describeFailure } = deps;
  return new OwnerReconciler({ kind: 'TenantTier', store, writer, events, now, describeFailure, steps: new TierSteps(deps) });
}

/** Up to five names, then an ellipsis. */
const some = (names: string[]): string => `${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}`;

/** The TenantTier's steps of the owner template. */
export class TierSteps implements OwnerSteps<TenantTier> {
  /** Steady-state drift checks, one read per resource per pass. */
  private readonly spots = new SpotChecks();

  constructor(private readonly d: TierDeps) {}

  private members(tier: TenantTier): Tenant[] {
    return this.d.tenants.list().filter((t) => t.spec.tier === tier.metadata.name);
  }

  /** A tier admits itself: nothing it needs comes from another object. */
  admit(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  common(tier: TenantTier): Pick<Step<TenantTierStatus>, 'conditions' | 'fields'> {
    return { conditions: [], fields: { tenantCount: this.members(tier).length } };
  }

  async sync(tier: TenantTier, pass: Pass<TenantTier>): Promise<Step<TenantTierStatus>> {
    const name = tier.metadata.name;
    const spot = this.spots.pass(
      name,
      steadyBasis(tier),
      pass.now.getTime(),
      tier.metadata.annotations?.[ANNOTATIONS.reconcileRequestedAt],
      tier.status?.inSync,
    );
    // Ids AWS assigns are on status before anything else can fail (no duplicate after a crash).
    const onCreated = (_kind: string, ids: Record<string, string>): Promise<void> =>
      pass.persist((s) => ({ ...s, shared: { ...s?.shared, ...ids } }));
    const run = await runResources(pass.ctx, await this.d.resources(tier), { onCreated, known: sharedIds(tier), spot });
    // A complete pass knows every id; a partial one keeps those it did not reach.
    const shared = run.complete ? run.outputs : { ...pass.latest.status?.shared, ...run.outputs };
    const members = this.members(tier);
    const sync = run.complete ? await this.poolSync(tier, shared, members, pass) : undefined;
    const components = [...run.components, ...(sync ? [sync.condition] : [])];
    const ready = summarize(components, REASON.Reconciled, `tier is ready (${tier.spec.isolation}); ${members.length} tenant(s)`);
    return {
      conditions: [...components, ready],
      fields: {
        shared,
        inSync: nextInSync(pass.latest.status?.inSync, run.digest, pass.now),
        ...(sync ? { ingestion: sync.ingestion } : {}),
      },
      evaluated: run.complete,
      requeueAfterMs: sync ? sync.requeueAfterMs : run.requeueAfterMs,
      terminal: run.terminal,
    };
  }

  /**
   * A pool's shared data source is synced on the tier's interval, after every admitted tenant's
   * documents have their sidecars (what the query-time tenant filter matches).
   */
  private async poolSync(tier: TenantTier, shared: Record<string, string>, members: readonly Tenant[], pass: Pass<TenantTier>) {
    const { knowledgeBaseId, dataSourceId, bucket } = shared;
    if (tier.spec.isolation !== 'pool' || !knowledgeBaseId || !dataSourceId || !bucket) return undefined;
    return syncStep(this.d.ingestion.scheduler, {
      target: { key: ingestionKey('TenantTier', tier.metadata.name), knowledgeBaseId, dataSourceId },
      intervalMs: parseDuration(tier.spec.ingestion?.interval ?? '1h'),
      status: pass.latest.status?.ingestion,
      requestedAt: tier.metadata.annotations?.[ANNOTATIONS.syncRequestedAt],
      now: pass.now,
      beforeSync: () => this.writeSidecars(bucket, members, pass.ctx),
    });
  }

  async finalize(tier: TenantTier, pass: Pass<TenantTier>): Promise<Step<TenantTierStatus>> {
    const members = this.members(tier);
    if (members.length > 0) {
      const names = members.map((t) => t.metadata.name).sort();
      // Tenant deletions requeue the tier through the watch mapping; nothing to poll.
      return this.held(
        REASON.TierInUse,
        `${members.length} tenant(s) still use this tier (${some(names)}): delete them or move them to another tier first`,
      );
    }
    // Tenants deleted with Retain leave their documents (and, in a bridge, their knowledge
    // bases on the tier's collection) in the tier's shared resources: deleting those would
    // destroy what they were retained for.
    const bucket = tier.status?.shared?.bucket;
    const retained = bucket && tier.spec.isolation !== 'silo' ? await this.d.retained.tenantsWithDocuments(bucket, pass.ctx.signal) : [];
    if (retained.length > 0)
      // Nothing in the cluster changes when the documents go: look again from time to time.
      return {
        ...this.held(
          REASON.RetainedTenantData,
          `the tier bucket ${bucket ?? ''} still holds documents of tenants deleted with deletionPolicy Retain (${some(retained)}); deleting the tier would destroy them: move or delete what is under tenants/<name>/ first`,
        ),
        requeueAfterMs: RETAINED_POLL_MS,
      };
    const run = await runResources(pass.ctx, await this.d.resources(tier), { deleting: true, known: sharedIds(tier) });
    // What holds the deletion (a key that retained tenants' buckets still use) says so, as Ready.
    const step = { conditions: run.components, evaluated: false };
    if (run.terminal) return { ...step, terminal: run.terminal };
    if (!run.complete) return { ...step, removing: run.current?.message, requeueAfterMs: run.requeueAfterMs };
    pass.ctx.logger.info('tier deleted');
    return { ...step, release: true };
  }

  /** A deletion that waits for something outside the tier: Ready says what. */
  private held(reason: string, message: string): Step<TenantTierStatus> {
    return { conditions: [{ type: CONDITION.Ready, status: 'False', reason, message }], evaluated: false };
  }

  released(tier: TenantTier): void {
    this.d.ingestion.scheduler.forget(ingestionKey('TenantTier', tier.metadata.name));
    this.spots.forget(tier.metadata.name);
  }

  /** Sidecars for every admitted tenant of a pool tier; true once all are written. */
  private async writeSidecars(bucket: string, members: readonly Tenant[], ctx: ReconcileContext): Promise<boolean> {
    let done = true;
    for (const t of members) {
      // Tenants not yet admitted (or leaving) have no documents the shared index should hold.
      if (!t.metadata.finalizers?.includes(FINALIZER) || t.metadata.deletionTimestamp) continue;
      const name = t.metadata.name;
      try {
        if (!(await this.d.ingestion.sidecars(bucket, tenantPrefix(name), name, ctx.signal))) done = false;
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
