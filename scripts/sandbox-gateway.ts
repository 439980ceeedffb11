/**
 * The sandbox's tenant gateway: Redis (Debian's redis-server), the Bedrock runtime fakes, a
 * retrieval role for pool tenants, and one gateway process; documents for acme (pool) and globex
 * (bridge), synced into their knowledge bases; and the curl line that retrieves acme's documents
 * through the gateway with acme's own service account token. `check` runs that request and
 * says whether it returned acme's documents and nothing of anyone else's.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import type { AwsClients } from '../src/adapters/aws/clients.js';
import type { AwsFakes } from '../test/support/fakes/index.js';
import type { BedrockModelsFake } from '../test/support/fakes/bedrock-models.js';
import { createPoolRetrievalRole, startGatewayFakes, startGatewayProcess } from '../test/support/gateway-env.js';
import type { TestKube } from '../test/support/kube.js';
import type { Moto } from '../test/support/moto.js';
import { eventually } from '../test/support/processes.js';
import { startRedis } from '../test/support/redis.js';

const ACCOUNT = '123456789012';
const AUDIENCE = 'tenant-rag-gateway';
/** The sample tenant whose documents the curl line retrieves, and its service account. */
const CALLER = { tenant: 'acme', namespace: 'acme', serviceAccount: 'rag-app' };

/** What the sandbox has running that the gateway needs. */
export interface SandboxParts {
  state: string;
  kubeconfig: string;
  kube: TestKube;
  aws: AwsClients;
  moto: Moto;
  fakes: AwsFakes;
  bedrock: BedrockModelsFake;
  say(msg: string): void;
}

/** The running gateway and what stops it. */
export interface SandboxGateway {
  url: string;
  /** The curl line a newcomer can paste. */
  curl: string;
  /** Runs the curl line's request: 0 when it returns acme's documents only. */
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
  const [redis, runtime] = await Promise.all([startRedis(join(p.state, 'redis.log')), startGatewayFakes(p)]);
  stops.unshift(
    () => redis.stop(),
    () => runtime.stop(),
  );
  await seedDocuments(p, deadline);
  const pool = (await status<{ shared?: Shared }>(p.kube, 'tenanttier', 'basic'))?.shared ?? {};
  const gw = await startGatewayProcess(p.kubeconfig, p.state, {
    ...runtime.env,
    GATEWAY_REDIS_URL: redis.url,
    GATEWAY_TOKEN_AUDIENCE: AUDIENCE,
    GATEWAY_RETRIEVAL_ROLE_ARN: await createPoolRetrievalRole(p.aws.iam, {
      account: ACCOUNT,
      roleName: 'rag-sandbox-gateway-retrieval',
      knowledgeBaseId: pool.knowledgeBaseId ?? '',
    }),
  });
  stops.unshift(() => gw.stop());
  p.say(`tenant gateway at ${gw.url} (log: .sandbox/${gw.logFile.split('/').pop() ?? ''}), quotas in Redis at ${redis.url}`);
  const token = `$(kubectl create token ${CALLER.serviceAccount} -n ${CALLER.namespace} --audience ${AUDIENCE})`;
  const curl =
    `curl -s ${gw.url}/v1/retrieve -H "Authorization: Bearer ${token}" ` + `-H 'content-type: application/json' -d '{"query": "handbook"}'`;
  return {
    url: gw.url,
    curl,
    stops,
    async check() {
      const bearer = (
        await p.kube.kubectl('create', 'token', CALLER.serviceAccount, '-n', CALLER.namespace, '--audience', AUDIENCE)
      ).trim();
      const res = await fetch(`${gw.url}/v1/retrieve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'handbook' }),
      });
      const body = (await res.json()) as { tenant?: string; results?: { text?: string }[] };
      const texts = (body.results ?? []).map((r) => r.text ?? '');
      p.say(`acme's retrieval through the gateway: HTTP ${res.status}, ${texts.length} result(s): ${JSON.stringify(texts)}`);
      const ok = res.ok && texts.length > 0 && texts.every((t) => t.startsWith('Acme')) && !texts.some((t) => t.includes('Globex'));
      if (!ok) p.say("the gateway did not return acme's documents alone");
      return ok ? 0 : 1;
    },
  };
}
