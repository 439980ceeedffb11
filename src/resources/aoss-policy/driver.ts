/**
 * OpenSearch Serverless policies: encryption and network (security policies) and data access
 * (access policies). They carry no tags, so ownership is recorded in the description. Updates
 * pass the policy version read on observe (AOSS's optimistic concurrency).
 */
import {
  CreateAccessPolicyCommand,
  CreateSecurityPolicyCommand,
  DeleteAccessPolicyCommand,
  DeleteSecurityPolicyCommand,
  GetAccessPolicyCommand,
  GetSecurityPolicyCommand,
  type OpenSearchServerlessClient,
  UpdateAccessPolicyCommand,
  UpdateSecurityPolicyCommand,
} from '@aws-sdk/client-opensearchserverless';
import { CONDITION } from '../../api/v1alpha1/constants.js';
import { canonical } from '../../core/policies/document.js';
import type { OwnerRef } from '../../core/tags.js';
import { MANAGED_BY } from '../../core/tags.js';
import { classifyAwsError, deletedOrGone, isNotFound } from '../../adapters/aws/errors.js';
import { FOREIGN_REASON } from '../../core/plan.js';
import { TerminalError } from '../../core/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation } from '../managed-resource.js';

/** The three policy types. */
export type AossPolicyType = 'encryption' | 'network' | 'data';

/** A policy as wanted. */
export interface AossPolicySpec {
  name: string;
  type: AossPolicyType;
  owner: OwnerRef;
  document: unknown;
}

/** A policy as found. */
export interface AossPolicyObserved {
  name: string;
  type: AossPolicyType;
  version: string;
  description: string;
  document: unknown;
}

/** The ownership marker written into a policy's description. */
export function policyDescription(owner: OwnerRef): string {
  return `${MANAGED_BY} ${owner.cluster}/${owner.kind}/${owner.name}`;
}

/** The driver for one policy type. */
export class AossPolicyDriver implements ManagedResource<AossPolicySpec, AossPolicyObserved> {
  readonly conditionType = CONDITION.VectorStoreReady;
  readonly kind: string;
  constructor(
    private readonly aoss: OpenSearchServerlessClient,
    readonly type: AossPolicyType,
  ) {
    this.kind = { encryption: 'EncryptionPolicy', network: 'NetworkPolicy', data: 'DataAccessPolicy' }[type];
  }

  async observe(ctx: DriverContext, spec: AossPolicySpec): Promise<Observation<AossPolicyObserved>> {
    const opts = { abortSignal: ctx.signal };
    let detail: { policyVersion?: string; description?: string; policy?: unknown } | undefined;
    try {
      detail =
        spec.type === 'data'
          ? (await this.aoss.send(new GetAccessPolicyCommand({ name: spec.name, type: 'data' }), opts)).accessPolicyDetail
          : (await this.aoss.send(new GetSecurityPolicyCommand({ name: spec.name, type: spec.type }), opts)).securityPolicyDetail;
    } catch (e) {
      if (isNotFound(e)) return { state: 'absent' };
      throw e;
    }
    if (!detail) return { state: 'absent' };
    const observed: AossPolicyObserved = {
      name: spec.name,
      type: spec.type,
      version: detail.policyVersion ?? '',
      description: detail.description ?? '',
      document: typeof detail.policy === 'string' ? (JSON.parse(detail.policy) as unknown) : detail.policy,
    };
    // Every policy the operator creates carries its owner in the description, from the create on.
    const mine = policyDescription(spec.owner);
    if (observed.description !== mine) {
      return {
        state: 'failed',
        observed,
        reason: FOREIGN_REASON,
        message: `${spec.type} policy ${spec.name} already exists and is not this object's ("${observed.description}"): rename or delete one of them`,
      };
    }
    return { state: 'ready', observed };
  }

  compare(spec: AossPolicySpec, o: AossPolicyObserved): string[] {
    const diff: string[] = [];
    if (canonical(spec.document) !== canonical(o.document)) diff.push('policy');
    return diff;
  }

  async create(ctx: DriverContext, spec: AossPolicySpec): Promise<ExternalIds> {
    const input = { name: spec.name, policy: JSON.stringify(spec.document), description: policyDescription(spec.owner) };
    try {
      if (spec.type === 'data')
        await this.aoss.send(new CreateAccessPolicyCommand({ ...input, type: 'data' }), { abortSignal: ctx.signal });
      else await this.aoss.send(new CreateSecurityPolicyCommand({ ...input, type: spec.type }), { abortSignal: ctx.signal });
    } catch (e) {
      const kind = classifyAwsError(e);
      // Created by a pass that crashed before the next observe: the next observe adopts it.
      if (kind === 'Conflict') return {};
      if (kind === 'QuotaExceeded')
        throw new TerminalError(
          'PolicyQuotaExceeded',
          `OpenSearch Serverless refused ${spec.type} policy ${spec.name}: the account has reached its ${spec.type} policy quota (50 encryption, 500 network and 500 data access policies per Region, not adjustable); delete unused collections or move tenants to a pool or bridge tier`,
          { cause: e },
        );
      throw e;
    }
    // The name is the id.
    return {};
  }

  async update(ctx: DriverContext, spec: AossPolicySpec, o: AossPolicyObserved): Promise<void> {
    const input = {
      name: spec.name,
      policy: JSON.stringify(spec.document),
      description: policyDescription(spec.owner),
      policyVersion: o.version,
    };
    if (spec.type === 'data') await this.aoss.send(new UpdateAccessPolicyCommand({ ...input, type: 'data' }), { abortSignal: ctx.signal });
    else await this.aoss.send(new UpdateSecurityPolicyCommand({ ...input, type: spec.type }), { abortSignal: ctx.signal });
  }

  async delete(ctx: DriverContext, o: AossPolicyObserved): Promise<void> {
    const opts = { abortSignal: ctx.signal };
    await deletedOrGone(
      o.type === 'data'
        ? this.aoss.send(new DeleteAccessPolicyCommand({ name: o.name, type: 'data' }), opts)
        : this.aoss.send(new DeleteSecurityPolicyCommand({ name: o.name, type: o.type }), opts),
    );
  }
}
