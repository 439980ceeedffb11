/** State, options and wire views of the bedrock-agent fake. */
import type {
  DataSourceConfiguration,
  IngestionJobStatistics,
  KnowledgeBaseConfiguration,
  ServerSideEncryptionConfiguration,
  StorageConfiguration,
  VectorIngestionConfiguration,
} from '@aws-sdk/client-bedrock-agent';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AossControlPlane } from './aoss-access.js';
import type { IndexStore } from './aoss-data-plane.js';
import type { IndexedObject, VectorTarget } from './bedrock-ingestion.js';
import { AwsError } from './http.js';

/** Timings and quotas of the fake; mutable at run time through `fake.options`. */
export interface BedrockAgentOptions {
  /** CREATING -> ACTIVE (default 1000 ms). */
  knowledgeBaseCreateMs: number;
  /** UPDATING -> ACTIVE after UpdateKnowledgeBase (default 300 ms). */
  knowledgeBaseUpdateMs: number;
  /** DELETING -> gone, for knowledge bases and data sources (default 300 ms). */
  deleteMs: number;
  /** STARTING -> IN_PROGRESS (default 100 ms). */
  ingestionStartMs: number;
  /** IN_PROGRESS -> COMPLETE (default 1000 ms). */
  ingestionMs: number;
  /** Knowledge bases per account (100, not adjustable). */
  maxKnowledgeBases: number;
  /** Data sources per knowledge base (5). */
  maxDataSourcesPerKnowledgeBase: number;
  /** Concurrent ingestion jobs per account (5). */
  maxConcurrentIngestionJobs: number;
  /** CREATING -> AVAILABLE of a managed knowledge base's data source (default 500 ms). */
  managedDataSourceCreateMs: number;
}

/** Defaults of {@link BedrockAgentOptions}. */
export const DEFAULT_BEDROCK_OPTIONS: BedrockAgentOptions = {
  knowledgeBaseCreateMs: 1000,
  knowledgeBaseUpdateMs: 300,
  deleteMs: 300,
  ingestionStartMs: 100,
  ingestionMs: 1000,
  maxKnowledgeBases: 100,
  maxDataSourcesPerKnowledgeBase: 5,
  maxConcurrentIngestionJobs: 5,
  managedDataSourceCreateMs: 500,
};

/** A knowledge base as the fake keeps it. */
export interface FakeKnowledgeBase {
  knowledgeBaseId: string;
  name: string;
  knowledgeBaseArn: string;
  description?: string;
  roleArn: string;
  knowledgeBaseConfiguration: KnowledgeBaseConfiguration;
  storageConfiguration: StorageConfiguration;
  status: string;
  createdAt: string;
  updatedAt: string;
  failureReasons?: string[];
  target: VectorTarget;
}

/** A data source as the fake keeps it. */
export interface FakeDataSource {
  knowledgeBaseId: string;
  dataSourceId: string;
  name: string;
  description?: string;
  status: string;
  dataSourceConfiguration: DataSourceConfiguration;
  serverSideEncryptionConfiguration?: ServerSideEncryptionConfiguration;
  vectorIngestionConfiguration?: VectorIngestionConfiguration;
  dataDeletionPolicy: string;
  createdAt: string;
  updatedAt: string;
  failureReasons?: string[];
  indexed: Map<string, IndexedObject>;
}

/** An ingestion job as the fake keeps it. */
export interface FakeIngestionJob {
  knowledgeBaseId: string;
  dataSourceId: string;
  ingestionJobId: string;
  description?: string;
  status: string;
  statistics: IngestionJobStatistics;
  failureReasons?: string[];
  startedAt: string;
  updatedAt: string;
}

/** Everything a handler of the fake needs. */
export interface BedrockContext {
  options: BedrockAgentOptions;
  state: BedrockState;
  s3: S3Client;
  iam: IAMClient;
  control: AossControlPlane;
  store: IndexStore;
  account: string;
  region: string;
}

/** The fake's resources, idempotency tokens and pending timers. */
export class BedrockState {
  readonly knowledgeBases = new Map<string, FakeKnowledgeBase>();
  readonly dataSources = new Map<string, FakeDataSource>();
  readonly jobs = new Map<string, FakeIngestionJob>();
  readonly tags = new Map<string, Record<string, string>>();
  /** Where each knowledge base ever created keeps its vectors (kept after deletion, for tests). */
  readonly targets = new Map<string, VectorTarget>();
  /** `<operation>/<scope>/<clientToken>` -> resource id. */
  readonly tokens = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Runs `fn` after `ms`, unless the state is cleared first. */
  later(ms: number, fn: () => void | Promise<void>): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      void Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  /** Forgets everything and cancels pending transitions. */
  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.knowledgeBases.clear();
    this.dataSources.clear();
    this.jobs.clear();
    this.tags.clear();
    this.targets.clear();
    this.tokens.clear();
  }
}

/** A new 10-character id (`[0-9A-Z]{10}`). */
export function newId(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return Array.from({ length: 10 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
}

/** The current time in the ISO 8601 form the REST-JSON timestamps use. */
export function now(): string {
  return new Date().toISOString();
}

/** A page of `items` by `maxResults` and an offset `nextToken`. */
export function page<T>(items: T[], maxResults: unknown, nextToken: unknown): { items: T[]; nextToken?: string } {
  const start = nextToken === undefined ? 0 : Number(nextToken);
  if (!Number.isInteger(start) || start < 0) throw new AwsError(400, 'ValidationException', 'Invalid nextToken');
  const max = typeof maxResults === 'number' ? maxResults : 1000;
  if (max < 1 || max > 1000) throw new AwsError(400, 'ValidationException', 'maxResults must be between 1 and 1000');
  const end = start + max;
  return { items: items.slice(start, end), ...(end < items.length ? { nextToken: String(end) } : {}) };
}

/** A knowledge base as the API returns it. */
export function kbView(kb: FakeKnowledgeBase): Record<string, unknown> {
  const { target: _target, ...wire } = kb;
  // A managed knowledge base has no storage configuration.
  if (kb.knowledgeBaseConfiguration.type === 'MANAGED') delete (wire as Partial<typeof wire>).storageConfiguration;
  return wire;
}

/** A data source as the API returns it. */
export function dsView(ds: FakeDataSource): Record<string, unknown> {
  const { indexed: _indexed, ...wire } = ds;
  return wire;
}

/** Looks up a knowledge base or throws ResourceNotFoundException. */
export function findKb(c: BedrockContext, id: string): FakeKnowledgeBase {
  const kb = c.state.knowledgeBases.get(id);
  if (!kb) throw new AwsError(404, 'ResourceNotFoundException', `Knowledge base with id ${id} does not exist`);
  return kb;
}

/** Looks up a data source of a knowledge base or throws ResourceNotFoundException. */
export function findDs(c: BedrockContext, kbId: string, id: string): FakeDataSource {
  findKb(c, kbId);
  const ds = c.state.dataSources.get(id);
  if (!ds || ds.knowledgeBaseId !== kbId) throw new AwsError(404, 'ResourceNotFoundException', `Data source with id ${id} does not exist`);
  return ds;
}
