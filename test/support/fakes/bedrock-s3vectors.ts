/**
 * Knowledge bases on Amazon S3 Vectors in the bedrock-agent fake: the checks Bedrock makes at
 * CreateKnowledgeBase against moto (the index exists, its dimension is the embedding model's,
 * Bedrock's own metadata keys are non-filterable, the role's IAM policies let it use the index),
 * and ingestion writing one vector per document into moto's index with PutVectors (and deleting
 * removed documents' vectors), so tests read them back with ListVectors.
 *
 * Where AWS's wording is unknown the messages are the fake's. Bedrock's real behaviour when its
 * keys are filterable is unverified: the fake refuses the knowledge base, and refuses a document
 * whose filterable metadata exceeds S3 Vectors' 2 KB (the limit AWS documents per vector).
 */
import type { CreateKnowledgeBaseRequest, S3VectorsConfiguration } from '@aws-sdk/client-bedrock-agent';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DocumentType } from '@smithy/types';
import { DeleteVectorsCommand, GetIndexCommand, ListVectorsCommand, PutVectorsCommand, S3VectorsClient } from '@aws-sdk/client-s3vectors';
import type { PolicyDocument } from '../../../src/core/policies/document.js';
import { evaluate } from '../iam-eval.js';
import { checkClientToken, checkName, checkTags, invalid } from './bedrock-validate.js';

/** Metadata keys Bedrock writes on every vector, which must not count against the 2 KB filterable limit. */
export const BEDROCK_TEXT = 'AMAZON_BEDROCK_TEXT';
export const BEDROCK_METADATA = 'AMAZON_BEDROCK_METADATA';

/** What Bedrock does with a knowledge base's index: read it at creation, query, write and delete vectors. */
export const KB_INDEX_ACTIONS = [
  's3vectors:GetIndex',
  's3vectors:QueryVectors',
  's3vectors:PutVectors',
  's3vectors:GetVectors',
  's3vectors:DeleteVectors',
] as const;

/** Filterable metadata per vector (S3 Vectors limitations). */
const MAX_FILTERABLE_BYTES = 2048;
const STORAGE = 'The knowledge base storage configuration provided is invalid...';

/** The clients a knowledge base on S3 Vectors uses, built from the fake's moto clients. */
export interface S3VectorsClients {
  s3vectors: S3VectorsClient;
  iam: IAMClient;
  account: string;
}

/** Where an S3 Vectors knowledge base keeps its vectors. */
export interface S3VectorsTarget {
  vectorBucketName: string;
  indexName: string;
  indexArn: string;
  clients: S3VectorsClients;
}

/** An S3 Vectors client reaching the same moto as `s3`, sharing its connections (closed with it). */
export async function s3VectorsClients(s3: S3Client, iam: IAMClient, region: string, account: string): Promise<S3VectorsClients> {
  const e = await s3.config.endpoint?.();
  if (!e) throw new Error('the fake S3 client has no endpoint');
  const endpoint = `${e.protocol}//${e.hostname}${e.port ? `:${e.port}` : ''}${e.path === '/' ? '' : e.path}`;
  const s3vectors = new S3VectorsClient({
    region,
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
    requestHandler: s3.config.requestHandler,
  });
  return { s3vectors, iam, account };
}

/** Static checks of a CreateKnowledgeBase request on S3 Vectors (the API model's, and Bedrock's forms). */
export function checkS3VectorsKnowledgeBase(req: CreateKnowledgeBaseRequest): void {
  checkClientToken(req.clientToken);
  checkName(req.name);
  if (req.description !== undefined && (req.description.length < 1 || req.description.length > 200))
    throw invalid(
      `1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length between 1 and 200, inclusive`,
    );
  if (!/^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/.test(req.roleArn ?? ''))
    throw invalid(
      `1 validation error detected: Value '${String(req.roleArn)}' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+`,
    );
  if (req.knowledgeBaseConfiguration?.type !== 'VECTOR') throw invalid('The fake serves VECTOR knowledge bases only');
  const cfg = req.storageConfiguration?.s3VectorsConfiguration;
  if (!cfg) throw invalid('s3VectorsConfiguration must not be null for storage type S3_VECTORS');
  const byArn = cfg.indexArn !== undefined;
  const byName = cfg.vectorBucketArn !== undefined || cfg.indexName !== undefined;
  if (byArn === byName || (byName && (!cfg.vectorBucketArn || !cfg.indexName)))
    throw invalid('s3VectorsConfiguration takes either indexArn, or vectorBucketArn and indexName');
  if (cfg.indexName !== undefined && (cfg.indexName.length < 3 || cfg.indexName.length > 63))
    throw invalid(
      `1 validation error detected: Value at 'storageConfiguration.s3VectorsConfiguration.indexName' failed to satisfy constraint: Member must have length between 3 and 63, inclusive`,
    );
  checkTags(req.tags);
}

