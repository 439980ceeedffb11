import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { attachCallNaming, classifyAwsError, describeAwsFailure, isKnowledgeBasePropagationError, recordCall, targetOf } from './errors.js';

const sdk = (name: string, status?: number, message = ''): Error & { $metadata: { httpStatusCode?: number } } =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

describe('classifyAwsError', () => {
  it.each([
    { name: 'IAM NoSuchEntity is not found', err: sdk('NoSuchEntityException', 404), kind: 'NotFound' },
    { name: 'HeadBucket 404 has no body and only a status', err: sdk('NotFound', 404), kind: 'NotFound' },
    { name: 'a bucket someone else owns is a taken name', err: sdk('BucketAlreadyExists', 409), kind: 'NameTaken' },
    { name: 'our own bucket already there is a conflict (adopt it)', err: sdk('BucketAlreadyOwnedByYou', 409), kind: 'Conflict' },
    { name: 'IAM LimitExceeded is a quota, not a throttle', err: sdk('LimitExceededException', 409), kind: 'QuotaExceeded' },
    { name: 'bedrock 402 is a quota', err: sdk('ServiceQuotaExceededException', 402), kind: 'QuotaExceeded' },
    { name: 'a 429 without a known name is a throttle', err: sdk('Whatever', 429), kind: 'Throttled' },
    { name: 'S3 SlowDown is a throttle', err: sdk('SlowDown', 503), kind: 'Throttled' },
    { name: 'a 503 without a known name is transient', err: sdk('Unknown', 503), kind: 'Transient' },
    { name: 'a connection reset is transient', err: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), kind: 'Transient' },
    { name: 'access denied', err: sdk('AccessDeniedException', 403), kind: 'AccessDenied' },
    { name: 'malformed policy is invalid input', err: sdk('MalformedPolicyDocumentException', 400), kind: 'InvalidInput' },
    { name: 'something unheard of', err: new Error('?'), kind: 'Unknown' },
  ])('$name', ({ err, kind }) => {
    expect(classifyAwsError(err)).toBe(kind);
  });
});

describe('isKnowledgeBasePropagationError', () => {
  it.each([
    { name: 'role not yet assumable', message: 'Knowledge base role arn:... cannot assume role', want: true },
    {
      name: 'index not yet visible',
      message:
        'The knowledge base storage configuration provided is invalid... Dependency error document status code: 404, error message: no such index [x]',
      want: true,
    },
    {
      name: 'data access policy not yet enforced',
      message: 'The knowledge base storage configuration provided is invalid... Request failed: [security_exception] all shards failed',
      want: true,
    },
    {
      name: 'the wrong index engine is permanent',
      message:
        'The knowledge base storage configuration provided is invalid... The OpenSearch Serverless engine type associated with your vector index is invalid. Recreate your vector index with one of the following valid engine types: FAISS.',
      want: false,
    },
    { name: 'other validation errors are permanent', message: 'Invalid embedding model ARN', want: false },
  ])('$name', ({ message, want }) => {
    expect(isKnowledgeBasePropagationError(sdk('ValidationException', 400, message))).toBe(want);
  });
});

describe('describeAwsFailure', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  /** An endpoint answering every request with `status` and `body`. */
  async function answering(status: number, body: string, headers: Record<string, string>): Promise<string> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(status, headers);
        res.end(body);
      });
    });
    servers.push(server);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const credentials = { accessKeyId: 'a', secretAccessKey: 'b' };

  it('names the call and the role of an IAM AccessDenied, and what to check', async () => {
    const endpoint = await answering(
      403,
      '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:sts::1:assumed-role/op/x is not authorized to perform: iam:CreateRole with an explicit deny in a service control policy</Message></Error><RequestId>r</RequestId></ErrorResponse>',
      { 'content-type': 'text/xml' },
    );
    const iam = new IAMClient({ region: 'us-east-1', endpoint, credentials, maxAttempts: 1 });
    attachCallNaming(iam as never, 'iam');
    const err = await iam
      .send(new CreateRoleCommand({ RoleName: 'rag-c-t-acme-app', AssumeRolePolicyDocument: '{}' }))
      .catch((e: unknown) => e);
    // Wrapped by a caller, the call is still found through the cause chain.
    const f = describeAwsFailure(new Error('wrapped', { cause: err }));
    expect(f).toMatchObject({ class: 'AccessDenied', transient: false, action: 'iam:CreateRole', target: 'rag-c-t-acme-app' });
    expect(f?.detail).toMatch(/^AccessDenied: User: .* explicit deny in a service control policy$/);
    expect(f?.check).toBe(
      "check that the operator's IAM policy, its permissions boundary and any SCP allow iam:CreateRole on rag-c-t-acme-app",
    );
    iam.destroy();
  });

  it('gives the IAM permission an S3 call needs where it has another name', async () => {
    const endpoint = await answering(403, '', {});
    const s3 = new S3Client({ region: 'us-east-1', endpoint, credentials, forcePathStyle: true, maxAttempts: 1 });
    attachCallNaming(s3 as never, 's3');
    const err = await s3.send(new HeadBucketCommand({ Bucket: 'b1' })).catch((e: unknown) => e);
    const f = describeAwsFailure(err);
    expect(f).toMatchObject({ class: 'AccessDenied', action: 's3:HeadBucket', target: 'b1' });
    expect(f?.check).toContain('allow s3:ListBucket on b1');
    s3.destroy();
  });

  it.each([
    { name: 'a throttle is transient', err: sdk('ThrottlingException', 400), want: { class: 'AWSError', transient: true } },
    { name: 'a 5xx is transient', err: sdk('InternalServerException', 500), want: { class: 'AWSError', transient: true } },
    {
      name: 'a validation error is an invalid request',
      err: sdk('ValidationException', 400),
      want: { class: 'InvalidRequest', transient: false },
    },
    { name: 'a quota is not transient', err: sdk('ServiceQuotaExceededException', 402), want: { class: 'AWSError', transient: false } },
    {
      name: 'a network failure outside the SDK is transient',
      err: new TypeError('fetch failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) }),
      want: { class: 'AWSError', transient: true },
    },
  ])('$name', ({ err, want }) => {
    recordCall(err, { service: 'bedrockAgent', operation: 'CreateKnowledgeBase', target: 'kb' });
    expect(describeAwsFailure(err)).toMatchObject({ ...want, action: 'bedrock:CreateKnowledgeBase', target: 'kb' });
  });

  it('knows nothing of errors no AWS call recorded', () => {
    expect(describeAwsFailure(sdk('AccessDenied', 403))).toBeUndefined();
    expect(describeAwsFailure(new TypeError('x'))).toBeUndefined();
  });

  it('finds what a request names', () => {
    expect(targetOf({ RoleName: 'r', PolicyName: 'p' })).toBe('r');
    expect(targetOf({ clusterName: 'c', namespace: 'acme', serviceAccount: 'app' })).toBe('acme/app');
    expect(targetOf({ names: ['coll'] })).toBe('coll');
    expect(targetOf({})).toBeUndefined();
  });
});
