/**
 * Drift that sees every field the drivers set, over the wire: a knowledge base whose role was
 * changed behind the operator's back (UpdateKnowledgeBase on the fake) is repaired, one whose
 * storage no longer matches is reported and never recreated on its own; a role given a foreign
 * managed policy has it detached and reported; a bucket's public access block and its TLS-only
 * policy are restored. Forced looks use the reconcile-requested-at annotation; one case relies on
 * the spot checks alone (resyncSeconds: 2). The spot-check bound itself (every aspect read again
 * within as many steady passes as the resource has checks) is proved pass by pass with the engine.
 */
import {
  GetKnowledgeBaseCommand,
  type KnowledgeBase,
  ListKnowledgeBasesCommand,
  UpdateKnowledgeBaseCommand,
} from '@aws-sdk/client-bedrock-agent';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  DeletePolicyCommand,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import {
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { Tenant } from '../../src/api/v1alpha1/types.js';
import { runResources } from '../../src/controllers/engine.js';
import { FRESH_MS, SpotChecks } from '../../src/controllers/spot-checks.js';
import { ROLE_PATH } from '../../src/core/naming.js';
import { parsePolicy, policy, samePolicy } from '../../src/core/policies/document.js';
import { IamRoleDriver, type RoleSpec } from '../../src/resources/iam-role/driver.js';
import type { BoundResource } from '../../src/resources/managed-resource.js';
import { tlsOnlyPolicy } from '../../src/resources/s3-bucket/compare.js';
import { type BucketSpec, S3BucketDriver } from '../../src/resources/s3-bucket/driver.js';
import { clientsFor } from '../support/aws.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { eventually } from '../support/processes.js';

/** Every owner is resynced this often: steady passes run one spot check per resource each. */
const RESYNC_SECONDS = 2;

let c: TestCluster;
let op: OperatorProcess;
let aws: AwsClients;

beforeAll(async () => {
  c = await startTestCluster();
  aws = clientsFor(c.moto, c.ministack, c.fakes);
  op = await startOperatorProcess(c.cp.kubeconfig, { cluster: c, settings: { resyncSeconds: RESYNC_SECONDS } });
});
afterAll(async () => {
  await op?.stop();
  await c?.stop();
});

const tierYaml = (name: string, isolation: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${name} }\nspec: { isolation: ${isolation} }\n`;
const tenantYaml = (name: string, tier: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${name} }\nspec: { tier: ${tier}, deletionPolicy: Delete, access: { podIdentity: { namespace: ${name}, serviceAccount: app } } }\n`;
const ready = (name: string): Promise<Tenant> => c.kube.waitForCondition<Tenant>('Tenant', name, 'Ready', { status: 'True' }, 120_000);
const requestLook = (tenant: string, value: string): Promise<string> =>
  c.kube.kubectl('annotate', '--overwrite', 'tenant', tenant, `rag.tenancy.dev/reconcile-requested-at=${value}`);
const kbOf = async (id: string): Promise<KnowledgeBase> => {
  const kb = (await aws.bedrockAgent.send(new GetKnowledgeBaseCommand({ knowledgeBaseId: id }))).knowledgeBase;
  if (!kb) throw new Error(`knowledge base ${id} not found`);
  return kb;
};
/** Warning events the operator recorded for a tenant (cluster-scoped objects' events go to `default`). */
async function warnings(tenant: string): Promise<string[]> {
  const list = JSON.parse(await c.kube.kubectl('get', 'events', '-n', 'default', '-o', 'json')) as {
    items: { type?: string; message?: string; involvedObject?: { name?: string } }[];
  };
  return list.items.filter((e) => e.involvedObject?.name === tenant && e.type === 'Warning').map((e) => e.message ?? '');
}

/** A silo tenant (its own bucket, roles and knowledge base), Ready; made once, shared by the cases below. */
let silo: Promise<Tenant> | undefined;
function siloTenant(): Promise<Tenant> {
  silo ??= (async () => {
    const tier = uniq('drift');
    const tenant = uniq('d');
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(tenant, tier));
    await ready(tenant);
    // Its first sync done, so that no case below changes the knowledge base under a running job.
    return eventually(
      async () => {
        const t = await c.kube.get<Tenant>('Tenant', tenant);
        return t?.status?.ingestion?.lastStatus === 'COMPLETE' ? t : undefined;
      },
      60_000,
      `the first sync of ${tenant}`,
    );
  })();
  return silo;
}

