/**
 * An S3 data source of a knowledge base: the bucket (one prefix at most, AWS's limit), the
 * chunking (fixed at creation by AWS) and what happens to vectors when it is deleted. Its id is
 * AWS-assigned and persisted at once; a lost create is found again by name under its knowledge base.
 *
 * A managed knowledge base takes the same bucket and prefix through its S3 connector instead
 * (`MANAGED_KNOWLEDGE_BASE_CONNECTOR`, connector parameters by bucket name): no chunking (refused
 * with the service-managed embedding model), DELETE the only deletion policy, created
 * asynchronously (CREATING, then AVAILABLE: a wait). GetDataSource may return the connector
 * parameters as a JSON string rather than an object; both are read.
 */
import {
  type BedrockAgentClient,
  type ChunkingConfiguration,
  CreateDataSourceCommand,
  type DataSource,
  DeleteDataSourceCommand,
  GetDataSourceCommand,
  ListDataSourcesCommand,
  UpdateDataSourceCommand,
} from '@aws-sdk/client-bedrock-agent';
import type { DocumentType } from '@smithy/types';
import { CONDITION } from '../../api/v1alpha1/constants.js';
import { pollDelay } from '../../core/poll.js';
import { TerminalError } from '../../core/errors.js';
import { idempotencyToken } from '../../core/naming.js';
import type { OwnerRef } from '../../core/tags.js';
import { canonical } from '../../core/policies/document.js';
import { classifyAwsError, isNotFound, deletedOrGone } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation } from '../managed-resource.js';
import { findByName, transitionObservation } from '../knowledge-base/lookup.js';

/** How soon to look again while a data source is in transition. */
export const DS_POLL_MS = 10_000;

/** The data source as wanted. */
export interface DataSourceSpec {
  knowledgeBaseId: string;
  name: string;
  owner: OwnerRef;
  bucketArn: string;
  /** The account the bucket must belong to: Bedrock refuses to read a bucket of another. */
  bucketOwnerAccountId: string;
  /** The one prefix Bedrock reads (pool: every tenant's, bridge: the tenant's). */
  inclusionPrefix?: string;
  /** Not sent for a managed knowledge base (MANAGED_S3), which chunks by its own default. */
  chunking?: ChunkingConfiguration;
  dataDeletionPolicy: 'DELETE' | 'RETAIN';
  /** `S3` (the default): an S3 data source; `MANAGED_S3`: the S3 connector of a managed knowledge base. */
  connector?: 'S3' | 'MANAGED_S3';
  /** Key for Bedrock's transient ingestion data (the tenant's or tier's key). */
  kmsKeyArn?: string;
}

/** The data source as found. */
export interface DataSourceObserved {
  knowledgeBaseId: string;
  id: string;
  status: string;
  source: DataSource;
}

/** The data source driver. */
export class DataSourceDriver implements ManagedResource<DataSourceSpec, DataSourceObserved> {
  readonly kind = 'DataSource';
  readonly conditionType = CONDITION.KnowledgeBaseReady;
  constructor(private readonly agent: BedrockAgentClient) {}

  async observe(ctx: DriverContext, spec: DataSourceSpec, ids: ExternalIds): Promise<Observation<DataSourceObserved>> {
    const opts = { abortSignal: ctx.signal };
    const knowledgeBaseId = spec.knowledgeBaseId;
    // No knowledge base, no data source.
    if (!knowledgeBaseId) return { state: 'absent' };
    let id: string | undefined;
    try {
      id =
        ids.dataSourceId ??
        (await findByName(spec.name, async (nextToken) => {
          const page = await this.agent.send(new ListDataSourcesCommand({ knowledgeBaseId, maxResults: 100, nextToken }), opts);
          return { items: (page.dataSourceSummaries ?? []).map((s) => ({ id: s.dataSourceId, name: s.name })), nextToken: page.nextToken };
        }));
      if (!id) return { state: 'absent' };
      const ds = (await this.agent.send(new GetDataSourceCommand({ knowledgeBaseId, dataSourceId: id }), opts)).dataSource;
      if (!ds) return { state: 'absent' };
      const observed: DataSourceObserved = { knowledgeBaseId, id, status: ds.status ?? 'UNKNOWN', source: ds };
      return transitionObservation(
        observed,
        observed.status,
        ['AVAILABLE'],
        ds.failureReasons,
        `data source ${spec.name}`,
        pollDelay(ds.updatedAt ?? ds.createdAt, DS_POLL_MS),
      );
    } catch (e) {
      // The knowledge base (and with it the data source) is gone.
      if (isNotFound(e)) return { state: 'absent' };
      throw e;
    }
  }