/** The bucket and index an S3 Vectors configuration names, or undefined when its ARNs are malformed. */
function located(cfg: S3VectorsConfiguration): { bucket: string; index: string; account: string; region: string } | undefined {
  const bucketRe = /^arn:aws(-[a-z-]+)?:s3vectors:([a-z0-9-]+):(\d{12}):bucket\/([a-z0-9.-]{3,63})$/;
  const indexRe = /^arn:aws(-[a-z-]+)?:s3vectors:([a-z0-9-]+):(\d{12}):bucket\/([a-z0-9.-]{3,63})\/index\/([a-z0-9.-]{3,63})$/;
  const m = cfg.indexArn ? indexRe.exec(cfg.indexArn) : bucketRe.exec(cfg.vectorBucketArn ?? '');
  if (!m) return undefined;
  return { region: m[2] ?? '', account: m[3] ?? '', bucket: m[4] ?? '', index: m[5] ?? cfg.indexName ?? '' };
}

const decoded = (doc: string | undefined): PolicyDocument =>
  JSON.parse(doc?.startsWith('%') ? decodeURIComponent(doc) : (doc ?? '{}')) as PolicyDocument;

/** The role's identity policies (inline and attached) and its permissions boundary, read from IAM. */
async function rolePolicies(iam: IAMClient, roleArn: string): Promise<{ identity: PolicyDocument[]; boundary?: PolicyDocument }> {
  const RoleName = roleArn.split('/').pop() ?? '';
  const managed = async (PolicyArn: string): Promise<PolicyDocument> => {
    const version = (await iam.send(new GetPolicyCommand({ PolicyArn }))).Policy?.DefaultVersionId;
    return decoded((await iam.send(new GetPolicyVersionCommand({ PolicyArn, VersionId: version }))).PolicyVersion?.Document);
  };
  const identity: PolicyDocument[] = [];
  for (const PolicyName of (await iam.send(new ListRolePoliciesCommand({ RoleName }))).PolicyNames ?? [])
    identity.push(decoded((await iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }))).PolicyDocument));
  for (const p of (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName }))).AttachedPolicies ?? [])
    if (p.PolicyArn) identity.push(await managed(p.PolicyArn));
  const boundaryArn = (await iam.send(new GetRoleCommand({ RoleName }))).Role?.PermissionsBoundary?.PermissionsBoundaryArn;
  return { identity, ...(boundaryArn ? { boundary: await managed(boundaryArn) } : {}) };
}

/** The actions of `actions` the role may not take on the index, as AWS would evaluate its policies. */
async function deniedActions(c: S3VectorsClients, roleArn: string, indexArn: string, actions: readonly string[]): Promise<string[]> {
  const { identity, boundary } = await rolePolicies(c.iam, roleArn);
  const denied: string[] = [];
  for (const action of actions) {
    const decision = await evaluate(
      { principal: roleArn, action, resource: indexArn, identity, ...(boundary ? { boundary } : {}) },
      c.account,
    );
    if (decision !== 'Allowed') denied.push(action);
  }
  return denied;
}

/**
 * Bedrock's checks of a new knowledge base's S3 Vectors storage against moto; returns where its
 * vectors go. `roleArn` has been checked to exist and trust Bedrock.
 */
