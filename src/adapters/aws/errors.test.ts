import { describe, expect, it } from 'vitest';
import { classifyAwsError, isKnowledgeBasePropagationError } from './errors.js';

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