  compare(spec: DataSourceSpec, o: DataSourceObserved): string[] {
    if (spec.connector === 'MANAGED_S3') return compareManaged(spec, o);
    const diff: string[] = [];
    const s3 = o.source.dataSourceConfiguration?.s3Configuration;
    if (
      s3?.bucketArn !== spec.bucketArn ||
      s3.bucketOwnerAccountId !== spec.bucketOwnerAccountId ||
      (s3.inclusionPrefixes?.[0] ?? undefined) !== spec.inclusionPrefix
    )
      diff.push('source');
    if (o.source.dataDeletionPolicy !== spec.dataDeletionPolicy) diff.push('dataDeletionPolicy');
    if ((o.source.serverSideEncryptionConfiguration?.kmsKeyArn ?? undefined) !== spec.kmsKeyArn) diff.push('encryption');
    if (canonical(o.source.vectorIngestionConfiguration?.chunkingConfiguration ?? {}) !== canonical(spec.chunking ?? {}))
      diff.push('chunking');
    return diff;
  }

  private input(spec: DataSourceSpec) {
    if (spec.connector === 'MANAGED_S3') {
      return {
        knowledgeBaseId: spec.knowledgeBaseId,
        name: spec.name,
        description: `documents of ${spec.owner.kind} ${spec.owner.name}`,
        dataSourceConfiguration: {
          type: 'MANAGED_KNOWLEDGE_BASE_CONNECTOR' as const,
          managedKnowledgeBaseConnectorConfiguration: { connectorParameters: connectorParameters(spec) as DocumentType },
        },
        // The only policy a managed knowledge base takes.
        dataDeletionPolicy: 'DELETE' as const,
      };
    }
    return {
      knowledgeBaseId: spec.knowledgeBaseId,
      name: spec.name,
      description: `documents of ${spec.owner.kind} ${spec.owner.name}`,
      dataSourceConfiguration: {
        type: 'S3' as const,
        s3Configuration: {
          bucketArn: spec.bucketArn,
          bucketOwnerAccountId: spec.bucketOwnerAccountId,
          ...(spec.inclusionPrefix ? { inclusionPrefixes: [spec.inclusionPrefix] } : {}),
        },
      },
      dataDeletionPolicy: spec.dataDeletionPolicy,
      ...(spec.kmsKeyArn ? { serverSideEncryptionConfiguration: { kmsKeyArn: spec.kmsKeyArn } } : {}),
      ...(spec.chunking ? { vectorIngestionConfiguration: { chunkingConfiguration: spec.chunking } } : {}),
    };
  }

  async create(ctx: DriverContext, spec: DataSourceSpec): Promise<ExternalIds> {
    try {
      const out = await this.agent.send(
        new CreateDataSourceCommand({
          ...this.input(spec),
          clientToken: idempotencyToken(spec.owner.uid, `data-source/${spec.knowledgeBaseId}`),
        }),
        { abortSignal: ctx.signal },
      );
      const id = out.dataSource?.dataSourceId;
      return id ? { dataSourceId: id } : {};
    } catch (e) {
      const kind = classifyAwsError(e);
      if (kind === 'QuotaExceeded' || kind === 'InvalidInput')
        throw new TerminalError('DataSourceRejected', `Bedrock refused data source ${spec.name}: ${(e as Error).message}`, { cause: e });
      throw e;
    }
  }

  async update(ctx: DriverContext, spec: DataSourceSpec, o: DataSourceObserved, diff: string[]): Promise<void> {
    if (diff.includes('chunking')) {
      // AWS cannot change chunking after creation; the admission rules make this rare (pool tiers).
      throw new TerminalError(
        'ChunkingImmutable',
        `data source ${spec.name} was created with other chunking settings, which AWS cannot change; restore the previous chunking in the spec`,
      );
    }
    await this.agent.send(new UpdateDataSourceCommand({ ...this.input(spec), dataSourceId: o.id }), { abortSignal: ctx.signal });
  }

