/**
 * A ModelAccess's policy on its tenant's role, under the tenant boundary, evaluated by an IAM
 * policy simulator: the tenant invokes its own profile and the model behind it only through that
 * profile, never another tenant's profile; throttled, its own profile is denied explicitly.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import { TAG } from '../tags.js';
import type { PolicyDocument } from './document.js';
import { INVOKE_ACTIONS, modelAccessPolicy } from './model-access.js';
import { tenantBoundaryPolicy } from './operator.js';

const account = '111122223333';
const boundary = tenantBoundaryPolicy({ accountId: account, region: 'us-east-1', prefix: 'rag', cluster: 'prod' });
const profileA = `arn:aws:bedrock:us-east-1:${account}:application-inference-profile/aaaaaaaaaaaa`;
const profileB = `arn:aws:bedrock:us-east-1:${account}:application-inference-profile/bbbbbbbbbbbb`;
const model = 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0';
const modelWest = 'arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0';
const ours = { [`aws:ResourceTag/${TAG.cluster}`]: 'prod' };

async function decide(identity: PolicyDocument, action: string, resource: string, context: Record<string, string> = {}): Promise<string> {
  const r = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${account}:role/rag-tenant/rag-prod-t-a-app`,
        action,
        resource: { resource, accountId: account },
        contextVariables: context,
      },
      identityPolicies: [{ name: 'model-a', policy: identity }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      permissionBoundaryPolicies: [{ name: 'boundary', policy: boundary }],
    },
    {},
  );
  if (r.resultType === 'error') throw new Error(`simulation refused ${action} on ${resource}: ${JSON.stringify(r.errors)}`);
  return r.overallResult;
}

describe('model access policy under the tenant boundary', () => {
  const allow = modelAccessPolicy({ profileArn: profileA, modelArns: [model, modelWest], deny: false });
  const deny = modelAccessPolicy({ profileArn: profileA, modelArns: [model, modelWest], deny: true });

  it.each(INVOKE_ACTIONS)('%s: allowed on its own profile and, through it, on the models behind it', async (action) => {
    expect(await decide(allow, action, profileA, ours)).toBe('Allowed');
    expect(await decide(allow, action, model, { 'bedrock:InferenceProfileArn': profileA })).toBe('Allowed');
    expect(await decide(allow, action, modelWest, { 'bedrock:InferenceProfileArn': profileA })).toBe('Allowed');
  });

  it.each(INVOKE_ACTIONS)("%s: denied on another tenant's profile and on the model called directly", async (action) => {
    expect(await decide(allow, action, profileB, ours)).not.toBe('Allowed');
    expect(await decide(allow, action, model)).not.toBe('Allowed');
    expect(await decide(allow, action, model, { 'bedrock:InferenceProfileArn': profileB })).not.toBe('Allowed');
  });

  it('the boundary refuses a profile of another cluster even if a policy named it', async () => {
    expect(await decide(allow, 'bedrock:InvokeModel', profileA, { [`aws:ResourceTag/${TAG.cluster}`]: 'staging' })).not.toBe('Allowed');
  });

  it.each(INVOKE_ACTIONS)('%s: throttled, its own profile is denied explicitly', async (action) => {
    expect(await decide(deny, action, profileA, ours)).toBe('ExplicitlyDenied');
    expect(await decide(deny, action, model, { 'bedrock:InferenceProfileArn': profileA })).not.toBe('Allowed');
  });

  it('names nothing but its own profile and models', () => {
    const resources = allow.Statement.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
    expect(new Set(resources)).toEqual(new Set([profileA, model, modelWest]));
  });
});
