/**
 * A fake of bedrock-agent-runtime's `Retrieve` and `RetrieveAndGenerate` (REST-JSON, signing name
 * `bedrock`) over the vectors the bedrock-agent fake's ingestion stored, in whichever store the
 * knowledge base is on: an OpenSearch Serverless index of the data-plane fake, an S3 Vectors index
 * in moto, or a managed knowledge base's own store (retrieval-sources.ts). Retrieval validates and
 * applies the retrieval filter (retrieval-filter.ts) the same way on each, and scores by word
 * overlap with the query (a stand-in for vector similarity: every document that passes the filter
 * can come back, which is what an isolation test wants). Callers are authorized from their role
 * policies in moto IAM.
 *
 * What it holds a caller to, from bedrock-agent-runtime's model: a managed knowledge base takes
 * `managedSearchConfiguration` (the model's ManagedSearchConfiguration, with the same filter) and
 * no RetrieveAndGenerate ("This API cannot be used with managed knowledge bases"); `startsWith` is
 * "currently only supported for Amazon OpenSearch Serverless vector stores". UNVERIFIED against
 * AWS, so messages are the fake's: that Bedrock refuses `vectorSearchConfiguration` on a managed
 * knowledge base (the model has both members and does not say; the docs' tiers.md says it is
 * refused), and `managedSearchConfiguration` on a vector one; the fake refuses both with a
 * ValidationException, so a gateway that sends the wrong one fails here.
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
import { type Chunk, type FakeStore, chunksOf, storeOfTarget } from './retrieval-sources.js';
import type { Caller, RuntimeAuth } from './bedrock-runtime-auth.js';
import { generateAnswer, type InferenceProfiles } from './bedrock-runtime-converse.js';

/** Which member of retrievalConfiguration a request used. */
export type SearchConfigurationKind = 'vectorSearchConfiguration' | 'managedSearchConfiguration';

/**
 * One retrieval request on an existing knowledge base, for assertions (which KB and store, which
 * configuration and filter, who asked); `refused` holds the ValidationException the fake answered
 * a request it would not serve with.
 */
export interface RetrievalLog {
  operation: 'Retrieve' | 'RetrieveAndGenerate';
  knowledgeBaseId: string;
  store: FakeStore;
  configuration?: SearchConfigurationKind;
  filter?: RetrievalFilter;
  principalArn: string;
  refused?: string;
}

/** A running bedrock-agent-runtime fake. */
export interface BedrockAgentRuntimeFake {
  endpoint: string;
  /** Every request on an existing knowledge base that its caller may read, in order; refused ones with `refused`. */
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

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

interface Hit extends Chunk {
  score: number;
}

function words(s: string): string[] {
  return s.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

function invalid(message: string): AwsError {
  return new AwsError(400, 'ValidationException', message);
}

/** Every operator a (validated) filter uses, at any depth. */
function operatorsOf(f: RetrievalFilter): string[] {
  const [[op, operand]] = Object.entries(f).filter(([, v]) => v !== undefined && v !== null) as [[string, unknown]];
  return op === 'andAll' || op === 'orAll' ? [op, ...(operand as RetrievalFilter[]).flatMap(operatorsOf)] : [op];
}

/**
 * The search settings of a request on a knowledge base in `store`: `managedSearchConfiguration`
 * on a managed one, `vectorSearchConfiguration` on any other; the other member, a bad count or
 * filter, or `startsWith` off OpenSearch Serverless is a ValidationException.
 */
function retrievalOptions(
  cfg: unknown,
  store: FakeStore,
): { filter?: RetrievalFilter; numberOfResults: number; configuration?: SearchConfigurationKind } {
  const c = (cfg ?? {}) as Partial<Record<SearchConfigurationKind, { filter?: unknown; numberOfResults?: unknown }>>;
  const kind: SearchConfigurationKind = store === 'Managed' ? 'managedSearchConfiguration' : 'vectorSearchConfiguration';
  if (store === 'Managed' && c.vectorSearchConfiguration !== undefined)
    throw invalid('vectorSearchConfiguration is not supported for a MANAGED knowledge base; use managedSearchConfiguration.');
  if (store !== 'Managed' && c.managedSearchConfiguration !== undefined)
    throw invalid('managedSearchConfiguration is supported for MANAGED knowledge bases only; use vectorSearchConfiguration.');
  const sc = c[kind];
  const n = sc?.numberOfResults ?? 5;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100)
    throw invalid(`retrievalConfiguration.${kind}.numberOfResults must be between 1 and 100`);
  const filter = sc?.filter as RetrievalFilter | undefined;
  if (filter !== undefined) {
    validateFilter(filter, `retrievalConfiguration.${kind}.filter`);
    if (store !== 'OpenSearchServerless' && operatorsOf(filter).includes('startsWith'))
      throw invalid(`The startsWith filter is only supported for Amazon OpenSearch Serverless vector stores, not ${store}.`);
  }
  return { filter, numberOfResults: n, ...(sc ? { configuration: kind } : {}) };
}

/** A knowledge base and the store its vectors are in; ResourceNotFoundException when it does not exist. */
function knowledgeBase(d: BedrockAgentRuntimeDeps, kbId: string): { store: FakeStore } {
  const kb = d.fakes.bedrockAgent.state.knowledgeBases.get(kbId);
  const t = d.fakes.bedrockAgent.state.targets.get(kbId);
  if (!kb || !t) throw new AwsError(404, 'ResourceNotFoundException', `Knowledge base ${kbId} does not exist`);
  return { store: storeOfTarget(t) };
}

/** Searches a knowledge base's store: chunks passing `filter`, best word overlap first. */
async function search(
  d: BedrockAgentRuntimeDeps,
  kbId: string,
  query: string,
  filter: RetrievalFilter | undefined,
  n: number,
): Promise<Hit[]> {
  const t = d.fakes.bedrockAgent.state.targets.get(kbId);
  if (!t) throw new AwsError(404, 'ResourceNotFoundException', `Knowledge base ${kbId} does not exist`);
  const q = new Set(words(query));
  const hits: Hit[] = [];
  for (const c of await chunksOf(d.fakes.indexes, t)) {
    if (filter && !matchesFilter(filter, c.filterable)) continue;
    const w = words(c.text);
    hits.push({ ...c, score: w.length ? w.filter((x) => q.has(x)).length / w.length : 0 });
  }
  return hits.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id)).slice(0, n);
}

