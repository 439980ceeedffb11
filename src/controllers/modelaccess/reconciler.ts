/** Reconciles a ModelAccess: approval and tenant checks now; profile, usage and quota later. */
import { CONDITION, FINALIZER, REASON } from '../../api/v1alpha1/constants.js';
import type { ModelAccess, ModelAccessStatus, Tenant } from '../../api/v1alpha1/types.js';
import { type ApprovedModelRef, checkModelAccess } from '../../core/admission.js';
import { type ConditionInput, isTrue } from '../../core/conditions.js';
import type { ObjectStore } from '../../ports/kube.js';
import type { ReconcileContext, Reconciler, Result } from '../../runtime/controller.js';
import { applyConditions, commitStatus, type StatusDeps } from '../status.js';

/** Reconciler of ModelAccess. */
export class ModelAccessReconciler implements Reconciler {
  constructor(
    private readonly accesses: ObjectStore<ModelAccess>,
    private readonly tenants: ObjectStore<Tenant>,
    private readonly approved: () => readonly ApprovedModelRef[],
    private readonly deps: StatusDeps<ModelAccess>,
  ) {}

  async reconcile(name: string, ctx: ReconcileContext): Promise<Result> {
    const access = this.accesses.get(name);
    if (!access) return {};
    if (access.metadata.deletionTimestamp) {
      if (access.metadata.finalizers?.includes(FINALIZER)) {
        await this.deps.writer.removeFinalizer(access);
        ctx.logger.info('model access finalized');
      }
      return {};
    }
    const tenant = this.tenants.get(access.spec.tenantRef.name);
    const generation = access.metadata.generation ?? 0;
    // The object the next write is based on; moves forward when the finalizer patch returns.
    let latest: ModelAccess = access;
    const write = async (conditions: ConditionInput[]): Promise<void> => {
      const status: ModelAccessStatus = {
        ...access.status,
        conditions: applyConditions(access.status?.conditions, conditions, generation, this.deps.now()),
        observedGeneration: generation,
      };
      await commitStatus(latest, status, this.deps);
    };
    const refusal = checkModelAccess(access, tenant, this.approved());
    if (refusal) {
      const approval: ConditionInput[] =
        refusal.reason === REASON.ModelNotApproved ? [{ type: CONDITION.ModelApproved, status: 'False', ...refusal }] : [];
      await write([...approval, { type: CONDITION.Ready, status: 'False', ...refusal }]);
      return {};
    }
    const approved: ConditionInput = {
      type: CONDITION.ModelApproved,
      status: 'True',
      reason: REASON.ModelApproved,
      message: `model "${access.spec.model}" is on the approved list`,
    };
    if (!isTrue(tenant?.status?.conditions, CONDITION.Ready)) {
      await write([
        approved,
        {
          type: CONDITION.Ready,
          status: 'False',
          reason: REASON.TenantNotReady,
          message: `waiting for Tenant "${access.spec.tenantRef.name}" to be Ready`,
        },
      ]);
      return {};
    }
    // Continue with the updated object so this pass's status write is not a stale one.
    latest = await this.deps.writer.addFinalizer(access);
    await write([
      approved,
      {
        type: CONDITION.Ready,
        status: 'True',
        reason: REASON.Reconciled,
        message: `tenant "${access.spec.tenantRef.name}" may use "${access.spec.model}"`,
      },
    ]);
    return {};
  }
}