describe('drift that sees every field, repaired by the operator', () => {
  it("a knowledge base whose role was changed behind the operator's back gets its role back through the resync alone (spot checks; no forced look)", async () => {
    const t = await siloTenant();
    const name = t.metadata.name;
    const id = t.status?.resources?.knowledgeBaseId ?? '';
    const ours = t.status?.resources?.knowledgeBaseRoleArn ?? '';
    const before = await kbOf(id);
    expect(before.roleArn).toBe(ours);
    // Another role Bedrock may assume, as someone with bedrock:UpdateKnowledgeBase would use.
    const other = await aws.iam.send(
      new CreateRoleCommand({
        RoleName: uniq('someone-elses-kb-role'),
        AssumeRolePolicyDocument: JSON.stringify(
          policy({ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'sts:AssumeRole' }),
        ),
      }),
    );
    const otherArn = other.Role?.Arn ?? '';
    const change = (roleArn: string, storageConfiguration = before.storageConfiguration): UpdateKnowledgeBaseCommand =>
      new UpdateKnowledgeBaseCommand({
        knowledgeBaseId: id,
        name: before.name,
        description: before.description,
        roleArn,
        knowledgeBaseConfiguration: before.knowledgeBaseConfiguration,
        storageConfiguration,
      });
    // The fake refuses what AWS cannot change, as AWS does.
    const aoss = before.storageConfiguration?.opensearchServerlessConfiguration;
    await expect(
      aws.bedrockAgent.send(
        change(otherArn, {
          type: 'OPENSEARCH_SERVERLESS',
          opensearchServerlessConfiguration: {
            collectionArn: aoss?.collectionArn,
            fieldMapping: aoss?.fieldMapping,
            vectorIndexName: 'other',
          },
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    // (Its answer, not a read: the operator may already be repairing it.)
    expect((await aws.bedrockAgent.send(change(otherArn))).knowledgeBase?.roleArn).toBe(otherArn);

    // Steady passes (every RESYNC_SECONDS) run one spot check per resource; a spot check counts as
    // a read, so the next comes after FRESH_MS: the knowledge base's two checks (GetKnowledgeBase,
    // its tags) come round within about 2 x (FRESH_MS + RESYNC_SECONDS). A generous deadline; the
    // bound in passes is proved below.
    await eventually(
      async () => ((await kbOf(id)).roleArn === ours ? true : undefined),
      3 * (FRESH_MS + RESYNC_SECONDS * 1000) + 30_000,
      'the knowledge base role restored by a spot check',
    );
    // Nothing forced a full look meanwhile.
    expect((await c.kube.get<Tenant>('Tenant', name))?.metadata.annotations ?? {}).toEqual(t.metadata.annotations ?? {});
    const after = await ready(name);
    // Repaired in place: the same knowledge base, never a new one.
    expect(after.status?.resources?.knowledgeBaseId).toBe(id);
    expect((await kbOf(id)).storageConfiguration).toEqual(before.storageConfiguration);
  }, 300_000);

  it('a role given a foreign managed policy has it detached, and says so (condition, Warning event, log)', async () => {
    const t = await siloTenant();
    const name = t.metadata.name;
    const roleName = t.status?.resources?.roleArn?.split('/').pop() ?? '';
    const created = await aws.iam.send(
      new CreatePolicyCommand({
        PolicyName: uniq('foreign'),
        PolicyDocument: JSON.stringify(policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' })),
      }),
    );
    const foreign = created.Policy?.Arn ?? '';
    await aws.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: foreign }));

    await requestLook(name, 'role-attached');
    const attached = async (): Promise<string[]> =>
      ((await aws.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))).AttachedPolicies ?? []).map(
        (p) => p.PolicyArn ?? '',
      );
    await eventually(async () => ((await attached()).length === 0 ? true : undefined), 60_000, 'the foreign policy detached');
    // The Updating condition of that pass named it; Ready flipping False left a Warning event.
    await eventually(
      async () => ((await warnings(name)).some((m) => m.includes(`attached:${foreign}`)) ? true : undefined),
      30_000,
      'a Warning event naming the detached policy',
    );
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(op.logFile, 'utf8')).toContain('detaching a managed policy the operator did not attach');
    await ready(name);
    // Detached, not deleted: the policy is someone else's.
    await aws.iam.send(new DeletePolicyCommand({ PolicyArn: foreign }));
  });

  it('a bucket whose public access block was removed gets it back (forced look)', async () => {
    const t = await siloTenant();
    const bucket = t.status?.resources?.bucket ?? '';
    await aws.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    await requestLook(t.metadata.name, 'pab');
    await eventually(
      async () => {
        const b = await aws.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })).catch(() => undefined);
        return b?.PublicAccessBlockConfiguration?.BlockPublicPolicy ? true : undefined;
      },
      60_000,
      'the public access block restored',
    );
  });

  it('a bucket whose TLS-only policy was deleted gets it back (forced look), and documents still go in meanwhile', async () => {
    const t = await siloTenant();
    const bucket = t.status?.resources?.bucket ?? '';
    const policyOf = async (): Promise<unknown> =>
      parsePolicy((await aws.s3.send(new GetBucketPolicyCommand({ Bucket: bucket })).catch(() => undefined))?.Policy);
    expect(samePolicy(await policyOf(), tlsOnlyPolicy({ name: bucket }))).toBe(true);
    // The policy denies only requests not made over TLS (moto's evaluation fixed by
    // test/support/moto-server.py; AWS enforces the Deny on plain HTTP).
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'docs/still-works.txt', Body: 'x' }));
    await aws.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    await requestLook(t.metadata.name, 'tls-policy');
    await eventually(
      async () => (samePolicy(await policyOf(), tlsOnlyPolicy({ name: bucket })) ? true : undefined),
      60_000,
      'the TLS-only bucket policy restored',
    );
  });

  it('a knowledge base whose storage no longer matches (fixed at creation) is reported with what to do, and never recreated on its own', async () => {
    const t = await siloTenant();
    const name = t.metadata.name;
    const id = t.status?.resources?.knowledgeBaseId ?? '';
    // What AWS cannot change through its API: another index, as if the knowledge base had been
    // made by hand for another index with the operator's name (the fake's state, not its API).
    const aoss = c.fakes.bedrockAgent.state.knowledgeBases.get(id)?.storageConfiguration.opensearchServerlessConfiguration;
    if (!aoss) throw new Error(`knowledge base ${id} has no OpenSearch Serverless configuration`);
    const index = aoss.vectorIndexName;
    aoss.vectorIndexName = 'made-by-hand';
    await requestLook(name, 'kb-immutable');
    const failed = await c.kube.waitForCondition<Tenant>(
      'Tenant',
      name,
      'KnowledgeBaseReady',
      { status: 'False', reason: 'KnowledgeBaseImmutableChanged' },
      60_000,
    );
    const message = failed.status?.conditions?.find((x) => x.type === 'KnowledgeBaseReady')?.message ?? '';
    expect(message).toContain(`vector index is "made-by-hand", wanted "${index ?? ''}"`);
    expect(message).toContain(`delete knowledge base ${id}`);
    // Several resyncs later, still the one knowledge base: nothing recreated, nothing deleted.
    await new Promise((r) => setTimeout(r, 3 * RESYNC_SECONDS * 1000));
    const ids = ((await aws.bedrockAgent.send(new ListKnowledgeBasesCommand({}))).knowledgeBaseSummaries ?? [])
      .filter((s) => s.name?.includes(name))
      .map((s) => s.knowledgeBaseId);
    expect(ids).toEqual([id]);
    expect((await kbOf(id)).status).toBe('ACTIVE');
    // Once it matches again, the tenant is Ready with the same knowledge base.
    aoss.vectorIndexName = index;
    await requestLook(name, 'kb-matches');
    expect((await ready(name)).status?.resources?.knowledgeBaseId).toBe(id);
  });
});

