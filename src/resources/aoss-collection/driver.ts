/**
 * An OpenSearch Serverless VECTORSEARCH collection. Its name is unique per account and Region, so
 * it is found by name after a crash; its id, ARN and endpoint are AWS-assigned and published as
 * outputs. Creation and deletion are asynchronous: observe reports CREATING and DELETING as waits.
 */
import {
  BatchGetCollectionCommand,
  type CollectionDetail,
  CreateCollectionCommand,
  DeleteCollectionCommand,
  ListTagsForResourceCommand,
  type OpenSearchServerlessClient,
  TagResourceCommand,
} from '@aws-sdk/client-opensearchserverless';
import { CONDITION } from '../../api/v1alpha1/constants.js';
import { TerminalError } from '../../core/errors.js';
import { type OwnerRef, ownerTags, tagDrift } from '../../core/tags.js';
import { classifyAwsError } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation, SpotCheck } from '../managed-resource.js';
import { pollDelay } from '../../core/poll.js';
import { readyIfOwned } from '../ownership.js';
import { spotCheck } from '../spot-check.js';

/** How often to look at a collection in transition (AWS takes minutes; samples poll every 10-30 s). */
export const COLLECTION_POLL_MS = 15_000;

/** The collection as wanted. */
export interface CollectionSpec {
  name: string;
  owner: OwnerRef;
  description: string;
  /** Standby replicas double the OCU floor; off for cost-sensitive tiers. */
  standbyReplicas: 'ENABLED' | 'DISABLED';
}

/** The collection as found. */
export interface CollectionObserved {
  id: string;
  name: string;
  arn: string;
  endpoint: string;
  status: string;
  tags: Record<string, string>;
}

/** The collection driver. */
export class AossCollectionDriver implements ManagedResource<CollectionSpec, CollectionObserved> {
  readonly kind = 'Collection';
  readonly conditionType = CONDITION.VectorStoreReady;
  constructor(private readonly aoss: OpenSearchServerlessClient) {}

  async observe(ctx: DriverContext, spec: CollectionSpec): Promise<Observation<CollectionObserved>> {
    const opts = { abortSignal: ctx.signal };
    const found = await this.aoss.send(new BatchGetCollectionCommand({ names: [spec.name] }), opts);
    const d: CollectionDetail | undefined = found.collectionDetails?.find((c) => c.name === spec.name);
    if (!d?.id || !d.arn) return { state: 'absent' };
    const tagList = (await this.aoss.send(new ListTagsForResourceCommand({ resourceArn: d.arn }), opts)).tags ?? [];
    const tags = Object.fromEntries(tagList.map((t) => [t.key ?? '', t.value ?? '']));
    const observed: CollectionObserved = {
      id: d.id,
      name: spec.name,
      arn: d.arn,
      endpoint: d.collectionEndpoint ?? '',
      status: d.status ?? 'UNKNOWN',
      tags,
    };
    const owned = readyIfOwned(observed, tags, spec.owner, `collection ${spec.name}`, { taggedAtCreate: true });
    if (owned.state !== 'ready') return owned;
    switch (observed.status) {
      // An update in progress or failed leaves the collection serving (only settings changed).
      case 'ACTIVE':
      case 'UPDATING':
      case 'UPDATE_FAILED':
        return owned;
      case 'FAILED':
        return {
          state: 'failed',
          observed,
          reason: 'CollectionFailed',
          message: `collection ${spec.name} failed (${d.failureCode ?? 'unknown'}: ${d.failureMessage ?? 'no message'}); delete it in AWS to let the operator recreate it`,
        };
      default:
        return {
          state: 'pending',
          observed,
          reason: observed.status === 'DELETING' ? 'CollectionDeleting' : 'CollectionCreating',
          message: `collection ${spec.name} is ${observed.status}`,
          retryAfterMs: pollDelay(d.lastModifiedDate ?? d.createdDate, COLLECTION_POLL_MS),
        };
    }
  }

  /**
   * The collection's state (serving, same id) and its tags, one read each.
   *
   * No `inSyncAs`: no one read finds the collection and its owner. BatchGetCollection (by name: its
   * id, ARN, endpoint, state) returns no tags, and ListTagsForResource needs the ARN, which AWS
   * assigns and nothing bound to the driver records. A restart observes collections in full.
   */
  spotChecks(spec: CollectionSpec, last: CollectionObserved): SpotCheck<CollectionObserved>[] {
    return [
      spotCheck(async (opts) => {
        const found = await this.aoss.send(new BatchGetCollectionCommand({ names: [spec.name] }), opts);
        const d = found.collectionDetails?.find((c) => c.name === spec.name);
        const serving = ['ACTIVE', 'UPDATING', 'UPDATE_FAILED'].includes(d?.status ?? '');
        return serving && d?.id === last.id
          ? { ...last, status: d.status ?? last.status, endpoint: d.collectionEndpoint ?? last.endpoint }
          : undefined;
      }),
      spotCheck(async (opts) => {
        const tagList = (await this.aoss.send(new ListTagsForResourceCommand({ resourceArn: last.arn }), opts)).tags ?? [];
        return { ...last, tags: Object.fromEntries(tagList.map((t) => [t.key ?? '', t.value ?? ''])) };
      }),
    ];
  }

  compare(spec: CollectionSpec, o: CollectionObserved): string[] {
    return tagDrift(o.tags, ownerTags(spec.owner)).length > 0 ? ['tags'] : [];
  }

  async create(ctx: DriverContext, spec: CollectionSpec): Promise<ExternalIds> {
    try {
      await this.aoss.send(
        new CreateCollectionCommand({
          name: spec.name,
          // Without it AOSS makes a TIMESERIES collection.
          type: 'VECTORSEARCH',
          description: spec.description,
          standbyReplicas: spec.standbyReplicas,
          tags: Object.entries(ownerTags(spec.owner)).map(([key, value]) => ({ key, value })),
        }),
        { abortSignal: ctx.signal },
      );
    } catch (e) {
      const kind = classifyAwsError(e);
      // Being created already (a pass that crashed before its next observe): observe finds it.
      if (kind === 'Conflict') return {};
      if (kind === 'QuotaExceeded')
        throw new TerminalError(
          'CollectionQuotaExceeded',
          `OpenSearch Serverless refused collection ${spec.name}: ${(e as Error).name} (collections with their own KMS key are limited to 25 per account, and OCUs to the account's capacity limit); free one or raise the limit`,
          { cause: e },
        );
      throw e;
    }
    // The name finds it again; id, ARN and endpoint are published from observe.
    return {};
  }

  async update(ctx: DriverContext, spec: CollectionSpec, o: CollectionObserved): Promise<void> {
    const tags = Object.entries(ownerTags(spec.owner)).map(([key, value]) => ({ key, value }));
    await this.aoss.send(new TagResourceCommand({ resourceArn: o.arn, tags }), { abortSignal: ctx.signal });
  }

  async delete(ctx: DriverContext, o: CollectionObserved): Promise<void> {
    try {
      await this.aoss.send(new DeleteCollectionCommand({ id: o.id }), { abortSignal: ctx.signal });
    } catch (e) {
      const kind = classifyAwsError(e);
      // Gone already, or not deletable in its current state: the next observe says which.
      if (kind !== 'NotFound' && kind !== 'Conflict') throw e;
    }
  }

  outputs(o: CollectionObserved): Record<string, string> {
    return { collectionArn: o.arn, collectionEndpoint: o.endpoint, collectionId: o.id };
  }
}
