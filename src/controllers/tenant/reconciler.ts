/** Reconciles a Tenant: admission against its tier, its AWS resources, status and deletion. */
import { ANNOTATIONS, CONDITION, EVENT_REASON, FINALIZER, REASON } from '../../api/v1alpha1/constants.js';
import type { Tenant, TenantStatus, TenantTier } from '../../api/v1alpha1/types.js';
import { type TrustScope, checkIdentity, checkPrincipals, checkTenant } from '../../core/admission.js';
import { type ConnectionScope, checkConnectionNamespace } from '../../core/connection.js';
import { tenantPrefix } from '../../core/naming.js';
import { type ConditionInput, findCondition, summarize } from '../../core/conditions.js';
import { TerminalError } from '../../core/errors.js';
import type { ObjectStore } from '../../ports/kube.js';
import type { BoundResource } from '../../resources/managed-resource.js';
import type { ReconcileContext, Reconciler, Result } from '../../runtime/controller.js';
import { runResources } from '../engine.js';
import type { OutputsResult, OutputsWriter } from '../../adapters/kube/configmaps.js';
import { type IngestionDeps, ingestionKey, syncStep } from '../ingestion.js';
import { parseDuration } from '../../core/ingestion-plan.js';
import { applyConditions, commitStatus, type StatusDeps } from '../status.js';
import { SpotChecks, steadyBasis } from '../spot-checks.js';

/** What a tenant shows of its ModelAccess objects: usage this month and the QuotaExceeded condition. */
export type TenantUsageOf = (tenant: string) => { usage: NonNullable<TenantStatus['usage']>; quota: ConditionInput };

/** How often a tenant whose connection namespace is missing, or whose ConfigMap name is taken, looks again. */
const NAMESPACE_POLL_MS = 30_000;

/** Connection reasons that only a change outside the watched objects can clear, so they are polled. */
const POLLED_CONNECTION_REASONS: readonly string[] = [REASON.NamespaceNotFound, REASON.ConfigMapConflict];

/** Where the outputs ConfigMap goes, what the Region is, and which namespaces it may go to. */
export interface OutputsDeps {
  writer: OutputsWriter;
  region: string;
  /** Namespaces allowed besides each tenant's own, and the operator's own (never allowed). */
  scope: ConnectionScope;
}

/** Who may be given a tenant's role. */
export interface AccessDeps {
  /** Whose roles spec.access.principals may name (the operator's account and trusted ones). */
  trust: () => Promise<TrustScope>;
  /** The EKS cluster whose Pod Identity sessions tenant roles trust (required for podIdentity). */
  eksClusterArn?: string;
}

/** The tenant's own resources for its tier's pattern (AWS drivers plug in here). */
export type TenantResources = (tenant: Tenant, tier: TenantTier) => Promise<BoundResource[]>;

/** Records on a tier's KMS key that a tenant deleted with Retain left a bucket the key encrypts. */
export type MarkRetained = (keyArn: string, tenant: string, bucket: string, signal: AbortSignal) => Promise<void>;

/** Reconciler of Tenant. */
export class TenantReconciler implements Reconciler {
  constructor(
    private readonly tenants: ObjectStore<Tenant>,
    private readonly tiers: ObjectStore<TenantTier>,
    private readonly deps: StatusDeps<Tenant>,
    private readonly resources: TenantResources = () => Promise.resolve([]),
    private readonly ingestion?: IngestionDeps,
    private readonly usageOf?: TenantUsageOf,
    private readonly outputs?: OutputsDeps,
    private readonly markRetained?: MarkRetained,
    /** Who may be given the tenant role (see AccessDeps). */
    private readonly access?: AccessDeps,
  ) {}

  /** Steady-state drift checks, one read per resource per pass. */
  private readonly spots = new SpotChecks();

  /** Deleted pool tenants whose purge sync was asked for (a restart asks again). */
  private readonly purges = new Set<string>();

