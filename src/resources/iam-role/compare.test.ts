import { describe, expect, it } from 'vitest';
import { MODEL_POLICY_PREFIX } from '../../core/model-access/names.js';
import { ROLE_PATH } from '../../core/naming.js';
import { policy } from '../../core/policies/document.js';
import { TAG, ownerTags } from '../../core/tags.js';
import { type RoleObserved, type RoleSpec, compareRole } from './compare.js';

const owner = { cluster: 'prod', kind: 'Tenant' as const, name: 'acme', uid: 'uid-1', tier: 'premium' };
const boundary = 'arn:aws:iam::111122223333:policy/RagTenantBoundary';
const access = policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/tenants/acme/*' });
const trust = policy({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] });
const spec: RoleSpec = {
  name: 'rag-prod-t-acme-app',
  path: ROLE_PATH,
  description: 'tenant acme',
  owner,
  trust,
  inline: { 'tenant-access': access },
  boundaryArn: boundary,
};
const inSync: RoleObserved = {
  name: spec.name,
  arn: `arn:aws:iam::111122223333:role${ROLE_PATH}${spec.name}`,
  trust,
  inline: { 'tenant-access': access },
  attached: [],
  boundaryArn: boundary,
  tags: ownerTags(owner),
};
const wide = policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' });

describe('compareRole: every field the driver sets, and no managed policies', () => {
  it.each<{ name: string; found: Partial<RoleObserved>; diff: string[] }>([
    { name: 'in sync: nothing', found: {}, diff: [] },
    {
      name: 'trust rewritten: trust',
      found: { trust: policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }) },
      diff: ['trust'],
    },
    {
      name: 'trust in another form that says the same (one-element list as a string): nothing',
      found: { trust: { ...trust, Statement: [{ ...trust.Statement[0], Action: ['sts:TagSession', 'sts:AssumeRole'] }] } },
      diff: [],
    },
    { name: 'inline policy changed: inline:<name>', found: { inline: { 'tenant-access': wide } }, diff: ['inline:tenant-access'] },
    { name: 'inline policy deleted: inline:<name>', found: { inline: {} }, diff: ['inline:tenant-access'] },
    { name: 'inline policy added: inline:<name>', found: { inline: { 'tenant-access': access, extra: wide } }, diff: ['inline:extra'] },
    {
      name: 'a ModelAccess grant (model-*) the spec does not name: left alone',
      found: { inline: { 'tenant-access': access, [`${MODEL_POLICY_PREFIX}claude`]: undefined } },
      diff: [],
    },
    {
      name: 'a managed policy attached: attached:<ARN> (the operator attaches none)',
      found: { attached: ['arn:aws:iam::aws:policy/AdministratorAccess'] },
      diff: ['attached:arn:aws:iam::aws:policy/AdministratorAccess'],
    },
    {
      name: 'two managed policies attached: one entry each, sorted',
      found: { attached: ['arn:aws:iam::111122223333:policy/b', 'arn:aws:iam::111122223333:policy/a'] },
      diff: ['attached:arn:aws:iam::111122223333:policy/a', 'attached:arn:aws:iam::111122223333:policy/b'],
    },
    { name: 'boundary replaced: boundary', found: { boundaryArn: 'arn:aws:iam::111122223333:policy/Other' }, diff: ['boundary'] },
    { name: 'boundary removed: boundary', found: { boundaryArn: undefined }, diff: ['boundary'] },
    { name: 'tags changed: tags', found: { tags: { ...ownerTags(owner), [TAG.uid]: 'uid-2' } }, diff: ['tags'] },
  ])('$name', ({ found, diff }) => {
    expect(compareRole(spec, { ...inSync, ...found })).toEqual(diff);
  });

  it('a role whose spec sets no boundary keeps one someone set (the operator may not remove boundaries)', () => {
    expect(compareRole({ ...spec, boundaryArn: undefined }, inSync)).toEqual([]);
  });
});
