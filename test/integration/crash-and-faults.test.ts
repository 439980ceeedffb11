/**
 * Crash safety and fault tolerance over the wire: the operator is killed with SIGKILL right
 * after each kind of create (and, for the resources whose ids AWS assigns, while AWS holds the
 * answer to a create it has carried out), restarted each time, and must finish onboarding with
 * exactly one of everything; throttling and 5xx on every AWS API the operator calls (the fakes'
 * bedrock-agent and data plane, and through a proxy moto's S3, IAM and KMS and ministack's
 * OpenSearch Serverless) never reach a status (Synced stays True or absent) and the tenant still
 * becomes Ready.
 */
import { readFile } from 'node:fs/promises';
import { ListAliasesCommand } from '@aws-sdk/client-kms';
import { ListCollectionsCommand, ListSecurityPoliciesCommand } from '@aws-sdk/client-opensearchserverless';
import { ListDataSourcesCommand, ListKnowledgeBasesCommand } from '@aws-sdk/client-bedrock-agent';
import { ListRolesCommand } from '@aws-sdk/client-iam';
import { ListPodIdentityAssociationsCommand } from '@aws-sdk/client-eks';
import { ListIndexesCommand, ListVectorBucketsCommand } from '@aws-sdk/client-s3vectors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { Tenant } from '../../src/api/v1alpha1/types.js';
import { clientsFor } from '../support/aws.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { eventually } from '../support/processes.js';
import { startAwsProxy } from '../support/aws-proxy.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { EKS_CLUSTER_ARN } from '../support/ministack.js';

let c: TestCluster;
let aws: AwsClients;
let op: OperatorProcess | undefined;

beforeAll(async () => {
  c = await startTestCluster();
  aws = clientsFor(c.moto, c.ministack, c.fakes);
});
afterAll(async () => {
  await op?.stop();
  await c?.stop();
});

// Each restart keeps the killed process's identity, as a pod restarted in place would, so it takes
// its own unexpired lease back at once instead of waiting out the lease duration.
const start = (env?: Record<string, string>): Promise<OperatorProcess> =>
  startOperatorProcess(c.cp.kubeconfig, { cluster: c, identity: 'crash-op', settings: { resyncSeconds: 3600 }, env });

/**
 * moto answers in a millisecond, so an operator can make the next kinds before the kill reaches
 * it; answers that take as long as AWS's make every create its own moment.
 */
const AWS_LIKE_LATENCY_MS = 150;
const manifest = (tier: string, tenant: string, store = 'OpenSearchServerless'): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${tier} }\nspec: { isolation: silo, storage: { encryption: TenantKey }, vectorStore: { type: ${store} } }\n---\n` +
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${tenant} }\nspec: { tier: ${tier}, deletionPolicy: Delete, access: { podIdentity: { namespace: ${tenant}, serviceAccount: app } } }\n`;

/** Whether the operator logged that it created a resource of `kind`. */
async function created(p: OperatorProcess, kind: string): Promise<boolean> {
  return (await readFile(p.logFile, 'utf8')).split('\n').some((l) => l.includes(`"kind":"${kind}"`) && l.includes('"msg":"created"'));
}

/**
 * Waits until `kind` was created: by the running operator (true: kill it now), or by one killed
 * earlier, which went on past the kill point before it died (false: nothing to kill for). A kind
 * the running operator went past (it logged creating a `later` kind) was made by a killed one
 * after its last log line and adopted: false too; so is the last kind once the tenant is Ready
 * without the running operator having created it.
 */
