/**
 * What a ModelAccess must pass before it is granted: its tenant, the approved list, no duplicate
 * grant, and a model that has not reached its end of life; and the first grant waits for the
 * tenant to be Ready.
 */
import { CONDITION, FINALIZER, REASON } from '../../api/v1alpha1/constants.js';
import type { ModelAccess, Tenant } from '../../api/v1alpha1/types.js';
import { checkModelAccess } from '../../core/admission.js';
import { type ConditionInput, isTrue } from '../../core/conditions.js';
import { type LifecycleVerdict, lifecycleVerdict } from '../../core/model-access/lifecycle.js';
import { foundationModelId } from '../../core/model-access/names.js';
import type { ObjectStore } from '../../ports/kube.js';
import type { ModelLifecycleSource } from '../../ports/models.js';
import { duplicateGrant } from './conditions.js';
import type { ApprovedModel } from './resources.js';

/** What admission found: the tenant, the model and the conditions a granted pass shows. */
export interface Admitted {
  tenant: Tenant;
  model: ApprovedModel;
  approved: ConditionInput;
  verdict: LifecycleVerdict;
}

/** Why it ends before the grant: refused (revoke what exists) or waiting for the tenant. */
export type NotAdmitted =
  | { outcome: 'refused'; tenant: Tenant | undefined; model: ApprovedModel | undefined; conditions: ConditionInput[] }
  | { outcome: 'waiting'; conditions: ConditionInput[] };

/** What admission reads. */
export interface AdmissionInputs {
  accesses: ObjectStore<ModelAccess>;
  tenants: ObjectStore<Tenant>;
  approved: () => readonly ApprovedModel[];
  lifecycle: ModelLifecycleSource;
}

/** Checks the ModelAccess; see the module comment. */
export async function admit(access: ModelAccess, i: AdmissionInputs, now: Date): Promise<Admitted | NotAdmitted> {
  const tenant = i.tenants.get(access.spec.tenantRef.name);
  const approvedList = i.approved();
  const model = approvedList.find((m) => m.id === access.spec.model);
  const refusal = checkModelAccess(access, tenant, approvedList) ?? duplicateGrant(access, i.accesses.list());
  if (refusal || !tenant || !model) {
    const r = refusal ?? { reason: REASON.TenantNotFound, message: `Tenant "${access.spec.tenantRef.name}" does not exist` };
    const approval: ConditionInput[] =
      r.reason === REASON.ModelNotApproved ? [{ type: CONDITION.ModelApproved, status: 'False', ...r }] : [];
    return { outcome: 'refused', tenant, model, conditions: [...approval, { type: CONDITION.Ready, status: 'False', ...r }] };
  }
  const approved: ConditionInput = {
    type: CONDITION.ModelApproved,
    status: 'True',
    reason: REASON.ModelApproved,
    message: `model "${access.spec.model}" is on the approved list`,
  };
  const verdict = lifecycleVerdict(await i.lifecycle.get(foundationModelId(access.spec.model, model.copyFrom)), access.spec.model, now);
  if (verdict.endOfLife) {
    const ready: ConditionInput = {
      type: CONDITION.Ready,
      status: 'False',
      reason: REASON.ModelEndOfLife,
      message: verdict.condition.message,
    };
    return { outcome: 'refused', tenant, model, conditions: [approved, verdict.condition, ready] };
  }
  // The first grant waits for the tenant; once granted, quotas are enforced whatever the tenant does.
  const granted = access.metadata.finalizers?.includes(FINALIZER) ?? false;
  if (!granted && !isTrue(tenant.status?.conditions, CONDITION.Ready)) {
    const waiting: ConditionInput = {
      type: CONDITION.Ready,
      status: 'False',
      reason: REASON.TenantNotReady,
      message: `waiting for Tenant "${access.spec.tenantRef.name}" to be Ready`,
    };
    return { outcome: 'waiting', conditions: [approved, verdict.condition, waiting] };
  }
  return { tenant, model, approved, verdict };
}
