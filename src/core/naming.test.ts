import { describe, expect, it } from 'vitest';
import { MANAGED_BY, TAG, foreignOwner } from './tags.js';
import { bucketName, clusterSegment, collectionName, fit, keyAlias, knowledgeBaseName, namePrefix, roleName, shortHash } from './naming.js';

const ctx = { prefix: 'rag', cluster: 'prod-eu-1', accountId: '111122223333', region: 'eu-central-1' };
const long = 'a'.repeat(63);

describe('names', () => {
  it.each([
    {
      name: 'bucket',
      fn: (n: string) => bucketName(ctx, { kind: 'Tenant', name: n }),
      max: 63,
      pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    },
    { name: 'role', fn: (n: string) => roleName(ctx, { kind: 'Tenant', name: n }, 'kb'), max: 64, pattern: /^[\w+=,.@-]+$/ },
    { name: 'collection', fn: (n: string) => collectionName(ctx, { kind: 'Tenant', name: n }), max: 32, pattern: /^[a-z][a-z0-9-]{2,31}$/ },
    {
      name: 'knowledge base',
      fn: (n: string) => knowledgeBaseName(ctx, { kind: 'Tenant', name: n }),
      max: 100,
      pattern: /^([0-9a-zA-Z][_-]?){1,100}$/,
    },
    { name: 'key alias', fn: (n: string) => keyAlias(ctx, { kind: 'Tenant', name: n }), max: 256, pattern: /^alias\/[a-zA-Z0-9:/_-]+$/ },
  ])('$name names fit the service limits for short and 63-character tenants', ({ fn, max, pattern }) => {
    for (const n of ['a', 'acme', 'x-y-z', long, `${long.slice(0, 60)}-b1`]) {
      const v = fn(n);
      expect(v.length, v).toBeLessThanOrEqual(max);
      expect(v, v).toMatch(pattern);
      expect(fn(n)).toBe(v);
    }
  });

  it('trimmed names stay distinct: two long tenants sharing a 40-character head', () => {
    const a = `${'z'.repeat(40)}-alpha`;
    const b = `${'z'.repeat(40)}-bravo`;
    expect(collectionName(ctx, { kind: 'Tenant', name: a })).not.toBe(collectionName(ctx, { kind: 'Tenant', name: b }));
    expect(bucketName(ctx, { kind: 'Tenant', name: a })).not.toBe(bucketName(ctx, { kind: 'Tenant', name: b }));
  });

  it('a tenant and a tier of the same name never share a resource name', () => {
    expect(collectionName(ctx, { kind: 'Tenant', name: 'basic' })).not.toBe(collectionName(ctx, { kind: 'TenantTier', name: 'basic' }));
    expect(roleName(ctx, { kind: 'Tenant', name: 'ier-basic' }, 'kb')).not.toBe(roleName(ctx, { kind: 'TenantTier', name: 'basic' }, 'kb'));
  });

  it('short names are readable and untouched', () => {
    expect(bucketName(ctx, { kind: 'Tenant', name: 'acme' })).toBe('rag-prodeu1wew8-t-acme-111122223333-eu-central-1');
    expect(roleName(ctx, { kind: 'TenantTier', name: 'basic' }, 'kb')).toBe('rag-prodeu1wew8-tier-basic-kb');
    expect(bucketName({ ...ctx, cluster: 'prod' }, { kind: 'Tenant', name: 'acme' })).toBe('rag-prod-t-acme-111122223333-eu-central-1');
  });

  it("no cluster's names start with another cluster's name prefix (the policies' ARN patterns)", () => {
    const clusters = ['prod', 'prod-eu-1', 'prod-eu1', 'prodeu-1', 'prodeu1', 'p', 'prod-e'];
    for (const a of clusters) {
      for (const b of clusters) {
        if (a === b) continue;
        const names = [
          bucketName({ ...ctx, cluster: b }, { kind: 'Tenant', name: 'acme' }),
          roleName({ ...ctx, cluster: b }, { kind: 'Tenant', name: 'acme' }, 'app'),
          collectionName({ ...ctx, cluster: b }, { kind: 'TenantTier', name: 'basic' }),
          keyAlias({ ...ctx, cluster: b }, { kind: 'Tenant', name: 'acme' }).slice('alias/'.length),
        ];
        for (const n of names) expect(n.startsWith(namePrefix({ prefix: 'rag', cluster: a })), `${a} reaches ${n}`).toBe(false);
      }
    }
    expect(clusterSegment('prod-eu-1')).toMatch(/^prodeu1[0-9a-z]{4}$/);
  });

  it('role names keep their purpose as the suffix even when trimmed', () => {
    for (const n of ['a', long, `${long.slice(0, 60)}-b1`]) {
      expect(roleName(ctx, { kind: 'Tenant', name: n }, 'kb')).toMatch(/-kb$/);
      expect(roleName(ctx, { kind: 'Tenant', name: n }, 'app')).toMatch(/-app$/);
      expect(roleName(ctx, { kind: 'Tenant', name: n }, 'app').length).toBeLessThanOrEqual(64);
    }
  });

  it('fit keeps the limit and hashes the whole name', () => {
    expect(fit('abc', 3)).toBe('abc');
    expect(fit('abcdef-ghijkl', 10)).toBe(`a-${shortHash('abcdef-ghijkl')}`);
    expect(shortHash('x')).toMatch(/^[0-9a-z]{8}$/);
  });
});

describe('foreignOwner', () => {
  const owner = { cluster: 'c', kind: 'Tenant' as const, name: 'acme', uid: 'u', tier: 't' };
  it.each([
    { name: 'no tags: ours, adopt', tags: {}, want: undefined },
    { name: 'partial tags of ours: adopt and repair', tags: { [TAG.cluster]: 'c' }, want: undefined },
    {
      name: 'another tenant',
      tags: { [TAG.cluster]: 'c', [TAG.kind]: 'Tenant', [TAG.name]: 'other', [TAG.managedBy]: MANAGED_BY },
      want: 'Tenant "other" of cluster "c"',
    },
    {
      name: 'another cluster',
      tags: { [TAG.cluster]: 'd', [TAG.kind]: 'Tenant', [TAG.name]: 'acme' },
      want: 'Tenant "acme" of cluster "d"',
    },
    { name: 'another manager', tags: { [TAG.managedBy]: 'terraform' }, want: 'a resource managed by "terraform"' },
  ])('$name', ({ tags, want }) => {
    expect(foreignOwner(tags, owner)).toBe(want);
  });
});
