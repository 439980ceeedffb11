/**
 * The sandbox's tenant gateway: the Bedrock runtime fakes, a retrieval role for pool tenants, and
 * one gateway process counting quotas in the sandbox's Redis (the one the operator reads as its
 * gatewayRedis); documents for acme (pool) and globex (bridge), synced into their knowledge bases;
 * and the curl lines that retrieve acme's documents and call acme's model through the gateway with
 * acme's own service account token. `check` runs both requests and says whether the retrieval
 * returned acme's documents and nothing of anyone else's, and whether the chat completion's tokens
 * reached acme-claude's and acme's status as gateway usage.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from '../src/adapters/aws/clients.js';
import type { AwsFakes } from '../test/support/fakes/index.js';
import type { BedrockModelsFake } from '../test/support/fakes/bedrock-models.js';
import { createPoolRetrievalRole, startGatewayFakes, startGatewayProcess } from '../test/support/gateway-env.js';
import type { TestKube } from '../test/support/kube.js';
import type { Moto } from '../test/support/moto.js';
import { eventually } from '../test/support/processes.js';
import type { TestRedis } from '../test/support/redis.js';

const ACCOUNT = '123456789012';
const AUDIENCE = 'tenant-rag-gateway';
/** The sample tenant whose documents the curl line retrieves, and its service account. */
const CALLER = { tenant: 'acme', namespace: 'acme', serviceAccount: 'rag-app' };
/** The sample ModelAccess granting acme its model, which the chat line calls. */
const ACCESS = 'acme-claude';
/** How long the operator may take to show the chat's tokens on status (gatewayRedis.pollSeconds plus a pass). */
const USAGE_WAIT_MS = 60_000;

/** What the sandbox has running that the gateway needs. */
export interface SandboxParts {
  state: string;
  kubeconfig: string;
  kube: TestKube;
  aws: AwsClients;
  moto: Moto;
  fakes: AwsFakes;
  bedrock: BedrockModelsFake;
  /** Where the gateway keeps its quota counters; the operator reads them (gatewayRedis). */
  redis: TestRedis;
  say(msg: string): void;
}

/** The running gateway and what stops it. */
export interface SandboxGateway {
  url: string;
  /** The curl line a newcomer can paste: acme's retrieval. */
  curl: string;
  /** The curl line of a chat completion on acme's model. */
  chatCurl: string;
  /** The kubectl line that shows the gateway's usage on acme-claude's status. */
  usageCommand: string;
  /**
   * Runs both curl lines' requests: 0 when the retrieval returns acme's documents only and the
   * chat completion's tokens show as gateway usage on acme-claude's and acme's status.
   */
  check(): Promise<number>;
  stops: (() => Promise<void>)[];
}

interface Shared {
  bucket?: string;
  knowledgeBaseId?: string;
}

async function status<T>(kube: TestKube, kind: string, name: string): Promise<T | undefined> {
  return (JSON.parse(await kube.kubectl('get', kind, name, '-o', 'json')) as { status?: T }).status;
}

/** Puts one document per sample tenant and syncs it, waiting for both ingestion jobs. */
async function seedDocuments(p: SandboxParts, deadline: number): Promise<void> {
  const tier = (await status<{ shared?: Shared }>(p.kube, 'tenanttier', 'basic'))?.shared ?? {};
  const globex = (await status<{ resources?: { bucket?: string; prefix?: string } }>(p.kube, 'tenant', 'globex'))?.resources ?? {};
  const docs: [string | undefined, string, string][] = [
    [tier.bucket, 'tenants/acme/handbook.txt', 'Acme handbook: the onboarding handbook of Acme Corp.'],
    [globex.bucket, `${globex.prefix ?? 'tenants/globex/'}handbook.txt`, 'Globex handbook: the confidential handbook of Globex.'],
  ];
  const put = Date.now();
  for (const [bucket, key, body] of docs) await p.aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  type Ingestion = { ingestion?: { lastStartedAt?: string; lastStatus?: string } };
  const jobOf = async (kind: string, name: string): Promise<Ingestion['ingestion']> =>
    (await status<Ingestion>(p.kube, kind, name))?.ingestion;
  const at = `sandbox-${Date.now()}`;
  await p.kube.kubectl('annotate', '--overwrite', 'tenanttier', 'basic', `rag.tenancy.dev/sync-requested-at=${at}`);
  await p.kube.kubectl('annotate', '--overwrite', 'tenant', 'globex', `rag.tenancy.dev/sync-requested-at=${at}`);
  // A job started after the documents went in, and finished (status times are to the second).
  const done = async (kind: string, name: string): Promise<boolean> => {
    const i = await jobOf(kind, name);
    return !!i?.lastStartedAt && Date.parse(i.lastStartedAt) >= Math.floor(put / 1000) * 1000 && i.lastStatus === 'COMPLETE';
  };
  await eventually(
    async () => ((await done('tenanttier', 'basic')) && (await done('tenant', 'globex')) ? true : undefined),
    Math.max(deadline - Date.now(), 1),
    "acme's and globex's documents to be synced",
    1_000,
  );
}

