/**
 * Bedrock-managed knowledge bases in the bedrock-agent fake (`knowledgeBaseConfiguration.type`
 * MANAGED): Bedrock keeps their vectors, so the fake keeps them too, in memory per knowledge base,
 * and `vectors(kbId)` reads them back with their metadata.
 *
 * What the fake checks, from the API model and the Bedrock user guide (kb-managed-create,
 * kb-managed-connect-ds, kb-managed-ds-s3, kb-managed-customize-ingestion):
 * - CreateKnowledgeBase: no storageConfiguration and no vectorKnowledgeBaseConfiguration; with the
 *   MANAGED embedding model type (the default) no model ARN or configuration, with CUSTOM both,
 *   at 1024 dimensions.
 * - CreateDataSource / UpdateDataSource on a managed knowledge base: only
 *   MANAGED_KNOWLEDGE_BASE_CONNECTOR, whose `connectorParameters` need `type` S3, `version` "1"
 *   and `connectionConfiguration.bucketName`; `dataDeletionPolicy` DELETE only; no chunking with
 *   the managed embedding model; SMART_PARSING only. A managed knowledge base refuses any other
 *   data source type, and a vector knowledge base refuses the managed connector.
 * - The data source is created asynchronously: CREATING, then AVAILABLE once the knowledge base
 *   role may list the bucket (at the prefix) and read its objects, as its IAM policies read from
 *   moto say; FAILED with a reason otherwise.
 * - GetDataSource returns `connectorParameters` as a JSON string, as third parties report AWS does
 *   (UNVERIFIED: the model says Document), so callers must read both forms.
 *
 * The wording of messages AWS's sources do not give is the fake's own.
 */
import type { CreateDataSourceRequest, CreateKnowledgeBaseRequest, DataSourceConfiguration } from '@aws-sdk/client-bedrock-agent';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import type { PolicyDocument } from '../../../src/core/policies/document.js';
import { evaluate } from '../iam-eval.js';
import { bodyViolations, validationMessage } from '../model-check/validation.js';
import type { FakeVector, VectorTarget } from './bedrock-ingestion.js';
import type { BedrockContext, FakeDataSource, FakeKnowledgeBase } from './bedrock-state.js';
import { invalid } from './bedrock-validate.js';

/** One vector of a managed knowledge base, keyed by data source and object key. */
export interface ManagedVector {
  sourceUri: string;
  dataSourceId: string;
  text: string;
  data: number[];
  metadata: Record<string, unknown>;
}

/** Where a managed knowledge base keeps its vectors: Bedrock's own store, here a map. */
export type ManagedStore = Map<string, ManagedVector>;

const CONNECTOR = 'MANAGED_KNOWLEDGE_BASE_CONNECTOR';

/** Whether a knowledge base (or a request for one) is managed. */
export const isManaged = (kb: Pick<FakeKnowledgeBase, 'knowledgeBaseConfiguration'> | CreateKnowledgeBaseRequest): boolean =>
  kb.knowledgeBaseConfiguration?.type === 'MANAGED';

function refuseModel(operation: string, body: object): void {
  const v = bodyViolations('bedrock-agent', operation, body);
  if (v.length) throw invalid(validationMessage(v));
}

/** Bedrock's checks of a CreateKnowledgeBase request for a managed knowledge base. */
export function checkManagedKnowledgeBase(req: CreateKnowledgeBaseRequest): void {
  refuseModel('CreateKnowledgeBase', req);
  const cfg = req.knowledgeBaseConfiguration;
  if (req.storageConfiguration !== undefined)
    throw invalid('A MANAGED knowledge base takes no storageConfiguration: Bedrock manages its vector store.');
  if (cfg?.vectorKnowledgeBaseConfiguration)
    throw invalid(
      'vectorKnowledgeBaseConfiguration is not supported for knowledge base type MANAGED; use managedKnowledgeBaseConfiguration.',
    );
  const m = cfg?.managedKnowledgeBaseConfiguration ?? {};
  const type = m.embeddingModelType ?? 'MANAGED';
  if (type === 'MANAGED' && (m.embeddingModelArn !== undefined || m.embeddingModelConfiguration !== undefined))
    throw invalid('embeddingModelArn and embeddingModelConfiguration must not be specified when embeddingModelType is MANAGED.');
  if (type === 'CUSTOM') {
    if (!m.embeddingModelArn || !m.embeddingModelConfiguration)
      throw invalid('embeddingModelArn and embeddingModelConfiguration are required when embeddingModelType is CUSTOM.');
    if (m.embeddingModelConfiguration.bedrockEmbeddingModelConfiguration?.dimensions !== 1024)
      throw invalid('A CUSTOM embedding model of a managed knowledge base must use 1024 dimensions.');
  }
}

