/**
 * The EKS Pod Identity association that gives a tenant's service account its tenant role, so
 * applying the Tenant alone gives the application its credentials. EKS allows one association per
 * cluster, namespace and service account; the operator creates it with its ownership tags (in the
 * create call itself, so one it made is never untagged), finds it again after a crash by listing
 * that subject, and never changes or deletes an association it did not create.
 */
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  type EKSClient,
  ListPodIdentityAssociationsCommand,
  TagResourceCommand,
  UpdatePodIdentityAssociationCommand,
} from '@aws-sdk/client-eks';
import { CONDITION } from '../../api/v1alpha1/constants.js';
import { canonical, parsePolicy } from '../../core/policies/document.js';
import { idempotencyToken } from '../../core/naming.js';
import { type OwnerRef, ownerTags, tagDrift } from '../../core/tags.js';
import { classifyAwsError, deletedOrGone, isNotFound } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation } from '../managed-resource.js';
import { readyIfOwned } from '../ownership.js';

/** The association as wanted. */
export interface PodIdentitySpec {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  owner: OwnerRef;
  /**
   * Session policy narrowing a shared role to this subject (pool tiers with `tenantRoles:
   * Shared`), as compact JSON. EKS needs `disableSessionTags` with it, so it is set with it.
   */
  policy?: string;
}

/** The association as found. */
export interface PodIdentityObserved {
  clusterName: string;
  associationId: string;
  associationArn: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  tags: Record<string, string>;
  policy?: string;
  disableSessionTags: boolean;
}

/** The session policy fields of a create or update. */
function sessionPolicy(spec: PodIdentitySpec): { policy?: string; disableSessionTags?: boolean } {
  return spec.policy !== undefined ? { policy: spec.policy, disableSessionTags: true } : {};
}

/** Two session policies mean the same (EKS may hand back the JSON formatted differently). */
function samePolicy(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return !a && !b;
  return canonical(parsePolicy(a)) === canonical(parsePolicy(b));
}

/** The EKS Pod Identity association driver. */
export class PodIdentityDriver implements ManagedResource<PodIdentitySpec, PodIdentityObserved> {
  readonly kind = 'PodIdentityAssociation';
  readonly conditionType = CONDITION.IdentityReady;

  constructor(private readonly eks: EKSClient) {}

