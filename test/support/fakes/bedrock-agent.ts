/**
 * A fake of the bedrock-agent API (REST-JSON, as `@aws-sdk/client-bedrock-agent` sends it) for
 * knowledge bases on OpenSearch Serverless, their S3 data sources and ingestion jobs. It validates
 * against moto (IAM role, S3 objects), ministack (collection, policies) and the data-plane fake
 * (index), and keeps the vectors in the data-plane fake's indexes.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import type { AossControlPlane } from './aoss-access.js';
import type { IndexStore } from './aoss-data-plane.js';
import * as ds from './bedrock-data-sources.js';
import { type FakeVector, readVectors } from './bedrock-ingestion.js';
import * as kb from './bedrock-knowledge-bases.js';
import { type BedrockAgentOptions, type BedrockContext, BedrockState, DEFAULT_BEDROCK_OPTIONS } from './bedrock-state.js';
import {
  AwsError,
  awsErrorResponse,
  type Fault,
  type FakeRequest,
  type FakeResponse,
  type Faults,
  jsonBody,
  startFakeServer,
} from './http.js';
import { type FakeCredential, verifySigV4 } from './sigv4.js';

/** A running bedrock-agent fake. */
export interface BedrockAgentFake {
  endpoint: string;
  /** Timings and quotas; change them at run time. */
  options: BedrockAgentOptions;
  state: BedrockState;
  /** The vectors of a knowledge base (optionally of one data source), read from its index. */
  vectors(knowledgeBaseId: string, dataSourceId?: string): FakeVector[];
  /** Forgets every knowledge base, data source and job. */
  reset(): void;
  stop(): Promise<void>;
}

/** Where the fake finds the other emulators. */
export interface BedrockAgentDeps {
  /** moto: IAM roles and S3 objects. */
  motoEndpoint: string;
  control: AossControlPlane;
  store: IndexStore;
  faults: Faults;
  credentials: Record<string, FakeCredential>;
  account?: string;
  region?: string;
  options?: Partial<BedrockAgentOptions>;
}

type Handler = (c: BedrockContext, p: string[], body: Record<string, unknown>, req: FakeRequest) => Promise<FakeResponse> | FakeResponse;

/** Routes: method, path pattern (`*` is a path parameter), operation name and handler. */
const ROUTES: [string, string, string, Handler][] = [
  ['PUT', 'knowledgebases', 'CreateKnowledgeBase', (c, _p, b) => kb.createKnowledgeBase(c, b)],
  ['POST', 'knowledgebases', 'ListKnowledgeBases', (c, _p, b) => kb.listKnowledgeBases(c, b)],
  ['GET', 'knowledgebases/*', 'GetKnowledgeBase', (c, p) => kb.getKnowledgeBase(c, p[0] ?? '')],
  ['PUT', 'knowledgebases/*', 'UpdateKnowledgeBase', (c, p, b) => kb.updateKnowledgeBase(c, p[0] ?? '', b)],
  ['DELETE', 'knowledgebases/*', 'DeleteKnowledgeBase', (c, p) => kb.deleteKnowledgeBase(c, p[0] ?? '')],
  ['PUT', 'knowledgebases/*/datasources', 'CreateDataSource', (c, p, b) => ds.createDataSource(c, p[0] ?? '', b)],
  ['POST', 'knowledgebases/*/datasources', 'ListDataSources', (c, p, b) => ds.listDataSources(c, p[0] ?? '', b)],
  ['GET', 'knowledgebases/*/datasources/*', 'GetDataSource', (c, p) => ds.getDataSource(c, p[0] ?? '', p[1] ?? '')],
  ['PUT', 'knowledgebases/*/datasources/*', 'UpdateDataSource', (c, p, b) => ds.updateDataSource(c, p[0] ?? '', p[1] ?? '', b)],
  ['DELETE', 'knowledgebases/*/datasources/*', 'DeleteDataSource', (c, p) => ds.deleteDataSource(c, p[0] ?? '', p[1] ?? '')],
  [
    'PUT',
    'knowledgebases/*/datasources/*/ingestionjobs',
    'StartIngestionJob',
    (c, p, b) => ds.startIngestionJob(c, p[0] ?? '', p[1] ?? '', b),
  ],
  [
    'POST',
    'knowledgebases/*/datasources/*/ingestionjobs',
    'ListIngestionJobs',
    (c, p, b) => ds.listIngestionJobs(c, p[0] ?? '', p[1] ?? '', b),
  ],
  [
    'GET',
    'knowledgebases/*/datasources/*/ingestionjobs/*',
    'GetIngestionJob',
    (c, p) => ds.getIngestionJob(c, p[0] ?? '', p[1] ?? '', p[2] ?? ''),
  ],
  [
    'POST',
    'knowledgebases/*/datasources/*/ingestionjobs/*/stop',
    'StopIngestionJob',
    (c, p) => ds.stopIngestionJob(c, p[0] ?? '', p[1] ?? '', p[2] ?? ''),
  ],
  ['GET', 'tags/*', 'ListTagsForResource', (c, p, b, r) => kb.tagOperation(c, r.method, p[0] ?? '', b, [])],
  ['POST', 'tags/*', 'TagResource', (c, p, b, r) => kb.tagOperation(c, r.method, p[0] ?? '', b, [])],
  ['DELETE', 'tags/*', 'UntagResource', (c, p, b, r) => kb.tagOperation(c, r.method, p[0] ?? '', b, [r.query.tagKeys ?? []].flat())],
];

