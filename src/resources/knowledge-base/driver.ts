/**
 * A Bedrock vector knowledge base on an OpenSearch Serverless index. Its id is AWS-assigned: it is
 * persisted the moment CreateKnowledgeBase returns, and a create lost to a crash is found again by
 * name (and deduplicated by the client token). Bedrock reports IAM and data-access propagation
 * only as ValidationException messages; those are waits, every other refusal needs a spec change.
 */
import {
  type BedrockAgentClient,
  CreateKnowledgeBaseCommand,
  DeleteKnowledgeBaseCommand,
  GetKnowledgeBaseCommand,
  type KnowledgeBase,
  ListKnowledgeBasesCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
} from '@aws-sdk/client-bedrock-agent';
import { CONDITION } from '../../api/v1alpha1/constants.js';
import { TerminalError, WaitError } from '../../core/errors.js';
import { idempotencyToken } from '../../core/naming.js';
import { INDEX_FIELDS } from '../../core/policies/aoss.js';
import { type OwnerRef, ownerTags, tagDrift } from '../../core/tags.js';
import { classifyAwsError, isKnowledgeBasePropagationError, isNotFound, deletedOrGone } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation, SpotCheck } from '../managed-resource.js';
import { pollDelay } from '../../core/poll.js';
import { readyIfOwned } from '../ownership.js';
import { spotCheck } from '../spot-check.js';
import { findByName, transitionObservation } from './lookup.js';

/** How soon to look again while a knowledge base is in transition. */
export const KB_POLL_MS = 10_000;

/** The knowledge base as wanted. */
export interface KnowledgeBaseSpec {
  name: string;
  description: string;
  owner: OwnerRef;
  roleArn: string;
  embeddingModelArn: string;
  dimensions: number;
  collectionArn: string;
  indexName: string;
}

/** The knowledge base as found. */
export interface KnowledgeBaseObserved {
  id: string;
  arn: string;
  status: string;
  tags: Record<string, string>;
}

/** The knowledge base driver. */
export class KnowledgeBaseDriver implements ManagedResource<KnowledgeBaseSpec, KnowledgeBaseObserved> {
  readonly kind = 'KnowledgeBase';
  readonly conditionType = CONDITION.KnowledgeBaseReady;
  constructor(private readonly agent: BedrockAgentClient) {}

  async observe(ctx: DriverContext, spec: KnowledgeBaseSpec, ids: ExternalIds): Promise<Observation<KnowledgeBaseObserved>> {
    const opts = { abortSignal: ctx.signal };
    const id =
      ids.knowledgeBaseId ??
      (await findByName(spec.name, async (nextToken) => {
        const page = await this.agent.send(new ListKnowledgeBasesCommand({ maxResults: 100, nextToken }), opts);
        return {
          items: (page.knowledgeBaseSummaries ?? []).map((s) => ({ id: s.knowledgeBaseId, name: s.name })),
          nextToken: page.nextToken,
        };
      }));
    if (!id) return { state: 'absent' };
    let kb: KnowledgeBase | undefined;
    try {
      kb = (await this.agent.send(new GetKnowledgeBaseCommand({ knowledgeBaseId: id }), opts)).knowledgeBase;
    } catch (e) {
      if (isNotFound(e)) return { state: 'absent' };
      throw e;
    }
    if (!kb?.knowledgeBaseArn) return { state: 'absent' };
    const tags = (await this.agent.send(new ListTagsForResourceCommand({ resourceArn: kb.knowledgeBaseArn }), opts)).tags ?? {};
    const observed: KnowledgeBaseObserved = {
      id,
      arn: kb.knowledgeBaseArn,
      status: kb.status ?? 'UNKNOWN',
      tags,
    };
    const owned = readyIfOwned(observed, tags, spec.owner, `knowledge base ${spec.name}`, { taggedAtCreate: true });
    if (owned.state !== 'ready') return owned;
    return transitionObservation(
      observed,
      observed.status,
      ['ACTIVE'],
      kb.failureReasons,
      `knowledge base ${spec.name}`,
      pollDelay(kb.updatedAt ?? kb.createdAt, KB_POLL_MS),
    );
  }

