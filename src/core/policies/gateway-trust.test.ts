/**
 * A tenant role's trust in the tenant gateway, evaluated as an attacker would try it: the gateway
 * role may assume a Pod Identity tenant's role only with the gateway's session tags naming that
 * tenant. Each denied request sits beside the allowed one it imitates. The trust alone decides
 * (no identity policy), as it must for sts:AssumeRole.
 */
import { describe, expect, it } from 'vitest';
import { type Evaluation, describeEvaluation, evaluate } from '../../../test/support/iam-eval.js';
import { type NamingContext, roleArn, roleName } from '../naming.js';
import { GATEWAY_SESSION_TAGS, GATEWAY_VIA, withGatewayTrust } from './gateway.js';
import { tenantTrust } from './roles.js';

const account = '111122223333';
const n: NamingContext = { prefix: 'rag', cluster: 'prod', accountId: account, region: 'us-east-1' };
const gateway = `arn:aws:iam::${account}:role/rag-gateway-prod`;
const cluster = `arn:aws:eks:us-east-1:${account}:cluster/prod`;
const scope = { region: 'us-east-1', accountId: account, bucket: 'b' };
const pod = (t: string) => ({ podIdentity: { namespace: t, serviceAccount: 'app' } });
/** The trust of tenant `t`'s role as the operator writes it with a gateway role set. */
const trustOf = (t: string) => withGatewayTrust(tenantTrust(scope, pod(t), cluster), gateway, t);
const role = (t: string): string => roleArn(n, roleName(n, { kind: 'Tenant', name: t }, 'app'));
/** Session tags; null leaves one out. */
const tags = (tenant: string | null, via: string | null = GATEWAY_VIA): Record<string, string | string[]> => ({
  ...(tenant === null ? {} : { [`aws:RequestTag/${GATEWAY_SESSION_TAGS.tenant}`]: tenant }),
  ...(via === null ? {} : { [`aws:RequestTag/${GATEWAY_SESSION_TAGS.via}`]: via }),
});
const assume = (
  target: string,
  context: Record<string, string | string[]>,
  principal = gateway,
  action = 'sts:AssumeRole',
): Evaluation => ({
  principal,
  action,
  resource: role(target),
  context,
  identity: [],
  resourcePolicy: trustOf(target),
});

const allowed: [string, Evaluation][] = [
  ["the gateway assumes a tenant's role with tags naming it", assume('acme', tags('acme'))],
  ['and tags that session', assume('a-b', tags('a-b'), gateway, 'sts:TagSession')],
];

const denied: [string, Evaluation][] = [
  ["another tenant's name in the tenant tag", assume('acme', tags('globex'))],
  ['a tenant whose name extends the target (a vs a-b)', assume('a', tags('a-b'))],
  ['a tenant name the target extends (a-b vs a)', assume('a-b', tags('a'))],
  ['no tenant tag', assume('acme', tags(null))],
  ['an empty tenant tag', assume('acme', tags(''))],
  ['a wildcard as the tenant tag', assume('acme', tags('*'))],
  ['no via tag', assume('acme', tags('acme', null))],
  ['another via value', assume('acme', tags('acme', 'operator'))],
  ["another tenant's role, right tags", assume('acme', tags('acme'), role('globex'))],
  ['a role of another account with the same name', assume('acme', tags('acme'), `arn:aws:iam::444455556666:role/rag-gateway-prod`)],
  ['the account root', assume('acme', tags('acme'), `arn:aws:iam::${account}:root`)],
];

describe("tenant roles' trust in the gateway", () => {
  it.each(allowed)('allows: %s', async (_name, e) => {
    expect(await evaluate(e, account), describeEvaluation(e)).toBe('Allowed');
  });
  it.each(denied)('denies: %s', async (_name, e) => {
    expect(await evaluate(e, account), describeEvaluation(e)).not.toBe('Allowed');
  });
  it('adds nothing without a gateway role, or for a tenant the gateway cannot identify', () => {
    const base = tenantTrust(scope, pod('acme'), cluster);
    expect(withGatewayTrust(base, undefined, 'acme')).toEqual(base);
    expect(trustOf('acme').Statement).toHaveLength(base.Statement.length + 1);
  });
});
