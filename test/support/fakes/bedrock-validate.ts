/**
 * Request validation of the bedrock-agent fake, following the API model's constraints (patterns,
 * lengths, enums) and the messages Bedrock sends for them.
 */
import type {
  ChunkingConfiguration,
  CreateDataSourceRequest,
  CreateKnowledgeBaseRequest,
  UpdateKnowledgeBaseRequest,
} from '@aws-sdk/client-bedrock-agent';
import { AwsError } from './http.js';

/** A ValidationException in the model-constraint wording of AWS. */
export function invalid(message: string): AwsError {
  return new AwsError(400, 'ValidationException', message);
}

function constraint(field: string, value: unknown, rule: string): AwsError {
  return invalid(`1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${rule}`);
}

function pattern(field: string, value: unknown, re: RegExp, source: string, required = true): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'string' || !re.test(value))
    throw constraint(field, value, `Member must satisfy regular expression pattern: ${source}`);
}

function length(field: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length < min || value.length > max) {
    throw constraint(field, value, `Member must have length between ${min} and ${max}, inclusive`);
  }
}

function oneOf(field: string, value: unknown, allowed: readonly string[]): void {
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw constraint(field, value, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }
}

function range(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw constraint(field, value, `Member must have value between ${min} and ${max}, inclusive`);
  }
}

const NAME = /^([0-9a-zA-Z][_-]?){1,100}$/;
const TOKEN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,256}$/;
/** Knowledge base and data source ids. */
export const ID = /^[0-9a-zA-Z]{10}$/;

/** Checks a resource name against `([0-9a-zA-Z][_-]?){1,100}`. */
export function checkName(value: unknown): void {
  pattern('name', value, NAME, '([0-9a-zA-Z][_-]?){1,100}');
}

/** Checks an idempotency token: 33-256 characters of the documented pattern. */
export function checkClientToken(value: unknown): void {
  length('clientToken', value, 33, 256);
  pattern('clientToken', value, TOKEN, '[a-zA-Z0-9](-*[a-zA-Z0-9]){0,256}', false);
}

/** Checks a path id (knowledge base, data source, ingestion job). */
export function checkId(field: string, value: string): void {
  pattern(field, value, ID, '[0-9a-zA-Z]{10}');
}

/** Checks tag keys and values (1-128 / 0-256, `[a-zA-Z0-9\s._:/=+@-]*`). */
export function checkTags(tags: unknown): Record<string, string> {
  if (tags === undefined) return {};
  if (!tags || typeof tags !== 'object') throw invalid('tags must be a map');
  const re = /^[a-zA-Z0-9\s._:/=+@-]*$/;
  for (const [k, v] of Object.entries(tags as Record<string, unknown>)) {
    length('tags.key', k, 1, 128);
    pattern('tags.key', k, re, '^[a-zA-Z0-9\\s._:/=+@-]*$');
    length('tags.value', v, 0, 256);
    pattern('tags.value', v, re, '^[a-zA-Z0-9\\s._:/=+@-]*$');
  }
  return { ...(tags as Record<string, string>) };
}

/** Output dimensions of the embedding models the fake knows, by model id. */
const EMBEDDING_MODELS: Record<string, { default: number; allowed: number[] }> = {
  'amazon.titan-embed-text-v2:0': { default: 1024, allowed: [256, 512, 1024] },
  'amazon.titan-embed-text-v1': { default: 1536, allowed: [1536] },
  'cohere.embed-english-v3': { default: 1024, allowed: [1024] },
  'cohere.embed-multilingual-v3': { default: 1024, allowed: [1024] },
};

/** The vector dimension a knowledge base's embedding model produces, validating the model and dimensions. */
export function embeddingDimensions(req: CreateKnowledgeBaseRequest): number {
  const vector = req.knowledgeBaseConfiguration?.vectorKnowledgeBaseConfiguration;
  const arn = vector?.embeddingModelArn;
  length('knowledgeBaseConfiguration.vectorKnowledgeBaseConfiguration.embeddingModelArn', arn, 20, 2048);
  const modelId = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]+::foundation-model\/(.+)$/.exec(arn ?? '')?.[2];
  const model = modelId ? EMBEDDING_MODELS[modelId] : undefined;
  if (!model) throw invalid(`The model arn provided is not supported for knowledge base embedding: ${String(arn)}`);
  const asked = vector?.embeddingModelConfiguration?.bedrockEmbeddingModelConfiguration?.dimensions;
  if (asked === undefined) return model.default;
  if (!model.allowed.includes(asked)) throw invalid(`The dimensions ${asked} are not supported by the embedding model ${modelId}.`);
  return asked;
}

/** Checks a knowledge base role ARN against the model's KnowledgeBaseRoleArn pattern. */
function checkRoleArn(value: unknown): void {
  pattern('roleArn', value, /^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/, 'arn:aws(-[^:]+)?:iam::([0-9]{12})?:role/.+');
}

/**
 * Static checks of an UpdateKnowledgeBase body, as the model requires: name, roleArn and
 * knowledgeBaseConfiguration are required; whether the configurations match the knowledge base's
 * is checked against its state.
 */
export function checkUpdateKnowledgeBase(req: Omit<UpdateKnowledgeBaseRequest, 'knowledgeBaseId'>): void {
  checkName(req.name);
  length('description', req.description, 1, 200);
  checkRoleArn(req.roleArn);
  if (!req.knowledgeBaseConfiguration) throw invalid('knowledgeBaseConfiguration must not be null');
  oneOf('knowledgeBaseConfiguration.type', req.knowledgeBaseConfiguration.type, ['VECTOR', 'KENDRA', 'SQL', 'MANAGED']);
}

