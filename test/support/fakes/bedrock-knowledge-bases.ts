/** Knowledge base and tagging operations of the bedrock-agent fake. */
import { isDeepStrictEqual } from 'node:util';
import type {
  CreateKnowledgeBaseRequest,
  OpenSearchServerlessConfiguration,
  UpdateKnowledgeBaseRequest,
} from '@aws-sdk/client-bedrock-agent';
import { checkServiceRole, checkStorage } from './bedrock-checks.js';
import { type VectorTarget, deleteVectorsNow } from './bedrock-ingestion.js';
import { checkManagedKnowledgeBase, isManaged, managedTarget } from './bedrock-managed.js';
import { checkS3VectorsKnowledgeBase, s3VectorsClients, s3VectorsTarget } from './bedrock-s3vectors.js';
import { type BedrockContext, type FakeKnowledgeBase, findKb, kbView, newId, now, page } from './bedrock-state.js';
import {
  checkCreateKnowledgeBase,
  checkId,
  checkTags,
  checkUpdateKnowledgeBase,
  embeddingDimensions,
  invalid,
} from './bedrock-validate.js';
import { AwsError, type FakeResponse } from './http.js';

/** PUT /knowledgebases/ (202): validated like Bedrock, CREATING then ACTIVE; idempotent by clientToken. */
export async function createKnowledgeBase(c: BedrockContext, body: Record<string, unknown>): Promise<FakeResponse> {
  const req = body as unknown as CreateKnowledgeBaseRequest;
  const onS3Vectors = req.storageConfiguration?.type === 'S3_VECTORS';
  const managed = isManaged(req);
  if (managed) checkManagedKnowledgeBase(req);
  else if (onS3Vectors) checkS3VectorsKnowledgeBase(req);
  else checkCreateKnowledgeBase(req);
  const tokenKey = req.clientToken ? `CreateKnowledgeBase//${req.clientToken}` : undefined;
  const earlier = tokenKey ? c.state.knowledgeBases.get(c.state.tokens.get(tokenKey) ?? '') : undefined;
  if (earlier) return { status: 202, body: { knowledgeBase: kbView(earlier) } };
  if (c.state.knowledgeBases.size >= c.options.maxKnowledgeBases) {
    throw new AwsError(
      402,
      'ServiceQuotaExceededException',
      `You have exceeded the number of knowledge bases (${c.options.maxKnowledgeBases}) for this account.`,
    );
  }
  const dimensions = managed ? 1024 : embeddingDimensions(req);
  const id = newId();
  const arn = `arn:aws:bedrock:${c.region}:${c.account}:knowledge-base/${id}`;
  const roleArn = req.roleArn ?? '';
  await checkServiceRole(c.iam, roleArn, c.account, arn);
  const target = managed
    ? managedTarget(roleArn)
    : onS3Vectors
      ? await s3VectorsKnowledgeBaseTarget(c, req, roleArn, dimensions)
      : await aossTarget(c, req, roleArn, dimensions);
  const t = now();
  const kb: FakeKnowledgeBase = {
    knowledgeBaseId: id,
    name: req.name ?? '',
    knowledgeBaseArn: arn,
    ...(req.description ? { description: req.description } : {}),
    roleArn,
    knowledgeBaseConfiguration: req.knowledgeBaseConfiguration ?? { type: 'VECTOR' },
    storageConfiguration: req.storageConfiguration ?? { type: 'OPENSEARCH_SERVERLESS' },
    status: 'CREATING',
    createdAt: t,
    updatedAt: t,
    target,
  };
  c.state.knowledgeBases.set(id, kb);
  c.state.targets.set(id, kb.target);
  if (tokenKey) c.state.tokens.set(tokenKey, id);
  c.state.tags.set(arn, checkTags(req.tags));
  c.state.later(c.options.knowledgeBaseCreateMs, () => {
    if (kb.status === 'CREATING') Object.assign(kb, { status: 'ACTIVE', updatedAt: now() });
  });
  return { status: 202, body: { knowledgeBase: kbView(kb) } };
}

