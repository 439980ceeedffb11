/**
 * The one place a retrieval request is scoped to its tenant. `scopeRetrieval` takes the caller's
 * tenant (from the verified token, never from the request) and the caller's optional filter, and
 * returns a `ScopedRetrieval`: the tenant's own knowledge base, the identity to call it with, and
 * for a pool tenant the filter `andAll[{equals tenantId}, <caller filter>]`. The type is branded:
 * nothing else can make one, and the Bedrock port only accepts one, so no code path can send a
 * query to another knowledge base or a pool query without the tenant's filter. Pure.
 *
 * The tenant's vector store decides how the filter goes on the wire: `vectorSearchConfiguration`
 * for knowledge bases on OpenSearch Serverless and S3 Vectors, `managedSearchConfiguration` for
 * Bedrock-managed ones (bedrock-agent-runtime's KnowledgeBaseRetrievalConfiguration has both;
 * ManagedSearchConfiguration takes the same RetrievalFilter, so the pool filter is kept there too).
 */
import type { VectorStoreType } from '../core/vector-stores.js';

/** Metadata key that says whose a pool document is (the operator's sidecars write it). */
export const TENANT_KEY = 'tenantId';

/** Bedrock's RetrievalFilter (bedrock-agent-runtime), as JSON. */
export type RetrievalFilter = { [op: string]: unknown };

/** Isolation patterns the gateway serves. */
export type Isolation = 'pool' | 'bridge' | 'silo';

/** What the gateway knows of the caller's tenant (from the Tenant's status). */
export interface TenantTarget {
  tenant: string;
  isolation: Isolation;
  /** status.resources.knowledgeBaseId: the tenant's own (bridge, silo) or its tier's shared one (pool). */
  knowledgeBaseId: string;
  /** status.resources.roleArn: the tenant role (bridge and silo calls are made as it). */
  roleArn?: string;
  /** status.vectorStore: where the knowledge base keeps its vectors, which decides the search settings sent. */
  vectorStore: VectorStoreType;
}

/** Who calls Bedrock for a scoped request. */
export type RetrievalIdentity = { kind: 'tenant-role'; roleArn: string; tenant: string } | { kind: 'retrieval-role'; tenant: string };

declare const scoped: unique symbol;

/** A retrieval request bound to one tenant; only {@link scopeRetrieval} makes one. */
export interface ScopedRetrieval {
  readonly [scoped]: true;
  readonly tenant: string;
  readonly knowledgeBaseId: string;
  readonly filter: RetrievalFilter | undefined;
  readonly identity: RetrievalIdentity;
  readonly vectorStore: VectorStoreType;
}

/** A request the gateway refuses with 400; the message says what to change. */
export class ScopeError extends Error {
  override readonly name = 'ScopeError';
}

const ATTRIBUTE_OPERATORS = new Set([
  'equals',
  'notEquals',
  'greaterThan',
  'greaterThanOrEquals',
  'lessThan',
  'lessThanOrEquals',
  'in',
  'notIn',
  'startsWith',
  'listContains',
  'stringContains',
]);
const MAX_DEPTH = 5;
const MAX_NODES = 50;

/**
 * Checks a caller filter the way Bedrock would (a union with exactly one operator, `andAll`/`orAll`
 * of at least two filters, `{key, value}` attributes with keys of 1–100 characters) and refuses
 * any filter that names the tenant key, at any depth and in any case: a pool caller may narrow
 * its own documents, never say whose documents it reads. Returns a deep copy of plain JSON.
 */
export function checkCallerFilter(f: unknown): RetrievalFilter {
  let nodes = 0;
  const walk = (x: unknown, path: string, depth: number): RetrievalFilter => {
    if (++nodes > MAX_NODES) throw new ScopeError(`filter: more than ${MAX_NODES} filters`);
    if (depth > MAX_DEPTH) throw new ScopeError(`${path}: nested deeper than ${MAX_DEPTH}`);
    if (!x || typeof x !== 'object' || Array.isArray(x)) throw new ScopeError(`${path}: must be an object with one operator`);
    const entries = Object.entries(x);
    if (entries.length !== 1) throw new ScopeError(`${path}: must have exactly one operator, found ${entries.length}`);
    const [[op, operand]] = entries as [[string, unknown]];
    if (op === 'andAll' || op === 'orAll') {
      if (!Array.isArray(operand) || operand.length < 2) throw new ScopeError(`${path}.${op}: needs a list of at least 2 filters`);
      return { [op]: operand.map((y, i) => walk(y, `${path}.${op}[${i}]`, depth + 1)) };
    }
    if (!ATTRIBUTE_OPERATORS.has(op)) throw new ScopeError(`${path}: unknown operator ${JSON.stringify(op)}`);
    if (!operand || typeof operand !== 'object' || Array.isArray(operand)) throw new ScopeError(`${path}.${op}: must be { key, value }`);
    const keys = Object.keys(operand).sort();
    if (keys.join(',') !== 'key,value') throw new ScopeError(`${path}.${op}: must have exactly key and value`);
    const { key, value } = operand as { key: unknown; value: unknown };
    if (typeof key !== 'string' || key.length < 1 || key.length > 100) throw new ScopeError(`${path}.${op}.key: 1 to 100 characters`);
    if (key.trim().toLowerCase() === TENANT_KEY.toLowerCase()) {
      throw new ScopeError(`${path}.${op}.key: the filter may not name ${TENANT_KEY}; the gateway scopes every query to your tenant`);
    }
    const plain = (v: unknown): boolean =>
      v === null ||
      ['string', 'number', 'boolean'].includes(typeof v) ||
      (Array.isArray(v) && v.every((e) => plain(e) && !Array.isArray(e)));
    if (!plain(value)) throw new ScopeError(`${path}.${op}.value: a string, number, boolean or a list of them`);
    return { [op]: { key, value: Array.isArray(value) ? [...(value as unknown[])] : value } };
  };
  return walk(f, 'filter', 0);
}

