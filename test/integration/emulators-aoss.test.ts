/**
 * The OpenSearch Serverless and bedrock-agent emulators the vector-store drivers are tested on:
 * ministack's control plane, the data-plane fake (SigV4, data access policies) and the
 * bedrock-agent fake (Bedrock's storage checks, ingestion against moto S3), through the real SDKs.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  BedrockAgentClient,
  CreateDataSourceCommand,
  CreateKnowledgeBaseCommand,
  type CreateKnowledgeBaseCommandInput,
  DeleteDataSourceCommand,
  GetIngestionJobCommand,
  GetKnowledgeBaseCommand,
  ListKnowledgeBasesCommand,
  ListTagsForResourceCommand,
  StartIngestionJobCommand,
  UpdateDataSourceCommand,
} from '@aws-sdk/client-bedrock-agent';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  BatchGetCollectionCommand,
  CreateAccessPolicyCommand,
  CreateCollectionCommand,
  CreateSecurityPolicyCommand,
  DeleteCollectionCommand,
  OpenSearchServerlessClient,
  UpdateAccessPolicyCommand,
} from '@aws-sdk/client-opensearchserverless';
import { CreateBucketCommand, DeleteObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsFakes, DEFAULT_CREDENTIALS, startAwsFakes } from '../support/fakes/index.js';
import { type Ministack, startMinistack } from '../support/ministack.js';
import { type Moto, startMoto } from '../support/moto.js';
import { withModelCheck } from '../support/cluster.js';
import { eventually } from '../support/processes.js';

const ACCOUNT = '123456789012';
const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };
let moto: Moto, ministack: Ministack, fakes: AwsFakes;
let aoss: OpenSearchServerlessClient, agent: BedrockAgentClient, iam: IAMClient, s3: S3Client;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tro-aoss-'));
  [moto, ministack] = await Promise.all([
    startMoto(join(dir, 'moto.log')).then((m) => withModelCheck(m, 'moto')),
    startMinistack(join(dir, 'ministack.log')).then((m) => withModelCheck(m, 'ministack')),
  ]);
  const intruder = { secretAccessKey: 'intruder', principalArn: `arn:aws:iam::${ACCOUNT}:role/intruder` };
  fakes = await startAwsFakes({
    motoEndpoint: moto.endpoint,
    ministackEndpoint: ministack.endpoint,
    credentials: { ...DEFAULT_CREDENTIALS, intruder },
    bedrock: { knowledgeBaseCreateMs: 200, ingestionMs: 300, deleteMs: 100 },
  });
  const common = { region: 'us-east-1', credentials: creds, maxAttempts: 1 };
  aoss = new OpenSearchServerlessClient({ ...common, endpoint: ministack.endpoint });
  agent = new BedrockAgentClient({ ...common, endpoint: fakes.bedrockAgent.endpoint });
  iam = new IAMClient({ ...common, endpoint: moto.endpoint });
  s3 = new S3Client({ ...common, endpoint: moto.endpoint, forcePathStyle: true });
  await setupAoss();
});
afterAll(async () => {
  await fakes?.stop();
  await Promise.all([moto?.stop(), ministack?.stop()]);
});

const kbRole = `arn:aws:iam::${ACCOUNT}:role/rag-kb-acme`;
const operatorRole = DEFAULT_CREDENTIALS.testing?.principalArn ?? '';
let collection = { id: '', arn: '' };

/** Policies and an ACTIVE vector collection `std-acme`, with data access for the operator and the KB role. */
async function setupAoss(): Promise<void> {
  const policy = (v: unknown): string => JSON.stringify(v);
  const rules = [{ ResourceType: 'collection', Resource: ['collection/std-*'] }];
  await aoss.send(
    new CreateSecurityPolicyCommand({ type: 'encryption', name: 'std', policy: policy({ Rules: rules, AWSOwnedKey: true }) }),
  );
  const net = [
    { Rules: rules, AllowFromPublic: false, SourceVPCEs: ['vpce-0123456789abcdef0'], SourceServices: ['bedrock.amazonaws.com'] },
  ];
  await aoss.send(new CreateSecurityPolicyCommand({ type: 'network', name: 'std', policy: policy(net) }));
  const perms = ['aoss:CreateIndex', 'aoss:DescribeIndex', 'aoss:DeleteIndex', 'aoss:ReadDocument', 'aoss:WriteDocument'];
  const data = [
    { Rules: [{ ResourceType: 'index', Resource: ['index/std-acme/*'], Permission: perms }], Principal: [operatorRole, kbRole] },
  ];
  await aoss.send(new CreateAccessPolicyCommand({ type: 'data', name: 'std-acme', policy: policy(data) }));
  const created = await aoss.send(new CreateCollectionCommand({ name: 'std-acme', type: 'VECTORSEARCH' }));
  collection = { id: created.createCollectionDetail?.id ?? '', arn: created.createCollectionDetail?.arn ?? '' };
  await eventually(async () =>
    (await aoss.send(new BatchGetCollectionCommand({ ids: [collection.id] }))).collectionDetails?.[0]?.status === 'ACTIVE'
      ? true
      : undefined,
  );
  const trust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  };
  await iam.send(new CreateRoleCommand({ RoleName: 'rag-kb-acme', AssumeRolePolicyDocument: policy(trust) }));
  await iam.send(new CreateRoleCommand({ RoleName: 'rag-kb-noaccess', AssumeRolePolicyDocument: policy(trust) }));
  const ec2 = { ...trust, Statement: [{ ...trust.Statement[0], Principal: { Service: 'ec2.amazonaws.com' } }] };
  await iam.send(new CreateRoleCommand({ RoleName: 'rag-kb-ec2', AssumeRolePolicyDocument: policy(ec2) }));
}