/** Starts the gateway beside the sandbox's operator, once every sample is Ready. */
export async function startSandboxGateway(p: SandboxParts, deadline: number): Promise<SandboxGateway> {
  const stops: (() => Promise<void>)[] = [];
  const runtime = await startGatewayFakes(p);
  stops.unshift(() => runtime.stop());
  await seedDocuments(p, deadline);
  const pool = (await status<{ shared?: Shared }>(p.kube, 'tenanttier', 'basic'))?.shared ?? {};
  const gw = await startGatewayProcess(p.kubeconfig, p.state, {
    ...runtime.env,
    GATEWAY_REDIS_URL: p.redis.url,
    GATEWAY_TOKEN_AUDIENCE: AUDIENCE,
    GATEWAY_RETRIEVAL_ROLE_ARN: await createPoolRetrievalRole(p.aws.iam, {
      account: ACCOUNT,
      roleName: 'rag-sandbox-gateway-retrieval',
      knowledgeBaseId: pool.knowledgeBaseId ?? '',
    }),
  });
  stops.unshift(() => gw.stop());
  p.say(`tenant gateway at ${gw.url} (log: .sandbox/${gw.logFile.split('/').pop() ?? ''}), quotas in Redis at ${p.redis.url}`);
  const token = `$(kubectl create token ${CALLER.serviceAccount} -n ${CALLER.namespace} --audience ${AUDIENCE})`;
  const curl =
    `curl -s ${gw.url}/v1/retrieve -H "Authorization: Bearer ${token}" ` + `-H 'content-type: application/json' -d '{"query": "handbook"}'`;
  const model = (JSON.parse(await p.kube.kubectl('get', 'modelaccess', ACCESS, '-o', 'json')) as { spec: { model: string } }).spec.model;
  const chatBody = { model, max_tokens: 64, messages: [{ role: 'user', content: 'Summarise the onboarding handbook.' }] };
  const chatCurl =
    `curl -s ${gw.url}/v1/chat/completions -H "Authorization: Bearer ${token}" ` +
    `-H 'content-type: application/json' -d '${JSON.stringify(chatBody)}'`;
  const bearer = async (): Promise<string> =>
    (await p.kube.kubectl('create', 'token', CALLER.serviceAccount, '-n', CALLER.namespace, '--audience', AUDIENCE)).trim();
  const post = (path: string, body: unknown, auth: string): Promise<Response> =>
    fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  /** acme's retrieval: 0 when it returns acme's documents and nothing of anyone else's. */
  const checkRetrieval = async (auth: string): Promise<number> => {
    const res = await post('/v1/retrieve', { query: 'handbook' }, auth);
    const body = (await res.json()) as { tenant?: string; results?: { text?: string }[] };
    const texts = (body.results ?? []).map((r) => r.text ?? '');
    p.say(`acme's retrieval through the gateway: HTTP ${res.status}, ${texts.length} result(s): ${JSON.stringify(texts)}`);
    const ok = res.ok && texts.length > 0 && texts.every((t) => t.startsWith('Acme')) && !texts.some((t) => t.includes('Globex'));
    if (!ok) p.say("the gateway did not return acme's documents alone");
    return ok ? 0 : 1;
  };

  /** acme's chat completion: 0 when its tokens show as gateway usage on acme-claude's and acme's status. */
  const checkChat = async (auth: string): Promise<number> => {
    const res = await post('/v1/chat/completions', chatBody, auth);
    const body = (await res.json()) as { usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } };
    const served = body.usage?.total_tokens ?? 0;
    p.say(
      `acme's chat completion through the gateway: HTTP ${res.status}, ${served} token(s) ` +
        `(${body.usage?.prompt_tokens ?? 0} in, ${body.usage?.completion_tokens ?? 0} out)`,
    );
    if (!res.ok || served <= 0) {
      p.say(`the gateway did not serve acme's chat completion: ${JSON.stringify(body)}`);
      return 1;
    }
    // The gateway's counter is the only one that knows of this call (CloudWatch is seeded, not
    // fed by the fakes), so the status must show exactly its tokens as gateway usage.
    type Usage = { usage?: { totalTokens?: number; gateway?: { totalTokens?: number }; cloudWatch?: { totalTokens?: number } } };
    const usageOf = async (kind: string, name: string): Promise<Usage['usage']> => (await status<Usage>(p.kube, kind, name))?.usage;
    try {
      const [access, tenant] = await eventually(
        async () => {
          const u = [await usageOf('modelaccess', ACCESS), await usageOf('tenant', CALLER.tenant)];
          return u.every((x) => x?.gateway?.totalTokens === served) ? u : undefined;
        },
        USAGE_WAIT_MS,
        `the chat's ${served} tokens as gateway usage on ModelAccess/${ACCESS} and Tenant/${CALLER.tenant}`,
        1_000,
      );
      const line = (what: string, u: Usage['usage']): string =>
        `${what} gateway ${u?.gateway?.totalTokens ?? 0}, CloudWatch ${u?.cloudWatch?.totalTokens ?? 0}, counted once ${u?.totalTokens ?? 0}`;
      p.say(`usage on status (tokens this month): ${line(`ModelAccess/${ACCESS}`, access)}; ${line(`Tenant/${CALLER.tenant}`, tenant)}`);
      return 0;
    } catch {
      p.say(`the chat's tokens did not show as gateway usage on status in time; see .sandbox/operator.log`);
      return 1;
    }
  };

  return {
    url: gw.url,
    curl,
    chatCurl,
    usageCommand: `kubectl get modelaccess ${ACCESS} -o jsonpath='{.status.usage}'`,
    stops,
    async check() {
      const auth = await bearer();
      const retrieval = await checkRetrieval(auth);
      const chat = await checkChat(auth);
      return retrieval || chat;
    },
  };
}
