/**
 * The AWS proxy's injected AccessDenied reads, to the real SDK clients, as AWS's own refusal in
 * each protocol (query XML, S3 XML, JSON), and names the failed call through the operator's
 * naming middleware.
 */
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachCallNaming, classifyAwsError, describeAwsFailure } from '../../src/adapters/aws/errors.js';
import { type AwsProxy, startAwsProxy } from '../support/aws-proxy.js';

let proxy: AwsProxy;
beforeAll(async () => {
  // Faults are answered by the proxy itself: nothing is forwarded to this upstream.
  proxy = await startAwsProxy('http://127.0.0.1:9');
});
afterAll(async () => {
  await proxy.stop();
});

const common = (): {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
} => ({
  region: 'us-east-1',
  endpoint: proxy.endpoint,
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  maxAttempts: 1,
});

describe('AWS proxy AccessDenied', () => {
  it.each([
    {
      protocol: 'IAM query XML',
      match: 'iam:CreateRole',
      call: async () => {
        const iam = new IAMClient(common());
        attachCallNaming(iam as never, 'iam');
        return iam.send(new CreateRoleCommand({ RoleName: 'r1', AssumeRolePolicyDocument: '{}' })).finally(() => iam.destroy());
      },
      name: 'AccessDenied',
      action: 'iam:CreateRole',
    },
    {
      protocol: 'S3 XML',
      match: 's3:CreateBucket',
      call: async () => {
        const s3 = new S3Client({ ...common(), forcePathStyle: true });
        attachCallNaming(s3 as never, 's3');
        return s3.send(new CreateBucketCommand({ Bucket: 'b1' })).finally(() => s3.destroy());
      },
      name: 'AccessDenied',
      action: 's3:CreateBucket',
    },
    {
      protocol: 'KMS JSON',
      match: 'kms:CreateKey',
      call: async () => {
        const kms = new KMSClient(common());
        attachCallNaming(kms as never, 'kms');
        return kms.send(new CreateKeyCommand({})).finally(() => kms.destroy());
      },
      name: 'AccessDeniedException',
      action: 'kms:CreateKey',
    },
  ])('$protocol: the SDK reads $name (403) and the call is named', async ({ match, call, name, action }) => {
    proxy.failNext({ match, kind: 'AccessDenied', times: 1 });
    const err = await call().catch((e: unknown) => e);
    expect(err).toMatchObject({ name, $metadata: { httpStatusCode: 403 } });
    expect(classifyAwsError(err)).toBe('AccessDenied');
    expect(describeAwsFailure(err)).toMatchObject({ class: 'AccessDenied', action });
    expect(proxy.faulted.at(-1)).toBe(match);
  });
});
