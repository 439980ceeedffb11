import { describe, expect, it } from 'vitest';
import type { VectorStoreType } from '../core/vector-stores.js';
import {
  checkCallerFilter,
  generatesFrom,
  type RetrievalFilter,
  retrievalConfiguration,
  ScopeError,
  scopeRetrieval,
  type TenantTarget,
} from './scope.js';

const pool: TenantTarget = {
  tenant: 'acme',
  isolation: 'pool',
  knowledgeBaseId: 'POOLKB0001',
  roleArn: 'arn:aws:iam::1:role/acme',
  vectorStore: 'OpenSearchServerless',
};
const silo: TenantTarget = { ...pool, isolation: 'silo', knowledgeBaseId: 'SILOKB0001' };
const eq = (key: string, value: unknown): RetrievalFilter => ({ equals: { key, value } });

/** Every leaf of a filter that an OR could satisfy without the tenant's equals. */
function requiresTenant(f: RetrievalFilter | undefined, tenant: string): boolean {
  if (!f) return false;
  if ('equals' in f) {
    const a = f.equals as { key: string; value: unknown };
    return a.key === 'tenantId' && a.value === tenant;
  }
  if ('andAll' in f) return (f.andAll as RetrievalFilter[]).some((x) => requiresTenant(x, tenant));
  if ('orAll' in f) return (f.orAll as RetrievalFilter[]).every((x) => requiresTenant(x, tenant));
  return false;
}

describe('scopeRetrieval', () => {
  it('pool without a caller filter: the shared knowledge base, the tenant filter, the retrieval role', () => {
    const s = scopeRetrieval(pool, undefined);
    expect(s.knowledgeBaseId).toBe('POOLKB0001');
    expect(s.filter).toEqual(eq('tenantId', 'acme'));
    expect(s.identity).toEqual({ kind: 'retrieval-role', tenant: 'acme' });
    expect(retrievalConfiguration(s, 5)).toEqual({ vectorSearchConfiguration: { numberOfResults: 5, filter: eq('tenantId', 'acme') } });
  });

  it("pool with a caller filter: andAll of the tenant's equals first and the caller's filter", () => {
    const s = scopeRetrieval(pool, eq('dept', 'finance'));
    expect(s.filter).toEqual({ andAll: [eq('tenantId', 'acme'), eq('dept', 'finance')] });
  });

  it('silo and bridge: their own knowledge base as their own role, the caller filter as given', () => {
    for (const t of [silo, { ...silo, isolation: 'bridge' as const }]) {
      const s = scopeRetrieval(t, eq('dept', 'x'));
      expect(s.knowledgeBaseId).toBe('SILOKB0001');
      expect(s.filter).toEqual(eq('dept', 'x'));
      expect(s.identity).toEqual({ kind: 'tenant-role', roleArn: 'arn:aws:iam::1:role/acme', tenant: 'acme' });
      expect(retrievalConfiguration(scopeRetrieval(t, undefined), 3)).toEqual({ vectorSearchConfiguration: { numberOfResults: 3 } });
    }
  });

  it('a scoped request cannot be changed afterwards', () => {
    const s = scopeRetrieval(pool, eq('dept', 'x'));
    expect(() => ((s.filter as { andAll: unknown[] }).andAll[0] = eq('dept', 'y'))).toThrow(TypeError);
    expect(() => ((s as { knowledgeBaseId: string }).knowledgeBaseId = 'OTHER')).toThrow(TypeError);
  });

  it('refuses a tenant without a knowledge base id or a bridge tenant without a role', () => {
    expect(() => scopeRetrieval({ ...pool, knowledgeBaseId: '' }, undefined)).toThrow();
    expect(() => scopeRetrieval({ ...pool, knowledgeBaseId: '../OTHER' }, undefined)).toThrow();
    expect(() => scopeRetrieval({ ...silo, roleArn: undefined }, undefined)).toThrow();
    expect(() => scopeRetrieval({ ...silo, isolation: 'shared' as unknown as 'pool' }, undefined)).toThrow();
  });
});