/** A data-plane request, SigV4-signed like the operator's client unless told otherwise. */
async function dataPlane(
  method: string,
  path: string,
  body?: unknown,
  o: { service?: string; key?: string; unsigned?: boolean; checksum?: boolean } = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const url = new URL(fakes.dataPlaneUrl.replace('{id}', collection.id) + path);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const key = o.key ?? 'testing';
  const signer = new SignatureV4({
    service: o.service ?? 'aoss',
    region: 'us-east-1',
    sha256: Sha256,
    applyChecksum: o.checksum ?? true,
    credentials: { accessKeyId: key, secretAccessKey: key },
  });
  const request = {
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    body: payload,
  };
  const headers = { host: url.host, ...(payload ? { 'content-type': 'application/json' } : {}) };
  const signed = o.unsigned ? { headers } : await signer.sign({ ...request, headers });
  const res = await fetch(url, { method, headers: signed.headers, body: payload });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers };
}

const vectorIndex = (engine: string, dimension: number): Record<string, unknown> => ({
  settings: { index: { knn: true, 'knn.algo_param.ef_search': 512 } },
  mappings: {
    properties: {
      'bedrock-knowledge-base-default-vector': { type: 'knn_vector', dimension, method: { name: 'hnsw', engine, space_type: 'l2' } },
      AMAZON_BEDROCK_TEXT_CHUNK: { type: 'text', index: true },
      AMAZON_BEDROCK_METADATA: { type: 'text', index: false },
    },
  },
});