/**
 * The search settings of a request, logging it either way: a request the fake refuses is logged
 * with the reason, so a test can tell "never sent" from "sent and refused".
 */
function optionsLogged(
  cfg: unknown,
  entry: Omit<RetrievalLog, 'filter' | 'configuration' | 'refused'>,
  log: RetrievalLog[],
): ReturnType<typeof retrievalOptions> {
  try {
    const o = retrievalOptions(cfg, entry.store);
    log.push({ ...entry, ...(o.configuration ? { configuration: o.configuration } : {}), filter: o.filter });
    return o;
  } catch (e) {
    if (e instanceof AwsError) log.push({ ...entry, refused: `${e.type}: ${e.message}` });
    throw e;
  }
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
  if (typeof text !== 'string' || text.length === 0) throw invalid('retrievalQuery.text is required');
  const { store } = knowledgeBase(d, kbId);
  const entry = { operation: 'Retrieve' as const, knowledgeBaseId: kbId, store, principalArn: c.principalArn };
  const { filter, numberOfResults } = optionsLogged(b.retrievalConfiguration, entry, log);
  return { status: 200, body: { retrievalResults: (await search(d, kbId, text, filter, numberOfResults)).map(resultView) } };
}

async function retrieveAndGenerate(
  d: BedrockAgentRuntimeDeps,
  c: Caller,
  b: Record<string, unknown>,
  log: RetrievalLog[],
): Promise<FakeResponse> {
  const text = (b.input as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string' || text.length === 0) throw invalid('input.text is required');
  const cfg = b.retrieveAndGenerateConfiguration as { type?: string; knowledgeBaseConfiguration?: Record<string, unknown> } | undefined;
  if (cfg?.type !== 'KNOWLEDGE_BASE' || !cfg.knowledgeBaseConfiguration)
    throw invalid('retrieveAndGenerateConfiguration of type KNOWLEDGE_BASE is required');
  const kbId = str(cfg.knowledgeBaseConfiguration.knowledgeBaseId);
  const modelArn = str(cfg.knowledgeBaseConfiguration.modelArn);
  const kbArn = `arn:aws:bedrock:${d.region ?? 'us-east-1'}:${d.account ?? '123456789012'}:knowledge-base/${kbId}`;
  // bedrock:RetrieveAndGenerate has no resource type (the Service Authorization Reference lists
  // none, so only `*` grants it); reading the knowledge base takes bedrock:Retrieve on its ARN.
  await d.auth.authorize(c, 'bedrock:RetrieveAndGenerate', '*');
  await d.auth.authorize(c, 'bedrock:Retrieve', kbArn);
  const { store } = knowledgeBase(d, kbId);
  const entry = { operation: 'RetrieveAndGenerate' as const, knowledgeBaseId: kbId, store, principalArn: c.principalArn };
  if (store === 'Managed') {
    const e = invalid('RetrieveAndGenerate cannot be used with managed knowledge bases. Use Retrieve with managed knowledge bases.');
    log.push({ ...entry, refused: `${e.type}: ${e.message}` });
    throw e;
  }
  // Generation goes through the model with the caller's own permissions.
  if (!d.profiles.has(modelArn)) throw invalid(`The provided model identifier is invalid: ${modelArn}`);
  await d.auth.authorize(c, 'bedrock:InvokeModel', modelArn);
  const { filter, numberOfResults } = optionsLogged(cfg.knowledgeBaseConfiguration.retrievalConfiguration, entry, log);
  const hits = await search(d, kbId, text, filter, numberOfResults);
  // The answer is capped as Bedrock caps it: generationConfiguration's maxTokens, if given.
  const gen = cfg.knowledgeBaseConfiguration.generationConfiguration as
    { inferenceConfig?: { textInferenceConfig?: { maxTokens?: unknown } } } | undefined;
  const maxTokens = gen?.inferenceConfig?.textInferenceConfig?.maxTokens;
  if (maxTokens !== undefined && (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1))
    throw invalid('generationConfiguration.inferenceConfig.textInferenceConfig.maxTokens must be a positive integer');
  const answer = generateAnswer(`${text} ${hits.map((h) => h.text).join(' ')}`, Math.min(200, maxTokens ?? 200)).text;
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
