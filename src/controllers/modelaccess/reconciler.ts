/**
 * Reconciles a ModelAccess through the owner template: checks it (admission.ts), grants the
 * model through the tenant's own inference profile and a policy on the tenant's role, meters it
 * from the usage pollers' readings (CloudWatch, and the tenant gateway's counters when the
 * operator reads them), enforces its quota by swapping the allow for a deny until the window
 * resets, and revokes everything when the model is no longer approved, reaches its end of life,
 * or the ModelAccess goes.
 */
import { isDeepStrictEqual } from 'node:util';
import { CONDITION, FINALIZER, REASON } from '../../api/v1alpha1/constants.js';
import type { ModelAccess, ModelAccessStatus, Tenant, TenantTier } from '../../api/v1alpha1/types.js';
import { type ConditionInput, isTrue, summarize } from '../../core/conditions.js';
import type { NamingContext } from '../../core/naming.js';
import type { ObjectStore } from '../../ports/kube.js';
import type { ModelLifecycleSource } from '../../ports/models.js';
import type { ReconcileContext, Reconciler } from '../../runtime/controller.js';
import type { ModelMetrics } from '../../runtime/metrics.js';
import type { UsageBook } from '../../usage/book.js';
import { countedTokens } from '../../usage/counted.js';
import { decideQuota, effectiveQuota } from '../../usage/quota.js';
import { type EngineResult, runResources } from '../engine.js';
import { type KindDeps, OwnerReconciler, type OwnerSteps, type Pass, type Step } from '../owner/template.js';
import { type Admitted, admit } from './admission.js';
import { computeUsage, quotaConditions, rateLimitedUsage } from './conditions.js';
import { forgetMetrics, recordMetrics } from './metrics.js';
import { type ApprovedModel, type GrantDrivers, grantResources } from './resources.js';
import { transitionEvents } from './transitions.js';

/** What the ModelAccess reconciler is built from. */
export interface ModelAccessDeps extends KindDeps<ModelAccess> {
  tenants: ObjectStore<Tenant>;
  tiers: ObjectStore<TenantTier>;
  /** The operator's approved models, read on every pass. */
  approved: () => readonly ApprovedModel[];
  naming: () => Promise<NamingContext>;
  drivers: GrantDrivers;
  lifecycle: ModelLifecycleSource;
  book: UsageBook;
  metrics: ModelMetrics;
  /** At most one usage-only status write per ModelAccess per this many milliseconds. */
  minUsageWriteMs: number;
  partition?: string;
}

/** The longest a pass asks to come back after (a monthly reset or an end of life may be weeks away). */
const MAX_REQUEUE_MS = 24 * 3_600_000;

/** The ModelAccess reconciler. */
export function modelAccessReconciler(deps: ModelAccessDeps): Reconciler {
  const { store, writer, events, now, describeFailure } = deps;
  return new OwnerReconciler({ kind: 'ModelAccess', store, writer, events, now, describeFailure, steps: new ModelAccessSteps(deps) });
}

/** The ModelAccess's steps of the owner template. */
export class ModelAccessSteps implements OwnerSteps<ModelAccess> {
  /** What admission found, for the sync step of the same pass. */
  private readonly admitted = new WeakMap<Pass<ModelAccess>, Admitted>();

  constructor(private readonly d: ModelAccessDeps) {}

  async admit(access: ModelAccess, pass: Pass<ModelAccess>): Promise<Step<ModelAccessStatus> | undefined> {
    const a = await admit(access, { accesses: this.d.store, ...this.d }, pass.now);
    if (!('outcome' in a)) {
      this.admitted.set(pass, a);
      return undefined;
    }
    if (a.outcome === 'waiting') return { conditions: a.conditions, evaluated: false };
    return this.refuse(access, a.tenant, a.model, a.conditions, pass);
  }