  /** The knowledge base's status (still ACTIVE) and its tags, one read each. */
  spotChecks(_spec: KnowledgeBaseSpec, last: KnowledgeBaseObserved): SpotCheck<KnowledgeBaseObserved>[] {
    return [
      spotCheck(async (opts) => {
        const kb = (await this.agent.send(new GetKnowledgeBaseCommand({ knowledgeBaseId: last.id }), opts)).knowledgeBase;
        return kb?.status === 'ACTIVE' ? { ...last, status: kb.status } : undefined;
      }),
      spotCheck(async (opts) => ({
        ...last,
        tags: (await this.agent.send(new ListTagsForResourceCommand({ resourceArn: last.arn }), opts)).tags ?? {},
      })),
    ];
  }

  compare(spec: KnowledgeBaseSpec, o: KnowledgeBaseObserved): string[] {
    return tagDrift(o.tags, ownerTags(spec.owner)).length > 0 ? ['tags'] : [];
  }

  async create(ctx: DriverContext, spec: KnowledgeBaseSpec, ids: ExternalIds = {}): Promise<ExternalIds> {
    try {
      const out = await this.agent.send(
        new CreateKnowledgeBaseCommand({
          // A retried create (same pass, or after a crash) sends the same token; a recreation
          // after the recorded one vanished sends a new one, or Bedrock would answer with the
          // vanished knowledge base.
          clientToken: idempotencyToken(spec.owner.uid, `knowledge-base/${spec.name}/${ids.knowledgeBaseId ?? 'first'}`),
          name: spec.name,
          description: spec.description,
          roleArn: spec.roleArn,
          knowledgeBaseConfiguration: {
            type: 'VECTOR',
            vectorKnowledgeBaseConfiguration: {
              embeddingModelArn: spec.embeddingModelArn,
              embeddingModelConfiguration: { bedrockEmbeddingModelConfiguration: { dimensions: spec.dimensions } },
            },
          },
          storageConfiguration: {
            type: 'OPENSEARCH_SERVERLESS',
            opensearchServerlessConfiguration: {
              collectionArn: spec.collectionArn,
              vectorIndexName: spec.indexName,
              fieldMapping: { vectorField: INDEX_FIELDS.vector, textField: INDEX_FIELDS.text, metadataField: INDEX_FIELDS.metadata },
            },
          },
          tags: ownerTags(spec.owner),
        }),
        { abortSignal: ctx.signal },
      );
      const id = out.knowledgeBase?.knowledgeBaseId;
      return id ? { knowledgeBaseId: id } : {};
    } catch (e) {
      if (isKnowledgeBasePropagationError(e))
        throw new WaitError(
          'PermissionsPropagating',
          `Bedrock cannot use the role or index of knowledge base ${spec.name} yet (IAM or data access policy propagation, usually under a minute)`,
          KB_POLL_MS,
          { cause: e },
        );
      const kind = classifyAwsError(e);
      if (kind === 'QuotaExceeded')
        throw new TerminalError(
          'KnowledgeBaseQuotaExceeded',
          'the account has reached its knowledge base quota (100 per Region, not adjustable): delete unused knowledge bases or move tenants to a pool tier',
          { cause: e },
        );
      if (kind === 'InvalidInput')
        throw new TerminalError('KnowledgeBaseRejected', `Bedrock refused knowledge base ${spec.name}: ${(e as Error).message}`, {
          cause: e,
        });
      throw e;
    }
  }

  async update(ctx: DriverContext, spec: KnowledgeBaseSpec, o: KnowledgeBaseObserved): Promise<void> {
    await this.agent.send(new TagResourceCommand({ resourceArn: o.arn, tags: ownerTags(spec.owner) }), { abortSignal: ctx.signal });
  }

  async delete(ctx: DriverContext, o: KnowledgeBaseObserved): Promise<void> {
    await deletedOrGone(this.agent.send(new DeleteKnowledgeBaseCommand({ knowledgeBaseId: o.id }), { abortSignal: ctx.signal }));
  }

  outputs(o: KnowledgeBaseObserved): Record<string, string> {
    return { knowledgeBaseId: o.id };
  }
}
