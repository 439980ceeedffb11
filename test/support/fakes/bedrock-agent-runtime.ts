/**
 * A fake of bedrock-agent-runtime's `Retrieve` and `RetrieveAndGenerate` (REST-JSON, signing name
 * `bedrock`) over the vectors the bedrock-agent fake indexed during ingestion. Retrieval validates
 * and applies the retrieval filter (retrieval-filter.ts) and scores by word overlap with the query
 * (a stand-in for vector similarity: every document that passes the filter can come back, which is
 * what an isolation test wants). Callers are authorized from their role policies in moto IAM.
 */
import { randomUUID } from 'node:crypto';
import type { AwsFakes } from './index.js';
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
import { type RetrievalFilter, matchesFilter, validateFilter } from './retrieval-filter.js';
import type { Caller, RuntimeAuth } from './bedrock-runtime-auth.js';
import { generateAnswer, type InferenceProfiles } from './bedrock-runtime-converse.js';

/** One retrieval request the fake served, for assertions (which KB, which filter, who asked). */
export interface RetrievalLog {
  operation: 'Retrieve' | 'RetrieveAndGenerate';
  knowledgeBaseId: string;
  filter?: RetrievalFilter;
  principalArn: string;
}

/** A running bedrock-agent-runtime fake. */
export interface BedrockAgentRuntimeFake {
  endpoint: string;
  /** Every request served, in order. */
  log: RetrievalLog[];
  stop(): Promise<void>;
}

/** What the fake reads: the agent fake's knowledge bases and indexes, the profiles, the auth. */
export interface BedrockAgentRuntimeDeps {
  fakes: AwsFakes;
  profiles: InferenceProfiles;
  auth: RuntimeAuth;
  faults: Faults;
  region?: string;
  account?: string;
}

interface Hit {
  id: string;
  text: string;
  uri: string;
  metadata: Record<string, unknown>;
  score: number;
}

const SOURCE = 'x-amz-bedrock-kb-source-uri';
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function words(s: string): string[] {
  return s.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

function retrievalOptions(cfg: unknown): { filter?: RetrievalFilter; numberOfResults: number } {
  const vs = (cfg as { vectorSearchConfiguration?: { filter?: unknown; numberOfResults?: unknown } } | undefined)
    ?.vectorSearchConfiguration;
  const n = vs?.numberOfResults ?? 5;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100)
    throw new AwsError(400, 'ValidationException', 'numberOfResults must be between 1 and 100');
  if (vs?.filter !== undefined) validateFilter(vs.filter, 'retrievalConfiguration.vectorSearchConfiguration.filter');
  return { filter: vs?.filter as RetrievalFilter | undefined, numberOfResults: n };
}

/** Searches a knowledge base's index: documents passing `filter`, best word overlap first. */
function search(d: BedrockAgentRuntimeDeps, kbId: string, query: string, filter: RetrievalFilter | undefined, n: number): Hit[] {
  const kb = d.fakes.bedrockAgent.state.knowledgeBases.get(kbId);
  const t = d.fakes.bedrockAgent.state.targets.get(kbId);
  if (!kb || !t) throw new AwsError(404, 'ResourceNotFoundException', `Knowledge base ${kbId} does not exist`);
  const ix = d.fakes.indexes.get(t.collectionId, t.index);
  const q = new Set(words(query));
  const reserved = new Set([t.vectorField, t.textField, t.metadataField]);
  const hits: Hit[] = [];
  for (const [id, doc] of ix?.docs ?? []) {
    const metadata = Object.fromEntries(Object.entries(doc).filter(([k]) => !reserved.has(k)));
    if (filter && !matchesFilter(filter, metadata)) continue;
    const text = str(doc[t.textField]);
    const w = words(text);
    const overlap = w.filter((x) => q.has(x)).length;
    hits.push({ id, text, uri: str(doc[SOURCE]), metadata, score: w.length ? overlap / w.length : 0 });
  }
  return hits.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, n);
}

const resultView = (h: Hit): Record<string, unknown> => ({
  content: { type: 'TEXT', text: h.text },
  location: { type: 'S3', s3Location: { uri: h.uri } },
  metadata: h.metadata,
  score: h.score,
});