async function createdBy(
  current: OperatorProcess,
  earlier: OperatorProcess[],
  kind: string,
  later: string[],
  tenant: string,
): Promise<boolean> {
  return eventually(
    async () => {
      if (await created(current, kind)) return true;
      for (const p of earlier) if (await created(p, kind)) return false;
      for (const k of later) if (await created(current, k)) return false;
      const t = later.length === 0 ? await c.kube.get<Tenant>('Tenant', tenant) : undefined;
      if (t?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')) return false;
      return undefined;
    },
    90_000,
    `the operator to create a ${kind}`,
    50,
  );
}

/** The vector store's part of a silo stack: its kinds in creation order, and its own checks. */
interface StoreCase {
  store: 'OpenSearchServerless' | 'S3Vectors';
  steps: { kind: string; held?: string }[];
  /** Whether moto must answer with AWS-like latency for the kills to land between creates. */
  slow?: boolean;
  /** Exactly one of each of the store's resources of `name`. */
  exactlyOne(name: string, r: NonNullable<NonNullable<Tenant['status']>['resources']>): Promise<void>;
}

const STORES: StoreCase[] = [
  {
    store: 'OpenSearchServerless',
    // The key, bucket and roles are moto's: at its millisecond answers a loaded machine let the
    // operator go past two kinds before a kill landed (5 of 12 steps killed in one CI run).
    slow: true,
    steps: [
      { kind: 'EncryptionPolicy' },
      { kind: 'NetworkPolicy' },
      { kind: 'DataAccessPolicy' },
      { kind: 'Collection' },
      { kind: 'KnowledgeBaseRole' },
      { kind: 'VectorIndex', held: 'CreateIndex' },
    ],
    async exactlyOne(name, r) {
      const collections = (await aws.aoss.send(new ListCollectionsCommand({}))).collectionSummaries ?? [];
      expect(collections.filter((x) => x.name === name)).toHaveLength(1);
      for (const type of ['encryption', 'network'] as const) {
        const p = (await aws.aoss.send(new ListSecurityPoliciesCommand({ type }))).securityPolicySummaries ?? [];
        expect(
          p.filter((x) => x.name === name),
          type,
        ).toHaveLength(1);
      }
      expect([...c.fakes.indexes.of(r.collectionId ?? '').keys()]).toEqual([name]);
    },
  },
  {
    store: 'S3Vectors',
    slow: true,
    steps: [{ kind: 'VectorBucket' }, { kind: 'KnowledgeBaseRole' }, { kind: 'S3VectorIndex' }],
    async exactlyOne(name) {
      const buckets = (await aws.s3vectors.send(new ListVectorBucketsCommand({}))).vectorBuckets ?? [];
      expect(buckets.filter((b) => b.vectorBucketName === name)).toHaveLength(1);
      const indexes = (await aws.s3vectors.send(new ListIndexesCommand({ vectorBucketName: name }))).indexes ?? [];
      expect(indexes.map((i) => i.indexName)).toEqual([name]);
    },
  },
];

describe('crash safety', () => {
  it.each(STORES)(
    'SIGKILL after every kind of create, and while AWS holds the answer to one, never duplicates anything ($store)',
    async (sc) => {
      const tier = uniq('crash');
      const tenant = uniq('k');
      // The silo stack with its own key, in the order the operator creates it. Held: AWS carries
      // out the create but the answer never reaches the operator before it dies.
      const steps: { kind: string; held?: string }[] = [
        { kind: 'KmsKey' },
        { kind: 'S3Bucket' },
        ...sc.steps,
        { kind: 'KnowledgeBase', held: 'CreateKnowledgeBase' },
        { kind: 'DataSource', held: 'CreateDataSource' },
        { kind: 'TenantRole' },
        { kind: 'PodIdentityAssociation' },
      ];
      // A held answer is armed before the operator that will send the call starts, so a fast
      // operator cannot send it before the fault is in place.
      let seenBefore = 0;
      const arm = (held: string | undefined): void => {
        if (!held) return;
        seenBefore = c.fakes.faults.seen.length;
        c.fakes.faults.failNext(held, { holdAnswerMs: 120_000 });
      };
      // One operator at a time: the previous case's last one (same identity) must not serve this one.
      await op?.stop();
      op = undefined;
      const moto = new URL(c.moto.endpoint);
      const proxy = sc.slow ? await startTcpProxy(moto.hostname, Number(moto.port), { latencyMs: AWS_LIKE_LATENCY_MS }) : undefined;
      const env = proxy ? { AWS_ENDPOINT_URL: `http://127.0.0.1:${proxy.port}` } : undefined;
      arm(steps[0]?.held);
      op = await start(env);
      const killed: OperatorProcess[] = [];
      await c.kube.apply(manifest(tier, tenant, sc.store));
      for (const [i, step] of steps.entries()) {
        if (step.held) {
          const current = op;
          const later = steps.slice(i + 1).map((x) => x.kind);
          // The call is sent (kill while AWS holds the answer), or an operator killed earlier went
          // past this create before it died, so the running one never sends it: nothing to hold.
          const sent = await eventually(
            async () => {
              if (c.fakes.faults.seen.slice(seenBefore).includes(step.held ?? '')) return true;
              for (const p of [...killed, current]) if (await created(p, step.kind)) return false;
              for (const k of later) if (await created(current, k)) return false;
              return undefined;
            },
            90_000,
            `the operator to send ${step.held}`,
            20,
          );
          if (!sent) {
            // The armed fault would otherwise wait for a call that never comes.
            c.fakes.faults.clear();
            arm(steps[i + 1]?.held);
            continue;
          }
          // Give AWS (the fake) a moment to have carried it out; the answer is still held.
          await new Promise((ok) => setTimeout(ok, 200));
          await current.stop('SIGKILL');
        } else {
          if (
            !(await createdBy(
              op,
              killed,
              step.kind,
              steps.slice(i + 1).map((x) => x.kind),
              tenant,
            ))
          ) {
            arm(steps[i + 1]?.held);
            continue;
          }
          await op.stop('SIGKILL');
        }
        killed.push(op);
        arm(steps[i + 1]?.held);
        op = await start(env);
      }
      // Most steps really were cut short by a kill.
      expect(killed.length).toBeGreaterThanOrEqual(steps.length / 2);
      const t = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' }, 180_000);
      const r = t.status?.resources ?? {};

      const name = `rag-test-t-${tenant}`;
      const aliases = (await aws.kms.send(new ListAliasesCommand({}))).Aliases ?? [];
      expect(aliases.filter((a) => a.AliasName === `alias/${name}`)).toHaveLength(1);
      await sc.exactlyOne(name, r);
      const kbs = (await aws.bedrockAgent.send(new ListKnowledgeBasesCommand({}))).knowledgeBaseSummaries ?? [];
      expect(kbs.filter((k) => k.name === name).map((k) => k.knowledgeBaseId)).toEqual([r.knowledgeBaseId]);
      const dss =
        (await aws.bedrockAgent.send(new ListDataSourcesCommand({ knowledgeBaseId: r.knowledgeBaseId }))).dataSourceSummaries ?? [];
      expect(dss.map((d) => d.dataSourceId)).toEqual([r.dataSourceId]);
      const roles = ((await aws.iam.send(new ListRolesCommand({ PathPrefix: '/rag-tenant/' }))).Roles ?? []).map((x) => x.RoleName);
      expect(roles.filter((n) => n?.includes(tenant)).sort()).toEqual([`${name}-app`, `${name}-kb`]);
      const clusterName = EKS_CLUSTER_ARN.split('/').pop();
      const associations = await aws.eks.send(
        new ListPodIdentityAssociationsCommand({ clusterName, namespace: tenant, serviceAccount: 'app' }),
      );
      expect((associations.associations ?? []).map((a) => a.associationId)).toEqual([r.podIdentityAssociationId]);
      await op.stop();
      op = undefined;
      await proxy?.close();
    },
    900_000,
  );
});

describe('crash safety of a Shared pool tier', () => {
  it("SIGKILL while EKS holds the answer to a Shared pool tenant's association never duplicates it, and makes no role", async () => {
    const tier = uniq('crsh');
    const tenant = uniq('ks');
    await op?.stop();
    op = undefined;
    // ministack behind a proxy that carries out the first CreatePodIdentityAssociation and loses its answer.
    const eksProxy = await startAwsProxy(c.ministack.endpoint);
    eksProxy.failNext({ match: 'eks:CreatePodIdentityAssociation', kind: 'lost', times: 1 });
    const env = { AWS_ENDPOINT_URL_EKS: eksProxy.endpoint };
    op = await start(env);
    await c.kube.apply(
      `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${tier} }\nspec: { isolation: pool, tenantRoles: Shared }\n---\n` +
        `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${tenant} }\nspec: { tier: ${tier}, deletionPolicy: Delete, access: { podIdentity: { namespace: ${tenant}, serviceAccount: app } } }\n`,
    );
    await eventually(
      () => Promise.resolve(eksProxy.faulted.includes('eks:CreatePodIdentityAssociation') ? true : undefined),
      120_000,
      'the association to be made with its answer lost',
      20,
    );
    await op.stop('SIGKILL');
    op = await start(env);
    const t = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' }, 120_000);
    const clusterName = EKS_CLUSTER_ARN.split('/').pop();
    const found = (await aws.eks.send(new ListPodIdentityAssociationsCommand({ clusterName, namespace: tenant, serviceAccount: 'app' })))
      .associations;
    expect((found ?? []).map((a) => a.associationId)).toEqual([t.status?.resources?.podIdentityAssociationId]);
    const roles = ((await aws.iam.send(new ListRolesCommand({ PathPrefix: '/rag-tenant/' }))).Roles ?? []).map((x) => x.RoleName ?? '');
    expect(roles.filter((n) => n.includes(tenant))).toEqual([]);
    expect(roles.filter((n) => n.includes(`tier-${tier}`)).sort()).toEqual([`rag-test-tier-${tier}-app`, `rag-test-tier-${tier}-kb`]);
    await op.stop();
    op = undefined;
    await eksProxy.stop();
  }, 300_000);
});

/**
 * Waits for `name` to be Ready, noting every condition reason and message seen on the way, and
 * every status Synced had (throttling and 5xx that clear by retrying must never turn it False).
 */
async function readyNoting(name: string, timeoutMs: number): Promise<{ tenant: Tenant; reasons: string[]; synced: string[] }> {
  const seen = new Set<string>();
  const synced = new Set<string>();
  const tenant = await eventually(
    async () => {
      const x = await c.kube.get<Tenant>('Tenant', name);
      for (const cond of x?.status?.conditions ?? []) seen.add(`${cond.reason}: ${cond.message}`);
      synced.add(x?.status?.conditions?.find((cond) => cond.type === 'Synced')?.status ?? 'absent');
      return x?.status?.conditions?.find((cond) => cond.type === 'Ready' && cond.status === 'True') ? x : undefined;
    },
    timeoutMs,
    'the tenant to become Ready despite the faults',
    250,
  );
  return { tenant, reasons: [...seen], synced: [...synced] };
}

describe('faults', () => {
  it('throttling and 5xx on every knowledge base and data-plane call never reach a status; the tenant still becomes Ready', async () => {
    op ??= await start();
    const tenant = uniq('f');
    // Faults on the next calls to the fakes, whatever they are (the SDK retries some, the queue
    // the rest). One of each: the data plane has no SDK retries, so each can fail a whole pass of
    // the same call, and five such passes in a row would rightly be reported as persisting.
    for (const fault of [
      { status: 429, name: 'ThrottlingException', times: 1 },
      { status: 500, name: 'InternalServerException', times: 1 },
      // bedrock-agent declares no 503 of its own: AWS's common ServiceUnavailable, as the model allows.
      { status: 503, name: 'ServiceUnavailable', times: 1 },
    ])
      c.fakes.faults.failNext('*', fault);
    await c.kube.apply(manifest(uniq('faulty'), tenant));
    const { tenant: t, reasons, synced } = await readyNoting(tenant, 180_000);
    expect(t.status?.resources?.knowledgeBaseId).toBeTruthy();
    expect(reasons.filter((r) => /thrott|internalserver|serviceunavailable|\b5\d\d\b/i.test(r))).toEqual([]);
    expect(synced).not.toContain('False');
    // Every injected fault was served: the faults really happened.
    expect(c.fakes.faults.pending()).toBe(0);
  }, 400_000);

  it('a throttle, a 500 and a 503 on the first calls of every S3, IAM, KMS and OpenSearch Serverless operation never reach a status', async () => {
    await op?.stop();
    op = undefined;
    const [moto, aoss] = [await startAwsProxy(c.moto.endpoint), await startAwsProxy(c.ministack.endpoint)];
    // Three refusals use up the SDK's three attempts: each operation fails one whole pass too.
    const kinds = ['throttle', 500, 503] as const;
    const tenantApis = (key: string): boolean => /^(s3|iam|kms|aoss):/.test(key);
    moto.failFirstOfEach(kinds, tenantApis);
    aoss.failFirstOfEach(kinds, tenantApis);
    const faulty = await startOperatorProcess(c.cp.kubeconfig, {
      cluster: c,
      settings: { resyncSeconds: 3600 },
      env: { AWS_ENDPOINT_URL: moto.endpoint, AWS_ENDPOINT_URL_OPENSEARCHSERVERLESS: aoss.endpoint },
    });
    try {
      const tenant = uniq('g');
      await c.kube.apply(manifest(uniq('faulty'), tenant));
      const { tenant: t, reasons, synced } = await readyNoting(tenant, 240_000);
      expect(t.status?.resources?.collectionId).toBeTruthy();
      expect(reasons.filter((r) => /thrott|rate exceeded|slowdown|servicefailure|internal|unavailable|\b5\d\d\b/i.test(r))).toEqual([]);
      expect(synced).not.toContain('False');
      // Every operation the tenant needed was refused three times before it went through.
      const served = [...moto.stats.served.keys(), ...aoss.stats.served.keys()].filter(tenantApis);
      expect(served).toEqual(
        expect.arrayContaining([
          's3:CreateBucket',
          's3:PutBucketEncryption',
          'iam:CreateRole',
          'iam:PutRolePolicy',
          'kms:CreateKey',
          'aoss:CreateSecurityPolicy',
          'aoss:CreateCollection',
        ]),
      );
      const faulted = [...moto.faulted, ...aoss.faulted];
      for (const key of served) expect([key, faulted.filter((f) => f === key).length]).toEqual([key, kinds.length]);
    } finally {
      await faulty.stop();
      await Promise.all([moto.stop(), aoss.stop()]);
    }
  }, 400_000);
});
