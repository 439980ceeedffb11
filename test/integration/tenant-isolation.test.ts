/**
 * Isolation as an attacker would try it, over the wire: a bucket with a tenant's name made in
 * another AWS account first (S3's expected-owner check, which moto lacks, enforced by the test
 * proxy), a new Tenant reusing the name of one deleted with Retain, and EKS Pod Identity
 * associations (ministack serves the EKS API): made for the tenant role, repaired, deleted with
 * the tenant, and never made for a second Tenant naming the same service account; a Shared pool
 * tier's tenants get no role of their own, only an association whose stored session policy, evaluated
 * with the shared role's stored policy, keeps each tenant to its own prefix.
 */
import {
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
} from '@aws-sdk/client-eks';
import { GetRoleCommand, GetRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { ModelAccess, Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import { bucketName, roleName } from '../../src/core/naming.js';
import { type PolicyDocument, parsePolicy } from '../../src/core/policies/document.js';
import { type Evaluation, evaluate } from '../support/iam-eval.js';
import { type AwsProxy, startAwsProxy } from '../support/aws-proxy.js';
import { clientsFor } from '../support/aws.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { EKS_CLUSTER_ARN } from '../support/ministack.js';
import { type OperatorProcess, startOperatorProcess, TEST_OPERATOR_SETTINGS } from '../support/operator-process.js';
import { eventually } from '../support/processes.js';

const ACCOUNT = '123456789012';
const ATTACKER = '999988887777';
const CLUSTER = EKS_CLUSTER_ARN.split('/').pop() ?? '';

let c: TestCluster;
let proxy: AwsProxy;
let op: OperatorProcess;
let aws: AwsClients;
let eks: EKSClient;

beforeAll(async () => {
  c = await startTestCluster();
  aws = clientsFor(c.moto);
  eks = new EKSClient({
    region: 'us-east-1',
    endpoint: c.ministack.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  // Every moto call of the operator (and of the attacker) goes through S3's owner check.
  proxy = await startAwsProxy(c.moto.endpoint, { bucketOwners: { defaultAccount: ACCOUNT } });
  op = await startOperatorProcess(c.cp.kubeconfig, {
    cluster: c,
    settings: { resyncSeconds: 3600 },
    env: { AWS_ENDPOINT_URL: proxy.endpoint, AWS_ENDPOINT_URL_EKS: c.ministack.endpoint },
  });
});
afterAll(async () => {
  eks?.destroy();
  await op?.stop();
  await proxy?.stop();
  await c?.stop();
});

const tier = (name: string, isolation: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${name} }\nspec: { isolation: ${isolation} }\n---\n`;
const tenant = (
  name: string,
  tierName: string,
  o: { policy?: string; sa?: string; ns?: string; annotations?: string; principal?: string } = {},
): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${name}${o.annotations ? `, annotations: { ${o.annotations} }` : ''} }\n` +
  `spec: { tier: ${tierName}, deletionPolicy: ${o.policy ?? 'Delete'}, access: ${
    o.principal ? `{ principals: ["${o.principal}"] }` : `{ podIdentity: { namespace: ${o.ns ?? name}, serviceAccount: ${o.sa ?? 'app'} } }`
  } }\n---\n`;

/** S3 as another AWS account: credentials from AssumeRole into that account's role, through the proxy. */
async function attackerS3(): Promise<S3Client> {
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint: proxy.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const creds = (await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ATTACKER}:role/squatter`, RoleSessionName: 'squat' })))
    .Credentials;
  sts.destroy();
  return new S3Client({
    region: 'us-east-1',
    endpoint: proxy.endpoint,
    forcePathStyle: true,
    credentials: {
      accessKeyId: creds?.AccessKeyId ?? '',
      secretAccessKey: creds?.SecretAccessKey ?? '',
      sessionToken: creds?.SessionToken,
    },
  });
}

async function associations(ns: string, sa: string): Promise<string[]> {
  const out = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: CLUSTER, namespace: ns, serviceAccount: sa }));
  return (out.associations ?? []).map((a) => a.associationId ?? '');
}

describe('tenant isolation against an adversary', () => {
  it("a bucket with a silo tenant's name made first in another account is never used: BucketOwnedElsewhere, nothing written", async () => {
    const [tierName, name] = [uniq('silo'), uniq('squat')];
    const bucket = bucketName(
      { prefix: 'rag', cluster: TEST_OPERATOR_SETTINGS.clusterName, accountId: ACCOUNT, region: 'us-east-1' },
      { kind: 'Tenant', name },
    );
    const attacker = await attackerS3();
    await attacker.send(new CreateBucketCommand({ Bucket: bucket }));
    await c.kube.apply(tier(tierName, 'silo') + tenant(name, tierName));
    const t = await c.kube.waitForCondition<Tenant>(
      'Tenant',
      name,
      'StorageReady',
      { status: 'False', reason: 'BucketOwnedElsewhere' },
      60_000,
    );
    expect(t.status?.conditions?.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'BucketOwnedElsewhere' });
    expect(t.status?.conditions?.find((x) => x.type === 'StorageReady')?.message).toContain('resourcePrefix or clusterName');
    // Nothing of the tenant's reached the attacker's bucket: no objects, no tags, no role made.
    const versions = await attacker.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect([...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])]).toEqual([]);
    await expect(attacker.send(new GetBucketTaggingCommand({ Bucket: bucket }))).rejects.toMatchObject({ name: 'NoSuchTagSet' });
    expect(t.status?.resources?.roleArn).toBeUndefined();
    // Deleting the tenant leaves the other account's bucket alone.
    await c.kube.delete('Tenant', name);
    await c.kube.waitForGone('Tenant', name, 60_000);
    await expect(attacker.send(new GetBucketTaggingCommand({ Bucket: bucket }))).rejects.toMatchObject({ name: 'NoSuchTagSet' });
    attacker.destroy();
  }, 120_000);

  it('a new Tenant reusing the name of one deleted with Retain reports RetainedResourcesFound and adopts only with the annotation', async () => {
    const [tierName, name] = [uniq('pool'), uniq('reuse')];
    const principal = `arn:aws:iam::${ACCOUNT}:role/apps/${name}`;
    await c.kube.apply(tier(tierName, 'pool') + tenant(name, tierName, { policy: 'Retain', principal }));
    const first = await c.kube.waitForCondition<Tenant>('Tenant', name, 'Ready', { status: 'True' }, 120_000);
    const roleName = first.status?.resources?.roleArn?.split('/').pop() ?? '';
    // The retained tenant's document, in its prefix of the shared tier bucket.
    const document = { Bucket: first.status?.resources?.bucket ?? '', Key: `${first.status?.resources?.prefix ?? ''}contract.txt` };
    await aws.s3.send(new PutObjectCommand({ ...document, Body: 'retained' }));
    await c.kube.delete('Tenant', name);
    await c.kube.waitForGone('Tenant', name, 60_000);
    // The same name, a new object: it must not inherit the old tenant's role (and prefix).
    await c.kube.apply(tenant(name, tierName, { principal }));
    const second = await c.kube.waitForCondition<Tenant>(
      'Tenant',
      name,
      'Ready',
      { status: 'False', reason: 'RetainedResourcesFound' },
      60_000,
    );
    const message = second.status?.conditions?.find((x) => x.type === 'Ready')?.message ?? '';
    expect(message).toContain(roleName);
    expect(message).toContain(first.metadata.uid ?? 'no uid');
    expect(message).toContain('rag.tenancy.dev/adopt-retained');
    const tags = async (): Promise<Record<string, string>> =>
      Object.fromEntries(
        ((await aws.iam.send(new GetRoleCommand({ RoleName: roleName }))).Role?.Tags ?? []).map((t): [string, string] => [
          t.Key ?? '',
          t.Value ?? '',
        ]),
      );
    // Untouched while it waits: still the deleted tenant's.
    expect((await tags())['rag.tenancy.dev/uid']).toBe(first.metadata.uid);
    // Deleting the newcomer (deletionPolicy Delete) must not delete the retained data: the deletion
    // stops at the retained role, before the prefix, and says how to let it go.
    await c.kube.delete('Tenant', name);
    const held = await eventually(
      async () => {
        const x = await c.kube.get<Tenant>('Tenant', name);
        const ready = x?.status?.conditions?.find((cond) => cond.type === 'Ready');
        return x?.metadata.deletionTimestamp &&
          ready?.reason === 'RetainedResourcesFound' &&
          ready.message?.includes('deletionPolicy to Retain')
          ? ready
          : undefined;
      },
      60_000,
      'the deletion to stop at the retained resources',
    );
    expect(held.message).toContain(roleName);
    expect(await aws.s3.send(new GetObjectCommand(document)).then((o) => o.Body?.transformToString())).toBe('retained');
    expect((await tags())['rag.tenancy.dev/uid']).toBe(first.metadata.uid);
    await c.kube.kubectl('patch', 'tenant', name, '--type=merge', '-p', '{"spec":{"deletionPolicy":"Retain"}}');
    await c.kube.waitForGone('Tenant', name, 60_000);
    expect(await aws.s3.send(new GetObjectCommand(document)).then((o) => o.Body?.transformToString())).toBe('retained');
    // Asked to, a new object takes them over: the role now names the new owner.
    await c.kube.apply(tenant(name, tierName, { principal, annotations: 'rag.tenancy.dev/adopt-retained: "true"' }));
    const adopted = await c.kube.waitForCondition<Tenant>('Tenant', name, 'Ready', { status: 'True' }, 60_000);
    expect(adopted.status?.resources?.roleArn).toBe(first.status?.resources?.roleArn);
    expect((await tags())['rag.tenancy.dev/uid']).toBe(adopted.metadata.uid);
    await c.kube.delete('Tenant', name);
    await c.kube.waitForGone('Tenant', name, 60_000);
  }, 240_000);

  it('the Pod Identity association carries the tenant role, is repaired, refused to a second Tenant, and goes with the tenant', async () => {
    const [tierName, name, intruder] = [uniq('pool'), uniq('pid'), uniq('intruder')];
    await c.kube.apply(tier(tierName, 'pool') + tenant(name, tierName, { sa: 'rag-app' }));
    const t = await c.kube.waitForCondition<Tenant>('Tenant', name, 'Ready', { status: 'True' }, 120_000);
    const id = t.status?.resources?.podIdentityAssociationId ?? '';
    expect(id).toMatch(/^a-/);
    const a = (await eks.send(new DescribePodIdentityAssociationCommand({ clusterName: CLUSTER, associationId: id }))).association;
    expect(a).toMatchObject({ namespace: name, serviceAccount: 'rag-app', roleArn: t.status?.resources?.roleArn });
    expect(a?.tags?.['rag.tenancy.dev/uid']).toBe(t.metadata.uid);
    // The role trusts Pod Identity sessions of this EKS cluster only.
    const role = await aws.iam.send(new GetRoleCommand({ RoleName: t.status?.resources?.roleArn?.split('/').pop() }));
    expect(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '')).toContain(
      `"aws:RequestTag/eks-cluster-arn":"${EKS_CLUSTER_ARN}"`,
    );

    // A second Tenant naming the same namespace and service account gets nothing.
    await c.kube.apply(tenant(intruder, tierName, { ns: name, sa: 'rag-app' }));
    const refused = await c.kube.waitForCondition<Tenant>(
      'Tenant',
      intruder,
      'Ready',
      { status: 'False', reason: 'IdentityConflict' },
      60_000,
    );
    expect(refused.status?.conditions?.find((x) => x.type === 'Ready')?.message).toContain(`Tenant "${name}"`);
    expect(refused.status?.resources?.roleArn).toBeUndefined();
    expect(await associations(name, 'rag-app')).toEqual([id]);

    // Deleted behind the operator's back: made again on the next look.
    await eks.send(new DeletePodIdentityAssociationCommand({ clusterName: CLUSTER, associationId: id }));
    await c.kube.apply(
      `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${name}, annotations: { rag.tenancy.dev/reconcile-requested-at: "${new Date().toISOString()}" } }\n` +
        `spec: { tier: ${tierName}, deletionPolicy: Delete, access: { podIdentity: { namespace: ${name}, serviceAccount: rag-app } } }\n`,
    );
    const again = await eventually(
      async () => {
        const ids = await associations(name, 'rag-app');
        return ids.length === 1 && ids[0] !== id ? ids[0] : undefined;
      },
      60_000,
      'the association to be made again',
    );
    await eventually(
      async () => ((await c.kube.get<Tenant>('Tenant', name))?.status?.resources?.podIdentityAssociationId === again ? true : undefined),
      60_000,
      'status to show the new association',
    );

    // The tenant's deletion removes its association; the intruder then gets the subject.
    await c.kube.delete('Tenant', name);
    await c.kube.waitForGone('Tenant', name, 60_000);
    const taken = await c.kube.waitForCondition<Tenant>('Tenant', intruder, 'Ready', { status: 'True' }, 120_000);
    const ids = await associations(name, 'rag-app');
    expect(ids).toEqual([taken.status?.resources?.podIdentityAssociationId]);
    await c.kube.delete('Tenant', intruder);
    await c.kube.waitForGone('Tenant', intruder, 60_000);
    expect(await associations(name, 'rag-app')).toEqual([]);
  }, 360_000);
});

describe('a Shared pool tier: one role, each tenant narrowed by its association', () => {
  const sharedTier = (name: string): string =>
    `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${name} }\nspec: { isolation: pool, tenantRoles: Shared }\n---\n`;
  const describeAssociation = async (id: string): Promise<{ roleArn?: string; policy?: string; disableSessionTags?: boolean }> =>
    (await eks.send(new DescribePodIdentityAssociationCommand({ clusterName: CLUSTER, associationId: id }))).association ?? {};

  it('onboards tenants without a role each; the association narrows the shared role to the tenant, and grants follow ModelAccess', async () => {
    const tierName = uniq('sh');
    const [a, b, refused] = [uniq('sha'), uniq('shb'), uniq('shp')];
    await c.kube.apply(sharedTier(tierName) + tenant(a, tierName) + tenant(b, tierName));
    const ta = await c.kube.waitForCondition<Tenant>('Tenant', a, 'Ready', { status: 'True' }, 180_000);
    const tb = await c.kube.waitForCondition<Tenant>('Tenant', b, 'Ready', { status: 'True' }, 180_000);
    const tierObj = await c.kube.get<TenantTier>('TenantTier', tierName);
    const shared = tierObj?.status?.shared?.roleArn ?? '';
    expect(shared).toMatch(/:role\/rag-tenant\/.*tier-.*-app$/);
    for (const t of [ta, tb]) {
      expect(t.status?.tenantRoles).toBe('Shared');
      expect(t.status?.resources?.roleArn).toBe(shared);
    }
    // No role of a tenant's own exists in IAM.
    const own = roleName(
      { prefix: 'rag', cluster: TEST_OPERATOR_SETTINGS.clusterName, accountId: ACCOUNT, region: 'us-east-1' },
      { kind: 'Tenant', name: a },
      'app',
    );
    await expect(aws.iam.send(new GetRoleCommand({ RoleName: own }))).rejects.toThrow(/NoSuchEntity|not found|cannot be found/);

    // Each association: the shared role, session tags off, a policy naming only its tenant's prefix.
    const policies: Record<string, PolicyDocument> = {};
    for (const t of [ta, tb]) {
      const got = await describeAssociation(t.status?.resources?.podIdentityAssociationId ?? '');
      expect(got.roleArn).toBe(shared);
      expect(got.disableSessionTags).toBe(true);
      policies[t.metadata.name] = JSON.parse(got.policy ?? '{}') as PolicyDocument;
    }
    // The stored policies, evaluated with the role's own: a's session reads its documents, never b's.
    const role = await aws.iam.send(new GetRolePolicyCommand({ RoleName: shared.split('/').pop() ?? '', PolicyName: 'pool-tenants' }));
    const rolePolicy = parsePolicy(role.PolicyDocument) as PolicyDocument;
    const bucket = ta.status?.resources?.bucket ?? '';
    const read = (who: string, key: string): Evaluation => ({
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${shared.split('/').pop() ?? ''}/${who}`,
      identity: [rolePolicy],
      session: policies[who],
      action: 's3:GetObject',
      resource: `arn:aws:s3:::${bucket}/tenants/${key}`,
    });
    expect(await evaluate(read(a, `${a}/doc.txt`), ACCOUNT)).toBe('Allowed');
    expect(await evaluate(read(a, `${b}/doc.txt`), ACCOUNT)).toBe('ImplicitlyDenied');
    expect(await evaluate(read(b, `${a}/doc.txt`), ACCOUNT)).toBe('ImplicitlyDenied');

    // A model grant reaches the tenant's session policy (an EKS update, no IAM write), and goes with the grant.
    const grant = uniq('shm');
    await c.kube.apply(
      `apiVersion: rag.tenancy.dev/v1alpha1\nkind: ModelAccess\nmetadata: { name: ${grant} }\nspec: { tenantRef: { name: ${a} }, model: "amazon.nova-lite-v1:0" }\n`,
    );
    const granted = await c.kube.waitForCondition<ModelAccess>('ModelAccess', grant, 'Ready', { status: 'True' }, 120_000);
    const profile = granted.status?.inferenceProfileArn ?? '';
    expect(profile).toMatch(/application-inference-profile/);
    await eventually(
      async () =>
        (await describeAssociation(ta.status?.resources?.podIdentityAssociationId ?? '')).policy?.includes(profile) ? true : undefined,
      60_000,
      "the grant to reach a's session policy",
    );
    expect((await describeAssociation(tb.status?.resources?.podIdentityAssociationId ?? '')).policy).not.toContain(profile);
    await c.kube.delete('ModelAccess', grant);
    await c.kube.waitForGone('ModelAccess', grant, 60_000);
    await eventually(
      async () =>
        !(await describeAssociation(ta.status?.resources?.podIdentityAssociationId ?? '')).policy?.includes(profile) ? true : undefined,
      60_000,
      "the revoked grant to leave a's session policy",
    );

    // IAM principals cannot be let into a shared role: refused, nothing made.
    await c.kube.apply(tenant(refused, tierName, { principal: `arn:aws:iam::${ACCOUNT}:role/app` }));
    const no = await c.kube.waitForCondition<Tenant>(
      'Tenant',
      refused,
      'Ready',
      { status: 'False', reason: 'SharedRoleNeedsPodIdentity' },
      60_000,
    );
    expect(no.status?.conditions?.find((x) => x.type === 'Ready')?.message).toContain('spec.access.podIdentity');
    expect(no.metadata.finalizers ?? []).toEqual([]);

    for (const n of [a, b, refused]) await c.kube.delete('Tenant', n);
    for (const n of [a, b, refused]) await c.kube.waitForGone('Tenant', n, 120_000);
    expect(await associations(a, 'app')).toEqual([]);
    await c.kube.delete('TenantTier', tierName);
    await c.kube.waitForGone('TenantTier', tierName, 120_000);
    await expect(aws.iam.send(new GetRoleCommand({ RoleName: shared.split('/').pop() ?? '' }))).rejects.toThrow(
      /NoSuchEntity|not found|cannot be found/,
    );
  }, 600_000);
});
