/**
 * Reconciles a ModelAccess: checks it (tenant, approval, duplicates, model lifecycle), grants the
 * model through the tenant's own inference profile and a policy on the tenant's role, meters it
 * from the usage poller's readings, enforces its quota by swapping the allow for a deny until the
 * window resets, and revokes everything when the model is no longer approved, reaches its end of
 * life, or the ModelAccess goes. Status is computed in memory and written once per pass.
 */
import { isDeepStrictEqual } from 'node:util';
import { CONDITION, FINALIZER, REASON } from '../../api/v1alpha1/constants.js';
import type { ModelAccess, ModelAccessStatus, Tenant, TenantTier } from '../../api/v1alpha1/types.js';
import type { ModelLifecycleSource } from '../../adapters/aws/model-lifecycle.js';
import { checkModelAccess } from '../../core/admission.js';
import { type ConditionInput, isTrue, summarize } from '../../core/conditions.js';
import { TerminalError } from '../../core/errors.js';
import { lifecycleVerdict } from '../../core/model-access/lifecycle.js';
import { foundationModelId } from '../../core/model-access/names.js';
import type { NamingContext } from '../../core/naming.js';
import type { ObjectStore } from '../../ports/kube.js';
import type { ReconcileContext, Reconciler, Result } from '../../runtime/controller.js';
import type { ModelMetrics } from '../../runtime/metrics.js';
import { type UsageBook, currentTokens } from '../../usage/book.js';
import { decideQuota, effectiveQuota } from '../../usage/quota.js';
import { type EngineResult, runResources } from '../engine.js';
import { applyConditions, commitStatus, type StatusDeps } from '../status.js';
import { computeUsage, duplicateGrant, quotaConditions, rateLimitedUsage } from './conditions.js';
import { forgetMetrics, recordMetrics } from './metrics.js';
import { type ApprovedModel, type GrantDrivers, grantResources } from './resources.js';
import { transitionEvents } from './transitions.js';

/** What granting in AWS and metering need, beyond writing status. */
export interface GrantDeps {
  tiers: ObjectStore<TenantTier>;
  naming: () => Promise<NamingContext>;
  drivers: GrantDrivers;
  lifecycle: ModelLifecycleSource;
  book: UsageBook;
  metrics?: ModelMetrics;
  /** At most one usage-only status write per ModelAccess per this many milliseconds. */
  minUsageWriteMs: number;
  partition?: string;
}

/** The longest a pass asks to come back after (a monthly reset or an end of life may be weeks away). */
const MAX_REQUEUE_MS = 24 * 3_600_000;

/** Reconciler of ModelAccess. Without `grants` it only checks and reports (no AWS calls). */
export class ModelAccessReconciler implements Reconciler {
  constructor(
    private readonly accesses: ObjectStore<ModelAccess>,
    private readonly tenants: ObjectStore<Tenant>,
    private readonly approved: () => readonly ApprovedModel[],
    private readonly deps: StatusDeps<ModelAccess>,
    private readonly grants?: GrantDeps,
  ) {}