  private async describe(ctx: DriverContext, clusterName: string, associationId: string): Promise<PodIdentityObserved | undefined> {
    try {
      const a = (
        await this.eks.send(new DescribePodIdentityAssociationCommand({ clusterName, associationId }), { abortSignal: ctx.signal })
      ).association;
      if (!a?.associationId) return undefined;
      return {
        clusterName,
        associationId: a.associationId,
        associationArn: a.associationArn ?? '',
        namespace: a.namespace ?? '',
        serviceAccount: a.serviceAccount ?? '',
        roleArn: a.roleArn ?? '',
        tags: a.tags ?? {},
        ...(a.policy ? { policy: a.policy } : {}),
        disableSessionTags: a.disableSessionTags ?? false,
      };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** The association of the spec's subject, if any (EKS allows one per subject). */
  private async find(ctx: DriverContext, spec: PodIdentitySpec): Promise<string | undefined> {
    const out = await this.eks.send(
      new ListPodIdentityAssociationsCommand({
        clusterName: spec.clusterName,
        namespace: spec.namespace,
        serviceAccount: spec.serviceAccount,
      }),
      { abortSignal: ctx.signal },
    );
    return (out.associations ?? []).find((a) => a.namespace === spec.namespace && a.serviceAccount === spec.serviceAccount)?.associationId;
  }

  async observe(ctx: DriverContext, spec: PodIdentitySpec, ids: ExternalIds): Promise<Observation<PodIdentityObserved>> {
    const known = ids.podIdentityAssociationId;
    let found = known ? await this.describe(ctx, spec.clusterName, known) : undefined;
    if (!found) {
      const id = await this.find(ctx, spec);
      found = id ? await this.describe(ctx, spec.clusterName, id) : undefined;
    }
    if (!found) return { state: 'absent' };
    return readyIfOwned(
      found,
      found.tags,
      spec.owner,
      `Pod Identity association ${found.associationId} for ${spec.namespace}/${spec.serviceAccount}`,
      {
        taggedAtCreate: true,
      },
    );
  }

  compare(spec: PodIdentitySpec, o: PodIdentityObserved): string[] {
    // EKS cannot move an association to another subject: the old one goes, a new one follows.
    if (o.namespace !== spec.namespace || o.serviceAccount !== spec.serviceAccount) return ['subject'];
    const diff: string[] = [];
    if (o.roleArn !== spec.roleArn) diff.push('role');
    // Only the operator's Shared tiers set one, and a tenant never leaves such a tier (tenantRoles
    // and a tenant's tier are fixed), so a policy is compared only where one is wanted.
    if (spec.policy !== undefined && (!samePolicy(o.policy, spec.policy) || !o.disableSessionTags)) diff.push('policy');
    if (tagDrift(o.tags, ownerTags(spec.owner)).length) diff.push('tags');
    return diff;
  }

  /**
   * Created as asked: EKS answers a create with the association it made, so it is not read back.
   * The ARN is not kept in ids; only a tag repair needs it, and that follows an observation.
   */
  createdAs(spec: PodIdentitySpec, ids: ExternalIds): PodIdentityObserved | undefined {
    const id = ids.podIdentityAssociationId;
    if (!id) return undefined;
    return {
      clusterName: spec.clusterName,
      associationId: id,
      associationArn: '',
      namespace: spec.namespace,
      serviceAccount: spec.serviceAccount,
      roleArn: spec.roleArn,
      tags: ownerTags(spec.owner),
      ...(spec.policy !== undefined ? { policy: spec.policy } : {}),
      disableSessionTags: spec.policy !== undefined,
    };
  }

  async create(ctx: DriverContext, spec: PodIdentitySpec, ids: ExternalIds = {}): Promise<ExternalIds> {
    let out;
    try {
      out = await this.eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: spec.clusterName,
          namespace: spec.namespace,
          serviceAccount: spec.serviceAccount,
          roleArn: spec.roleArn,
          // A retried create returns the same association; a new token once a recorded one vanished.
          clientRequestToken: idempotencyToken(spec.owner.uid || spec.owner.name, `pod-identity/${ids.podIdentityAssociationId ?? ''}`),
          ...sessionPolicy(spec),
          tags: ownerTags(spec.owner),
        }),
        { abortSignal: ctx.signal },
      );
    } catch (e) {
      // The subject has an association already (ours from a create whose answer was lost, or
      // someone else's): the next observation finds it by subject and judges whose it is.
      if (classifyAwsError(e) === 'Conflict') return {};
      throw e;
    }
    const id = out.association?.associationId;
    return id ? { podIdentityAssociationId: id } : {};
  }

  async update(ctx: DriverContext, spec: PodIdentitySpec, o: PodIdentityObserved, diff: string[]): Promise<void> {
    const opts = { abortSignal: ctx.signal };
    if (diff.includes('subject')) return this.delete(ctx, o);
    if (diff.includes('role') || diff.includes('policy')) {
      await this.eks.send(
        new UpdatePodIdentityAssociationCommand({
          clusterName: spec.clusterName,
          associationId: o.associationId,
          roleArn: spec.roleArn,
          ...sessionPolicy(spec),
        }),
        opts,
      );
    }
    if (diff.includes('tags'))
      await this.eks.send(new TagResourceCommand({ resourceArn: o.associationArn, tags: ownerTags(spec.owner) }), opts);
  }

  async delete(ctx: DriverContext, o: PodIdentityObserved): Promise<void> {
    await deletedOrGone(
      this.eks.send(new DeletePodIdentityAssociationCommand({ clusterName: o.clusterName, associationId: o.associationId }), {
        abortSignal: ctx.signal,
      }),
    );
  }

  outputs(o: PodIdentityObserved): Record<string, string> {
    return { podIdentityAssociationId: o.associationId };
  }
}
