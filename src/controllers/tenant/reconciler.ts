/**
 * Reconciles a Tenant through the owner template: admission against its tier (admission.ts), its
 * own AWS resources, ingestion and outputs ConfigMap after the finalizer, and on deletion its
 * resources removed (Delete) or left and recorded (Retain).
 */
import { storeOf } from '../../core/vector-stores.js';
import { sharesRole } from '../../core/tenant-roles.js';
import { ANNOTATIONS, CONDITION, EVENT_REASON, REASON } from '../../api/v1alpha1/constants.js';
import type { Tenant, TenantStatus, TenantTier } from '../../api/v1alpha1/types.js';
import { type ConditionInput, summarize } from '../../core/conditions.js';
import type { RetainedData } from '../../ports/retained.js';
import type { BoundResource } from '../../resources/managed-resource.js';
import { withCallPriority } from '../../runtime/call-priority.js';
import type { Reconciler } from '../../runtime/controller.js';
import { runResources } from '../engine.js';
import { nextInSync } from '../in-sync.js';
import type { IngestionDeps } from '../ingestion.js';
import { type KindDeps, OwnerReconciler, type OwnerSteps, type Pass, type Step } from '../owner/template.js';
import { SpotChecks, steadyBasis } from '../spot-checks.js';
import { type AccessDeps, admissionStep, tierDeletingCondition } from './admission.js';
import { Purges, tenantSync } from './ingestion.js';
import { type OutputsDeps, configMapOf, publish } from './outputs.js';
import { ownIds, sharedResources } from './resources.js';

/** What a tenant shows of its ModelAccess objects: usage this month and the QuotaExceeded condition. */
export type TenantUsageOf = (tenant: string) => { usage: NonNullable<TenantStatus['usage']>; quota: ConditionInput };

/** The tenant's own resources for its tier's pattern, bound to their desired specs. */
export type TenantResources = (tenant: Tenant, tier: TenantTier) => Promise<BoundResource[]>;

/** What the Tenant reconciler is built from. */
export interface TenantDeps extends KindDeps<Tenant> {
  tiers: KindDeps<TenantTier>['store'];
  resources: TenantResources;
  ingestion: IngestionDeps;
  usageOf: TenantUsageOf;
  outputs: OutputsDeps;
  /** Marks a tier's key as encrypting the bucket of a tenant deleted with Retain. */
  retained: Pick<RetainedData, 'markKeyRetained'>;
  access: AccessDeps;
}

/** How often a tenant whose connection namespace is missing, or whose ConfigMap name is taken, looks again. */
const NAMESPACE_POLL_MS = 30_000;

/** Connection reasons that only a change outside the watched objects can clear, so they are polled. */
const POLLED_CONNECTION_REASONS: readonly string[] = [REASON.NamespaceNotFound, REASON.ConfigMapConflict];

/** How often a deleted pool tenant looks for the sync that removes its vectors. */
const PURGE_POLL_MS = 10_000;

/** The Tenant reconciler. */
export function tenantReconciler(deps: TenantDeps): Reconciler {
  const { store, writer, events, now, describeFailure } = deps;
  return new OwnerReconciler({ kind: 'Tenant', store, writer, events, now, describeFailure, steps: new TenantSteps(deps) });
}

/** The Tenant's steps of the owner template. */
export class TenantSteps implements OwnerSteps<Tenant> {
  /** Steady-state drift checks, one read per resource per pass. */
  private readonly spots = new SpotChecks();
  private readonly purges: Purges;

  constructor(private readonly d: TenantDeps) {
    this.purges = new Purges(d.ingestion);
  }

  admit(tenant: Tenant): Promise<Step<TenantStatus> | undefined> {
    return admissionStep(tenant, this.d.tiers.get(tenant.spec.tier), { tenants: this.d.store, tiers: this.d.tiers }, this.d.access);
  }

  /** Usage and QuotaExceeded come from the ModelAccess objects and never block Ready; TierDeleting from the tier. */
  common(tenant: Tenant): Pick<Step<TenantStatus>, 'conditions' | 'fields' | 'dropped'> {
    const tier = this.d.tiers.get(tenant.spec.tier);
    const u = this.d.usageOf(tenant.metadata.name);
    const deleting = tierDeletingCondition(tenant, tier);
    return {
      conditions: [u.quota, ...(deleting ? [deleting] : [])],
      fields: {
        isolation: tier?.spec.isolation,
        vectorStore: tier ? storeOf(tier) : undefined,
        tenantRoles: tier ? (sharesRole(tier) ? 'Shared' : 'PerTenant') : undefined,
        usage: { ...tenant.status?.usage, ...u.usage },
      },
      ...(deleting ? {} : { dropped: [CONDITION.TierDeleting] }),
    };
  }