  async reconcile(name: string, ctx: ReconcileContext): Promise<Result> {
    const access = this.accesses.get(name);
    if (!access) return {};
    const tenant = this.tenants.get(access.spec.tenantRef.name);
    const approvedList = this.approved();
    const model = approvedList.find((m) => m.id === access.spec.model);
    if (access.metadata.deletionTimestamp) return this.finalize(access, tenant, model, ctx);
    const refusal = checkModelAccess(access, tenant, approvedList) ?? duplicateGrant(access, this.accesses.list());
    if (refusal) {
      const approval: ConditionInput[] =
        refusal.reason === REASON.ModelNotApproved ? [{ type: CONDITION.ModelApproved, status: 'False', ...refusal }] : [];
      return this.refuse(access, tenant, model, [...approval, { type: CONDITION.Ready, status: 'False', ...refusal }], ctx);
    }
    const approved: ConditionInput = {
      type: CONDITION.ModelApproved,
      status: 'True',
      reason: REASON.ModelApproved,
      message: `model "${access.spec.model}" is on the approved list`,
    };
    const granted = access.metadata.finalizers?.includes(FINALIZER) ?? false;
    const tenantReady = isTrue(tenant?.status?.conditions, CONDITION.Ready);
    const g = this.grants;
    if (!g || !tenant || !model) {
      if (!tenantReady) return this.waitForTenant(access, [approved]);
      await commitStatus(
        await this.deps.writer.addFinalizer(access),
        this.status(access, [approved, this.readyTrue(access)], true),
        this.deps,
      );
      return {};
    }
    const now = this.deps.now();
    const verdict = lifecycleVerdict(await g.lifecycle.get(foundationModelId(access.spec.model, model.copyFrom)), access.spec.model, now);
    if (verdict.endOfLife) {
      const ready: ConditionInput = {
        type: CONDITION.Ready,
        status: 'False',
        reason: REASON.ModelEndOfLife,
        message: verdict.condition.message,
      };
      return this.refuse(access, tenant, model, [approved, verdict.condition, ready], ctx);
    }
    // The first grant waits for the tenant; once granted, quotas are enforced whatever the tenant does.
    if (!granted && !tenantReady) return this.waitForTenant(access, [approved, verdict.condition]);
    let latest = await this.deps.writer.addFinalizer(access);
    const quota = effectiveQuota(access.spec.quota, g.tiers.get(tenant.spec.tier)?.spec.defaultQuota);
    const knownArn = access.status?.inferenceProfileArn;
    const tokens = currentTokens(knownArn ? g.book.get(knownArn) : undefined, now);
    const decision = decideQuota(
      quota,
      { dayTokens: tokens.dayInput + tokens.dayOutput, monthTokens: tokens.monthInput + tokens.monthOutput },
      now,
    );
    const suspended = tenant.spec.suspend === true;
    const deny = decision.throttle || suspended;
    const naming = await g.naming();
    const resources = grantResources(g.drivers, { access, tenant, naming, approved: model, deny, partition: g.partition });
    // The profile's ARN is AWS-assigned: on status before anything else can fail.
    const persist = async (_kind: string, ids: Record<string, string>): Promise<void> => {
      if (ids.inferenceProfileArn)
        latest = await commitStatus(latest, { ...latest.status, inferenceProfileArn: ids.inferenceProfileArn }, this.deps);
    };
    const run = await runResources(ctx, resources, { onCreated: persist, known: knownArn ? { inferenceProfileArn: knownArn } : {} });
    const profileArn = run.outputs.inferenceProfileArn ?? latest.status?.inferenceProfileArn;
    // While the policy is not (yet) what the decision wants, Throttled keeps saying what is in place.
    const denied = run.complete ? deny : isTrue(access.status?.conditions, CONDITION.Throttled);
    const grant = run.components.find((c) => c.type === CONDITION.AccessGranted);
    const ready = summarize(grant ? [grant] : [], REASON.Reconciled, readyMessage(access, denied));
    const conditions = [
      approved,
      verdict.condition,
      ...(grant ? [grant] : []),
      ...quotaConditions(quota, decision, suspended, denied),
      ready,
    ];
    const next = this.status(latest, conditions, run.complete || run.terminal !== undefined);
    next.inferenceProfileArn = profileArn;
    let usageRetry: number | undefined;
    if (profileArn) {
      const usage = computeUsage(tokens, model, decision);
      const writingAnyway = !isDeepStrictEqual(strip({ ...next, usage: latest.status?.usage }), strip(latest.status ?? {}));
      const picked = rateLimitedUsage(latest.status?.usage, usage, now, g.minUsageWriteMs, writingAnyway);
      next.usage = picked.usage;
      usageRetry = picked.retryInMs;
      recordMetrics(g.metrics, access, tokens, usage, denied);
    }
    await this.commit(latest, next);
    if (run.terminal) throw new TerminalError(run.terminal.reason, run.terminal.message);
    const resetIn = denied && decision.resetsAt ? decision.resetsAt.getTime() - now.getTime() + 1_000 : undefined;
    const eolIn = verdict.recheckAt ? verdict.recheckAt.getTime() - now.getTime() + 1_000 : undefined;
    return requeue(run.complete ? undefined : run.requeueAfterMs, resetIn, usageRetry, eolIn);
  }

  /** Revokes what exists (when the grant was made), reports why, and lets go of the object. */
  private async refuse(
    access: ModelAccess,
    tenant: Tenant | undefined,
    model: ApprovedModel | undefined,
    conditions: ConditionInput[],
    ctx: ReconcileContext,
  ): Promise<Result> {
    if (!this.grants || !access.metadata.finalizers?.includes(FINALIZER)) {
      await this.commit(access, this.status(access, conditions, true));
      return {};
    }
    const run = await this.revoke(access, tenant, model, ctx);
    const revoked: ConditionInput = {
      type: CONDITION.AccessGranted,
      status: 'False',
      reason: run.complete ? REASON.AccessRevoked : (run.components[0]?.reason ?? REASON.Deleting),
      message: run.complete ? 'the inference profile and the role policy were removed' : (run.components[0]?.message ?? 'removing access'),
    };
    const next = this.status(access, [revoked, ...conditions], run.complete);
    if (run.complete) delete next.inferenceProfileArn;
    const stored = await this.commit(access, next);
    if (run.terminal) throw new TerminalError(run.terminal.reason, run.terminal.message);
    if (!run.complete) return { requeueAfterMs: run.requeueAfterMs };
    // Nothing is left in AWS: later passes of a refused object make no AWS calls at all.
    forgetMetrics(this.grants.metrics, access);
    await this.deps.writer.removeFinalizer(stored);
    ctx.logger.info({ reason: conditions.at(-1)?.reason }, 'model access revoked');
    return {};
  }