  async reconcile(name: string, ctx: ReconcileContext): Promise<Result> {
    const tenant = this.tenants.get(name);
    if (!tenant) return {};
    const tier = this.tiers.get(tenant.spec.tier);
    if (tenant.metadata.deletionTimestamp) return this.finalize(tenant, tier, ctx);

    const generation = tenant.metadata.generation ?? 0;
    const now = this.deps.now();
    // The object the next write is based on; moves forward when the finalizer patch returns.
    let latest: Tenant = tenant;
    const write = async (
      components: ConditionInput[],
      ready: ConditionInput,
      complete: boolean,
      resources?: Record<string, string>,
      ingestion?: TenantStatus['ingestion'],
    ): Promise<void> => {
      // Usage and QuotaExceeded come from the ModelAccess objects and never block Ready.
      const u = this.usageOf?.(name);
      const status: TenantStatus = {
        ...latest.status,
        ...(ingestion ? { ingestion } : {}),
        ...(u ? { usage: { ...latest.status?.usage, ...u.usage } } : {}),
        isolation: tier?.spec.isolation,
        // A complete pass knows every id; a partial one keeps those it did not reach.
        ...(resources ? { resources: complete ? resources : { ...latest.status?.resources, ...resources } } : {}),
        conditions: applyConditions(latest.status?.conditions, [...components, ready, ...(u ? [u.quota] : [])], generation, now),
        observedGeneration: complete ? generation : latest.status?.observedGeneration,
      };
      latest = await commitStatus(latest, status, this.deps);
    };

    const tierTenants = this.tenants.list().filter((t) => t.spec.tier === tenant.spec.tier);
    const namesPrincipals = !!tenant.spec.access && 'principals' in tenant.spec.access;
    const refusal =
      checkTenant(tenant, tier, this.tiers.list(), tierTenants) ??
      (this.access ? checkIdentity(tenant, this.tenants.list(), this.access.eksClusterArn) : undefined) ??
      (this.access && namesPrincipals ? checkPrincipals(tenant, await this.access.trust()) : undefined);
    if (refusal || !tier) {
      // Bad input: say what to change; no AWS call is made and nothing already there is touched.
      const r = refusal ?? { reason: REASON.TierNotFound, message: 'tier not found' };
      await write([], { type: CONDITION.Ready, status: 'False', ...r }, true);
      return {};
    }
    if (tenant.spec.suspend) {
      await write(
        [],
        {
          type: CONDITION.Ready,
          status: 'False',
          reason: REASON.Suspended,
          message: "spec.suspend is true: the operator leaves this tenant's AWS resources as they are; set it to false to resume",
        },
        true,
      );
      return {};
    }
    const tierReady = findCondition(tier.status?.conditions, CONDITION.Ready);
    if (tierReady?.status !== 'True') {
      // The tier's watch requeues this tenant when the tier becomes Ready.
      await write(
        [],
        {
          type: CONDITION.Ready,
          status: 'False',
          reason: REASON.TierNotReady,
          message: `waiting for TenantTier "${tier.metadata.name}" to be Ready${tierReady ? ` (${tierReady.reason}: ${tierReady.message})` : ''}`,
        },
        false,
      );
      return {};
    }

    // The finalizer goes on before the first AWS call.
    // Continue with the updated object so this pass's status write is not a stale one.
    latest = await this.deps.writer.addFinalizer(tenant);
    // Ids AWS assigns are on status before anything else can fail (no duplicate after a crash).
    const persist = async (_kind: string, ids: Record<string, string>): Promise<void> => {
      latest = await this.deps.writer.writeStatus(latest, { ...latest.status, resources: { ...latest.status?.resources, ...ids } });
    };
    const spot = this.spots.pass(
      name,
      steadyBasis(latest, tier.metadata.generation, JSON.stringify(tier.status?.shared ?? {})),
      now.getTime(),
      // Asking for a reconcile asks for full observations.
      latest.metadata.annotations?.[ANNOTATIONS.reconcileRequestedAt],
    );
    const run = await runResources(ctx, await this.resources(latest, tier), { onCreated: persist, known: ownIds(latest, tier), spot });
    const resources = { ...sharedResources(tenant, tier), ...run.outputs };
    const components = [...run.components];
    let requeueAfterMs = run.requeueAfterMs;
    const sync = run.complete ? await this.sync(latest, tier, resources, ctx) : undefined;
    if (sync) {
      components.push(sync.condition);
      requeueAfterMs = sync.requeueAfterMs;
    }
    const published = run.complete ? await this.publish(latest, tier, resources) : undefined;
    if (published) components.push(published);
    // Nothing in the watched objects changes when the namespace appears or the ConfigMap in the
    // way goes: look again. A namespace not allowed needs a spec change (watched) or a restart.
    if (published && POLLED_CONNECTION_REASONS.includes(published.reason))
      requeueAfterMs = Math.min(requeueAfterMs ?? NAMESPACE_POLL_MS, NAMESPACE_POLL_MS);
    const ready = summarize(components, REASON.Reconciled, `tenant is ready in tier "${tier.metadata.name}" (${tier.spec.isolation})`);
    await write(components, ready, run.complete, resources, sync?.ingestion);
    if (run.terminal) throw new TerminalError(run.terminal.reason, run.terminal.message);
    return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
  }