describe('OpenSearch Serverless control plane (ministack)', () => {
  it('requires an encryption policy, refuses duplicates and stale policy versions, and deletes collections', async () => {
    await expect(aoss.send(new CreateCollectionCommand({ name: 'prem-acme', type: 'VECTORSEARCH' }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    const dup = JSON.stringify({ Rules: [{ ResourceType: 'collection', Resource: ['collection/std-*'] }], AWSOwnedKey: true });
    await expect(aoss.send(new CreateSecurityPolicyCommand({ type: 'encryption', name: 'std-two', policy: dup }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(aoss.send(new CreateCollectionCommand({ name: 'std-acme', type: 'VECTORSEARCH' }))).rejects.toMatchObject({
      name: 'ConflictException',
    });
    const stale = aoss.send(
      new UpdateAccessPolicyCommand({ type: 'data', name: 'std-acme', policyVersion: 'MTY2MzY5MzIxNzgyNl8x', description: 'x' }),
    );
    await expect(stale).rejects.toMatchObject({ name: 'ValidationException' });
    const c = await aoss.send(new CreateCollectionCommand({ name: 'std-tmp', type: 'VECTORSEARCH' }));
    expect(['CREATING', 'ACTIVE']).toContain(c.createCollectionDetail?.status);
    const id = c.createCollectionDetail?.id ?? '';
    await eventually(async () =>
      (await aoss.send(new BatchGetCollectionCommand({ ids: [id] }))).collectionDetails?.[0]?.status === 'ACTIVE' ? true : undefined,
    );
    expect((await aoss.send(new DeleteCollectionCommand({ id }))).deleteCollectionDetail?.status).toBe('DELETING');
    expect((await aoss.send(new BatchGetCollectionCommand({ ids: [id] }))).collectionErrorDetails?.[0]?.errorCode).toBe('NOT_FOUND');
  });
});

describe('OpenSearch Serverless data plane (fake)', () => {
  it('refuses unsigned, wrongly scoped, checksum-less and unauthorised requests, and serves signed ones', async () => {
    const body = vectorIndex('faiss', 1024);
    expect((await dataPlane('PUT', '/idx-a', body, { unsigned: true })).status).toBe(403);
    expect((await dataPlane('PUT', '/idx-a', body, { service: 'es' })).status).toBe(403);
    const noSha = await dataPlane('PUT', '/idx-a', body, { checksum: false });
    expect([noSha.status, noSha.headers.get('x-aoss-response-hint')]).toEqual([403, 'X01:gw-helper-deny']);
    const intruder = await dataPlane('PUT', '/idx-a', body, { key: 'intruder' });
    expect(intruder.status).toBe(403);
    expect(intruder.json).toMatchObject({ error: { type: 'security_exception' } });
    expect((await dataPlane('PUT', '/idx-a', body)).json).toMatchObject({ acknowledged: true, index: 'idx-a' });
    const got = await dataPlane('GET', '/idx-a');
    expect(got.json).toMatchObject({ 'idx-a': { mappings: body.mappings, settings: { index: { knn: 'true' } } } });
    expect((await dataPlane('PUT', '/idx-a', body)).json).toMatchObject({
      status: 400,
      error: { type: 'resource_already_exists_exception' },
    });
    expect((await dataPlane('PUT', '/Idx-B', body)).json).toMatchObject({ error: { type: 'invalid_index_name_exception' } });
    expect((await dataPlane('HEAD', '/idx-missing')).status).toBe(404);
    expect((await dataPlane('DELETE', '/idx-a')).status).toBe(200);
    expect((await dataPlane('GET', '/idx-a')).json).toMatchObject({ status: 404, error: { type: 'index_not_found_exception' } });
    fakes.faults.failNext('CreateIndex', { status: 429 });
    expect((await dataPlane('PUT', '/idx-a', body)).status).toBe(429);
  });
});

describe('bedrock-agent (fake)', () => {
  const storage = (index: string): CreateKnowledgeBaseCommandInput['storageConfiguration'] => ({
    type: 'OPENSEARCH_SERVERLESS',
    opensearchServerlessConfiguration: {
      collectionArn: collection.arn,
      vectorIndexName: index,
      fieldMapping: {
        vectorField: 'bedrock-knowledge-base-default-vector',
        textField: 'AMAZON_BEDROCK_TEXT_CHUNK',
        metadataField: 'AMAZON_BEDROCK_METADATA',
      },
    },
  });
  const kbInput = (index: string, o: Partial<CreateKnowledgeBaseCommandInput> = {}): CreateKnowledgeBaseCommandInput => ({
    name: 't-acme-kb',
    roleArn: kbRole,
    knowledgeBaseConfiguration: {
      type: 'VECTOR',
      vectorKnowledgeBaseConfiguration: { embeddingModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0' },
    },
    storageConfiguration: storage(index),
    ...o,
  });
  const refusal = async (input: CreateKnowledgeBaseCommandInput): Promise<string> => {
    const err = (await agent.send(new CreateKnowledgeBaseCommand(input)).catch((e: unknown) => e)) as { name: string; message: string };
    expect(err.name).toBe('ValidationException');
    return err.message;
  };
  let kbId = '';

  it('refuses what Bedrock refuses and creates a knowledge base that becomes ACTIVE, once per clientToken', async () => {
    await dataPlane('PUT', '/kb-nmslib', vectorIndex('nmslib', 1024));
    await dataPlane('PUT', '/kb-512', vectorIndex('faiss', 512));
    await dataPlane('PUT', '/kb-1024', vectorIndex('faiss', 1024));
    expect(await refusal(kbInput('kb-nmslib'))).toMatch(/engine type associated with your vector index is invalid.*FAISS/);
    expect(await refusal(kbInput('kb-512'))).toMatch(/storage configuration provided is invalid.*dimension/);
    expect(await refusal(kbInput('kb-none'))).toMatch(/no such index \[kb-none\]/);
    expect(await refusal(kbInput('kb-1024', { roleArn: `arn:aws:iam::${ACCOUNT}:role/rag-kb-noaccess` }))).toMatch(
      /\[security_exception\]/,
    );
    expect(await refusal(kbInput('kb-1024', { roleArn: `arn:aws:iam::${ACCOUNT}:role/rag-kb-ec2` }))).toMatch(/cannot assume role/);
    expect(await refusal(kbInput('kb-1024', { clientToken: 'too-short' }))).toMatch(/clientToken/);
    expect(await refusal(kbInput('kb-1024', { name: 'bad..name' }))).toMatch(/name/);
    const token = 'acme-kb-create-0b6f0a2e-3c1d-4c55-9d8e-1a2b3c4d5e6f';
    const first = await agent.send(new CreateKnowledgeBaseCommand(kbInput('kb-1024', { clientToken: token, tags: { tenant: 'acme' } })));
    expect(first.knowledgeBase?.status).toBe('CREATING');
    kbId = first.knowledgeBase?.knowledgeBaseId ?? '';
    const again = await agent.send(new CreateKnowledgeBaseCommand(kbInput('kb-1024', { clientToken: token })));
    expect(again.knowledgeBase?.knowledgeBaseId).toBe(kbId);
    expect((await agent.send(new ListKnowledgeBasesCommand({}))).knowledgeBaseSummaries).toHaveLength(1);
    await eventually(async () =>
      (await agent.send(new GetKnowledgeBaseCommand({ knowledgeBaseId: kbId }))).knowledgeBase?.status === 'ACTIVE' ? true : undefined,
    );
    expect((await agent.send(new ListTagsForResourceCommand({ resourceArn: first.knowledgeBase?.knowledgeBaseArn }))).tags).toEqual({
      tenant: 'acme',
    });
    const dims = { bedrockEmbeddingModelConfiguration: { dimensions: 512 } };
    const vector = {
      embeddingModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0',
      embeddingModelConfiguration: dims,
    };
    fakes.bedrockAgent.options.maxKnowledgeBases = 1;
    const over = agent.send(
      new CreateKnowledgeBaseCommand(
        kbInput('kb-512', { knowledgeBaseConfiguration: { type: 'VECTOR', vectorKnowledgeBaseConfiguration: vector } }),
      ),
    );
    await expect(over).rejects.toMatchObject({ name: 'ServiceQuotaExceededException', $metadata: { httpStatusCode: 402 } });
    fakes.bedrockAgent.options.maxKnowledgeBases = 100;
    fakes.faults.failNext('GetKnowledgeBase', { status: 429 });
    await expect(agent.send(new GetKnowledgeBaseCommand({ knowledgeBaseId: kbId }))).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('syncs S3 objects and sidecars into vectors, one running job per data source, and deletes them with the data source', async () => {
    const bucket = 'rag-pool-123456789012';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
    const meta = (tenantId: string) => JSON.stringify({ metadataAttributes: { tenantId } });
    await Promise.all([put('docs/a.txt', 'alpha'), put('docs/a.txt.metadata.json', meta('acme')), put('docs/b.txt', 'beta')]);
    await Promise.all([put('docs/b.txt.metadata.json', meta('globex')), put('docs/c.txt', 'gamma'), put('other/x.txt', 'outside')]);
    const chunking = { chunkingStrategy: 'FIXED_SIZE' as const, fixedSizeChunkingConfiguration: { maxTokens: 300, overlapPercentage: 20 } };
    const dsInput = {
      knowledgeBaseId: kbId,
      name: 'pool',
      dataSourceConfiguration: {
        type: 'S3' as const,
        s3Configuration: { bucketArn: `arn:aws:s3:::${bucket}`, inclusionPrefixes: ['docs/'] },
      },
    };
    const ds = (
      await agent.send(new CreateDataSourceCommand({ ...dsInput, vectorIngestionConfiguration: { chunkingConfiguration: chunking } }))
    ).dataSource;
    expect(ds?.status).toBe('AVAILABLE');
    const dataSourceId = ds?.dataSourceId ?? '';
    const other = { ...chunking, fixedSizeChunkingConfiguration: { maxTokens: 500, overlapPercentage: 20 } };
    const update = agent.send(
      new UpdateDataSourceCommand({ ...dsInput, dataSourceId, vectorIngestionConfiguration: { chunkingConfiguration: other } }),
    );
    await expect(update).rejects.toMatchObject({ name: 'ValidationException' });
    const sync = async () => {
      const job = (await agent.send(new StartIngestionJobCommand({ knowledgeBaseId: kbId, dataSourceId }))).ingestionJob;
      expect(job?.status).toBe('STARTING');
      await expect(agent.send(new StartIngestionJobCommand({ knowledgeBaseId: kbId, dataSourceId }))).rejects.toMatchObject({
        name: 'ConflictException',
      });
      const ingestionJobId = job?.ingestionJobId ?? '';
      return eventually(async () => {
        const j = (await agent.send(new GetIngestionJobCommand({ knowledgeBaseId: kbId, dataSourceId, ingestionJobId }))).ingestionJob;
        return j?.status === 'COMPLETE' ? j.statistics : undefined;
      });
    };
    expect(await sync()).toMatchObject({
      numberOfDocumentsScanned: 3,
      numberOfMetadataDocumentsScanned: 2,
      numberOfNewDocumentsIndexed: 3,
      numberOfDocumentsDeleted: 0,
    });
    expect(
      fakes.bedrockAgent
        .vectors(kbId)
        .map((v) => v.metadata.tenantId)
        .sort(),
    ).toEqual(['acme', 'globex', undefined]);
    await put('docs/a.txt', 'alpha v2');
    await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'docs/b.txt' }, { Key: 'docs/b.txt.metadata.json' }] } }),
    );
    expect(await sync()).toMatchObject({
      numberOfDocumentsScanned: 2,
      numberOfNewDocumentsIndexed: 0,
      numberOfModifiedDocumentsIndexed: 1,
      numberOfDocumentsDeleted: 1,
    });
    expect(fakes.bedrockAgent.vectors(kbId).filter((v) => v.metadata.tenantId === 'globex')).toEqual([]);
    const search = await dataPlane('POST', '/kb-1024/_search', { query: { term: { tenantId: 'acme' } } });
    expect(search.json).toMatchObject({ hits: { total: { value: 1 } } });
    await agent.send(new DeleteDataSourceCommand({ knowledgeBaseId: kbId, dataSourceId }));
    await eventually(() => (fakes.bedrockAgent.vectors(kbId).length === 0 ? true : undefined));
  });
});