  /** Revokes what exists (when the grant was made), reports why, and lets go of the object. */
  private async refuse(
    access: ModelAccess,
    tenant: Tenant | undefined,
    model: ApprovedModel | undefined,
    conditions: ConditionInput[],
    pass: Pass<ModelAccess>,
  ): Promise<Step<ModelAccessStatus>> {
    if (!this.grantMade(access)) return { conditions, evaluated: true };
    const run = await this.revoke(access, tenant, model, pass.ctx);
    const revoked: ConditionInput = {
      type: CONDITION.AccessGranted,
      status: 'False',
      reason: run.complete ? REASON.AccessRevoked : (run.components[0]?.reason ?? REASON.Deleting),
      message: run.complete ? 'the inference profile and the role policy were removed' : (run.components[0]?.message ?? 'removing access'),
    };
    // Nothing is left in AWS once complete: later passes of a refused object make no AWS calls.
    if (run.complete) pass.ctx.logger.info({ reason: conditions.at(-1)?.reason }, 'model access revoked');
    return {
      conditions: [revoked, ...conditions],
      evaluated: run.complete,
      ...(run.complete ? { fields: { inferenceProfileArn: undefined }, release: true } : { requeueAfterMs: run.requeueAfterMs }),
      terminal: run.terminal,
    };
  }

  /** A grant was made once the finalizer went on (before the first AWS call). */
  private grantMade(access: ModelAccess): boolean {
    return access.metadata.finalizers?.includes(FINALIZER) ?? false;
  }

  async sync(access: ModelAccess, pass: Pass<ModelAccess>): Promise<Step<ModelAccessStatus>> {
    const a = this.admitted.get(pass);
    // Admission ran in this very pass; without it there is nothing to grant.
    if (!a) return { conditions: [], evaluated: false };
    const { tenant, model } = a;
    const now = pass.now;
    const knownArn = access.status?.inferenceProfileArn;
    const { quota, counted, decision } = this.quota(access, tenant, knownArn, now);
    const suspended = tenant.spec.suspend === true;
    const resources = grantResources(this.d.drivers, {
      access,
      tenant,
      naming: await this.d.naming(),
      approved: model,
      deny: decision.throttle || suspended,
      partition: this.d.partition,
    });
    // The profile's ARN is AWS-assigned: on status before anything else can fail.
    const onCreated = async (_kind: string, ids: Record<string, string>): Promise<void> => {
      const arn = ids.inferenceProfileArn;
      if (arn) await pass.persist((s) => ({ ...s, inferenceProfileArn: arn }));
    };
    const run = await runResources(pass.ctx, resources, { onCreated, known: knownArn ? { inferenceProfileArn: knownArn } : {} });
    const profileArn = run.outputs.inferenceProfileArn ?? pass.latest.status?.inferenceProfileArn;
    // While the policy is not (yet) what the decision wants, Throttled keeps saying what is in place.
    const denied = run.complete ? decision.throttle || suspended : isTrue(access.status?.conditions, CONDITION.Throttled);
    const grant = run.components.find((c) => c.type === CONDITION.AccessGranted);
    const ready = summarize(grant ? [grant] : [], REASON.Reconciled, readyMessage(access, denied));
    const resetIn = denied && decision.resetsAt ? decision.resetsAt.getTime() - now.getTime() + 1_000 : undefined;
    const eolIn = a.verdict.recheckAt ? a.verdict.recheckAt.getTime() - now.getTime() + 1_000 : undefined;
    const usage = profileArn ? computeUsage(counted, model, decision) : undefined;
    if (usage) recordMetrics(this.d.metrics, access, counted.cloudWatch, usage, denied);
    return {
      conditions: [
        a.approved,
        a.verdict.condition,
        ...(grant ? [grant] : []),
        ...quotaConditions(quota, decision, suspended, denied, counted),
        ready,
      ],
      fields: { inferenceProfileArn: profileArn },
      evaluated: run.complete || run.terminal !== undefined,
      terminal: run.terminal,
      requeueAfterMs: soonest(run.complete ? undefined : run.requeueAfterMs, resetIn, eolIn),
      ...(usage ? { settle: (next, stored) => this.withUsage(next, stored, usage, now) } : {}),
    };
  }

