/**
 * What the controllers need to know about an error that ended a pass, to report it on the
 * `Synced` condition: its class, whether retrying is expected to clear it, and which call on
 * which resource failed. The adapters that make the calls (AWS, Kubernetes) say so.
 */

/** The class of a failure, which is the `Synced=False` reason. */
export type FailureClass = 'AccessDenied' | 'InvalidRequest' | 'AWSError' | 'KubernetesError';

/** One failure, as an adapter describes it. */
export interface Failure {
  class: FailureClass;
  /** Expected to clear by retrying (throttling, 5xx, network, races): kept off status until it persists. */
  transient: boolean;
  /** The call that failed, as `service:Operation` (`iam:CreateRole`), when known. */
  action?: string;
  /** The name or id the failed request named (a role name, a bucket), when known. */
  target?: string;
  /** The error's code and message as the service sent them, trimmed. */
  detail: string;
  /** What to check, one clause ("check that the operator's IAM policy ... allows iam:CreateRole"). */
  check: string;
}

/** Describes an error, or undefined when no adapter recognises it (then it is an operator bug). */
export type DescribeFailure = (e: unknown) => Failure | undefined;
