/**
 * The tenant gateway on pool tiers of the other two vector stores, over the wire: the real
 * kube-apiserver (TokenReview), the operator making the tiers and tenants Ready and ingesting
 * their documents (into moto's S3 Vectors index, and into the managed knowledge base's own store
 * of the bedrock-agent fake), real Redis, and the bedrock-agent-runtime fake answering from those
 * stores with Bedrock's filter grammar. Each pool tenant retrieves only its own documents on S3
 * Vectors and on Managed; retrieve-and-generate is served on S3 Vectors and refused on Managed with
 * a message saying what to do instead; and the fake refuses what Bedrock's model says a knowledge
 * base of each store does not take, so a gateway sending the wrong configuration would fail here.
 */
import {
  BedrockAgentRuntimeClient,
  RetrieveAndGenerateCommand,
  type RetrieveAndGenerateCommandInput,
  RetrieveCommand,
  type RetrieveCommandInput,
} from '@aws-sdk/client-bedrock-agent-runtime';
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ListVectorsCommand } from '@aws-sdk/client-s3vectors';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { ModelAccess, Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import type { TestCluster } from '../support/cluster.js';
import { type GatewayFakes, type GatewayProcess, createPoolRetrievalRole, startGatewayProcess } from '../support/gateway-env.js';
import {
  GATEWAY_AUDIENCE as AUDIENCE,
  type GatewayStack,
  createAppServiceAccounts,
  projectedToken,
  startGatewayStack,
} from '../support/gateway-stack.js';
import { uniq } from '../support/kube.js';
import { eventually } from '../support/processes.js';
import type { TestRedis } from '../support/redis.js';
import { tenantYaml, tierYaml } from '../support/stack.js';

const MODEL = 'amazon.nova-lite-v1:0';
const ACCOUNT = '123456789012';

let stack: GatewayStack;
let c: TestCluster;
let aws: AwsClients;
let redis: TestRedis;
let fakes: GatewayFakes;
let gw: GatewayProcess;
let runtime: BedrockAgentRuntimeClient;

const s3Tier = uniq('gws3pool');
const mgTier = uniq('gwmgpool');
const s3 = [uniq('sa'), uniq('sb')] as const;
const mg = [uniq('ma'), uniq('mb')] as const;
const kb = { s3: '', mg: '' };
const bucketOf = new Map<string, string>();
const tokens = new Map<string, string>();

const text = (t: string, i: number): string => `document ${i} of ${t}: quarterly numbers and secrets marker-${t}`;
const accessYaml = (tenant: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: ModelAccess\nmetadata: { name: ${tenant}-m }\nspec: { tenantRef: { name: ${tenant} }, model: "${MODEL}", quota: { tokensPerDay: 100000 } }\n`;

async function post(path: string, body: unknown, bearer: string | undefined): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const texts = (b: Record<string, unknown>): string[] => ((b.results as { text: string }[] | undefined) ?? []).map((r) => r.text).sort();

/** The tenantIds of the vectors in an S3 Vectors index, read from moto. */
async function s3TenantIds(vectorBucketName: string, indexName: string): Promise<string[]> {
  const out: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await aws.s3vectors.send(new ListVectorsCommand({ vectorBucketName, indexName, returnMetadata: true, nextToken }));
    for (const v of page.vectors ?? []) out.push(String((v.metadata as Record<string, unknown> | undefined)?.tenantId));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

const perTenant = (ids: string[], ts: readonly string[]): boolean => ts.every((t) => ids.filter((x) => x === t).length === 2);

beforeAll(async () => {
  stack = await startGatewayStack('gwst');
  ({ c, aws, redis, fakes } = stack);
  const all = [...s3, ...mg];
  await c.kube.apply(
    [
      tierYaml(s3Tier, 'pool', ', vectorStore: { type: S3Vectors }'),
      tierYaml(mgTier, 'pool', ', vectorStore: { type: Managed }'),
      ...s3.map((t) => tenantYaml(t, s3Tier)),
      ...mg.map((t) => tenantYaml(t, mgTier)),
    ].join('---\n'),
  );
  await createAppServiceAccounts(c.kube, all);
  for (const t of all) {
    const ready = await c.kube.waitForCondition<Tenant>('Tenant', t, 'Ready', { status: 'True' }, 180_000);
    expect(ready.status?.vectorStore).toBe((s3 as readonly string[]).includes(t) ? 'S3Vectors' : 'Managed');
  }
  const tiers = {
    s3: await c.kube.waitForCondition<TenantTier>('TenantTier', s3Tier, 'Ready', { status: 'True' }, 60_000),
    mg: await c.kube.waitForCondition<TenantTier>('TenantTier', mgTier, 'Ready', { status: 'True' }, 60_000),
  };
  kb.s3 = tiers.s3.status?.shared?.knowledgeBaseId ?? '';
  kb.mg = tiers.mg.status?.shared?.knowledgeBaseId ?? '';
  for (const [tier, ts] of [
    [tiers.s3, s3],
    [tiers.mg, mg],
  ] as const)
    for (const t of ts) {
      bucketOf.set(t, tier.status?.shared?.bucket ?? '');
      for (const i of [0, 1])
        await aws.s3.send(new PutObjectCommand({ Bucket: tier.status?.shared?.bucket, Key: `tenants/${t}/d${i}.txt`, Body: text(t, i) }));
    }
  for (const tier of [s3Tier, mgTier])
    await c.kube.kubectl('annotate', '--overwrite', 'tenanttier', tier, 'rag.tenancy.dev/sync-requested-at=st1');
  const shared = tiers.s3.status?.shared ?? {};
  await eventually(
    async () =>
      perTenant(await s3TenantIds(shared.vectorBucketName ?? '', shared.vectorIndexName ?? ''), s3) &&
      perTenant(
        c.fakes.bedrockAgent.vectors(kb.mg).map((v) => String(v.metadata.tenantId)),
        mg,
      )
        ? true
        : undefined,
    120_000,
    "every tenant's two documents in the S3 Vectors index and in the managed knowledge base",
    500,
  );
  // A model grant for one tenant of each tier: retrieve-and-generate is served on S3 Vectors, and
  // refused on Managed for the store's sake, not for want of a grant.
  await c.kube.apply([accessYaml(s3[0]), accessYaml(mg[0])].join('---\n'));
  for (const t of [s3[0], mg[0]]) await c.kube.waitForCondition<ModelAccess>('ModelAccess', `${t}-m`, 'Ready', { status: 'True' }, 120_000);
  // The retrieval role: the two pool knowledge bases only, and the account's inference profiles.
  const role = await createPoolRetrievalRole(aws.iam, {
    account: ACCOUNT,
    roleName: 'rag-gw-stores',
    knowledgeBaseId: kb.s3,
    invokeProfiles: true,
  });
  await aws.iam.send(
    new PutRolePolicyCommand({
      RoleName: 'rag-gw-stores',
      PolicyName: 'retrieve-managed-pool',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'bedrock:Retrieve', Resource: `arn:aws:bedrock:us-east-1:${ACCOUNT}:knowledge-base/${kb.mg}` },
        ],
      }),
    }),
  );
  gw = await startGatewayProcess(c.cp.kubeconfig, stack.logDir, {
    ...fakes.env,
    GATEWAY_REDIS_URL: redis.url,
    GATEWAY_RETRIEVAL_ROLE_ARN: role,
    GATEWAY_TOKEN_AUDIENCE: AUDIENCE,
    GATEWAY_DEFAULT_MAX_TOKENS: '100',
    GATEWAY_CONTEXT_TOKENS_PER_RESULT: '50',
  });
  for (const t of all) tokens.set(t, await projectedToken(c.kube, t));
  // The fake as any caller with the operator's key would reach it (not evaluated against IAM).
  runtime = new BedrockAgentRuntimeClient({
    region: 'us-east-1',
    endpoint: fakes.agentRuntime.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 1,
    // HTTP/1.1, as the gateway sends it: the fake does not speak HTTP/2.
    requestHandler: new NodeHttpHandler(),
  });
}, 600_000);

afterAll(async () => {
  runtime?.destroy();
  await gw?.stop();
  await stack?.stop();
});

describe('pool retrieval through the gateway on S3 Vectors and Managed tiers', () => {
  it.each([
    ['S3Vectors', 'vectorSearchConfiguration', s3],
    ['Managed', 'managedSearchConfiguration', mg],
  ] as const)('%s: each tenant retrieves its own documents and none of the other’s, sent with %s', async (_store, configuration, ts) => {
    for (const [a, b] of [
      [ts[0], ts[1]],
      [ts[1], ts[0]],
    ] as const) {
      fakes.agentRuntime.log.length = 0;
      const r = await post(
        '/v1/retrieve',
        { query: `quarterly numbers and secrets marker-${b} of ${b}`, numberOfResults: 100 },
        tokens.get(a),
      );
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(texts(r.body), `${a} asking for ${b}'s documents`).toEqual([text(a, 0), text(a, 1)].sort());
      expect(JSON.stringify(r.body)).not.toContain(`marker-${b}`);
      expect(fakes.agentRuntime.log).toEqual([
        expect.objectContaining({
          operation: 'Retrieve',
          configuration,
          filter: { equals: { key: 'tenantId', value: a } },
          principalArn: `arn:aws:iam::${ACCOUNT}:role/rag-gw-stores`,
        }),
      ]);
      expect(fakes.agentRuntime.log[0]?.refused).toBeUndefined();
    }
  });

  it.each([
    ['S3Vectors', s3],
    ['Managed', mg],
  ] as const)('%s: a caller filter naming the other tenant’s documents by source narrows to nothing', async (_store, ts) => {
    const [a, b] = ts;
    /** Documents by their source URI, under either store's metadata key for it. */
    const bySource = (t: string, docs: number[]) => {
      const uris = docs.map((i) => `s3://${bucketOf.get(t) ?? ''}/tenants/${t}/d${i}.txt`);
      return { orAll: [{ in: { key: 'x-amz-bedrock-kb-source-uri', value: uris } }, { in: { key: '_source_uri', value: uris } }] };
    };
    const theirs = await post(
      '/v1/retrieve',
      { query: `secrets of ${b}`, numberOfResults: 100, filter: bySource(b, [0, 1]) },
      tokens.get(a),
    );
    expect(theirs.status, JSON.stringify(theirs.body)).toBe(200);
    expect(texts(theirs.body)).toEqual([]);
    // The same filter on the caller's own document finds it: the filter reaches the store.
    const own = await post('/v1/retrieve', { query: 'x', numberOfResults: 100, filter: bySource(a, [1]) }, tokens.get(a));
    expect(texts(own.body)).toEqual([text(a, 1)]);
  });

  it('retrieve-and-generate: served on S3 Vectors from the caller’s documents, refused on Managed saying to use retrieve and chat', async () => {
    const ok = await post(
      '/v1/retrieve-and-generate',
      { query: `secrets of ${s3[1]}`, model: MODEL, numberOfResults: 100 },
      tokens.get(s3[0]),
    );
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(JSON.stringify(ok.body)).toContain(`marker-${s3[0]}`);
    expect(JSON.stringify(ok.body)).not.toContain(`marker-${s3[1]}`);

    fakes.agentRuntime.log.length = 0;
    const refused = await post('/v1/retrieve-and-generate', { query: 'numbers', model: MODEL }, tokens.get(mg[0]));
    expect(refused.status).toBe(400);
    const error = refused.body.error as { type: string; message: string };
    expect(error.type).toBe('invalid_request');
    expect(error.message).toContain('Bedrock-managed knowledge base');
    expect(error.message).toContain('Use POST /v1/retrieve, then POST /v1/chat/completions');
    // Refused by the gateway: nothing reached Bedrock.
    expect(fakes.agentRuntime.log).toEqual([]);
  });
});

