/**
 * The AWS emulator harness the provisioning drivers build on: moto answers the real SDK v3
 * clients over HTTP, validates like AWS where it can, and resets between tests.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient, ListRolesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Moto, startMoto } from '../support/moto.js';
import { withModelCheck } from '../support/cluster.js';

let moto: Moto;
const creds = { accessKeyId: 'testing', secretAccessKey: 'testing' };

beforeAll(async () => {
  moto = await withModelCheck(await startMoto(join(await mkdtemp(join(tmpdir(), 'tro-moto-')), 'moto.log')), 'moto');
});
afterAll(async () => {
  await moto?.stop();
});

describe('moto harness', () => {
  it('serves S3 and IAM to the real SDK clients and forgets everything on reset', async () => {
    const s3 = new S3Client({ region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true, credentials: creds });
    const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
    await s3.send(new CreateBucketCommand({ Bucket: 'rag-test-bucket' }));
    await iam.send(
      new CreateRoleCommand({
        RoleName: 'rag-kb-acme',
        Path: '/rag-tenant/',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    expect((await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(['rag-test-bucket']);
    expect((await iam.send(new ListRolesCommand({ PathPrefix: '/rag-tenant/' }))).Roles?.map((r) => r.RoleName)).toEqual(['rag-kb-acme']);
    await moto.reset();
    expect((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
  });

  it('rejects a permission policy without resources the way IAM does', async () => {
    // moto validates permission policies (inline and managed) but not trust policies; docs/testing.md says so.
    const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: creds });
    await iam.send(new CreateRoleCommand({ RoleName: 'r', AssumeRolePolicyDocument: '{}' }));
    const noResource = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] });
    await expect(iam.send(new PutRolePolicyCommand({ RoleName: 'r', PolicyName: 'p', PolicyDocument: noResource }))).rejects.toMatchObject({
      name: 'MalformedPolicyDocumentException',
    });
  });
});
