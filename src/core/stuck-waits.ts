/**
 * Waits on AWS propagation that outlast any propagation. IAM and data access policies take effect
 * within about a minute; a wait still refused after STUCK_AFTER_MS is almost surely a
 * misconfiguration, so the condition changes reason and says what to check. The operator keeps
 * retrying (a fix in AWS needs no change in the cluster).
 */
import type { Condition } from '../api/v1alpha1/types.js';
import type { ConditionInput } from './conditions.js';

/** How long a propagation wait may last before it is called stuck. */
export const STUCK_AFTER_MS = 10 * 60_000;

/** Propagation waits, with the reason and the advice once stuck. */
const STUCK: Record<string, { reason: string; check: string }> = {
  PermissionsPropagating: {
    reason: 'PermissionsNotEffective',
    check:
      "check that the permissions boundary and any SCP allow the knowledge base role aoss:APIAccessAll on the collection and bedrock:InvokeModel on the embedding model, and that the tier's data access policy names the role",
  },
  AccessPolicyPropagating: {
    reason: 'AccessPolicyNotEffective',
    check:
      "check operatorRoleArn in the operator's --config (the data access policy must name the role the operator runs as, without its IAM path) and openSearch.vpcEndpointIds (the network policy must admit where the operator connects from)",
  },
};

/** The input, or its stuck form when the same component has not been ready for STUCK_AFTER_MS. */
export function escalateStuckWait(input: ConditionInput, existing: Condition | undefined, now: Date): ConditionInput {
  const stuck = STUCK[input.reason];
  if (!stuck || input.status !== 'False' || existing?.status !== 'False') return input;
  const since = Date.parse(existing.lastTransitionTime);
  const waited = now.getTime() - since;
  if (!Number.isFinite(waited) || waited < STUCK_AFTER_MS) return input;
  return {
    ...input,
    reason: stuck.reason,
    message: `${input.message}; still refused after ${Math.floor(waited / 60_000)} minutes, longer than propagation takes: ${stuck.check} (the operator keeps retrying)`,
  };
}