/** Where a new managed knowledge base keeps its vectors. */
export function managedTarget(roleArn: string): VectorTarget {
  return {
    collectionId: '',
    collectionName: '',
    index: '',
    roleArn,
    vectorField: '',
    textField: '',
    metadataField: '',
    dimensions: 1024,
    managed: new Map(),
  };
}

/** The S3 connector's parameters, as sent (an object) or as stored (a JSON string). */
export function connectorParameters(cfg: DataSourceConfiguration | undefined): Record<string, unknown> | undefined {
  const raw: unknown = cfg?.managedKnowledgeBaseConnectorConfiguration?.connectorParameters;
  const parsed: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
}

/** The bucket and prefix a managed data source reads, or undefined for another data source. */
export function managedSource(ds: FakeDataSource): { bucket: string; prefix?: string } | undefined {
  if (ds.dataSourceConfiguration.type !== CONNECTOR) return undefined;
  const p = connectorParameters(ds.dataSourceConfiguration) ?? {};
  const bucket = String((p.connectionConfiguration as { bucketName?: string } | undefined)?.bucketName ?? '');
  const prefix = (p.filterConfiguration as { inclusionPrefixes?: string[] } | undefined)?.inclusionPrefixes?.[0];
  return { bucket, ...(prefix ? { prefix } : {}) };
}

/**
 * Checks a CreateDataSource / UpdateDataSource body against the knowledge base it is for: a
 * managed knowledge base takes the managed connector only, a vector one never. Returns whether
 * the data source is the managed connector (the caller checks an S3 data source as before).
 */
export function checkManagedDataSource(kb: FakeKnowledgeBase, req: Omit<CreateDataSourceRequest, 'knowledgeBaseId'>): boolean {
  const connector = req.dataSourceConfiguration?.type === CONNECTOR;
  if (!isManaged(kb)) {
    if (connector) throw invalid('MANAGED_KNOWLEDGE_BASE_CONNECTOR data sources are supported for MANAGED knowledge bases only.');
    return false;
  }
  if (!connector) throw invalid('Unsupported data source type for MANAGED knowledge base type.');
  refuseModel('CreateDataSource', req);
  const p = connectorParameters(req.dataSourceConfiguration);
  if (!p) throw invalid('connectorParameters must be specified for a MANAGED_KNOWLEDGE_BASE_CONNECTOR data source.');
  if (p.type !== 'S3') throw invalid('The fake serves the S3 connector only (connectorParameters.type S3).');
  if (p.version === undefined) throw invalid("The 'version' field is required in connector parameters.");
  if (p.version !== '1') throw invalid(`Unsupported connector version ${JSON.stringify(p.version)}; use "1".`);
  const conn = p.connectionConfiguration as { bucketName?: unknown; bucketOwnerAccountId?: unknown } | undefined;
  if (typeof conn?.bucketName !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(conn.bucketName))
    throw invalid('connectionConfiguration.bucketName must be the name of a general purpose bucket (not its ARN).');
  const filter = (p.filterConfiguration ?? {}) as Record<string, unknown>;
  for (const k of ['inclusionPrefixes', 'exclusionPrefixes', 'inclusionPatterns', 'exclusionPatterns'])
    if (filter[k] !== undefined && (!Array.isArray(filter[k]) || !(filter[k] as unknown[]).every((x) => typeof x === 'string')))
      throw invalid(`filterConfiguration.${k} must be a list of strings.`);
  const size = filter.maxFileSizeInMegaBytes;
  if (size !== undefined && (typeof size !== 'string' || !/^\d+$/.test(size)))
    throw invalid('filterConfiguration.maxFileSizeInMegaBytes must be a numeric string.');
  if (req.dataDeletionPolicy !== undefined && req.dataDeletionPolicy !== 'DELETE')
    throw invalid('For managed knowledge bases, the only supported dataDeletionPolicy is DELETE.');
  const managed = kb.knowledgeBaseConfiguration.managedKnowledgeBaseConfiguration;
  const vic = req.vectorIngestionConfiguration;
  if (vic?.chunkingConfiguration && (managed?.embeddingModelType ?? 'MANAGED') === 'MANAGED')
    throw invalid('A chunking strategy cannot be specified with a managed embedding model. Omit chunkingConfiguration to use the default.');
  if (vic?.chunkingConfiguration && ['SEMANTIC', 'HIERARCHICAL'].includes(vic.chunkingConfiguration.chunkingStrategy ?? ''))
    throw invalid(`${vic.chunkingConfiguration.chunkingStrategy} chunking is not supported for managed knowledge bases.`);
  const parsing = vic?.parsingConfiguration?.parsingStrategy;
  if (parsing !== undefined && parsing !== 'SMART_PARSING')
    throw invalid(`Parsing strategy ${parsing} is not supported for managed knowledge bases.`);
  if (vic?.customTransformationConfiguration || vic?.contextEnrichmentConfiguration)
    throw invalid('Custom transformation and context enrichment are not supported for managed knowledge bases.');
  return true;
}

