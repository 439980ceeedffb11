/**
 * One classification of AWS SDK errors, by error name and HTTP status (never by message text,
 * except where AWS tells retryable cases apart only by message; those live in one function here),
 * and the naming of the call an error came from (`iam:CreateRole` on a role) for conditions.
 */
import type { Failure } from '../../ports/failures.js';

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

/** The AWS call an error came from, as the naming middleware records it on the error. */
export interface AwsCall {
  /** The client's service key (`s3`, `iam`, `bedrockAgent`, `aossData`, ...). */
  service: string;
  /** The API operation (`CreateRole`). */
  operation: string;
  /** The name or id the request named (`RoleName`, `Bucket`, ...), when it has one. */
  target?: string;
}

/** Where the call is kept on an error: a symbol, so it never shows in logs or JSON. */
const CALL = Symbol.for('tenant-rag-operator.aws-call');

/** Records on `e` the call it came from, unless an inner call already did. */
export function recordCall(e: unknown, call: AwsCall): void {
  if (typeof e !== 'object' || e === null || CALL in e || !Object.isExtensible(e)) return;
  Object.defineProperty(e, CALL, { value: call, enumerable: false });
}

/** The first error in `e`'s cause chain that carries a recorded call, with that call. */
export function recordedCall(e: unknown): { error: unknown; call: AwsCall } | undefined {
  let x: unknown = e;
  // Bounded: a cause chain is short, and a cyclic one must not hang the pass.
  for (let depth = 0; depth < 8 && typeof x === 'object' && x !== null; depth++) {
    const call = (x as { [CALL]?: AwsCall })[CALL];
    if (call) return { error: x, call };
    x = (x as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Request fields that name what a call acts on, most specific first. */
const TARGET_FIELDS = [
  'RoleName',
  'Bucket',
  'AliasName',
  'KeyId',
  'knowledgeBaseId',
  'dataSourceId',
  'inferenceProfileIdentifier',
  'inferenceProfileName',
  'associationId',
  'modelIdentifier',
  'name',
  'id',
  'names',
  'ids',
  'resourceArn',
  'ResourceArn',
];

/** What a request names, from its input (a Pod Identity subject as `namespace/serviceAccount`). */
export function targetOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const i = input as Record<string, unknown>;
  if (typeof i.namespace === 'string' && typeof i.serviceAccount === 'string') return `${i.namespace}/${i.serviceAccount}`;
  for (const f of TARGET_FIELDS) {
    const v = i[f];
    if (typeof v === 'string' && v) return v;
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  }
  return undefined;
}

/** The part of an SDK v3 client the naming middleware needs. */
interface NamingClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input?: unknown }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input?: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high' },
    ): void;
  };
}

/**
 * Makes every error a command of `client` throws say which call it came from (service,
 * operation, what the request named), so a condition can name `iam:CreateRole` and the role.
 * In the initialize step, outside the retries: it sees the error the caller gets.
 */
export function attachCallNaming(client: NamingClient, service: string): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (e) {
        recordCall(e, { service, operation: (context.commandName ?? 'Unknown').replace(/Command$/, ''), target: targetOf(args.input) });
        throw e;
      }
    },
    { step: 'initialize', name: 'tenantRagCallNaming', priority: 'high' },
  );
}

/** IAM action prefixes of the client keys whose prefix is not the key itself. */
const ACTION_PREFIX: Record<string, string> = { bedrockAgent: 'bedrock', aossData: 'aoss' };

/**
 * S3 operations whose IAM permission has another name (HeadBucket needs s3:ListBucket); every
 * other operation the operator calls is authorised by the action of its own name.
 */
const S3_PERMISSION: Record<string, string> = {
  HeadBucket: 'ListBucket',
  ListObjectsV2: 'ListBucket',
  ListObjectVersions: 'ListBucketVersions',
  GetBucketEncryption: 'GetEncryptionConfiguration',
  PutBucketEncryption: 'PutEncryptionConfiguration',
  GetPublicAccessBlock: 'GetBucketPublicAccessBlock',
  PutPublicAccessBlock: 'PutBucketPublicAccessBlock',
  DeletePublicAccessBlock: 'PutBucketPublicAccessBlock',
  DeleteObjects: 'DeleteObjectVersion',
};

/** The call as `service:Operation`, with the service as IAM names it (`bedrock:CreateKnowledgeBase`). */
export function actionOf(call: AwsCall): string {
  return `${ACTION_PREFIX[call.service] ?? call.service}:${call.operation}`;
}

/** The IAM permission a call needs, where it is not the call's own name. */
function permissionOf(call: AwsCall): string {
  const s3 = call.service === 's3' ? S3_PERMISSION[call.operation] : undefined;
  return s3 ? `s3:${s3}` : actionOf(call);
}

/** What to check when AWS denied a call. */
function accessCheck(call: AwsCall): string {
  const permission = permissionOf(call);
  if (call.service === 'aossData')
    return `check that the collection's data access policy names the operator's role (without its IAM path) with ${permission}, and that the operator's IAM policy allows aoss:APIAccessAll`;
  const resourcePolicy = call.service === 'kms' ? ', the key policy' : '';
  return `check that the operator's IAM policy, its permissions boundary${resourcePolicy} and any SCP allow ${permission}${call.target ? ` on ${call.target}` : ''}`;
}

/** The longest service message a condition carries. */
const DETAIL_MAX = 300;

/** The error's name and message, as short as a condition allows. */
function detailOf(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name && e.name !== 'Error' ? e.name : `HTTP ${httpStatus(error) ?? '?'}`;
  const message = (e.message ?? '').replace(/\s+/g, ' ').trim();
  const text = message && message !== name && message !== 'UnknownError' ? `${name}: ${message}` : name;
  return text.length > DETAIL_MAX ? `${text.slice(0, DETAIL_MAX - 3)}...` : text;
}

/**
 * Describes an error an AWS call threw (anywhere in the cause chain), for the `Synced`
 * condition; undefined for errors that did not come from AWS.
 */
export function describeAwsFailure(e: unknown): Failure | undefined {
  const found = recordedCall(e);
  if (!found) return undefined;
  const { error, call } = found;
  const base = { action: actionOf(call), target: call.target, detail: detailOf(error) };
  const kind = classifyAwsError(error);
  // A network failure outside the SDK (the data plane's fetch) carries its code in the cause.
  switch (kind === 'Unknown' ? classifyAwsError((error as { cause?: unknown }).cause) : kind) {
    case 'AccessDenied':
      return { ...base, class: 'AccessDenied', transient: false, check: accessCheck(call) };
    case 'InvalidInput':
      return {
        ...base,
        class: 'InvalidRequest',
        transient: false,
        check:
          "AWS refused the request as invalid: check the spec fields and operator settings it is built from (names, ARNs, models), and the operator's log for the request",
      };
    case 'QuotaExceeded':
      return {
        ...base,
        class: 'AWSError',
        transient: false,
        check: 'an AWS quota of the account is reached: raise it in Service Quotas or free capacity',
      };
    // Throttling, 5xx and network errors clear by themselves; so do races (a conflict) and the
    // read-after-write lag of IAM (a resource just created not found yet).
    case 'Throttled':
    case 'Transient':
    case 'Conflict':
    case 'NotFound':
      return {
        ...base,
        class: 'AWSError',
        transient: true,
        check: "check the AWS Health Dashboard for the service and Region, and the account's request quotas",
      };
    default:
      return {
        ...base,
        class: 'AWSError',
        transient: false,
        check: "AWS refused the call: see the error, and the operator's log for the request",
      };
  }
}
