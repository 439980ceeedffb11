/**
 * What a ModelAccess composes, in order: the tenant's application inference profile for the model,
 * then the inline policy on the tenant's role that allows (or, throttled, denies) invoking it. The
 * policy names the profile's ARN and models, so its spec is a function of the profile's outputs.
 */
import type { ModelAccess, Tenant } from '../../api/v1alpha1/types.js';
import {
  foundationModelArn,
  foundationModelId,
  inferenceProfileDescription,
  inferenceProfileName,
  modelPolicyName,
  modelSourceArn,
} from '../../core/model-access/names.js';
import { type NamingContext, idempotencyToken, roleName } from '../../core/naming.js';
import { modelAccessPolicy } from '../../core/policies/model-access.js';
import { type OwnerRef, adoptsRetained } from '../../core/tags.js';
import type { InferenceProfileObserved, InferenceProfileSpec } from '../../resources/inference-profile/driver.js';
import type { BoundResource, ManagedResource } from '../../resources/managed-resource.js';
import type { RolePolicyObserved, RolePolicySpec } from '../../resources/role-policy/driver.js';

/** The two drivers a grant uses. */
export interface GrantDrivers {
  profiles: ManagedResource<InferenceProfileSpec, InferenceProfileObserved>;
  policies: ManagedResource<RolePolicySpec, RolePolicyObserved>;
}

/** An approved model as configured. */
export interface ApprovedModel {
  id: string;
  inputPricePer1k: number;
  outputPricePer1k: number;
  copyFrom?: string;
}

/** What the resources are derived from. */
export interface GrantInput {
  access: ModelAccess;
  /** Undefined when the tenant is gone (then only deletion is possible). */
  tenant: Tenant | undefined;
  naming: NamingContext;
  approved: ApprovedModel | undefined;
  /** Deny instead of allow. */
  deny: boolean;
  /** The resources are bound to be deleted (see InferenceProfileSpec.revoking). */
  revoking?: boolean;
  partition?: string;
}

/** The bound resources of a grant (for creating, and, run in reverse, for revoking). */
export function grantResources(drivers: GrantDrivers, i: GrantInput): BoundResource[] {
  const tenantName = i.access.spec.tenantRef.name;
  const model = i.access.spec.model;
  const owner: OwnerRef = {
    cluster: i.naming.cluster,
    kind: 'Tenant',
    name: tenantName,
    uid: i.tenant?.metadata.uid ?? '',
    tier: i.tenant?.spec.tier ?? '',
    adoptRetained: adoptsRetained(i.tenant?.metadata.annotations),
  };
  const profile: InferenceProfileSpec = {
    name: inferenceProfileName(i.naming, tenantName, model),
    description: inferenceProfileDescription(tenantName, model),
    copyFrom: modelSourceArn(i.naming, model, i.approved?.copyFrom, i.partition),
    clientRequestToken: idempotencyToken(i.access.metadata.uid ?? i.access.metadata.name, 'inference-profile'),
    owner,
    accessName: i.access.metadata.name,
    ...(i.revoking ? { revoking: true } : {}),
  };
  const arn = i.access.status?.inferenceProfileArn;
  const policy = (outputs: Record<string, string>): RolePolicySpec => {
    const profileArn = outputs.inferenceProfileArn ?? arn ?? '';
    // Bedrock lists the models a profile routes to; until it is read, the source model stands in.
    const listed = (outputs.modelArns ?? '').split(',').filter((s) => s.length > 0);
    const modelArns =
      listed.length > 0 ? listed : [foundationModelArn(i.naming, foundationModelId(model, i.approved?.copyFrom), i.partition)];
    return {
      roleName: roleName(i.naming, { kind: 'Tenant', name: tenantName }, 'app'),
      policyName: modelPolicyName(i.access.metadata.name),
      document: modelAccessPolicy({ profileArn, modelArns, deny: i.deny }),
    };
  };
  const profileResource = { driver: drivers.profiles, spec: profile, ids: arn ? { inferenceProfileArn: arn } : {} };
  // A tenant of a Shared pool tier has no role of its own: its grant is in the session policy of
  // its Pod Identity association, which the Tenant writes from this object's status.
  if (i.tenant?.status?.tenantRoles === 'Shared') return [profileResource] as BoundResource[];
  return [profileResource, { driver: drivers.policies, spec: policy, ids: {} }] as BoundResource[];
}
