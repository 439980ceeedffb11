/**
 * A Bedrock application inference profile: one per tenant and model, copied from the model (or
 * its cross-Region system profile), tagged with the tenant for cost allocation. Found by the ARN
 * persisted on status, else by its deterministic name; created with an idempotency token from the
 * ModelAccess UID, so a retried create returns the same profile.
 */
import {
  type BedrockClient,
  CreateInferenceProfileCommand,
  DeleteInferenceProfileCommand,
  GetInferenceProfileCommand,
  type GetInferenceProfileCommandOutput,
  ListInferenceProfilesCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
} from '@aws-sdk/client-bedrock';
import { CONDITION, REASON } from '../../api/v1alpha1/constants.js';
import { TerminalError } from '../../core/errors.js';
import { type OwnerRef, TAG, ownerTags, tagDrift } from '../../core/tags.js';
import { classifyAwsError, isNotFound, deletedOrGone } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation } from '../managed-resource.js';
import { readyIfOwned } from '../ownership.js';

/** The profile as wanted. */
export interface InferenceProfileSpec {
  name: string;
  description: string;
  /** Foundation-model ARN or system inference profile ARN. */
  copyFrom: string;
  clientRequestToken: string;
  /** The tenant. */
  owner: OwnerRef;
  /** The ModelAccess it belongs to. */
  accessName: string;
  /**
   * Set when revoking: a profile of this name that another owner tagged is then not ours, so it
   * is reported absent (nothing of ours to delete) instead of a conflict that would be deleted.
   */
  revoking?: boolean;
}

/** The profile as found. */
export interface InferenceProfileObserved {
  arn: string;
  id: string;
  name: string;
  /** Foundation-model ARNs it routes to. */
  modelArns: string[];
  tags: Record<string, string>;
}

/** Tags of a profile: ownership (the tenant), the cost-allocation tenant tag and the ModelAccess. */
export function profileTags(spec: Pick<InferenceProfileSpec, 'owner' | 'accessName'>): Record<string, string> {
  return { ...ownerTags(spec.owner), [TAG.tenant]: spec.owner.name, [TAG.modelAccess]: spec.accessName };
}

const toList = (tags: Record<string, string>): { key: string; value: string }[] =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));

/** The inference profile driver. */
export class InferenceProfileDriver implements ManagedResource<InferenceProfileSpec, InferenceProfileObserved> {
  readonly kind = 'InferenceProfile';
  readonly conditionType = CONDITION.AccessGranted;
  constructor(private readonly bedrock: BedrockClient) {}