  /**
   * The quota that applies (the access's, else its tier's default), the tokens read so far, each
   * counted once from the gateway's counters and CloudWatch (usage/counted.ts), and what they decide.
   */
  private quota(access: ModelAccess, tenant: Tenant, profileArn: string | undefined, now: Date) {
    const quota = effectiveQuota(access.spec.quota, this.d.tiers.get(tenant.spec.tier)?.spec.defaultQuota);
    const book = this.d.book;
    const counted = countedTokens(profileArn ? book.get(profileArn) : undefined, profileArn ? book.getGateway(profileArn) : undefined, now);
    return { quota, counted, decision: decideQuota(quota, { dayTokens: counted.dayTokens, monthTokens: counted.monthTokens }, now) };
  }

  /** The usage to write: a usage-only change at most once per minUsageWriteMs (see rateLimitedUsage). */
  private withUsage(
    next: ModelAccessStatus,
    stored: ModelAccessStatus | undefined,
    usage: NonNullable<ModelAccessStatus['usage']>,
    now: Date,
  ): { status: ModelAccessStatus; requeueAfterMs?: number } {
    const writingAnyway = !isDeepStrictEqual(strip({ ...next, usage: stored?.usage }), strip(stored ?? {}));
    const picked = rateLimitedUsage(stored?.usage, usage, now, this.d.minUsageWriteMs, writingAnyway);
    return { status: { ...next, usage: picked.usage }, ...(picked.retryInMs !== undefined ? { requeueAfterMs: picked.retryInMs } : {}) };
  }

  async finalize(access: ModelAccess, pass: Pass<ModelAccess>): Promise<Step<ModelAccessStatus>> {
    const tenant = this.d.tenants.get(access.spec.tenantRef.name);
    const model = this.d.approved().find((m) => m.id === access.spec.model);
    const run = await this.revoke(access, tenant, model, pass.ctx);
    const step = { conditions: run.components, evaluated: false };
    if (run.terminal) return { ...step, terminal: run.terminal };
    if (!run.complete) return { ...step, removing: run.current?.message, requeueAfterMs: run.requeueAfterMs };
    pass.ctx.logger.info('model access finalized');
    return { ...step, release: true };
  }

  /** Deletes the policy, then the profile (the grant's resources in reverse). */
  private async revoke(
    access: ModelAccess,
    tenant: Tenant | undefined,
    model: ApprovedModel | undefined,
    ctx: ReconcileContext,
  ): Promise<EngineResult> {
    const naming = await this.d.naming();
    const resources = grantResources(this.d.drivers, {
      access,
      tenant,
      naming,
      approved: model,
      deny: false,
      revoking: true,
      partition: this.d.partition,
    });
    const arn = access.status?.inferenceProfileArn;
    return runResources(ctx, resources, { deleting: true, known: arn ? { inferenceProfileArn: arn } : {} });
  }

  /** The Events of quota, throttle and lifecycle transitions (and throttle metrics). */
  async written(before: ModelAccess, next: ModelAccessStatus): Promise<void> {
    for (const e of transitionEvents(before.status?.conditions, next.conditions ?? [])) {
      await this.d.events.emit(before, e.type, e.reason, e.message);
      if (e.throttle)
        this.d.metrics.throttleTransitions.inc({ tenant: before.spec.tenantRef.name, model: before.spec.model, direction: e.throttle });
    }
  }

  released(access: ModelAccess): void {
    forgetMetrics(this.d.metrics, access);
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
function soonest(...delays: (number | undefined)[]): number | undefined {
  const due = delays.filter((d): d is number => d !== undefined && d > 0);
  return due.length === 0 ? undefined : Math.min(MAX_REQUEUE_MS, ...due);
}