/** Static checks of a CreateKnowledgeBase request (the storage checks need the emulators). */
export function checkCreateKnowledgeBase(req: CreateKnowledgeBaseRequest): void {
  checkClientToken(req.clientToken);
  checkName(req.name);
  length('description', req.description, 1, 200);
  checkRoleArn(req.roleArn);
  oneOf('knowledgeBaseConfiguration.type', req.knowledgeBaseConfiguration?.type, ['VECTOR', 'KENDRA', 'SQL', 'MANAGED']);
  if (req.knowledgeBaseConfiguration?.type !== 'VECTOR') throw invalid('The fake serves VECTOR knowledge bases only');
  const storage = req.storageConfiguration;
  if (storage?.type !== 'OPENSEARCH_SERVERLESS') throw invalid('The fake serves OPENSEARCH_SERVERLESS storage only');
  const aoss = storage.opensearchServerlessConfiguration;
  const arnRe = /^arn:aws:aoss:[a-z]{2}(-gov)?-[a-z]+-\d{1}:\d{12}:collection\/[a-z0-9-]{3,32}$/;
  pattern('storageConfiguration.opensearchServerlessConfiguration.collectionArn', aoss?.collectionArn, arnRe, arnRe.source);
  length('storageConfiguration.opensearchServerlessConfiguration.vectorIndexName', aoss?.vectorIndexName, 1, 2048);
  if (!aoss?.vectorIndexName) throw invalid('vectorIndexName must not be null');
  const fm = aoss.fieldMapping;
  if (!fm?.vectorField || !fm.textField || !fm.metadataField)
    throw invalid('fieldMapping requires vectorField, textField and metadataField');
  checkTags(req.tags);
}

function checkChunking(c: ChunkingConfiguration | undefined): void {
  if (!c) return;
  const f = 'vectorIngestionConfiguration.chunkingConfiguration';
  oneOf(`${f}.chunkingStrategy`, c.chunkingStrategy, ['FIXED_SIZE', 'NONE', 'HIERARCHICAL', 'SEMANTIC']);
  if (c.chunkingStrategy === 'FIXED_SIZE') {
    range(`${f}.fixedSizeChunkingConfiguration.maxTokens`, c.fixedSizeChunkingConfiguration?.maxTokens, 1, 8192);
    range(`${f}.fixedSizeChunkingConfiguration.overlapPercentage`, c.fixedSizeChunkingConfiguration?.overlapPercentage, 1, 99);
  } else if (c.chunkingStrategy === 'HIERARCHICAL') {
    const h = c.hierarchicalChunkingConfiguration;
    if (h?.levelConfigurations?.length !== 2) throw invalid('Hierarchical chunking requires exactly 2 level configurations');
    for (const l of h.levelConfigurations)
      range(`${f}.hierarchicalChunkingConfiguration.levelConfigurations.maxTokens`, l.maxTokens, 1, 8192);
    range(`${f}.hierarchicalChunkingConfiguration.overlapTokens`, h.overlapTokens, 1, 1_000_000);
  } else if (c.chunkingStrategy === 'SEMANTIC') {
    const s = c.semanticChunkingConfiguration;
    range(`${f}.semanticChunkingConfiguration.maxTokens`, s?.maxTokens, 1, 8192);
    range(`${f}.semanticChunkingConfiguration.bufferSize`, s?.bufferSize, 0, 1);
    range(`${f}.semanticChunkingConfiguration.breakpointPercentileThreshold`, s?.breakpointPercentileThreshold, 50, 99);
  }
}

/** Static checks of a CreateDataSource / UpdateDataSource body (S3 data sources only). */
export function checkDataSource(req: Omit<CreateDataSourceRequest, 'knowledgeBaseId'>): void {
  checkClientToken(req.clientToken);
  checkName(req.name);
  length('description', req.description, 1, 200);
  const cfg = req.dataSourceConfiguration;
  oneOf('dataSourceConfiguration.type', cfg?.type, ['S3', 'WEB', 'CONFLUENCE', 'SALESFORCE', 'SHAREPOINT', 'CUSTOM', 'REDSHIFT_METADATA']);
  if (cfg?.type !== 'S3') throw invalid('The fake serves S3 data sources only');
  const s3 = cfg.s3Configuration;
  const bucketRe = /^arn:aws(|-cn|-us-gov):s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
  pattern('dataSourceConfiguration.s3Configuration.bucketArn', s3?.bucketArn, bucketRe, bucketRe.source);
  const prefixes = s3?.inclusionPrefixes;
  if (prefixes !== undefined) {
    if (prefixes.length !== 1)
      throw constraint(
        'dataSourceConfiguration.s3Configuration.inclusionPrefixes',
        '***',
        'Member must have length less than or equal to 1',
      );
    length('dataSourceConfiguration.s3Configuration.inclusionPrefixes.member', prefixes[0], 1, 300);
  }
  pattern('dataSourceConfiguration.s3Configuration.bucketOwnerAccountId', s3?.bucketOwnerAccountId, /^[0-9]{12}$/, '[0-9]{12}', false);
  if (req.dataDeletionPolicy !== undefined) oneOf('dataDeletionPolicy', req.dataDeletionPolicy, ['RETAIN', 'DELETE']);
  const kms = req.serverSideEncryptionConfiguration?.kmsKeyArn;
  pattern(
    'serverSideEncryptionConfiguration.kmsKeyArn',
    kms,
    /^arn:aws(|-cn|-us-gov):kms:[a-zA-Z0-9-]*:[0-9]{12}:key\/[a-zA-Z0-9-]{36}$/,
    'key ARN',
    false,
  );
  checkChunking(req.vectorIngestionConfiguration?.chunkingConfiguration);
}