export async function s3VectorsTarget(
  c: S3VectorsClients,
  cfg: S3VectorsConfiguration,
  roleArn: string,
  region: string,
  dimensions: number,
): Promise<S3VectorsTarget> {
  const at = located(cfg);
  if (!at) throw invalid(`${STORAGE} The S3 vector bucket or index ARN is malformed.`);
  if (at.account !== c.account || at.region !== region)
    throw invalid(`${STORAGE} The S3 vector index must be in the knowledge base's account and Region.`);
  const index = await c.s3vectors
    .send(new GetIndexCommand({ vectorBucketName: at.bucket, indexName: at.index }))
    .then((o) => o.index)
    .catch((e: unknown) => {
      if ((e as { name?: string }).name === 'NotFoundException') return undefined;
      throw e;
    });
  if (!index?.indexArn)
    throw invalid(`${STORAGE} Dependency error: the S3 vector index ${at.index} in bucket ${at.bucket} does not exist.`);
  if (index.dimension !== dimensions)
    throw invalid(
      `${STORAGE} The dimension of S3 vector index ${at.index} (${String(index.dimension)}) does not match the embedding model's (${dimensions}).`,
    );
  const nonFilterable = index.metadataConfiguration?.nonFilterableMetadataKeys ?? [];
  const filterable = [BEDROCK_TEXT, BEDROCK_METADATA].filter((k) => !nonFilterable.includes(k));
  if (filterable.length > 0)
    throw invalid(`${STORAGE} The S3 vector index ${at.index} must declare ${filterable.join(' and ')} as non-filterable metadata keys.`);
  const denied = await deniedActions(c, roleArn, index.indexArn, KB_INDEX_ACTIONS);
  if (denied.length > 0)
    throw invalid(`${STORAGE} The role ${roleArn} is not authorized to perform ${denied.join(', ')} on ${index.indexArn}.`);
  return { vectorBucketName: at.bucket, indexName: at.index, indexArn: index.indexArn, clients: c };
}

/** Whether ingestion can write: the index exists and the role may still write to it; throws Bedrock's failure reason otherwise. */
export async function checkS3VectorsWritable(t: S3VectorsTarget, roleArn: string): Promise<void> {
  await t.clients.s3vectors
    .send(new GetIndexCommand({ vectorBucketName: t.vectorBucketName, indexName: t.indexName }))
    .catch((e: unknown) => {
      if ((e as { name?: string }).name === 'NotFoundException')
        throw new Error(`Dependency error: S3 vector index ${t.indexArn} does not exist`);
      throw e;
    });
  const denied = await deniedActions(t.clients, roleArn, t.indexArn, [
    's3vectors:PutVectors',
    's3vectors:DeleteVectors',
    's3vectors:GetVectors',
  ]);
  if (denied.length > 0)
    throw new Error(`AccessDeniedException: ${roleArn} is not authorized to perform ${denied.join(', ')} on ${t.indexArn}`);
}

/** Writes and deletes one knowledge base's vectors in its S3 Vectors index. */
export class S3VectorsWriter {
  private nonFilterable?: Set<string>;
  constructor(private readonly t: S3VectorsTarget) {}

  private get ref(): { vectorBucketName: string; indexName: string } {
    return { vectorBucketName: this.t.vectorBucketName, indexName: this.t.indexName };
  }

  /** Writes one vector; refuses one whose filterable metadata exceeds 2 KB, as S3 Vectors does. */
  async put(key: string, data: number[], metadata: Record<string, unknown>): Promise<void> {
    this.nonFilterable ??= new Set(
      (await this.t.clients.s3vectors.send(new GetIndexCommand(this.ref))).index?.metadataConfiguration?.nonFilterableMetadataKeys ?? [],
    );
    const filterable = Object.fromEntries(Object.entries(metadata).filter(([k]) => !this.nonFilterable?.has(k)));
    if (Buffer.byteLength(JSON.stringify(filterable)) > MAX_FILTERABLE_BYTES)
      throw new Error(`ValidationException: filterable metadata of vector ${key} exceeds ${MAX_FILTERABLE_BYTES} bytes`);
    await this.t.clients.s3vectors.send(
      new PutVectorsCommand({ ...this.ref, vectors: [{ key, data: { float32: data }, metadata: metadata as DocumentType }] }),
    );
  }

  /** Deletes vectors by key. */
  async delete(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 500) {
      await this.t.clients.s3vectors.send(new DeleteVectorsCommand({ ...this.ref, keys: keys.slice(i, i + 500) }));
    }
  }

  /** Deletes every vector whose metadata `field` is `value` (a data source's, on its deletion). */
  async deleteWhere(field: string, value: string): Promise<void> {
    const keys: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.t.clients.s3vectors.send(new ListVectorsCommand({ ...this.ref, returnMetadata: true, nextToken }));
      for (const v of page.vectors ?? [])
        if ((v.metadata as Record<string, unknown> | undefined)?.[field] === value) keys.push(v.key ?? '');
      nextToken = page.nextToken;
    } while (nextToken);
    if (keys.length > 0) await this.delete(keys);
  }
}
