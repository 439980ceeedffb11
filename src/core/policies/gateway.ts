/**
 * The tenant gateway's own IAM policy (the role its pods run as). It may: assume this cluster's
 * tenant application roles (`*-app` under the operator's role path and name prefix) with the
 * session tags the gateway sets, so bridge and silo retrievals and every model call run as the
 * tenant; read only pool knowledge bases (those of this cluster owned by a TenantTier, which only
 * pool tiers have) for pool retrievals, whose tenant filter the gateway adds; and, for a pool
 * tenant's retrieve-and-generate, invoke this cluster's application inference profiles (the
 * foundation models only through one). Nothing else: no knowledge base of a tenant, no other
 * cluster's roles or resources, no administration. Pure.
 */
import { ROLE_PATH, namePrefix } from '../naming.js';
import { TAG } from '../tags.js';
import { type PolicyDocument, type Statement, policy } from './document.js';
import { INFERENCE_PROFILE_CONDITION_KEY, INVOKE_ACTIONS } from './model-access.js';
import type { SecurityScope } from './operator.js';

/** Session tag keys the gateway sets on every AssumeRole (src/gateway/bedrock.ts). */
export const GATEWAY_SESSION_TAGS = { tenant: 'tenant', via: 'rag.tenancy.dev/via' } as const;
/** The value of the `via` session tag. */
export const GATEWAY_VIA = 'gateway';

/** The gateway role's permissions for the cluster described by `s`. */
export function gatewayPolicy(s: SecurityScope): PolicyDocument {
  const p = s.partition ?? 'aws';
  const kbs = `arn:${p}:bedrock:${s.region}:${s.accountId}:knowledge-base/*`;
  const profiles = `arn:${p}:bedrock:${s.region}:${s.accountId}:application-inference-profile/*`;
  const ownCluster = { [`aws:ResourceTag/${TAG.cluster}`]: s.cluster };
  return policy(
    {
      Sid: 'AssumeTenantAppRoles',
      Effect: 'Allow',
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Resource: `arn:${p}:iam::${s.accountId}:role${ROLE_PATH}${namePrefix(s)}t-*-app`,
      // Only with the gateway's own session tags, so a tenant role's trust can require them.
      Condition: {
        StringEquals: { [`aws:RequestTag/${GATEWAY_SESSION_TAGS.via}`]: GATEWAY_VIA },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [GATEWAY_SESSION_TAGS.tenant, GATEWAY_SESSION_TAGS.via] },
      },
    },
    {
      Sid: 'RetrievePoolKnowledgeBases',
      Effect: 'Allow',
      Action: 'bedrock:Retrieve',
      Resource: kbs,
      Condition: { StringEquals: { ...ownCluster, [`aws:ResourceTag/${TAG.kind}`]: 'TenantTier' } },
    },
    // RetrieveAndGenerate has no resource type; what it reads is still behind Retrieve above.
    { Sid: 'RetrieveAndGenerate', Effect: 'Allow', Action: 'bedrock:RetrieveAndGenerate', Resource: '*' },
    {
      Sid: 'InvokeTenantProfiles',
      Effect: 'Allow',
      Action: INVOKE_ACTIONS,
      Resource: profiles,
      Condition: { StringEquals: ownCluster },
    },
    {
      Sid: 'InvokeModelsThroughProfiles',
      Effect: 'Allow',
      Action: INVOKE_ACTIONS,
      Resource: `arn:${p}:bedrock:*::foundation-model/*`,
      Condition: { ArnLike: { [INFERENCE_PROFILE_CONDITION_KEY]: profiles } },
    },
  );
}

/**
 * A tenant role's trust in the gateway: its role may assume the tenant's role only with the
 * gateway's session tags, the `tenant` tag naming this tenant. The gateway sets them from the
 * caller it verified, so even a gateway bug or a stolen gateway session cannot take one tenant's
 * role for another's request (the tags are fixed by the trust, not chosen per call).
 */
export function gatewayTrust(gatewayRoleArn: string, tenant: string): Statement {
  return {
    Sid: 'TenantGateway',
    Effect: 'Allow',
    Principal: { AWS: gatewayRoleArn },
    Action: ['sts:AssumeRole', 'sts:TagSession'],
    Condition: {
      StringEquals: {
        [`aws:RequestTag/${GATEWAY_SESSION_TAGS.tenant}`]: tenant,
        [`aws:RequestTag/${GATEWAY_SESSION_TAGS.via}`]: GATEWAY_VIA,
      },
    },
  };
}

/** `trust` with the gateway's statement added, when a gateway role is set. */
export function withGatewayTrust(trust: PolicyDocument, gatewayRoleArn: string | undefined, tenant: string): PolicyDocument {
  return gatewayRoleArn ? policy(...trust.Statement, gatewayTrust(gatewayRoleArn, tenant)) : trust;
}