  /**
   * Writes the outputs ConfigMap `spec.connection` asks for, after checking the namespace is one
   * the tenant may use; its condition, or none.
   */
  private async publish(tenant: Tenant, tier: TenantTier, r: Record<string, string>): Promise<ConditionInput | undefined> {
    const c = tenant.spec.connection;
    if (!c || !this.outputs) return undefined;
    const refusal = checkConnectionNamespace(tenant, this.outputs.scope);
    if (refusal) return { type: CONDITION.ConnectionReady, status: 'False', ...refusal };
    const name = c.configMapName ?? 'rag-connection';
    const result = await this.outputs.writer.apply(tenant, c.namespace, name, connectionData(tenant, tier, r, this.outputs.region));
    return connectionCondition(result, c.namespace, name);
  }

  /**
   * The tenant's ingestion: its own data source on the tier's interval (bridge, silo), or, in a
   * pool, on-demand syncs of the tier's shared data source after writing its sidecars (the tier
   * schedules the regular ones). Undefined when there is no data source yet.
   */
  private async sync(tenant: Tenant, tier: TenantTier, r: Record<string, string>, ctx: ReconcileContext) {
    const { knowledgeBaseId, dataSourceId } = r;
    if (!this.ingestion || !knowledgeBaseId || !dataSourceId) return undefined;
    const name = tenant.metadata.name;
    const pool = tier.spec.isolation === 'pool';
    const { bucket, prefix } = r;
    return syncStep(this.ingestion.scheduler, {
      target: { key: ingestionKey('Tenant', name), knowledgeBaseId, dataSourceId },
      intervalMs: pool ? undefined : parseDuration(tier.spec.ingestion?.interval ?? '1h'),
      status: tenant.status?.ingestion,
      requestedAt: tenant.metadata.annotations?.[ANNOTATIONS.syncRequestedAt],
      now: this.deps.now(),
      ...(pool && bucket && prefix
        ? {
            beforeSync: () => this.ingestion?.sidecars(bucket, prefix, name, ctx.signal) ?? Promise.resolve(true),
            alsoFrom: [ingestionKey('TenantTier', tier.metadata.name)],
          }
        : {}),
    });
  }