/** Every operator a (checked) filter uses, at any depth. */
function operatorsOf(f: RetrievalFilter): string[] {
  const [[op, operand]] = Object.entries(f) as [[string, unknown]];
  return op === 'andAll' || op === 'orAll' ? [op, ...(operand as RetrievalFilter[]).flatMap(operatorsOf)] : [op];
}

/**
 * Refuses operators the tenant's store does not serve, so the caller learns why from the gateway
 * rather than from Bedrock: `startsWith` "is currently only supported for Amazon OpenSearch
 * Serverless vector stores" (the RetrievalFilter documentation in bedrock-agent-runtime's model).
 */
function checkStoreOperators(f: RetrievalFilter, store: VectorStoreType): void {
  if (store !== 'OpenSearchServerless' && operatorsOf(f).includes('startsWith'))
    throw new ScopeError(`filter: startsWith is only supported on OpenSearch Serverless knowledge bases; this tenant's store is ${store}`);
}

function deepFreeze<T>(x: T): T {
  if (x && typeof x === 'object') {
    for (const v of Object.values(x)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

/** The tenant's own filter on a shared (pool) knowledge base. */
export function tenantFilter(tenant: string): RetrievalFilter {
  return { equals: { key: TENANT_KEY, value: tenant } };
}

/**
 * Scopes a retrieval to `target`, the caller's tenant. Pool: the tier's shared knowledge base as
 * the retrieval role, filtered to the tenant (and the caller's filter, if any, inside an andAll).
 * Bridge and silo: the tenant's own knowledge base as the tenant role, with the caller's filter.
 */
export function scopeRetrieval(target: TenantTarget, callerFilter: unknown): ScopedRetrieval {
  if (!/^[0-9A-Za-z]{1,10}$/.test(target.knowledgeBaseId)) throw new Error(`tenant ${target.tenant} has no valid knowledge base id`);
  const own = callerFilter === undefined || callerFilter === null ? undefined : checkCallerFilter(callerFilter);
  if (own) checkStoreOperators(own, target.vectorStore);
  let filter: RetrievalFilter | undefined;
  let identity: RetrievalIdentity;
  switch (target.isolation) {
    case 'pool':
      filter = own ? { andAll: [tenantFilter(target.tenant), own] } : tenantFilter(target.tenant);
      identity = { kind: 'retrieval-role', tenant: target.tenant };
      break;
    case 'bridge':
    case 'silo':
      if (!target.roleArn) throw new Error(`tenant ${target.tenant} has no role on status`);
      filter = own;
      identity = { kind: 'tenant-role', roleArn: target.roleArn, tenant: target.tenant };
      break;
    default:
      throw new Error(`unknown isolation ${String(target.isolation)}`);
  }
  return deepFreeze({
    tenant: target.tenant,
    knowledgeBaseId: target.knowledgeBaseId,
    filter,
    identity,
    vectorStore: target.vectorStore,
  }) as ScopedRetrieval;
}

/** The search settings both configurations share: how many results, and the scoped filter. */
export interface SearchSettings {
  numberOfResults: number;
  filter?: RetrievalFilter;
}

/** Bedrock's KnowledgeBaseRetrievalConfiguration, with exactly one of its two members. */
export type RetrievalConfiguration = { vectorSearchConfiguration: SearchSettings } | { managedSearchConfiguration: SearchSettings };

/**
 * The retrievalConfiguration of a scoped request: the only place its filter is put on the wire.
 * A managed knowledge base takes `managedSearchConfiguration`, every other `vectorSearchConfiguration`.
 */
export function retrievalConfiguration(s: ScopedRetrieval, numberOfResults: number): RetrievalConfiguration {
  const settings: SearchSettings = { numberOfResults, ...(s.filter ? { filter: s.filter } : {}) };
  return s.vectorStore === 'Managed' ? { managedSearchConfiguration: settings } : { vectorSearchConfiguration: settings };
}

/**
 * Whether the tenant's knowledge base takes RetrieveAndGenerate: a managed one does not ("This API
 * cannot be used with managed knowledge bases", RetrieveAndGenerate in bedrock-agent-runtime's model).
 */
export function generatesFrom(store: VectorStoreType): boolean {
  return store !== 'Managed';
}