  async observe(ctx: DriverContext, spec: InferenceProfileSpec, ids: ExternalIds): Promise<Observation<InferenceProfileObserved>> {
    const opts = { abortSignal: ctx.signal };
    let found: GetInferenceProfileCommandOutput | undefined;
    const byArn = ids.inferenceProfileArn ?? (await this.findArn(ctx, spec.name));
    if (!byArn) return { state: 'absent' };
    try {
      found = await this.bedrock.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: byArn }), opts);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      // The ARN on status is stale (deleted behind our back): look for the name once more.
      const again = ids.inferenceProfileArn ? await this.findArn(ctx, spec.name) : undefined;
      if (!again) return { state: 'absent' };
      found = await this.bedrock.send(new GetInferenceProfileCommand({ inferenceProfileIdentifier: again }), opts);
    }
    if (!found.inferenceProfileArn) return { state: 'absent' };
    const tagged = await this.bedrock.send(new ListTagsForResourceCommand({ resourceARN: found.inferenceProfileArn }), opts);
    const tags: Record<string, string> = {};
    for (const t of tagged.tags ?? []) if (t.key !== undefined) tags[t.key] = t.value ?? '';
    const observed: InferenceProfileObserved = {
      arn: found.inferenceProfileArn,
      id: found.inferenceProfileId ?? found.inferenceProfileArn.slice(found.inferenceProfileArn.lastIndexOf('/') + 1),
      name: found.inferenceProfileName ?? spec.name,
      modelArns: (found.models ?? []).flatMap((m) => (m.modelArn ? [m.modelArn] : [])),
      tags,
    };
    const other = tags[TAG.modelAccess];
    if (other !== undefined && other !== spec.accessName) {
      const message = `inference profile ${observed.name} already belongs to ModelAccess "${other}": delete one of them`;
      return spec.revoking ? { state: 'absent' } : { state: 'failed', observed, reason: 'NameConflict', message };
    }
    const verdict = readyIfOwned(observed, tags, spec.owner, `inference profile ${observed.name}`, { taggedAtCreate: true });
    return verdict.state === 'failed' && spec.revoking ? { state: 'absent' } : verdict;
  }

  /** Finds an application profile by name (only needed before its ARN is on status). */
  private async findArn(ctx: DriverContext, name: string): Promise<string | undefined> {
    let nextToken: string | undefined;
    do {
      const page = await this.bedrock.send(new ListInferenceProfilesCommand({ typeEquals: 'APPLICATION', maxResults: 1000, nextToken }), {
        abortSignal: ctx.signal,
      });
      const hit = page.inferenceProfileSummaries?.find((p) => p.inferenceProfileName === name);
      if (hit?.inferenceProfileArn) return hit.inferenceProfileArn;
      nextToken = page.nextToken;
    } while (nextToken);
    return undefined;
  }

  compare(spec: InferenceProfileSpec, o: InferenceProfileObserved): string[] {
    // Name, description and model source cannot change on a profile; only tags are repaired.
    return tagDrift(o.tags, profileTags(spec)).length > 0 ? ['tags'] : [];
  }

  async create(ctx: DriverContext, spec: InferenceProfileSpec): Promise<ExternalIds> {
    try {
      const out = await this.bedrock.send(
        new CreateInferenceProfileCommand({
          inferenceProfileName: spec.name,
          description: spec.description,
          clientRequestToken: spec.clientRequestToken,
          modelSource: { copyFrom: spec.copyFrom },
          tags: toList(profileTags(spec)),
        }),
        { abortSignal: ctx.signal },
      );
      // The id is assigned by Bedrock: persist the ARN before anything else can fail.
      return out.inferenceProfileArn ? { inferenceProfileArn: out.inferenceProfileArn } : {};
    } catch (e) {
      const kind = classifyAwsError(e);
      if (kind === 'QuotaExceeded')
        throw new TerminalError(
          REASON.InferenceProfileQuotaReached,
          `Bedrock refused inference profile ${spec.name}: the account's application inference profile quota (1,000 by default, L-40EC9882) is reached; raise it in Service Quotas or delete unused ModelAccess objects`,
          { cause: e },
        );
      if (kind === 'InvalidInput' || kind === 'NotFound')
        throw new TerminalError(
          REASON.InvalidModelSource,
          `Bedrock cannot copy ${spec.copyFrom} into an inference profile in this Region: fix the approved model's id or copyFrom`,
          { cause: e },
        );
      // ConflictException: a profile of this name exists (a create that crashed before its
      // status write); the next observe finds it by name and adopts it.
      if (kind !== 'Conflict') throw e;
      return {};
    }
  }

  async update(ctx: DriverContext, spec: InferenceProfileSpec, o: InferenceProfileObserved): Promise<void> {
    await this.bedrock.send(new TagResourceCommand({ resourceARN: o.arn, tags: toList(profileTags(spec)) }), {
      abortSignal: ctx.signal,
    });
  }

  async delete(ctx: DriverContext, o: InferenceProfileObserved): Promise<void> {
    await deletedOrGone(
      this.bedrock.send(new DeleteInferenceProfileCommand({ inferenceProfileIdentifier: o.arn }), { abortSignal: ctx.signal }),
    );
  }

  outputs(o: InferenceProfileObserved): Record<string, string> {
    return { inferenceProfileArn: o.arn, inferenceProfileId: o.id, modelArns: o.modelArns.join(',') };
  }
}
