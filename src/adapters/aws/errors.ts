/**
 * One classification of AWS SDK errors, by error name and HTTP status (never by message text,
 * except where AWS tells retryable cases apart only by message; those live in one function here).
 */

/** What kind of failure an AWS error is. */
export type AwsErrorKind =
  'NotFound' | 'Conflict' | 'Throttled' | 'AccessDenied' | 'InvalidInput' | 'QuotaExceeded' | 'NameTaken' | 'Transient' | 'Unknown';

const NOT_FOUND = new Set([
  'NoSuchEntity',
  'NoSuchEntityException',
  'NoSuchBucket',
  'NotFound',
  'ResourceNotFoundException',
  'NotFoundException',
  'NoSuchKey',
  'NoSuchTagSet',
]);
const CONFLICT = new Set([
  'ConflictException',
  'EntityAlreadyExists',
  'EntityAlreadyExistsException',
  'BucketAlreadyOwnedByYou',
  'AlreadyExistsException',
  'ConcurrentModification',
  'ConcurrentModificationException',
  'OperationAborted',
  'ResourceInUseException',
]);
// IAM and KMS report quota exhaustion as LimitExceeded; the SDK retries it as a throttle, but
// retrying cannot help, so it is a quota error here.
const QUOTA = new Set([
  'ServiceQuotaExceededException',
  'LimitExceeded',
  'LimitExceededException',
  'TooManyBuckets',
  'OcuLimitExceededException',
]);
const THROTTLED = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'SlowDown',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
]);
const ACCESS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
]);
const INVALID = new Set([
  'ValidationException',
  'MalformedPolicyDocument',
  'MalformedPolicyDocumentException',
  'InvalidInput',
  'InvalidInputException',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidBucketName',
  'InvalidArgument',
  'MalformedXML',
  'InvalidRequest',
]);
const TRANSIENT = new Set([
  'InternalServerException',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ServiceFailure',
  'ServiceFailureException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'KMSInternalException',
  'DependencyTimeoutException',
]);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The HTTP status of an SDK error, when it has one. */
export function httpStatus(e: unknown): number | undefined {
  return (e as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/** Classifies an AWS SDK error. */
export function classifyAwsError(e: unknown): AwsErrorKind {
  const err = (e ?? {}) as SdkErrorShape;
  const name = err.name ?? err.Code ?? '';
  if (name === 'BucketAlreadyExists') return 'NameTaken';
  if (NOT_FOUND.has(name)) return 'NotFound';
  if (CONFLICT.has(name)) return 'Conflict';
  if (QUOTA.has(name)) return 'QuotaExceeded';
  if (THROTTLED.has(name)) return 'Throttled';
  if (ACCESS.has(name)) return 'AccessDenied';
  if (INVALID.has(name)) return 'InvalidInput';
  if (TRANSIENT.has(name) || (err.code !== undefined && NETWORK.has(err.code))) return 'Transient';
  const status = httpStatus(e);
  if (status === 404) return 'NotFound';
  if (status === 409) return 'Conflict';
  if (status === 429) return 'Throttled';
  if (status === 402) return 'QuotaExceeded';
  if (status === 403) return 'AccessDenied';
  if (status !== undefined && status >= 500) return 'Transient';
  if (status === 400) return 'InvalidInput';
  return 'Unknown';
}

/** True when the error means the resource does not exist (NotFound counts as gone). */
export function isNotFound(e: unknown): boolean {
  return classifyAwsError(e) === 'NotFound';
}

/**
 * Bedrock's CreateKnowledgeBase reports IAM and data-access-policy propagation only as a
 * ValidationException whose message names it; these are retried for a while. The FAISS engine
 * message looks similar but is permanent. This is the one place that reads message text.
 */
export function isKnowledgeBasePropagationError(e: unknown): boolean {
  if (classifyAwsError(e) !== 'InvalidInput') return false;
  const message = ((e as { message?: string }).message ?? '').toLowerCase();
  if (message.includes('engine type')) return false;
  return [
    'cannot assume role',
    'unable to assume the given role',
    'storage configuration provided is invalid',
    'no such index',
    'security_exception',
  ].some((m) => message.includes(m));
}

/** Awaits a delete call; NotFound counts as done (the resource is gone either way). */
export async function deletedOrGone(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}
