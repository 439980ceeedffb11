/**
 * An IAM role under the operator's path, with a trust policy, inline policies (a policy of its
 * own per role, as Bedrock requires for service roles), the configured permissions boundary and
 * ownership tags. Inline policies named `model-*` that the spec does not name are ModelAccess
 * grants and left alone. Deleting removes inline (all of them) and attached policies first, as
 * IAM requires.
 */
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { CONDITION } from '../../api/v1alpha1/constants.js';
import { TerminalError } from '../../core/errors.js';
import { MODEL_POLICY_PREFIX } from '../../core/model-access/names.js';
import { type PolicyDocument, parsePolicy, samePolicy } from '../../core/policies/document.js';
import { type OwnerRef, ownerTags, tagDrift, tagMap } from '../../core/tags.js';
import { classifyAwsError, deletedOrGone, isNotFound } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation, SpotCheck } from '../managed-resource.js';
import { readyIfOwned } from '../ownership.js';
import { spotCheck } from '../spot-check.js';

/** The role as wanted. */
export interface RoleSpec {
  name: string;
  path: string;
  description: string;
  owner: OwnerRef;
  trust: PolicyDocument;
  inline: Record<string, PolicyDocument>;
  boundaryArn?: string;
}

/** The role as found. */
export interface RoleObserved {
  name: string;
  arn: string;
  trust: unknown;
  inline: Record<string, unknown>;
  attached: string[];
  boundaryArn?: string;
  tags: Record<string, string>;
}

/** The IAM role driver. */
export class IamRoleDriver implements ManagedResource<RoleSpec, RoleObserved> {
  readonly conditionType = CONDITION.IdentityReady;
  /** Roles this process created (not adopted) whose create has not been taken up yet: name → ARN. */
  private readonly made = new Map<string, string>();

  constructor(
    private readonly iam: IAMClient,
    readonly kind: string,
  ) {}