  async sync(tenant: Tenant, pass: Pass<Tenant>): Promise<Step<TenantStatus>> {
    const tier = this.d.tiers.get(tenant.spec.tier);
    // Gone since admission a moment ago: the next pass (the tier's watch) says TierNotFound.
    if (!tier) return { conditions: [], evaluated: false };
    const name = tenant.metadata.name;
    const spot = this.spots.pass(
      name,
      steadyBasis(tenant, tier.metadata.generation, JSON.stringify(tier.status?.shared ?? {})),
      pass.now.getTime(),
      // Asking for a reconcile asks for full observations.
      tenant.metadata.annotations?.[ANNOTATIONS.reconcileRequestedAt],
      tenant.status?.inSync,
    );
    // Ids AWS assigns are on status before anything else can fail (no duplicate after a crash).
    const onCreated = (_kind: string, ids: Record<string, string>): Promise<void> =>
      pass.persist((s) => ({ ...s, resources: { ...s?.resources, ...ids } }));
    // A pool tenant's calls give way in the rate budgets: nothing waits on its role, while each
    // dedicated tenant's roles hold up its chain of access policy, index and knowledge base.
    const run = await withCallPriority(tier.spec.isolation === 'pool' ? 'low' : 'high', async () =>
      runResources(pass.ctx, await this.d.resources(tenant, tier), { onCreated, known: ownIds(tenant, tier), spot }),
    );
    const resources = { ...sharedResources(tenant, tier), ...run.outputs };
    const components = [...run.components];
    const sync = run.complete ? await tenantSync(this.d.ingestion, tenant, tier, resources, pass.now, pass.ctx.signal) : undefined;
    if (sync) components.push(sync.condition);
    const published = run.complete ? await publish(this.d.outputs, tenant, tier, resources) : undefined;
    if (published) components.push(published);
    let requeueAfterMs = sync ? sync.requeueAfterMs : run.requeueAfterMs;
    // Nothing in the watched objects changes when the namespace appears or the ConfigMap in the
    // way goes: look again. A namespace not allowed needs a spec change (watched) or a restart.
    if (published && POLLED_CONNECTION_REASONS.includes(published.reason))
      requeueAfterMs = Math.min(requeueAfterMs ?? NAMESPACE_POLL_MS, NAMESPACE_POLL_MS);
    const ready = summarize(components, REASON.Reconciled, `tenant is ready in tier "${tier.metadata.name}" (${tier.spec.isolation})`);
    const stored = pass.latest.status?.resources;
    return {
      conditions: [...components, ready],
      // A complete pass knows every id; a partial one keeps those it did not reach.
      fields: {
        resources: run.complete ? resources : { ...stored, ...resources },
        inSync: nextInSync(pass.latest.status?.inSync, run.digest, pass.now),
        ...(sync ? { ingestion: sync.ingestion } : {}),
      },
      evaluated: run.complete,
      requeueAfterMs,
      terminal: run.terminal,
    };
  }

  async finalize(tenant: Tenant, pass: Pass<Tenant>): Promise<Step<TenantStatus>> {
    const tier = this.d.tiers.get(tenant.spec.tier);
    if ((tenant.spec.deletionPolicy ?? 'Retain') === 'Retain') return this.retain(tenant, tier, pass);
    // The tier says what the tenant's resources are; without it they cannot be found to be
    // deleted, and releasing the finalizer now would leak them.
    if (!tier)
      return {
        conditions: [
          {
            type: CONDITION.Ready,
            status: 'False',
            reason: REASON.TierMissing,
            message: `cannot delete the tenant's AWS resources: TenantTier "${tenant.spec.tier}" is gone; recreate it, or set spec.deletionPolicy to Retain to leave AWS as it is`,
          },
        ],
        evaluated: false,
      };
    const run = await runResources(pass.ctx, await this.d.resources(tenant, tier), { deleting: true, known: ownIds(tenant, tier) });
    const step = { conditions: run.components, evaluated: false };
    if (run.terminal) return { ...step, terminal: run.terminal };
    if (!run.complete) return { ...step, removing: run.current?.message, requeueAfterMs: run.requeueAfterMs };
    if (!this.purges.done(tenant, tier))
      return {
        ...step,
        removing: 'waiting for a sync of the shared data source to remove its vectors from the shared index',
        requeueAfterMs: PURGE_POLL_MS,
      };
    await this.d.events.emit(tenant, 'Normal', EVENT_REASON.Deleted, "the tenant's AWS resources were deleted");
    return this.release(tenant, pass);
  }

  /** Leaves AWS as it is, recording on a silo tier's key that the tenant's bucket still uses it. */
  private async retain(tenant: Tenant, tier: TenantTier | undefined, pass: Pass<Tenant>): Promise<Step<TenantStatus>> {
    // A silo bucket encrypted with its tier's key: the key must not go with the tier.
    const tierKey =
      tier?.spec.isolation === 'silo' && tier.spec.storage?.encryption === 'TierKey' ? tier.status?.shared?.kmsKeyArn : undefined;
    const bucket = tenant.status?.resources?.bucket;
    if (tierKey && bucket) await this.d.retained.markKeyRetained(tierKey, tenant.metadata.name, bucket, pass.ctx.signal);
    await this.d.events.emit(
      tenant,
      'Normal',
      EVENT_REASON.RetainedInAWS,
      "deletionPolicy is Retain: the tenant's AWS resources were left in place",
    );
    return this.release(tenant, pass);
  }

  /** The last deletion step: the outputs ConfigMap goes (only this very Tenant's), then the finalizer. */
  private async release(tenant: Tenant, pass: Pass<Tenant>): Promise<Step<TenantStatus>> {
    const at = configMapOf(tenant);
    if (at) {
      const deleted = await this.d.outputs.writer.delete(tenant, at.namespace, at.name);
      if (deleted === 'not-owned') pass.ctx.logger.info(at, "outputs ConfigMap is not this tenant's: left in place");
    }
    pass.ctx.logger.info({ deletionPolicy: tenant.spec.deletionPolicy }, 'tenant finalized');
    return { conditions: [], evaluated: false, release: true };
  }

  released(tenant: Tenant): void {
    this.purges.forget(tenant.metadata.name);
    this.spots.forget(tenant.metadata.name);
  }
}