  /**
   * After a pool tenant's documents are gone from the shared bucket, a sync of the shared data
   * source removes its vectors from the shared index; true once one that started after the
   * documents were gone has finished.
   */
  private purged(tenant: Tenant, tier: TenantTier): boolean {
    const shared = tier.status?.shared;
    if (!this.ingestion || tier.spec.isolation !== 'pool' || !shared?.knowledgeBaseId || !shared.dataSourceId) return true;
    const key = ingestionKey('Tenant', tenant.metadata.name);
    const scheduler = this.ingestion.scheduler;
    const state = scheduler.state(key);
    if (this.purges.has(key) && !state.queued && !state.running && state.last) {
      // The key's history was cleared when the purge was asked for, so this job is the purge.
      if (state.last.status === 'COMPLETE') {
        this.purges.delete(key);
        return true;
      }
      this.purges.delete(key);
    }
    if (!this.purges.has(key)) {
      // Forget earlier syncs of this key; a job already running may have read the documents
      // before they went, so only one started for this request counts.
      scheduler.forget(key);
      const outcome = scheduler.request({ key, knowledgeBaseId: shared.knowledgeBaseId, dataSourceId: shared.dataSourceId }, 'on-demand');
      if (outcome !== 'running') this.purges.add(key);
    }
    return false;
  }

  private async finalize(tenant: Tenant, tier: TenantTier | undefined, ctx: ReconcileContext): Promise<Result> {
    if (!tenant.metadata.finalizers?.includes(FINALIZER)) return {};
    if ((tenant.spec.deletionPolicy ?? 'Retain') === 'Retain') {
      // A silo bucket encrypted with its tier's key: the key must not go with the tier.
      const tierKey =
        tier?.spec.isolation === 'silo' && tier.spec.storage?.encryption === 'TierKey' ? tier.status?.shared?.kmsKeyArn : undefined;
      const bucket = tenant.status?.resources?.bucket;
      if (tierKey && bucket) await this.markRetained?.(tierKey, tenant.metadata.name, bucket, ctx.signal);
      await this.deps.events.emit(
        tenant,
        'Normal',
        EVENT_REASON.RetainedInAWS,
        "deletionPolicy is Retain: the tenant's AWS resources were left in place",
      );
    } else if (!tier) {
      // The tier says what the tenant's resources are; without it they cannot be found to be
      // deleted, and releasing the finalizer now would leak them.
      const missing: ConditionInput = {
        type: CONDITION.Ready,
        status: 'False',
        reason: REASON.TierMissing,
        message: `cannot delete the tenant's AWS resources: TenantTier "${tenant.spec.tier}" is gone; recreate it, or set spec.deletionPolicy to Retain to leave AWS as it is`,
      };
      const generation = tenant.metadata.generation ?? 0;
      await commitStatus(
        tenant,
        { ...tenant.status, conditions: applyConditions(tenant.status?.conditions, [missing], generation, this.deps.now()) },
        this.deps,
      );
      return {};
    } else {
      const run = await runResources(ctx, await this.resources(tenant, tier), { deleting: true, known: ownIds(tenant, tier) });
      if (run.terminal) throw new TerminalError(run.terminal.reason, run.terminal.message);
      if (!run.complete) return { requeueAfterMs: run.requeueAfterMs };
      if (!this.purged(tenant, tier)) return { requeueAfterMs: 10_000 };
      await this.deps.events.emit(tenant, 'Normal', EVENT_REASON.Deleted, "the tenant's AWS resources were deleted");
    }
    this.ingestion?.scheduler.forget(ingestionKey('Tenant', tenant.metadata.name));
    this.spots.forget(tenant.metadata.name);
    const c = tenant.spec.connection;
    if (c && this.outputs) {
      const configMap = { namespace: c.namespace, name: c.configMapName ?? 'rag-connection' };
      // Only the ConfigMap this very Tenant created goes; another's at that name stays as it is.
      const deleted = await this.outputs.writer.delete(tenant, configMap.namespace, configMap.name);
      if (deleted === 'not-owned') ctx.logger.info(configMap, "outputs ConfigMap is not this tenant's: left in place");
    }
    await this.deps.writer.removeFinalizer(tenant);
    ctx.logger.info({ deletionPolicy: tenant.spec.deletionPolicy }, 'tenant finalized');
    return {};
  }
}