describe('the bedrock-agent-runtime fake holds callers to the model', () => {
  const retrieve = (i: Partial<RetrieveCommandInput>) =>
    runtime.send(new RetrieveCommand({ knowledgeBaseId: kb.mg, retrievalQuery: { text: 'secrets' }, ...i }));

  it('a managed knowledge base takes managedSearchConfiguration, and without a filter returns every tenant’s documents', async () => {
    const all = await retrieve({ retrievalConfiguration: { managedSearchConfiguration: { numberOfResults: 100 } } });
    expect((all.retrievalResults ?? []).map((x) => x.content?.text).sort()).toEqual(mg.flatMap((t) => [text(t, 0), text(t, 1)]).sort());
    expect(all.retrievalResults?.[0]?.metadata).toHaveProperty('tenantId');
    await expect(retrieve({ retrievalConfiguration: { vectorSearchConfiguration: { numberOfResults: 5 } } })).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/vectorSearchConfiguration is not supported for a MANAGED knowledge base/) as unknown,
    });
    await expect(
      retrieve({
        retrievalConfiguration: { managedSearchConfiguration: { filter: { startsWith: { key: 'tenantId', value: mg[0] } } } },
      }),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('refuses RetrieveAndGenerate on a managed knowledge base, and logs the refusal', async () => {
    fakes.agentRuntime.log.length = 0;
    const input: RetrieveAndGenerateCommandInput = {
      input: { text: 'numbers' },
      retrieveAndGenerateConfiguration: {
        type: 'KNOWLEDGE_BASE',
        knowledgeBaseConfiguration: {
          knowledgeBaseId: kb.mg,
          modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0',
        },
      },
    };
    await expect(runtime.send(new RetrieveAndGenerateCommand(input))).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/cannot be used with managed knowledge bases/) as unknown,
    });
    expect(fakes.agentRuntime.log).toEqual([expect.objectContaining({ operation: 'RetrieveAndGenerate', store: 'Managed' })]);
    expect(fakes.agentRuntime.log[0]?.refused).toMatch(/^ValidationException: /);
  });

  it('an S3 Vectors knowledge base takes vectorSearchConfiguration, filters only filterable metadata, and refuses startsWith', async () => {
    const s3Retrieve = (i: Partial<RetrieveCommandInput>) => retrieve({ knowledgeBaseId: kb.s3, ...i });
    const mine = await s3Retrieve({
      retrievalConfiguration: {
        vectorSearchConfiguration: { numberOfResults: 100, filter: { equals: { key: 'tenantId', value: s3[1] } } },
      },
    });
    expect((mine.retrievalResults ?? []).map((x) => x.content?.text).sort()).toEqual([text(s3[1], 0), text(s3[1], 1)].sort());
    // Bedrock's chunk text is a non-filterable key of the index: a filter on it matches nothing.
    const onText = await s3Retrieve({
      retrievalConfiguration: {
        vectorSearchConfiguration: { numberOfResults: 100, filter: { equals: { key: 'AMAZON_BEDROCK_TEXT', value: text(s3[1], 0) } } },
      },
    });
    expect(onText.retrievalResults).toEqual([]);
    await expect(s3Retrieve({ retrievalConfiguration: { managedSearchConfiguration: { numberOfResults: 5 } } })).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(
      s3Retrieve({ retrievalConfiguration: { vectorSearchConfiguration: { filter: { startsWith: { key: 'tenantId', value: 's' } } } } }),
    ).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringMatching(/only supported for Amazon OpenSearch Serverless/) as unknown,
    });
  });
});
