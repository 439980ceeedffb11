/**
 * The inline policy a ModelAccess puts on its tenant's role. Granted: invoke the tenant's own
 * application inference profile, and the model(s) behind it only through that profile. Throttled:
 * the allow is replaced by an explicit Deny of the same actions on the profile, so nothing else
 * the role may hold can reopen it until the quota window resets.
 */
import { type PolicyDocument, policy } from './document.js';

/** The invoke actions: InvokeModel also covers Converse, InvokeModelWithResponseStream ConverseStream. */
export const INVOKE_ACTIONS = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'];

/**
 * Condition key naming the inference profile a foundation-model call came through. It is listed
 * for InvokeModel and InvokeModelWithResponseStream in the IAM service reference, but its
 * behaviour with application profiles is UNVERIFIED against a live account (AWS reference §6.2):
 * if it does not hold, the model statement denies direct calls anyway and calls through the
 * profile fail until it is checked with the IAM policy simulator or a real invocation.
 */
export const INFERENCE_PROFILE_CONDITION_KEY = 'bedrock:InferenceProfileArn';

/** What the policy names. */
export interface ModelAccessPolicyInput {
  profileArn: string;
  /** The foundation models the profile routes to (one per Region for cross-Region profiles). */
  modelArns: readonly string[];
  /** Deny instead of allow (quota exhausted with onExceeded Throttle, or the tenant suspended). */
  deny: boolean;
}

/** The policy document; see the module comment. */
export function modelAccessPolicy(i: ModelAccessPolicyInput): PolicyDocument {
  if (i.deny) {
    return policy({ Sid: 'QuotaExhaustedDeny', Effect: 'Deny', Action: [...INVOKE_ACTIONS], Resource: i.profileArn });
  }
  const models = [...new Set(i.modelArns)].sort();
  return policy(
    { Sid: 'InvokeOwnProfile', Effect: 'Allow', Action: [...INVOKE_ACTIONS], Resource: i.profileArn },
    ...(models.length > 0
      ? [
          {
            Sid: 'ModelOnlyThroughProfile',
            Effect: 'Allow' as const,
            Action: [...INVOKE_ACTIONS],
            Resource: models,
            Condition: { ArnEquals: { [INFERENCE_PROFILE_CONDITION_KEY]: i.profileArn } },
          },
        ]
      : []),
  );
}