async function retrieve(
  d: BedrockAgentRuntimeDeps,
  c: Caller,
  kbId: string,
  b: Record<string, unknown>,
  log: RetrievalLog[],
): Promise<FakeResponse> {
  const kbArn = `arn:aws:bedrock:${d.region ?? 'us-east-1'}:${d.account ?? '123456789012'}:knowledge-base/${kbId}`;
  await d.auth.authorize(c, 'bedrock:Retrieve', kbArn);
  const text = (b.retrievalQuery as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string' || text.length === 0) throw new AwsError(400, 'ValidationException', 'retrievalQuery.text is required');
  const { filter, numberOfResults } = retrievalOptions(b.retrievalConfiguration);
  log.push({ operation: 'Retrieve', knowledgeBaseId: kbId, filter, principalArn: c.principalArn });
  return { status: 200, body: { retrievalResults: search(d, kbId, text, filter, numberOfResults).map(resultView) } };
}

async function retrieveAndGenerate(
  d: BedrockAgentRuntimeDeps,
  c: Caller,
  b: Record<string, unknown>,
  log: RetrievalLog[],
): Promise<FakeResponse> {
  const text = (b.input as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string' || text.length === 0) throw new AwsError(400, 'ValidationException', 'input.text is required');
  const cfg = b.retrieveAndGenerateConfiguration as { type?: string; knowledgeBaseConfiguration?: Record<string, unknown> } | undefined;
  if (cfg?.type !== 'KNOWLEDGE_BASE' || !cfg.knowledgeBaseConfiguration)
    throw new AwsError(400, 'ValidationException', 'retrieveAndGenerateConfiguration of type KNOWLEDGE_BASE is required');
  const kbId = str(cfg.knowledgeBaseConfiguration.knowledgeBaseId);
  const modelArn = str(cfg.knowledgeBaseConfiguration.modelArn);
  const kbArn = `arn:aws:bedrock:${d.region ?? 'us-east-1'}:${d.account ?? '123456789012'}:knowledge-base/${kbId}`;
  // bedrock:RetrieveAndGenerate has no resource type (the Service Authorization Reference lists
  // none, so only `*` grants it); reading the knowledge base takes bedrock:Retrieve on its ARN.
  await d.auth.authorize(c, 'bedrock:RetrieveAndGenerate', '*');
  await d.auth.authorize(c, 'bedrock:Retrieve', kbArn);
  // Generation goes through the model with the caller's own permissions.
  if (!d.profiles.has(modelArn)) throw new AwsError(400, 'ValidationException', `The provided model identifier is invalid: ${modelArn}`);
  await d.auth.authorize(c, 'bedrock:InvokeModel', modelArn);
  const { filter, numberOfResults } = retrievalOptions(cfg.knowledgeBaseConfiguration.retrievalConfiguration);
  log.push({ operation: 'RetrieveAndGenerate', knowledgeBaseId: kbId, filter, principalArn: c.principalArn });
  const hits = search(d, kbId, text, filter, numberOfResults);
  const answer = generateAnswer(`${text} ${hits.map((h) => h.text).join(' ')}`, 200).text;
  const output = hits.length ? answer : 'Sorry, I am unable to assist you with this request.';
  return {
    status: 200,
    body: {
      sessionId: typeof b.sessionId === 'string' ? b.sessionId : randomUUID(),
      output: { text: output },
      citations: hits.length
        ? [
            {
              generatedResponsePart: { textResponsePart: { text: output, span: { start: 0, end: output.length - 1 } } },
              retrievedReferences: hits.map((h) => ({ content: { text: h.text }, location: resultView(h).location, metadata: h.metadata })),
            },
          ]
        : [],
    },
  };
}

function operationOf(r: FakeRequest): string {
  if (r.method === 'POST' && /^\/knowledgebases\/[^/]+\/retrieve$/.test(r.rawPath)) return 'Retrieve';
  if (r.method === 'POST' && r.rawPath === '/retrieveAndGenerate') return 'RetrieveAndGenerate';
  return 'Unknown';
}

function faultResponse(f: Fault): FakeResponse {
  const status = f.status ?? 500;
  const name = f.name ?? (status === 429 ? 'ThrottlingException' : 'InternalServerException');
  return awsErrorResponse(new AwsError(status, name, f.message ?? `Injected ${name}`));
}

/** Starts the fake on a free loopback port. */
export async function startBedrockAgentRuntimeFake(d: BedrockAgentRuntimeDeps): Promise<BedrockAgentRuntimeFake> {
  const log: RetrievalLog[] = [];
  const handle = async (req: FakeRequest): Promise<FakeResponse> => {
    try {
      const c = await d.auth.caller(req, 'bedrock');
      const op = operationOf(req);
      if (op === 'Retrieve') return await retrieve(d, c, decodeURIComponent(req.rawPath.split('/')[2] ?? ''), jsonBody(req), log);
      if (op === 'RetrieveAndGenerate') return await retrieveAndGenerate(d, c, jsonBody(req), log);
      return awsErrorResponse(new AwsError(404, 'UnknownOperationException', `${req.method} ${req.rawPath} is not served by the fake`));
    } catch (e) {
      if (e instanceof AwsError) return awsErrorResponse(e);
      throw e;
    }
  };
  const server = await startFakeServer(handle, { faults: d.faults, operationOf, faultResponse });
  return { endpoint: server.endpoint, log, stop: () => server.stop() };
}