/** The ConnectionReady condition for what writing the outputs ConfigMap `namespace/name` did. */
export function connectionCondition(result: OutputsResult, namespace: string, name: string): ConditionInput {
  const type = CONDITION.ConnectionReady;
  switch (result.outcome) {
    case 'namespace-missing':
      return {
        type,
        status: 'False',
        reason: REASON.NamespaceNotFound,
        message: `namespace "${namespace}" does not exist: create it, or set spec.connection.namespace to the application's namespace`,
      };
    case 'conflict':
      return {
        type,
        status: 'False',
        reason: REASON.ConfigMapConflict,
        message: `ConfigMap ${namespace}/${name} already exists and ${result.owner ? `belongs to ${result.owner}` : 'was not created by the operator for this tenant'}; the operator leaves it untouched: set spec.connection.configMapName to a name not in use in "${namespace}"`,
      };
    case 'written':
    case 'unchanged':
      return { type, status: 'True', reason: REASON.Published, message: `ConfigMap ${namespace}/${name} holds the connection details` };
  }
}

/** What a pool or bridge tenant uses of its tier's shared resources, as published on the tier. */
function sharedResources(tenant: Tenant, tier: TenantTier): Record<string, string> {
  if (tier.spec.isolation === 'silo') return {};
  const shared = tier.status?.shared ?? {};
  const keys: (keyof typeof shared)[] =
    tier.spec.isolation === 'pool'
      ? [
          'bucket',
          'knowledgeBaseRoleArn',
          'collectionArn',
          'collectionEndpoint',
          'collectionId',
          'indexName',
          'knowledgeBaseId',
          'dataSourceId',
        ]
      : ['bucket', 'collectionArn', 'collectionEndpoint', 'collectionId'];
  const out: Record<string, string> = { prefix: tenantPrefix(tenant.metadata.name) };
  for (const k of keys) {
    const v = shared[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/**
 * The ids status records for the tenant's own resources (not the tier's, which a tenant must
 * never act on), handed to the engine so a deletion knows them before it reaches their owners.
 */
function ownIds(tenant: Tenant, tier: TenantTier): Record<string, string> {
  const shared = new Set(Object.keys(sharedResources(tenant, tier)));
  const mine = tenant.status?.resources ?? {};
  return Object.fromEntries(Object.entries(mine).filter((e): e is [string, string] => typeof e[1] === 'string' && !shared.has(e[0])));
}

/** What the application needs to reach its stack, as the outputs ConfigMap holds it. */
export function connectionData(tenant: Tenant, tier: TenantTier, r: Record<string, string>, region: string): Record<string, string> {
  const pool = tier.spec.isolation === 'pool';
  const entries: [string, string | undefined][] = [
    ['TENANT', tenant.metadata.name],
    ['TIER', tier.metadata.name],
    ['ISOLATION', tier.spec.isolation],
    ['AWS_REGION', region],
    ['ROLE_ARN', r.roleArn],
    ['BUCKET', r.bucket],
    ['PREFIX', r.prefix],
    ['KMS_KEY_ARN', r.kmsKeyArn],
    ['KNOWLEDGE_BASE_ID', r.knowledgeBaseId],
    ['DATA_SOURCE_ID', r.dataSourceId],
    ['COLLECTION_ENDPOINT', r.collectionEndpoint],
    ['INDEX_NAME', r.indexName],
    // A pool's shared knowledge base must be queried with this filter (by the platform's service).
    ['RETRIEVAL_FILTER', pool ? JSON.stringify({ equals: { key: 'tenantId', value: tenant.metadata.name } }) : undefined],
  ];
  return Object.fromEntries(entries.filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
}
