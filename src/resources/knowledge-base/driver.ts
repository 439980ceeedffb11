/**
 * A Bedrock knowledge base on an index of the tier's vector store (OpenSearch Serverless or S3 Vectors), or a managed one whose
 * vectors Bedrock keeps (no storage configuration). Its id is AWS-assigned: it is
 * persisted the moment CreateKnowledgeBase returns, and a create lost to a crash is found again by
 * name (and deduplicated by the client token). Bedrock reports IAM and data-access propagation
 * only as ValidationException messages; those are waits, every other refusal needs a spec change.
 * A changed name, description or role is repaired with UpdateKnowledgeBase; a changed embedding
 * model or storage configuration cannot be, and is reported (KnowledgeBaseImmutableChanged).
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
  UpdateKnowledgeBaseCommand,
} from '@aws-sdk/client-bedrock-agent';
import { ANNOTATIONS, CONDITION } from '../../api/v1alpha1/constants.js';
import { TerminalError, WaitError } from '../../core/errors.js';
import { idempotencyToken } from '../../core/naming.js';
import { ownerTags } from '../../core/tags.js';
import { classifyAwsError, isKnowledgeBasePropagationError, isNotFound, deletedOrGone } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation, SpotCheck } from '../managed-resource.js';
import { pollDelay } from '../../core/poll.js';
import { readyIfOwned } from '../ownership.js';
import { spotCheck } from '../spot-check.js';
import {
  IMMUTABLE,
  type KnowledgeBaseObserved,
  type KnowledgeBaseSpec,
  UPDATABLE,
  compareKnowledgeBase,
  immutableDrift,
  knowledgeBaseConfiguration,
  storageConfiguration,
} from './compare.js';
import { findByName, transitionObservation } from './lookup.js';

/** The knowledge base as wanted and as found (see compare.ts). */
export type { KnowledgeBaseObserved, KnowledgeBaseSpec, KnowledgeBaseStorage } from './compare.js';

/** Reason of a knowledge base whose embedding model or storage configuration is not the spec's. */
export const KB_IMMUTABLE_CHANGED = 'KnowledgeBaseImmutableChanged';

/** How soon to look again while a knowledge base is in transition. */
export const KB_POLL_MS = 10_000;

/** What GetKnowledgeBase says of the fields the driver sets, as KnowledgeBaseObserved holds them. */
function fieldsOf(kb: Partial<KnowledgeBase>): Omit<KnowledgeBaseObserved, 'id' | 'arn' | 'tags'> {
  const vector = kb.knowledgeBaseConfiguration?.vectorKnowledgeBaseConfiguration;
  const aoss = kb.storageConfiguration?.opensearchServerlessConfiguration;
  const s3v = kb.storageConfiguration?.s3VectorsConfiguration;
  const managed =
    kb.knowledgeBaseConfiguration?.type === 'MANAGED' ? kb.knowledgeBaseConfiguration.managedKnowledgeBaseConfiguration : undefined;
  return {
    status: kb.status ?? 'UNKNOWN',
    name: kb.name,
    description: kb.description,
    roleArn: kb.roleArn,
    embeddingModelArn: vector?.embeddingModelArn,
    dimensions: vector?.embeddingModelConfiguration?.bedrockEmbeddingModelConfiguration?.dimensions,
    // A managed knowledge base has no storage configuration: Bedrock keeps its vectors.
    storageType: kb.knowledgeBaseConfiguration?.type === 'MANAGED' ? 'MANAGED' : kb.storageConfiguration?.type,
    ...(managed
      ? {
          embeddingModelType: managed.embeddingModelType ?? 'MANAGED',
          managedKmsKeyArn: managed.serverSideEncryptionConfiguration?.kmsKeyArn,
        }
      : {}),
    collectionArn: aoss?.collectionArn,
    indexName: aoss?.vectorIndexName,
    fieldMapping: aoss?.fieldMapping,
    indexArn: s3v?.indexArn ?? (s3v?.vectorBucketArn && s3v.indexName ? `${s3v.vectorBucketArn}/index/${s3v.indexName}` : undefined),
    configuration: { knowledgeBase: kb.knowledgeBaseConfiguration, storage: kb.storageConfiguration ?? undefined },
  };
}

/**
 * The ARN of knowledge base `id`, in the account of its role (the operator's: the stack makes and
 * reads the role earlier in the same pass) and the operator's Region (its embedding model's); ''
 * without an id or either of them.
 */
