/**
 * Which error codes an operation may answer: those its model declares (by shape name or the
 * shape's `error.code`), the few every AWS API may send, and S3's documented codes, which its model
 * does not declare.
 */
import type { Operation, ServiceModel } from './botocore-models.js';

/**
 * AWS's common errors (https://docs.aws.amazon.com/general/latest/gr/api-retries.html and each
 * API reference's "Common Errors" page), in both the JSON and the query/XML spellings.
 */
export const COMMON_ERRORS: ReadonlySet<string> = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'IncompleteSignature',
  'InternalFailure',
  'InvalidAction',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'NotAuthorized',
  'OptInRequired',
  'RequestExpired',
  'ServiceUnavailable',
  'Throttling',
  'ThrottlingException',
  'ValidationError',
  'ValidationException',
]);

/**
 * S3's model declares almost no errors; these are from its "List of error codes"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html), limited to the ones the
 * buckets and objects the operator touches can give.
 */
const S3_ERRORS = new Set([
  'AccessDenied',
  'BucketAlreadyExists',
  'BucketAlreadyOwnedByYou',
  'BucketNotEmpty',
  'IllegalVersioningConfigurationException',
  'InternalError',
  'InvalidArgument',
  'InvalidBucketName',
  'InvalidRequest',
  'InvalidTag',
  'MalformedPolicy',
  'MalformedXML',
  'NoSuchBucket',
  'NoSuchBucketPolicy',
  'NoSuchKey',
  'NoSuchPublicAccessBlockConfiguration',
  'NoSuchTagSet',
  'NoSuchVersion',
  'OperationAborted',
  'PreconditionFailed',
  'ServerSideEncryptionConfigurationNotFoundError',
  'ServiceUnavailable',
  'SlowDown',
]);

/** The HTTP status an error code is declared with, when the operation declares it. */
export function declaredError(model: ServiceModel, op: Operation, code: string): { declared: boolean; status?: number } {
  for (const e of op.errors ?? []) {
    const shape = model.shapes[e.shape];
    if (e.shape === code || shape?.error?.code === code) return { declared: true, status: shape?.error?.httpStatusCode };
  }
  if (COMMON_ERRORS.has(code)) return { declared: true };
  if (model.service === 's3' && S3_ERRORS.has(code)) return { declared: true };
  return { declared: false };
}