  private async finalize(
    access: ModelAccess,
    tenant: Tenant | undefined,
    model: ApprovedModel | undefined,
    ctx: ReconcileContext,
  ): Promise<Result> {
    if (!access.metadata.finalizers?.includes(FINALIZER)) return {};
    if (this.grants) {
      const run = await this.revoke(access, tenant, model, ctx);
      if (run.terminal) throw new TerminalError(run.terminal.reason, run.terminal.message);
      if (!run.complete) return { requeueAfterMs: run.requeueAfterMs };
      forgetMetrics(this.grants.metrics, access);
    }
    await this.deps.writer.removeFinalizer(access);
    ctx.logger.info('model access finalized');
    return {};
  }

  /** Deletes the policy, then the profile (the grant's resources in reverse). */
  private async revoke(
    access: ModelAccess,
    tenant: Tenant | undefined,
    model: ApprovedModel | undefined,
    ctx: ReconcileContext,
  ): Promise<EngineResult> {
    const g = this.grants;
    if (!g) return { components: [], outputs: {}, complete: true };
    const naming = await g.naming();
    const resources = grantResources(g.drivers, {
      access,
      tenant,
      naming,
      approved: model,
      deny: false,
      revoking: true,
      partition: g.partition,
    });
    const arn = access.status?.inferenceProfileArn;
    return runResources(ctx, resources, { deleting: true, known: arn ? { inferenceProfileArn: arn } : {} });
  }

  private async waitForTenant(access: ModelAccess, conditions: ConditionInput[]): Promise<Result> {
    const waiting: ConditionInput = {
      type: CONDITION.Ready,
      status: 'False',
      reason: REASON.TenantNotReady,
      message: `waiting for Tenant "${access.spec.tenantRef.name}" to be Ready`,
    };
    await this.commit(access, this.status(access, [...conditions, waiting], false));
    return {};
  }

  private readyTrue(access: ModelAccess): ConditionInput {
    return { type: CONDITION.Ready, status: 'True', reason: REASON.Reconciled, message: readyMessage(access, false) };
  }

  /** The next status: conditions applied; observedGeneration moves when the pass evaluated the spec. */
  private status(obj: ModelAccess, conditions: ConditionInput[], evaluated: boolean): ModelAccessStatus {
    const generation = obj.metadata.generation ?? 0;
    return {
      ...obj.status,
      conditions: applyConditions(obj.status?.conditions, conditions, generation, this.deps.now()),
      ...(evaluated ? { observedGeneration: generation } : {}),
    };
  }

  /** Writes if changed, then records the Events (and throttle metrics) of the transitions. */
  private async commit(obj: ModelAccess, next: ModelAccessStatus): Promise<ModelAccess> {
    const stored = await commitStatus(obj, next, this.deps);
    for (const e of transitionEvents(obj.status?.conditions, next.conditions ?? [])) {
      await this.deps.events.emit(obj, e.type, e.reason, e.message);
      if (e.throttle)
        this.grants?.metrics?.throttleTransitions.inc({ tenant: obj.spec.tenantRef.name, model: obj.spec.model, direction: e.throttle });
    }
    return stored;
  }
}

function readyMessage(access: ModelAccess, denied: boolean): string {
  const base = `tenant "${access.spec.tenantRef.name}" may use "${access.spec.model}"`;
  return denied ? `${base} once the quota window resets (throttled)` : base;
}

/** JSON round-trip drops undefined fields, as the stored status has none. */
function strip(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown;
}

/** The soonest of the delays given (ignoring absent or past ones), capped. */
function requeue(...delays: (number | undefined)[]): Result {
  const due = delays.filter((d): d is number => d !== undefined && d > 0);
  return due.length === 0 ? {} : { requeueAfterMs: Math.min(MAX_REQUEUE_MS, ...due) };
}
