/**
 * The key policy of every KMS key the operator creates, written at CreateKey. Tagging a key as
 * part of CreateKey would need kms:TagResource on every key of the account (KMS developer guide,
 * "Controlling access to tags": "the principal must have permission in an IAM policy that isn't
 * restricted to particular KMS keys"), which would let the operator tag a key it never created
 * and then act on it. Instead the key is created untagged with this policy, which names the
 * operator for the calls it makes on its own keys (tagging included), and the operator's IAM
 * policy reaches only keys that already carry the cluster's tag (KMS developer guide, "Key
 * policies": a key policy statement alone grants a principal of the key's account).
 */
import { type PolicyDocument, policy } from './document.js';

/** What the operator does to its own keys (see the kms-key driver). */
export const OWN_KEY_ACTIONS = [
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyRotationStatus',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
];

/** The key policy of a key the operator creates. */
export function keyPolicy(s: { partition?: string; accountId: string; operatorPrincipal: string }): PolicyDocument {
  const p = s.partition ?? 'aws';
  return policy(
    {
      // The account's default: IAM policies of the account decide (tenant and knowledge base
      // roles use the key through S3 under their boundary; administrators keep access).
      Sid: 'EnableIamPolicies',
      Effect: 'Allow',
      Principal: { AWS: `arn:${p}:iam::${s.accountId}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
    {
      // The operator manages the keys it created, tags included, and no others: its IAM policy
      // reaches only keys that already carry its cluster's tag. KMS's lockout check needs the
      // creator to keep kms:PutKeyPolicy.
      Sid: 'OperatorManagesOwnKey',
      Effect: 'Allow',
      Principal: { AWS: s.operatorPrincipal },
      Action: OWN_KEY_ACTIONS,
      Resource: '*',
    },
  );
}