describe('the spot-check bound, pass by pass (engine and drivers against moto)', () => {
  const ctx = { signal: new AbortController().signal, logger: pino({ level: 'silent' }) };
  const owner = { cluster: 'test', kind: 'Tenant' as const, name: 'bound', uid: 'uid-bound', tier: 'premium' };

  /**
   * Converges `r` with full observations, lets `drift` happen, then runs steady passes (each past
   * FRESH_MS, so each runs one spot check) until one repairs it: returns that pass's number and
   * the number of checks the resource has.
   */
  async function passesToRepair(
    r: BoundResource,
    spec: unknown,
    drift: () => Promise<void>,
  ): Promise<{ passes: number; checks: number; message: string }> {
    const spots = new SpotChecks();
    let now = 0;
    // The owner stays steady on one basis: its first pass observes in full, the next run checks in turn.
    const memory = spots.pass('o', 'steady', now).memory;
    const pass = (): ReturnType<typeof runResources> => runResources(ctx, [r], { spot: spots.pass('o', 'steady', now) });
    for (let i = 0; i < 10 && !(await pass()).complete; i++) now += 1;
    const driver = r.driver;
    const checks = driver.spotChecks?.(spec, memory.get(`0:${driver.kind}`)?.observed)?.length ?? 0;
    await drift();
    for (let n = 1; n <= 3 * checks; n++) {
      now += FRESH_MS + 1;
      const result = await pass();
      if (result.components[0]?.reason === 'Updating') return { passes: n, checks, message: result.components[0].message };
    }
    throw new Error('the drift was never found');
  }

  it('a deleted bucket policy is found and repaired within as many steady passes as the bucket has checks', async () => {
    const bucket = `rag-test-t-bound-${Math.random().toString(36).slice(2, 8)}`;
    const spec: BucketSpec = { name: bucket, region: 'us-east-1', owner };
    const r = { driver: new S3BucketDriver(aws.s3), spec, ids: {} };
    const found = await passesToRepair(r, spec, async () => {
      await aws.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    });
    // Tags, encryption, public access block, versioning, policy.
    expect(found.checks).toBe(5);
    expect(found.passes).toBeLessThanOrEqual(found.checks);
    expect(found.message).toContain('bucketPolicy');
  });

  it('a managed policy attached to a role is found and detached within as many steady passes as the role has checks', async () => {
    const spec: RoleSpec = {
      name: uniq('rag-test-t-bound-app'),
      path: ROLE_PATH,
      description: 'bound',
      owner,
      trust: policy({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: 'sts:AssumeRole' }),
      inline: { 'tenant-access': policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/tenants/bound/*' }) },
    };
    const r = { driver: new IamRoleDriver(aws.iam, 'TenantRole'), spec, ids: {} };
    let foreign = '';
    const found = await passesToRepair(r, spec, async () => {
      const p = await aws.iam.send(
        new CreatePolicyCommand({
          PolicyName: uniq('foreign'),
          PolicyDocument: JSON.stringify(policy({ Effect: 'Allow', Action: 'iam:*', Resource: '*' })),
        }),
      );
      foreign = p.Policy?.Arn ?? '';
      await aws.iam.send(new AttachRolePolicyCommand({ RoleName: spec.name, PolicyArn: foreign }));
    });
    // The role (trust, boundary, tags), its inline list, its attached list, its one inline policy.
    expect(found.checks).toBe(4);
    expect(found.passes).toBeLessThanOrEqual(found.checks);
    expect(found.message).toContain(`attached:${foreign}`);
    const left = await aws.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: spec.name }));
    expect(left.AttachedPolicies ?? []).toEqual([]);
  });
});