describe('the search settings follow the vector store', () => {
  const on = (t: TenantTarget, vectorStore: VectorStoreType): TenantTarget => ({ ...t, vectorStore });

  it('S3 Vectors: vectorSearchConfiguration with the pool filter, as on OpenSearch Serverless', () => {
    const s = scopeRetrieval(on(pool, 'S3Vectors'), eq('dept', 'a'));
    expect(retrievalConfiguration(s, 4)).toEqual({
      vectorSearchConfiguration: { numberOfResults: 4, filter: { andAll: [eq('tenantId', 'acme'), eq('dept', 'a')] } },
    });
  });

  it('Managed: managedSearchConfiguration only, still with the pool filter; a silo query with the caller filter or none', () => {
    const p = retrievalConfiguration(scopeRetrieval(on(pool, 'Managed'), undefined), 5);
    expect(p).toEqual({ managedSearchConfiguration: { numberOfResults: 5, filter: eq('tenantId', 'acme') } });
    expect(p).not.toHaveProperty('vectorSearchConfiguration');
    const withCaller = retrievalConfiguration(scopeRetrieval(on(pool, 'Managed'), eq('dept', 'a')), 2);
    expect(withCaller).toEqual({
      managedSearchConfiguration: { numberOfResults: 2, filter: { andAll: [eq('tenantId', 'acme'), eq('dept', 'a')] } },
    });
    expect(retrievalConfiguration(scopeRetrieval(on(silo, 'Managed'), eq('dept', 'b')), 1)).toEqual({
      managedSearchConfiguration: { numberOfResults: 1, filter: eq('dept', 'b') },
    });
    expect(retrievalConfiguration(scopeRetrieval(on(silo, 'Managed'), undefined), 1)).toEqual({
      managedSearchConfiguration: { numberOfResults: 1 },
    });
  });

  it('refuses startsWith, at any depth, on the stores Bedrock does not serve it on', () => {
    const f = { andAll: [eq('a', 1), { orAll: [eq('b', 2), { startsWith: { key: 'title', value: 'Q' } }] }] };
    expect(() => scopeRetrieval(pool, f)).not.toThrow();
    for (const store of ['S3Vectors', 'Managed'] as const) {
      expect(() => scopeRetrieval(on(pool, store), f)).toThrow(
        new RegExp(`startsWith is only supported on OpenSearch Serverless.*${store}`),
      );
      expect(() => scopeRetrieval(on(silo, store), f)).toThrow(ScopeError);
    }
  });

  it('RetrieveAndGenerate: every store but Managed', () => {
    expect(['OpenSearchServerless', 'S3Vectors', 'Managed'].filter((x) => generatesFrom(x as VectorStoreType))).toEqual([
      'OpenSearchServerless',
      'S3Vectors',
    ]);
  });
});

describe('an attacker cannot widen a pool filter', () => {
  const attacks: [string, unknown][] = [
    ['equals on tenantId (another tenant)', eq('tenantId', 'globex')],
    ["equals on tenantId (its own, still refused: whose documents is not the caller's say)", eq('tenantId', 'acme')],
    ['notEquals on tenantId', { notEquals: { key: 'tenantId', value: 'acme' } }],
    ['in on tenantId', { in: { key: 'tenantId', value: ['acme', 'globex'] } }],
    ['notIn on tenantId', { notIn: { key: 'tenantId', value: ['acme'] } }],
    ['startsWith on tenantId', { startsWith: { key: 'tenantId', value: '' } }],
    ['stringContains on tenantId', { stringContains: { key: 'tenantId', value: 'o' } }],
    ['tenantId in another case', eq('TenantID', 'globex')],
    ['tenantId with spaces', eq(' tenantId ', 'globex')],
    ['orAll naming another tenant', { orAll: [eq('tenantId', 'globex'), eq('dept', 'x')] }],
    ['tenantId deep inside', { andAll: [eq('a', 1), { orAll: [eq('b', 2), { andAll: [eq('c', 3), eq('tenantId', 'globex')] }] }] }],
    ['two operators in one object (a union)', { equals: { key: 'dept', value: 'x' }, orAll: [eq('tenantId', 'globex'), eq('a', 1)] }],
    ['an extra member next to key and value', { equals: { key: 'dept', value: 'x', orAll: [] } }],
    ['an unknown operator', { exists: { key: 'dept', value: true } }],
    ['orAll of one filter', { orAll: [eq('dept', 'x')] }],
    ['a value that is an object', eq('dept', { $ne: 'x' })],
    ['not an object', 'tenantId=globex'],
    ['an array', [eq('dept', 'x'), eq('a', 1)]],
    ['nested too deep', [0, 1, 2, 3, 4, 5].reduce<unknown>((f) => ({ andAll: [f, eq('a', 1)] }), eq('a', 1))],
    ['too many filters', { orAll: Array.from({ length: 60 }, (_, i) => eq('a', i)) }],
  ];
  it.each(attacks)('refuses %s with a 400', (_why, f) => {
    expect(() => scopeRetrieval(pool, f)).toThrow(ScopeError);
    expect(() => scopeRetrieval(silo, f)).toThrow(ScopeError);
  });

  const allowed: [string, unknown][] = [
    ['orAll of two departments', { orAll: [eq('dept', 'a'), eq('dept', 'b')] }],
    ['notEquals on another key (matches documents without it too)', { notEquals: { key: 'dept', value: 'x' } }],
    ['notIn on another key', { notIn: { key: 'dept', value: ['x'] } }],
    ['a nested orAll', { andAll: [eq('a', 1), { orAll: [eq('b', 2), { lessThan: { key: 'year', value: 2020 } }] }] }],
  ];
  it.each(allowed)('keeps the tenant filter required for %s', (_why, f) => {
    const s = scopeRetrieval(pool, f);
    expect(requiresTenant(s.filter, 'acme')).toBe(true);
    expect(s.filter).toEqual({ andAll: [eq('tenantId', 'acme'), checkCallerFilter(f)] });
  });
});