/** The data source configuration as the fake keeps it: the connector parameters as a JSON string. */
export function storedConfiguration(cfg: DataSourceConfiguration): DataSourceConfiguration {
  const m = cfg.managedKnowledgeBaseConnectorConfiguration ?? {};
  return {
    ...cfg,
    managedKnowledgeBaseConnectorConfiguration: { ...m, connectorParameters: JSON.stringify(connectorParameters(cfg) ?? {}) },
  };
}

const decoded = (doc: string | undefined): PolicyDocument =>
  JSON.parse(doc?.startsWith('%') ? decodeURIComponent(doc) : (doc ?? '{}')) as PolicyDocument;

/** The role's identity policies (inline and attached) and its permissions boundary, read from IAM. */
async function rolePolicies(iam: IAMClient, roleArn: string): Promise<{ identity: PolicyDocument[]; boundary?: PolicyDocument }> {
  const RoleName = roleArn.split('/').pop() ?? '';
  const attached = async (PolicyArn: string): Promise<PolicyDocument> => {
    const version = (await iam.send(new GetPolicyCommand({ PolicyArn }))).Policy?.DefaultVersionId;
    return decoded((await iam.send(new GetPolicyVersionCommand({ PolicyArn, VersionId: version }))).PolicyVersion?.Document);
  };
  const identity: PolicyDocument[] = [];
  for (const PolicyName of (await iam.send(new ListRolePoliciesCommand({ RoleName }))).PolicyNames ?? [])
    identity.push(decoded((await iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }))).PolicyDocument));
  for (const p of (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName }))).AttachedPolicies ?? [])
    if (p.PolicyArn) identity.push(await attached(p.PolicyArn));
  const boundaryArn = (await iam.send(new GetRoleCommand({ RoleName }))).Role?.PermissionsBoundary?.PermissionsBoundaryArn;
  return { identity, ...(boundaryArn ? { boundary: await attached(boundaryArn) } : {}) };
}

/**
 * What Bedrock finds when it connects a managed data source: whether the knowledge base role may
 * list the bucket at the prefix and read an object under it (kb-managed-permissions). The reason
 * it gives when not, or undefined.
 */
export async function connectFailure(c: BedrockContext, kb: FakeKnowledgeBase, ds: FakeDataSource): Promise<string | undefined> {
  const src = managedSource(ds);
  if (!src) return undefined;
  const { identity, boundary } = await rolePolicies(c.iam, kb.roleArn);
  const asRole = (action: string, resource: string, context: Record<string, string> = {}) =>
    evaluate({ principal: kb.roleArn, action, resource, identity, ...(boundary ? { boundary } : {}), context }, c.account);
  const prefix = src.prefix ?? '';
  const denied: string[] = [];
  if ((await asRole('s3:ListBucket', `arn:aws:s3:::${src.bucket}`, { 's3:prefix': prefix })) !== 'Allowed') denied.push('s3:ListBucket');
  if ((await asRole('s3:GetObject', `arn:aws:s3:::${src.bucket}/${prefix}document.txt`)) !== 'Allowed') denied.push('s3:GetObject');
  return denied.length
    ? `The knowledge base role ${kb.roleArn} is not authorized to perform ${denied.join(', ')} on s3://${src.bucket}/${prefix}.`
    : undefined;
}

/** Bedrock's own metadata keys of a managed knowledge base (underscore-prefixed, kb-managed-test-config). */
const SOURCE = '_source_uri';
const DATA_SOURCE = '_data_source_id';

/** The vectors of a managed knowledge base, optionally of one data source. */
export function readManagedVectors(store: ManagedStore, dataSourceId?: string): FakeVector[] {
  return [...store.entries()]
    .filter(([, v]) => !dataSourceId || v.dataSourceId === dataSourceId)
    .map(([id, v]) => ({ id, sourceUri: v.sourceUri, dataSourceId: v.dataSourceId, metadata: { ...v.metadata } }));
}

/** Deletes a data source's vectors (all, or those of one source URI). */
export function deleteManagedVectors(store: ManagedStore, dataSourceId: string, sourceUri?: string): void {
  for (const [id, v] of store) if (v.dataSourceId === dataSourceId && (!sourceUri || v.sourceUri === sourceUri)) store.delete(id);
}

/** Writes one document's vector into a managed knowledge base, with Bedrock's own keys beside the sidecar's. */
export function putManagedVector(
  store: ManagedStore,
  key: string,
  v: { uri: string; dataSourceId: string; data: number[]; text: string; meta: Record<string, unknown> },
): void {
  deleteManagedVectors(store, v.dataSourceId, v.uri);
  store.set(key, {
    sourceUri: v.uri,
    dataSourceId: v.dataSourceId,
    text: v.text,
    data: v.data,
    metadata: { ...v.meta, [SOURCE]: v.uri, [DATA_SOURCE]: v.dataSourceId },
  });
}
