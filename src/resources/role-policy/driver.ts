/**
 * One inline policy on a role that exists already (a ModelAccess's grant on its tenant's role).
 * The role belongs to another driver; this one only puts, repairs and deletes its own policy, by
 * name, and the role driver leaves policies named `model-*` alone.
 */
import { DeleteRolePolicyCommand, GetRolePolicyCommand, type IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CONDITION, REASON } from '../../api/v1alpha1/constants.js';
import { TerminalError, WaitError } from '../../core/errors.js';
import { type PolicyDocument, parsePolicy, samePolicy } from '../../core/policies/document.js';
import { classifyAwsError, isNotFound, deletedOrGone } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation } from '../managed-resource.js';

/** The policy as wanted. */
export interface RolePolicySpec {
  roleName: string;
  policyName: string;
  document: PolicyDocument;
}

/** The policy as found. */
export interface RolePolicyObserved {
  roleName: string;
  policyName: string;
  document: unknown;
}

/** How soon to look again for a role that does not exist yet (its tenant is still building it). */
export const ROLE_WAIT_MS = 10_000;

/** The inline role policy driver. */
export class RolePolicyDriver implements ManagedResource<RolePolicySpec, RolePolicyObserved> {
  readonly conditionType = CONDITION.AccessGranted;
  constructor(
    private readonly iam: IAMClient,
    readonly kind = 'RolePolicy',
  ) {}

  async observe(ctx: DriverContext, spec: RolePolicySpec): Promise<Observation<RolePolicyObserved>> {
    try {
      const p = await this.iam.send(new GetRolePolicyCommand({ RoleName: spec.roleName, PolicyName: spec.policyName }), {
        abortSignal: ctx.signal,
      });
      return {
        state: 'ready',
        observed: { roleName: spec.roleName, policyName: spec.policyName, document: parsePolicy(p.PolicyDocument) },
      };
    } catch (e) {
      // NoSuchEntity: no such policy, or no such role (then the put below says which).
      if (isNotFound(e)) return { state: 'absent' };
      throw e;
    }
  }

  compare(spec: RolePolicySpec, o: RolePolicyObserved): string[] {
    return samePolicy(spec.document, o.document) ? [] : ['document'];
  }

  async create(ctx: DriverContext, spec: RolePolicySpec): Promise<ExternalIds> {
    await this.put(ctx, spec);
    return {};
  }

  async update(ctx: DriverContext, spec: RolePolicySpec): Promise<void> {
    await this.put(ctx, spec);
  }

  private async put(ctx: DriverContext, spec: RolePolicySpec): Promise<void> {
    try {
      await this.iam.send(
        new PutRolePolicyCommand({ RoleName: spec.roleName, PolicyName: spec.policyName, PolicyDocument: JSON.stringify(spec.document) }),
        { abortSignal: ctx.signal },
      );
    } catch (e) {
      const kind = classifyAwsError(e);
      if (kind === 'NotFound')
        throw new WaitError(
          REASON.RoleNotFound,
          `role ${spec.roleName} does not exist yet; waiting for its tenant to create it`,
          ROLE_WAIT_MS,
          {
            cause: e,
          },
        );
      // IAM caps a role's inline policies at 10,240 characters together (LimitExceeded).
      if (kind === 'QuotaExceeded')
        throw new TerminalError(
          REASON.PolicySizeExceeded,
          `IAM refused policy ${spec.policyName} on role ${spec.roleName}: the role's inline policies would exceed IAM's 10,240-character limit; grant fewer models to this tenant`,
          { cause: e },
        );
      throw e;
    }
  }

  async delete(ctx: DriverContext, o: RolePolicyObserved): Promise<void> {
    await deletedOrGone(
      this.iam.send(new DeleteRolePolicyCommand({ RoleName: o.roleName, PolicyName: o.policyName }), { abortSignal: ctx.signal }),
    );
  }
}
