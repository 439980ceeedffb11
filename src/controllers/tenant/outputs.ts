/**
 * The outputs ConfigMap `spec.connection` asks for: what it holds, where it may go, and the
 * ConnectionReady condition for what writing it did.
 */
import { storeOf } from '../../core/vector-stores.js';
import { CONDITION, REASON } from '../../api/v1alpha1/constants.js';
import type { Tenant, TenantTier } from '../../api/v1alpha1/types.js';
import type { ConditionInput } from '../../core/conditions.js';
import { type ConnectionScope, checkConnectionNamespace } from '../../core/connection.js';
import type { OutputsPort, OutputsResult } from '../../ports/outputs.js';

/** Where the outputs ConfigMap goes, what the Region is, and which namespaces it may go to. */
export interface OutputsDeps {
  writer: OutputsPort;
  region: string;
  /** Namespaces allowed besides each tenant's own, and the operator's own (never allowed). */
  scope: ConnectionScope;
}

/** The ConfigMap name when `spec.connection.configMapName` is not set. */
const DEFAULT_NAME = 'rag-connection';

/** The namespace and name of the tenant's outputs ConfigMap, if it asks for one. */
export function configMapOf(tenant: Tenant): { namespace: string; name: string } | undefined {
  const c = tenant.spec.connection;
  return c ? { namespace: c.namespace, name: c.configMapName ?? DEFAULT_NAME } : undefined;
}

/**
 * Writes the outputs ConfigMap `spec.connection` asks for, after checking the namespace is one
 * the tenant may use; its condition, or none when the tenant asks for none.
 */
export async function publish(
  deps: OutputsDeps,
  tenant: Tenant,
  tier: TenantTier,
  resources: Record<string, string>,
): Promise<ConditionInput | undefined> {
  const at = configMapOf(tenant);
  if (!at) return undefined;
  const refusal = checkConnectionNamespace(tenant, deps.scope);
  if (refusal) return { type: CONDITION.ConnectionReady, status: 'False', ...refusal };
  const result = await deps.writer.apply(tenant, at.namespace, at.name, connectionData(tenant, tier, resources, deps.region));
  return connectionCondition(result, at.namespace, at.name);
}

/** The ConnectionReady condition for what writing the outputs ConfigMap `namespace/name` did. */
export function connectionCondition(result: OutputsResult, namespace: string, name: string): ConditionInput {
  const type = CONDITION.ConnectionReady;
  switch (result.outcome) {
    case 'namespace-missing':
      return {
        type,
        status: 'False',
        reason: REASON.NamespaceNotFound,
        message: `namespace "${namespace}" does not exist: create it, or set spec.connection.namespace to the application's namespace`,
      };
    case 'conflict':
      return {
        type,
        status: 'False',
        reason: REASON.ConfigMapConflict,
        message: `ConfigMap ${namespace}/${name} already exists and ${result.owner ? `belongs to ${result.owner}` : 'was not created by the operator for this tenant'}; the operator leaves it untouched: set spec.connection.configMapName to a name not in use in "${namespace}"`,
      };
    case 'written':
    case 'unchanged':
      return { type, status: 'True', reason: REASON.Published, message: `ConfigMap ${namespace}/${name} holds the connection details` };
  }
}

/** What the application needs to reach its stack, as the outputs ConfigMap holds it. */
export function connectionData(tenant: Tenant, tier: TenantTier, r: Record<string, string>, region: string): Record<string, string> {
  const pool = tier.spec.isolation === 'pool';
  const entries: [string, string | undefined][] = [
    ['TENANT', tenant.metadata.name],
    ['TIER', tier.metadata.name],
    ['ISOLATION', tier.spec.isolation],
    ['AWS_REGION', region],
    ['ROLE_ARN', r.roleArn],
    ['BUCKET', r.bucket],
    ['PREFIX', r.prefix],
    ['KMS_KEY_ARN', r.kmsKeyArn],
    ['KNOWLEDGE_BASE_ID', r.knowledgeBaseId],
    ['DATA_SOURCE_ID', r.dataSourceId],
    ['VECTOR_STORE', storeOf(tier)],
    ['COLLECTION_ENDPOINT', r.collectionEndpoint],
    ['INDEX_NAME', r.indexName ?? r.vectorIndexName],
    ['VECTOR_INDEX_ARN', r.vectorIndexArn],
    // A pool's shared knowledge base must be queried with this filter (by the platform's service).
    ['RETRIEVAL_FILTER', pool ? JSON.stringify({ equals: { key: 'tenantId', value: tenant.metadata.name } }) : undefined],
  ];
  return Object.fromEntries(entries.filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
}
