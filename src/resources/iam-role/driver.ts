/**
 * An IAM role under the operator's path, with a trust policy, inline policies (a policy of its
 * own per role, as Bedrock requires for service roles), the configured permissions boundary and
 * ownership tags, and no managed policies: one attached behind the operator's back is detached and
 * reported. Inline policies named `model-*` that the spec does not name are ModelAccess grants and
 * left alone. Deleting removes inline (all of them) and attached policies first, as IAM requires.
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
import { parsePolicy } from '../../core/policies/document.js';
import { ownerTags, tagMap } from '../../core/tags.js';
import { classifyAwsError, deletedOrGone, isNotFound } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation, SpotCheck } from '../managed-resource.js';
import { readyIfOwned } from '../ownership.js';
import { spotCheck } from '../spot-check.js';
import { ATTACHED, type RoleObserved, type RoleSpec, compareRole } from './compare.js';

/** The role as wanted and as found (see compare.ts). */
export type { RoleObserved, RoleSpec } from './compare.js';

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
    const attached = await this.attachedPolicies(spec.name, opts);
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

  /** The ARNs of the managed policies attached to a role (every page: IAM pages at 100). */
  private async attachedPolicies(RoleName: string, opts: { abortSignal: AbortSignal }): Promise<string[]> {
    const arns: string[] = [];
    let Marker: string | undefined;
    do {
      const page = await this.iam.send(new ListAttachedRolePoliciesCommand({ RoleName, Marker }), opts);
      arns.push(...(page.AttachedPolicies ?? []).flatMap((p) => (p.PolicyArn ? [p.PolicyArn] : [])));
      Marker = page.IsTruncated ? page.Marker : undefined;
    } while (Marker);
    return arns;
  }

  /**
   * The role itself (trust, boundary, tags), its list of inline policies, its list of attached
   * managed policies, and each inline policy the spec names.
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
      // One read for a role with fewer than 100 attached policies (IAM's default quota is 10).
      spotCheck(async (opts) => ({ ...last, attached: await this.attachedPolicies(RoleName, opts) })),
      ...Object.keys(spec.inline).map((PolicyName) =>
        spotCheck(async (opts) => {
          const p = await this.iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }), opts);
          return { ...last, inline: { ...last.inline, [PolicyName]: parsePolicy(p.PolicyDocument) } };
        }),
      ),
    ];
  }

  compare(spec: RoleSpec, o: RoleObserved): string[] {
    return compareRole(spec, o);
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
    return arn ? { ...this.inSyncAs(spec), arn } : undefined;
  }

  /** Without its ARN, which the first spot check (GetRole) reads. */
  inSyncAs(spec: RoleSpec): RoleObserved {
    const tags = ownerTags(spec.owner);
    return { name: spec.name, arn: '', trust: spec.trust, inline: { ...spec.inline }, attached: [], boundaryArn: spec.boundaryArn, tags };
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
      if (d.startsWith(ATTACHED)) {
        const PolicyArn = d.slice(ATTACHED.length);
        // The operator attaches no managed policy: this one was attached behind its back, and
        // could widen what the role may do. The condition and an Event say so (the diff names it).
        ctx.logger.warn({ role: RoleName, policyArn: PolicyArn }, 'detaching a managed policy the operator did not attach');
        await deletedOrGone(this.iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn }), opts));
      }
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