  async delete(ctx: DriverContext, o: DataSourceObserved): Promise<void> {
    const managed = o.source.dataSourceConfiguration?.type === 'MANAGED_KNOWLEDGE_BASE_CONNECTOR';
    // A managed knowledge base takes DELETE only: Bedrock owns its store, so there is no index to fall back on.
    if (o.status === 'DELETE_UNSUCCESSFUL' && o.source.dataDeletionPolicy === 'DELETE' && !managed) {
      // Bedrock could not remove the vectors (the store is unreachable). The index goes right
      // after the data source in every pattern, taking the vectors with it, so let Bedrock
      // retain them and delete the data source, instead of failing the same way forever.
      const retain = { ...o.source, dataDeletionPolicy: 'RETAIN' as const };
      await this.agent.send(
        new UpdateDataSourceCommand({
          knowledgeBaseId: o.knowledgeBaseId,
          dataSourceId: o.id,
          name: retain.name,
          dataSourceConfiguration: retain.dataSourceConfiguration,
          dataDeletionPolicy: 'RETAIN',
          serverSideEncryptionConfiguration: retain.serverSideEncryptionConfiguration,
          vectorIngestionConfiguration: retain.vectorIngestionConfiguration,
        }),
        { abortSignal: ctx.signal },
      );
    }
    await deletedOrGone(
      this.agent.send(new DeleteDataSourceCommand({ knowledgeBaseId: o.knowledgeBaseId, dataSourceId: o.id }), {
        abortSignal: ctx.signal,
      }),
    );
  }

  outputs(o: DataSourceObserved): Record<string, string> {
    return { dataSourceId: o.id };
  }
}

/** The S3 connector's parameters of a managed knowledge base's data source (bucket by name, not ARN). */
export function connectorParameters(spec: DataSourceSpec): Record<string, unknown> {
  const prefix = spec.inclusionPrefix;
  return {
    type: 'S3',
    version: '1',
    connectionConfiguration: {
      bucketName: spec.bucketArn.replace(/^arn:[^:]+:s3:::/, ''),
      bucketOwnerAccountId: spec.bucketOwnerAccountId,
    },
    ...(prefix ? { filterConfiguration: { inclusionPrefixes: [prefix] }, metadataFilesPrefix: prefix } : {}),
  };
}

/** The connector parameters found: an object, or (as GetDataSource may return them) its JSON string. */
export function observedConnectorParameters(o: DataSourceObserved): Record<string, unknown> | undefined {
  const raw: unknown = o.source.dataSourceConfiguration?.managedKnowledgeBaseConnectorConfiguration?.connectorParameters;
  if (typeof raw === 'string') {
    try {
      const parsed: unknown = JSON.parse(raw);
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  return raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : undefined;
}

/**
 * How a managed knowledge base's data source differs: its type, the fields of the connector
 * parameters the operator sets (Bedrock may echo defaults of others, such as the file size limit),
 * and the deletion policy.
 */
function compareManaged(spec: DataSourceSpec, o: DataSourceObserved): string[] {
  const diff: string[] = [];
  const found = observedConnectorParameters(o);
  const wanted = connectorParameters(spec);
  const filter = (p: Record<string, unknown> | undefined): unknown =>
    (p?.filterConfiguration as { inclusionPrefixes?: unknown } | undefined)?.inclusionPrefixes;
  if (
    o.source.dataSourceConfiguration?.type !== 'MANAGED_KNOWLEDGE_BASE_CONNECTOR' ||
    !found ||
    found.type !== wanted.type ||
    canonical(found.connectionConfiguration ?? {}) !== canonical(wanted.connectionConfiguration ?? {}) ||
    canonical(filter(found) ?? []) !== canonical(filter(wanted) ?? []) ||
    found.metadataFilesPrefix !== wanted.metadataFilesPrefix
  )
    diff.push('source');
  if (o.source.dataDeletionPolicy !== 'DELETE') diff.push('dataDeletionPolicy');
  return diff;
}