/** Bedrock's checks of S3 Vectors storage (bedrock-s3vectors.ts), and where the vectors go. */
async function s3VectorsKnowledgeBaseTarget(
  c: BedrockContext,
  req: CreateKnowledgeBaseRequest,
  roleArn: string,
  dimensions: number,
): Promise<VectorTarget> {
  const clients = await s3VectorsClients(c.s3, c.iam, c.region, c.account);
  const cfg = req.storageConfiguration?.s3VectorsConfiguration ?? {};
  const s3vectors = await s3VectorsTarget(clients, cfg, roleArn, c.region, dimensions);
  const none = { collectionId: '', collectionName: '', vectorField: '', textField: '', metadataField: '' };
  return { ...none, index: s3vectors.indexName, roleArn, dimensions, s3vectors };
}

/** Bedrock's checks of OpenSearch Serverless storage, and where the vectors go. */
async function aossTarget(c: BedrockContext, req: CreateKnowledgeBaseRequest, roleArn: string, dimensions: number): Promise<VectorTarget> {
  const aoss: OpenSearchServerlessConfiguration = req.storageConfiguration?.opensearchServerlessConfiguration ?? {
    collectionArn: undefined,
    vectorIndexName: undefined,
    fieldMapping: undefined,
  };
  await checkStorage(c.control, c.store, roleArn, c.account, aoss, dimensions);
  const collectionId = (aoss.collectionArn ?? '').split('/').pop() ?? '';
  const collection = await c.control.collection(collectionId);
  return {
    collectionId,
    collectionName: collection?.name ?? '',
    index: aoss.vectorIndexName ?? '',
    roleArn,
    vectorField: aoss.fieldMapping?.vectorField ?? '',
    textField: aoss.fieldMapping?.textField ?? '',
    metadataField: aoss.fieldMapping?.metadataField ?? '',
    dimensions,
  };
}

/**
 * PUT /knowledgebases/{id} (202): overwrites name, description (dropped when not sent) and role,
 * as the API reference says; the knowledge base and storage configurations must be sent as they
 * are (ValidationException otherwise; the message is the fake's, AWS's is unverified). A new role
 * must exist and trust Bedrock, as at creation. UPDATING, then ACTIVE after `knowledgeBaseUpdateMs`.
 */
export async function updateKnowledgeBase(c: BedrockContext, id: string, body: Record<string, unknown>): Promise<FakeResponse> {
  checkId('knowledgeBaseId', id);
  const req = body as unknown as Omit<UpdateKnowledgeBaseRequest, 'knowledgeBaseId'>;
  checkUpdateKnowledgeBase(req);
  const kb = findKb(c, id);
  if (kb.status !== 'ACTIVE' && kb.status !== 'FAILED' && kb.status !== 'UPDATE_UNSUCCESSFUL') {
    throw new AwsError(409, 'ConflictException', `Knowledge base ${id} is ${kb.status} and cannot be updated now`);
  }
  // JSON bodies compare by value, whatever the key order.
  if (!isDeepStrictEqual(req.knowledgeBaseConfiguration, kb.knowledgeBaseConfiguration)) {
    throw invalid('The knowledgeBaseConfiguration of a knowledge base cannot be updated. Send the configuration it was created with.');
  }
  if (req.storageConfiguration !== undefined && !isDeepStrictEqual(req.storageConfiguration, kb.storageConfiguration)) {
    throw invalid('The storageConfiguration of a knowledge base cannot be updated. Send the configuration it was created with.');
  }
  const roleArn = req.roleArn ?? '';
  await checkServiceRole(c.iam, roleArn, c.account, kb.knowledgeBaseArn);
  // Changed in place: timers and jobs hold the object.
  if (req.description) kb.description = req.description;
  else delete kb.description;
  // Ingestion writes with the knowledge base's role.
  Object.assign(kb, { name: req.name ?? kb.name, roleArn, status: 'UPDATING', updatedAt: now(), target: { ...kb.target, roleArn } });
  c.state.targets.set(id, kb.target);
  c.state.later(c.options.knowledgeBaseUpdateMs, () => {
    if (kb.status === 'UPDATING') Object.assign(kb, { status: 'ACTIVE', updatedAt: now() });
  });
  return { status: 202, body: { knowledgeBase: kbView(kb) } };
}

