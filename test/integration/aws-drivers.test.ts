/**
 * The S3 bucket and IAM role drivers over the real SDK against moto, driven by the engine as the
 * controllers drive them: converge, repair drift, adopt after a crashed create, refuse a resource
 * another owner tagged, and delete completely.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  ListKeysCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { CreatePolicyCommand, DeleteRolePolicyCommand, GetRoleCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeletePublicAccessBlockCommand,
  GetBucketEncryptionCommand,
  HeadBucketCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import { runResources } from '../../src/controllers/engine.js';
import { ROLE_PATH } from '../../src/core/naming.js';
import { policy } from '../../src/core/policies/document.js';
import { TAG, ownerTags } from '../../src/core/tags.js';
import { IamRoleDriver, type RoleSpec } from '../../src/resources/iam-role/driver.js';
import { KmsKeyDriver } from '../../src/resources/kms-key/driver.js';
import type { BoundResource } from '../../src/resources/managed-resource.js';
import { type BucketSpec, S3BucketDriver } from '../../src/resources/s3-bucket/driver.js';
import { clientsFor } from '../support/aws.js';
import { type Moto, startMoto } from '../support/moto.js';
import { withModelCheck } from '../support/cluster.js';

let moto: Moto;
let aws: AwsClients;
const ctx = { signal: new AbortController().signal, logger: pino({ level: 'silent' }) };
const owner = { cluster: 'test', kind: 'Tenant' as const, name: 'acme', uid: 'uid-1', tier: 'premium' };

beforeAll(async () => {
  moto = await withModelCheck(await startMoto(join(await mkdtemp(join(tmpdir(), 'tro-moto-')), 'moto.log')), 'moto');
  aws = clientsFor(moto);
});
beforeEach(async () => {
  await moto.reset();
});
afterAll(async () => {
  await moto?.stop();
});

async function converge(
  resources: BoundResource[],
  deleting = false,
  maxPasses = 20,
): Promise<{ passes: number; outputs: Record<string, string> }> {
  for (let pass = 1; pass <= maxPasses; pass++) {
    const r = await runResources(ctx, resources, { deleting });
    if (r.complete) return { passes: pass, outputs: r.outputs };
  }
  throw new Error('did not converge');
}

const bucketSpec: BucketSpec = { name: 'rag-test-t-acme-123456789012-us-east-1', region: 'us-east-1', owner };
const bucket = (): BoundResource => ({ driver: new S3BucketDriver(aws.s3), spec: bucketSpec, ids: {} });

describe('S3 bucket driver', () => {
  it('creates a private, encrypted, versioned, tagged bucket and then does nothing', async () => {
    const { outputs } = await converge([bucket()]);
    expect(outputs.bucket).toBe(bucketSpec.name);
    const enc = await aws.s3.send(new GetBucketEncryptionCommand({ Bucket: bucketSpec.name }));
    expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
    const again = await runResources(ctx, [bucket()]);
    expect(again).toMatchObject({ complete: true });
  });

  it('repairs drift: public access block removed and tags changed behind its back', async () => {
    await converge([bucket()]);
    await aws.s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucketSpec.name }));
    await aws.s3.send(new PutBucketTaggingCommand({ Bucket: bucketSpec.name, Tagging: { TagSet: [{ Key: TAG.cluster, Value: 'test' }] } }));
    const pass = await runResources(ctx, [bucket()]);
    expect(pass.components[0]).toMatchObject({ reason: 'Updating' });
    expect(pass.components[0]?.message).toMatch(/tags, publicAccessBlock/);
    expect((await runResources(ctx, [bucket()])).complete).toBe(true);
  });

  it('adopts an untagged bucket of its name (a create that crashed before tagging)', async () => {
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucketSpec.name }));
    const { passes } = await converge([bucket()]);
    expect(passes).toBe(2);
  });

  it('refuses a bucket of its name that another tenant owns', async () => {
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucketSpec.name }));
    await aws.s3.send(
      new PutBucketTaggingCommand({
        Bucket: bucketSpec.name,
        Tagging: {
          TagSet: [
            { Key: TAG.cluster, Value: 'test' },
            { Key: TAG.kind, Value: 'Tenant' },
            { Key: TAG.name, Value: 'other' },
            { Key: TAG.managedBy, Value: 'tenant-rag-operator' },
          ],
        },
      }),
    );
    const refused = await runResources(ctx, [bucket()]);
    expect(refused.terminal?.reason).toBe('NameConflict');
    expect(refused.components[0]).toMatchObject({ status: 'False', reason: 'NameConflict' });
    expect(refused.components[0]?.message).toMatch(/belongs to Tenant "other" of cluster "test": rename or delete one of them/);
  });

  it('empties a bucket with object versions and deletes it', async () => {
    await converge([bucket()]);
    for (let i = 0; i < 3; i++)
      await aws.s3.send(new PutObjectCommand({ Bucket: bucketSpec.name, Key: `docs/${i % 2}.txt`, Body: `v${i}` }));
    await converge([bucket()], true);
    await expect(aws.s3.send(new HeadBucketCommand({ Bucket: bucketSpec.name }))).rejects.toMatchObject({ name: 'NotFound' });
  });
});

describe('IAM role driver', () => {
  const doc = policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/tenants/acme/*' });
  const roleSpec = (boundaryArn?: string): RoleSpec => ({
    name: 'rag-test-t-acme-app',
    path: ROLE_PATH,
    description: 'tenant acme',
    owner,
    trust: policy({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }),
    inline: { 'tenant-access': doc },
    boundaryArn,
  });
  const role = (spec: RoleSpec): BoundResource => ({ driver: new IamRoleDriver(aws.iam, 'TenantRole'), spec, ids: {} });

  it('creates the role with its boundary and inline policy, then repairs a deleted policy', async () => {
    const boundary = await aws.iam.send(
      new CreatePolicyCommand({
        PolicyName: 'RagTenantBoundary',
        PolicyDocument: JSON.stringify(policy({ Effect: 'Allow', Action: ['s3:*', 'bedrock:*'], Resource: '*' })),
      }),
    );
    const spec = roleSpec(boundary.Policy?.Arn);
    const { outputs } = await converge([role(spec)]);
    expect(outputs.roleArn).toMatch(/^arn:aws:iam::\d{12}:role\/rag-tenant\/rag-test-t-acme-app$/);
    const got = await aws.iam.send(new GetRoleCommand({ RoleName: spec.name }));
    expect(got.Role?.PermissionsBoundary?.PermissionsBoundaryArn).toBe(boundary.Policy?.Arn);
    await aws.iam.send(new DeleteRolePolicyCommand({ RoleName: spec.name, PolicyName: 'tenant-access' }));
    const pass = await runResources(ctx, [role(spec)]);
    expect(pass.components[0]?.message).toMatch(/inline:tenant-access/);
    expect((await aws.iam.send(new ListRolePoliciesCommand({ RoleName: spec.name }))).PolicyNames).toEqual(['tenant-access']);
  });

  it('deletes inline policies and then the role', async () => {
    await converge([role(roleSpec())]);
    await converge([role(roleSpec())], true);
    await expect(aws.iam.send(new GetRoleCommand({ RoleName: 'rag-test-t-acme-app' }))).rejects.toMatchObject({
      name: 'NoSuchEntityException',
    });
  });
});

describe('KMS key driver', () => {
  const keySpec = { alias: 'alias/rag-test-t-acme', description: 'tenant acme', owner, pendingWindowDays: 7 };
  const keyRes = (ids: Record<string, string> = {}): BoundResource => ({ driver: new KmsKeyDriver(aws.kms), spec: keySpec, ids });
  const ownerKeys = async (): Promise<{ id: string; state?: string }[]> => {
    const out = [];
    for (const k of (await aws.kms.send(new ListKeysCommand({}))).Keys ?? []) {
      const meta = (await aws.kms.send(new DescribeKeyCommand({ KeyId: k.KeyId }))).KeyMetadata;
      out.push({ id: k.KeyId ?? '', state: meta?.KeyState });
    }
    return out;
  };

  it('creates a rotating key behind its alias and publishes its ARN', async () => {
    const { outputs } = await converge([keyRes()]);
    expect(outputs.kmsKeyArn).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\//);
    const rotation = await aws.kms.send(new GetKeyRotationStatusCommand({ KeyId: outputs.kmsKeyArn }));
    expect(rotation.KeyRotationEnabled).toBe(true);
    expect(await ownerKeys()).toHaveLength(1);
  });

  it('after a crash between CreateKey and CreateAlias, adopts the tagged key instead of making a second', async () => {
    const orphan = await aws.kms.send(
      new CreateKeyCommand({ Tags: Object.entries(ownerTags(owner)).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) }),
    );
    const { outputs } = await converge([keyRes()]);
    expect(outputs.kmsKeyArn).toBe(orphan.KeyMetadata?.Arn);
    expect(await ownerKeys()).toHaveLength(1);
  });

  it('finds its key by the id persisted on status when the alias was deleted, and restores the alias', async () => {
    const { outputs } = await converge([keyRes()]);
    await aws.kms.send(new DeleteAliasCommand({ AliasName: keySpec.alias }));
    const again = await converge([keyRes({ kmsKeyArn: outputs.kmsKeyArn ?? '' })]);
    expect(again.outputs.kmsKeyArn).toBe(outputs.kmsKeyArn);
    expect(await ownerKeys()).toHaveLength(1);
  });

  it('spot checks: one read each for the alias, rotation and tags; each sees its drift, and a key replaced behind the alias asks for a full look', async () => {
    const { outputs } = await converge([keyRes()]);
    const d = new KmsKeyDriver(aws.kms);
    const spec = { ...keySpec, policy: { Version: '2012-10-17' as const, Statement: [] } };
    const full = await d.observe(ctx, spec, { kmsKeyArn: outputs.kmsKeyArn ?? '' });
    if (full.state !== 'ready') throw new Error(`key not ready: ${full.state}`);
    const [alias, rotation, tags] = d.spotChecks(spec, full.observed).map((check) => () => check(ctx));
    expect(await alias?.()).toEqual(full.observed);
    expect(await rotation?.()).toEqual(full.observed);
    expect(await tags?.()).toEqual(full.observed);
    await aws.kms.send(new DisableKeyRotationCommand({ KeyId: full.observed.keyId }));
    expect(d.compare(spec, (await rotation?.()) ?? full.observed)).toEqual(['rotation']);
    await aws.kms.send(new UntagResourceCommand({ KeyId: full.observed.keyId, TagKeys: [TAG.uid] }));
    expect(d.compare(spec, (await tags?.()) ?? full.observed)).toEqual(['tags']);
    // Another key behind the alias: not this key any more.
    const other = await aws.kms.send(new CreateKeyCommand({}));
    await aws.kms.send(new UpdateAliasCommand({ AliasName: keySpec.alias, TargetKeyId: other.KeyMetadata?.KeyId }));
    expect(await alias?.()).toBeUndefined();
  });

  it('deletes the alias and schedules the key for deletion', async () => {
    const { outputs } = await converge([keyRes()]);
    await converge([keyRes({ kmsKeyArn: outputs.kmsKeyArn ?? '' })], true);
    expect((await aws.kms.send(new DescribeKeyCommand({ KeyId: outputs.kmsKeyArn }))).KeyMetadata?.KeyState).toBe('PendingDeletion');
    await expect(aws.kms.send(new DescribeKeyCommand({ KeyId: keySpec.alias }))).rejects.toMatchObject({ name: 'NotFoundException' });
  });
});