  async observe(ctx: DriverContext, spec: RoleSpec): Promise<Observation<RoleObserved>> {
    const opts = { abortSignal: ctx.signal };
    let role;
    try {
      role = (await this.iam.send(new GetRoleCommand({ RoleName: spec.name }), opts)).Role;
    } catch (e) {
      if (isNotFound(e)) return { state: 'absent' };
      throw e;
    }
    if (!role?.Arn) return { state: 'absent' };
    const names = (await this.iam.send(new ListRolePoliciesCommand({ RoleName: spec.name }), opts)).PolicyNames ?? [];
    const inline: Record<string, unknown> = {};
    for (const PolicyName of names) {
      // A ModelAccess grant is only listed (so deleting the role removes it), not read.
      if (PolicyName.startsWith(MODEL_POLICY_PREFIX) && !(PolicyName in spec.inline)) {
        inline[PolicyName] = undefined;
        continue;
      }
      const p = await this.iam.send(new GetRolePolicyCommand({ RoleName: spec.name, PolicyName }), opts);
      inline[PolicyName] = parsePolicy(p.PolicyDocument);
    }
    const attached = (
      (await this.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: spec.name }), opts)).AttachedPolicies ?? []
    ).flatMap((p) => (p.PolicyArn ? [p.PolicyArn] : []));
    const observed: RoleObserved = {
      name: spec.name,
      arn: role.Arn,
      trust: parsePolicy(role.AssumeRolePolicyDocument),
      inline,
      attached,
      boundaryArn: role.PermissionsBoundary?.PermissionsBoundaryArn,
      tags: tagMap(role.Tags),
    };
    return readyIfOwned(observed, observed.tags, spec.owner, `IAM role ${spec.name}`, { taggedAtCreate: true });
  }

  /**
   * The role itself (trust, boundary, tags), its list of inline policies, and each inline policy
   * the spec names. Attached policies are read only for deletion: `compare` does not judge them.
   */
  spotChecks(spec: RoleSpec, last: RoleObserved): SpotCheck<RoleObserved>[] {
    const RoleName = spec.name;
    return [
      spotCheck(async (opts) => {
        const role = (await this.iam.send(new GetRoleCommand({ RoleName }), opts)).Role;
        if (!role?.Arn) return undefined;
        const found = { arn: role.Arn, trust: parsePolicy(role.AssumeRolePolicyDocument), tags: tagMap(role.Tags) };
        return { ...last, ...found, boundaryArn: role.PermissionsBoundary?.PermissionsBoundaryArn };
      }),
      spotCheck(async (opts) => {
        const names = (await this.iam.send(new ListRolePoliciesCommand({ RoleName }), opts)).PolicyNames ?? [];
        // A name not seen before has a document not read yet: never equal to a wanted one.
        return { ...last, inline: Object.fromEntries(names.map((n) => [n, n in last.inline ? last.inline[n] : { unread: n }])) };
      }),
      ...Object.keys(spec.inline).map((PolicyName) =>
        spotCheck(async (opts) => {
          const p = await this.iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }), opts);
          return { ...last, inline: { ...last.inline, [PolicyName]: parsePolicy(p.PolicyDocument) } };
        }),
      ),
    ];
  }

  compare(spec: RoleSpec, o: RoleObserved): string[] {
    const diff: string[] = [];
    if (!samePolicy(spec.trust, o.trust)) diff.push('trust');
    // Policies named model-* belong to ModelAccess grants (role-policy driver): only those the
    // spec names are compared here, so the role driver never deletes a grant it did not write.
    const managed = Object.keys(o.inline).filter((n) => n in spec.inline || !n.startsWith(MODEL_POLICY_PREFIX));
    const names = new Set([...Object.keys(spec.inline), ...managed]);
    for (const n of [...names].sort()) if (!samePolicy(spec.inline[n], o.inline[n])) diff.push(`inline:${n}`);
    // A boundary is set or replaced, never removed: the operator's own policy denies removing one.
    if (spec.boundaryArn && o.boundaryArn !== spec.boundaryArn) diff.push('boundary');
    if (tagDrift(o.tags, ownerTags(spec.owner)).length) diff.push('tags');
    return diff;
  }

  async create(ctx: DriverContext, spec: RoleSpec): Promise<ExternalIds> {
    const opts = { abortSignal: ctx.signal };
    this.made.delete(spec.name);
    let arn: string | undefined;
    try {
      const out = await this.iam.send(
        new CreateRoleCommand({
          RoleName: spec.name,
          Path: spec.path,
          Description: spec.description.slice(0, 1000),
          AssumeRolePolicyDocument: JSON.stringify(spec.trust),
          PermissionsBoundary: spec.boundaryArn,
          Tags: Object.entries(ownerTags(spec.owner)).map(([Key, Value]) => ({ Key, Value })),
        }),
        opts,
      );
      arn = out.Role?.Arn;
    } catch (e) {
      const kind = classifyAwsError(e);
      if (kind === 'QuotaExceeded')
        throw new TerminalError(
          'QuotaExceeded',
          `IAM refused role ${spec.name}: the account's roles quota is reached; raise it in Service Quotas`,
          { cause: e },
        );
      // EntityAlreadyExists: ours from a crashed pass; the next observe adopts and repairs it.
      if (kind !== 'Conflict') throw e;
    }
    for (const [PolicyName, doc] of Object.entries(spec.inline)) {
      await this.iam.send(new PutRolePolicyCommand({ RoleName: spec.name, PolicyName, PolicyDocument: JSON.stringify(doc) }), opts);
    }
    if (arn) this.made.set(spec.name, arn);
    // A role's ARN follows from its path and name: nothing AWS-assigned to persist.
    return {};
  }

  createdAs(spec: RoleSpec): RoleObserved | undefined {
    const arn = this.made.get(spec.name);
    this.made.delete(spec.name);
    if (!arn) return undefined;
    const tags = ownerTags(spec.owner);
    return { name: spec.name, arn, trust: spec.trust, inline: { ...spec.inline }, attached: [], boundaryArn: spec.boundaryArn, tags };
  }

  async update(ctx: DriverContext, spec: RoleSpec, o: RoleObserved, diff: string[]): Promise<void> {
    const opts = { abortSignal: ctx.signal };
    const RoleName = spec.name;
    for (const d of diff) {
      if (d === 'trust')
        await this.iam.send(new UpdateAssumeRolePolicyCommand({ RoleName, PolicyDocument: JSON.stringify(spec.trust) }), opts);
      if (d === 'boundary' && spec.boundaryArn)
        await this.iam.send(new PutRolePermissionsBoundaryCommand({ RoleName, PermissionsBoundary: spec.boundaryArn }), opts);
      if (d === 'tags')
        await this.iam.send(
          new TagRoleCommand({ RoleName, Tags: Object.entries(ownerTags(spec.owner)).map(([Key, Value]) => ({ Key, Value })) }),
          opts,
        );
      if (d.startsWith('inline:')) {
        const PolicyName = d.slice('inline:'.length);
        const doc = spec.inline[PolicyName];
        if (doc) await this.iam.send(new PutRolePolicyCommand({ RoleName, PolicyName, PolicyDocument: JSON.stringify(doc) }), opts);
        else await this.iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName }), opts);
      }
    }
  }

  async delete(ctx: DriverContext, o: RoleObserved): Promise<void> {
    const opts = { abortSignal: ctx.signal };
    const RoleName = o.name;
    const gone = deletedOrGone;
    for (const PolicyName of Object.keys(o.inline)) await gone(this.iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName }), opts));
    for (const PolicyArn of o.attached) await gone(this.iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn }), opts));
    await gone(this.iam.send(new DeleteRoleCommand({ RoleName }), opts));
  }

  outputs(o: RoleObserved): Record<string, string> {
    return { [this.kind === 'KnowledgeBaseRole' ? 'knowledgeBaseRoleArn' : 'roleArn']: o.arn };
  }
}