/** GET /knowledgebases/{id}. */
export function getKnowledgeBase(c: BedrockContext, id: string): FakeResponse {
  checkId('knowledgeBaseId', id);
  return { status: 200, body: { knowledgeBase: kbView(findKb(c, id)) } };
}

/** POST /knowledgebases/: summaries in creation order, paged. */
export function listKnowledgeBases(c: BedrockContext, body: Record<string, unknown>): FakeResponse {
  const all = [...c.state.knowledgeBases.values()].map((kb) => ({
    knowledgeBaseId: kb.knowledgeBaseId,
    name: kb.name,
    ...(kb.description ? { description: kb.description } : {}),
    status: kb.status,
    updatedAt: kb.updatedAt,
  }));
  const p = page(all, body.maxResults, body.nextToken);
  return { status: 200, body: { knowledgeBaseSummaries: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) } };
}

/**
 * DELETE /knowledgebases/{id} (202): DELETING, then gone; the vectors of data sources with
 * dataDeletionPolicy DELETE are removed, and DELETE_UNSUCCESSFUL results when that fails.
 */
export function deleteKnowledgeBase(c: BedrockContext, id: string): FakeResponse {
  checkId('knowledgeBaseId', id);
  const kb = findKb(c, id);
  if ([...c.state.jobs.values()].some((j) => j.knowledgeBaseId === id && ['STARTING', 'IN_PROGRESS', 'STOPPING'].includes(j.status))) {
    throw new AwsError(409, 'ConflictException', `Knowledge base ${id} has an ingestion job in progress`);
  }
  Object.assign(kb, { status: 'DELETING', updatedAt: now() });
  c.state.later(c.options.deleteMs, async () => {
    const sources = [...c.state.dataSources.values()].filter((d) => d.knowledgeBaseId === id);
    try {
      for (const ds of sources) if (ds.dataDeletionPolicy === 'DELETE') await deleteVectorsNow(c.store, kb.target, ds.dataSourceId);
    } catch (e) {
      Object.assign(kb, { status: 'DELETE_UNSUCCESSFUL', failureReasons: [String((e as Error).message)], updatedAt: now() });
      return;
    }
    for (const ds of sources) c.state.dataSources.delete(ds.dataSourceId);
    c.state.knowledgeBases.delete(id);
    c.state.tags.delete(kb.knowledgeBaseArn);
  });
  return { status: 202, body: { knowledgeBaseId: id, status: 'DELETING' } };
}

function tagsOf(c: BedrockContext, arn: string): Record<string, string> {
  const tags = c.state.tags.get(arn);
  if (!tags) throw new AwsError(404, 'ResourceNotFoundException', `The resource ${arn} does not exist`);
  return tags;
}

/** GET/POST/DELETE /tags/{resourceArn}: ListTagsForResource, TagResource, UntagResource. */
export function tagOperation(c: BedrockContext, method: string, arn: string, body: Record<string, unknown>, keys: string[]): FakeResponse {
  const tags = tagsOf(c, arn);
  if (method === 'GET') return { status: 200, body: { tags } };
  if (method === 'POST') {
    const merged = { ...tags, ...checkTags(body.tags) };
    if (Object.keys(merged).length > 50) throw new AwsError(400, 'ValidationException', 'A resource can have at most 50 tags');
    c.state.tags.set(arn, merged);
  } else {
    for (const k of keys) delete tags[k];
  }
  return { status: 200, body: {} };
}