function knowledgeBaseArn(spec: KnowledgeBaseSpec, id: string | undefined): string {
  const [, partition, , , account] = spec.roleArn.split(':');
  const region = spec.embeddingModelArn.split(':')[3];
  return id && partition && account && region ? `arn:${partition}:bedrock:${region}:${account}:knowledge-base/${id}` : '';
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
    const observed: KnowledgeBaseObserved = { id, arn: kb.knowledgeBaseArn, tags, ...fieldsOf(kb) };
    const owned = readyIfOwned(observed, tags, spec.owner, `knowledge base ${spec.name}`, { taggedAtCreate: true });
    if (owned.state !== 'ready') return owned;
    const state = transitionObservation(
      observed,
      observed.status,
      ['ACTIVE'],
      kb.failureReasons,
      `knowledge base ${spec.name}`,
      pollDelay(kb.updatedAt ?? kb.createdAt, KB_POLL_MS),
    );
    return state.state === 'ready' ? immutableCheck(spec, observed) : state;
  }

  /**
   * Its tags (first: on a restart the one read that finds it gone or another owner's), and the
   * knowledge base itself (status still ACTIVE, ARN, name, description, role, embedding model,
   * storage configuration: one GetKnowledgeBase), one read each.
   */
  spotChecks(_spec: KnowledgeBaseSpec, last: KnowledgeBaseObserved): SpotCheck<KnowledgeBaseObserved>[] {
    return [
      spotCheck(async (opts) =>
        last.arn
          ? { ...last, tags: (await this.agent.send(new ListTagsForResourceCommand({ resourceArn: last.arn }), opts)).tags ?? {} }
          : undefined,
      ),
      spotCheck(async (opts) => {
        const kb = (await this.agent.send(new GetKnowledgeBaseCommand({ knowledgeBaseId: last.id }), opts)).knowledgeBase;
        return kb?.status === 'ACTIVE' ? { ...last, arn: kb.knowledgeBaseArn ?? last.arn, ...fieldsOf(kb) } : undefined;
      }),
    ];
  }

  /**
   * With the id status records and the ARN that follows from it (knowledgeBaseArn): the first spot
   * check reads its tags there, so a forged id names a knowledge base whose own tags are judged.
   * Its configurations are the spec's rendering, not Bedrock's: only compare sees them (an update
   * always follows a full observation). Without an id, no ARN, and that check observes in full.
   */
  inSyncAs(spec: KnowledgeBaseSpec, ids: ExternalIds): KnowledgeBaseObserved {
    const id = ids.knowledgeBaseId ?? '';
    const kb = {
      status: 'ACTIVE' as const,
      name: spec.name,
      description: spec.description,
      roleArn: spec.roleArn,
      knowledgeBaseConfiguration: knowledgeBaseConfiguration(spec),
      storageConfiguration: storageConfiguration(spec.storage),
    };
    return { id, arn: knowledgeBaseArn(spec, id), tags: ownerTags(spec.owner), ...fieldsOf(kb) };
  }

  compare(spec: KnowledgeBaseSpec, o: KnowledgeBaseObserved): string[] {
    return compareKnowledgeBase(spec, o);
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
          knowledgeBaseConfiguration: knowledgeBaseConfiguration(spec),
          // None for a managed knowledge base (Bedrock keeps its vectors).
          storageConfiguration: storageConfiguration(spec.storage),
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

  async update(ctx: DriverContext, spec: KnowledgeBaseSpec, o: KnowledgeBaseObserved, diff: string[]): Promise<void> {
    const opts = { abortSignal: ctx.signal };
    const fixed = diff.filter((d) => d in IMMUTABLE);
    // Observe reports these as a failure, so no update should see them; never send them to AWS.
    if (fixed.length > 0) throw new TerminalError(KB_IMMUTABLE_CHANGED, immutableMessage(spec, o));
    if (diff.some((d) => (UPDATABLE as readonly string[]).includes(d))) {
      try {
        await this.agent.send(
          new UpdateKnowledgeBaseCommand({
            knowledgeBaseId: o.id,
            name: spec.name,
            description: spec.description,
            roleArn: spec.roleArn,
            // Every field is overwritten and the configurations cannot change: send back exactly
            // what GetKnowledgeBase returned (AWS's advice), not the spec's rendering of them.
            knowledgeBaseConfiguration: o.configuration?.knowledgeBase,
            storageConfiguration: o.configuration?.storage,
          }),
          opts,
        );
      } catch (e) {
        if (isKnowledgeBasePropagationError(e))
          throw new WaitError(
            'PermissionsPropagating',
            `Bedrock cannot use role ${spec.roleArn} for knowledge base ${spec.name} yet (IAM propagation, usually under a minute)`,
            KB_POLL_MS,
            { cause: e },
          );
        if (classifyAwsError(e) === 'InvalidInput')
          throw new TerminalError(
            'KnowledgeBaseRejected',
            `Bedrock refused to update knowledge base ${spec.name}: ${(e as Error).message}`,
            {
              cause: e,
            },
          );
        throw e;
      }
    }
    if (diff.includes('tags')) await this.agent.send(new TagResourceCommand({ resourceArn: o.arn, tags: ownerTags(spec.owner) }), opts);
  }

  async delete(ctx: DriverContext, o: KnowledgeBaseObserved): Promise<void> {
    await deletedOrGone(this.agent.send(new DeleteKnowledgeBaseCommand({ knowledgeBaseId: o.id }), { abortSignal: ctx.signal }));
  }

  outputs(o: KnowledgeBaseObserved): Record<string, string> {
    return { knowledgeBaseId: o.id };
  }
}

/** The message of a knowledge base whose fixed fields are not the spec's: what differs, what to do. */
function immutableMessage(spec: KnowledgeBaseSpec, o: KnowledgeBaseObserved): string {
  const what = immutableDrift(spec, o)
    .map((d) => `${IMMUTABLE[d.field]} is ${d.found}, wanted ${d.wanted}`)
    .join('; ');
  return (
    `knowledge base ${o.id} (${spec.name}) differs in what Bedrock cannot change after creation: ${what}. ` +
    `The operator does not recreate it on its own (its vectors would be lost): delete knowledge base ${o.id} ` +
    '(aws bedrock-agent delete-knowledge-base) and the operator creates it again with the current settings and syncs its documents ' +
    `at the next resync, or at once when the owner is annotated ${ANNOTATIONS.reconcileRequestedAt}`
  );
}

/** A ready knowledge base, or a failure when a field fixed at creation is not the spec's. */
function immutableCheck(spec: KnowledgeBaseSpec, observed: KnowledgeBaseObserved): Observation<KnowledgeBaseObserved> {
  if (immutableDrift(spec, observed).length === 0) return { state: 'ready', observed };
  return { state: 'failed', observed, reason: KB_IMMUTABLE_CHANGED, message: immutableMessage(spec, observed) };
}