function match(req: FakeRequest): { operation: string; handler: Handler; params: string[] } | undefined {
  const segs = req.rawPath.split('/').filter(Boolean).map(decodeURIComponent);
  for (const [method, pattern, operation, handler] of ROUTES) {
    const parts = pattern.split('/');
    if (method !== req.method || parts.length !== segs.length) continue;
    if (parts.every((p, i) => p === '*' || p === segs[i])) return { operation, handler, params: segs.filter((_, i) => parts[i] === '*') };
  }
  return undefined;
}

function faultResponse(f: Fault): FakeResponse {
  const status = f.status ?? 500;
  const name = f.name ?? (status === 429 ? 'ThrottlingException' : 'InternalServerException');
  return awsErrorResponse(new AwsError(status, name, f.message ?? `Injected ${name}`));
}

/** Starts the bedrock-agent fake on a free loopback port. */
export async function startBedrockAgentFake(d: BedrockAgentDeps): Promise<BedrockAgentFake> {
  const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };
  const region = d.region ?? 'us-east-1';
  const state = new BedrockState();
  const options = { ...DEFAULT_BEDROCK_OPTIONS, ...d.options };
  const ctx: BedrockContext = {
    options,
    state,
    s3: new S3Client({ region, endpoint: d.motoEndpoint, forcePathStyle: true, credentials, maxAttempts: 1 }),
    iam: new IAMClient({ region, endpoint: d.motoEndpoint, credentials, maxAttempts: 1 }),
    control: d.control,
    store: d.store,
    account: d.account ?? '123456789012',
    region,
  };
  const handle = async (req: FakeRequest): Promise<FakeResponse> => {
    const auth = await verifySigV4(req, 'bedrock', d.credentials);
    if (!auth.ok) {
      const type = { missing: 'MissingAuthenticationTokenException', 'unknown-key': 'UnrecognizedClientException' }[auth.reason as string];
      return awsErrorResponse(new AwsError(403, type ?? 'InvalidSignatureException', auth.message));
    }
    const m = match(req);
    if (!m)
      return awsErrorResponse(new AwsError(404, 'UnknownOperationException', `${req.method} ${req.rawPath} is not served by the fake`));
    return m.handler(ctx, m.params, req.method === 'GET' || req.method === 'DELETE' ? {} : jsonBody(req), req);
  };
  const server = await startFakeServer(handle, { faults: d.faults, operationOf: (r) => match(r)?.operation ?? 'Unknown', faultResponse });
  return {
    endpoint: server.endpoint,
    options,
    state,
    vectors(knowledgeBaseId, dataSourceId) {
      const target = state.targets.get(knowledgeBaseId);
      return target ? readVectors(d.store, target, dataSourceId) : [];
    },
    reset: () => state.clear(),
    async stop() {
      state.clear();
      await server.stop();
      ctx.s3.destroy();
      ctx.iam.destroy();
    },
  };
}
