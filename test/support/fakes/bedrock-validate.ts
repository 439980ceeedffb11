/**
 * Request validation of the bedrock-agent fake. What AWS's API model says (patterns, lengths,
 * enums, ranges, list sizes, required members) is checked against the model itself
 * (test/support/model-check; the fakes' HTTP plumbing also refuses any request that breaks its
 * operation's input shape before a handler sees it), with AWS's ValidationException wording. Only
 * what the model cannot say is written here: which configurations the fake serves, which embedding
 * models exist and their dimensions, and the chunking settings a strategy needs.
 */
import type {
  ChunkingConfiguration,
  CreateDataSourceRequest,
  CreateKnowledgeBaseRequest,
  UpdateKnowledgeBaseRequest,
} from '@aws-sdk/client-bedrock-agent';
import { bodyViolations, shapeViolations, validationMessage } from '../model-check/validation.js';
import type { ShapeViolation } from '../model-check/shape-check.js';
import { AwsError } from './http.js';

/** A ValidationException in the model-constraint wording of AWS. */
export function invalid(message: string): AwsError {
  return new AwsError(400, 'ValidationException', message);
}

/** Throws AWS's ValidationException for the violations, if any. */
function refuse(violations: readonly ShapeViolation[]): void {
  if (violations.length) throw invalid(validationMessage(violations));
}

/** Checks `value` against bedrock-agent's shape `shape`; `required` refuses an absent value. */
function checkShape(shape: string, field: string, value: unknown, required: boolean): void {
  if (value === undefined || value === null) {
    if (required) refuse([{ member: field, constraint: 'required', value: undefined }]);
    return;
  }
  refuse(shapeViolations('bedrock-agent', shape, value, field));
}

/** Knowledge base and data source ids (the model's `Id`). */
export const ID = /^[0-9a-zA-Z]{10}$/;

/** Checks a resource name against the model's `Name`. */
export function checkName(value: unknown): void {
  checkShape('Name', 'name', value, true);
}

/** Checks an idempotency token against the model's `ClientToken` (absent is allowed). */
export function checkClientToken(value: unknown): void {
  checkShape('ClientToken', 'clientToken', value, false);
}

/** Checks a path id (knowledge base, data source, ingestion job) against the model's `Id`. */
export function checkId(field: string, value: string): void {
  checkShape('Id', field, value, true);
}

/** Checks tags against the model's `TagsMap`; returns a copy. */
export function checkTags(tags: unknown): Record<string, string> {
  if (tags === undefined) return {};
  checkShape('TagsMap', 'tags', tags, false);
  return { ...(tags as Record<string, string>) };
}

/** Output dimensions of the embedding models the fake knows, by model id (the model cannot say). */
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
  const modelId = /^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]+::foundation-model\/(.+)$/.exec(arn ?? '')?.[2];
  const model = modelId ? EMBEDDING_MODELS[modelId] : undefined;
  if (!model) throw invalid(`The model arn provided is not supported for knowledge base embedding: ${String(arn)}`);
  const asked = vector?.embeddingModelConfiguration?.bedrockEmbeddingModelConfiguration?.dimensions;
  if (asked === undefined) return model.default;
  if (!model.allowed.includes(asked)) throw invalid(`The dimensions ${asked} are not supported by the embedding model ${modelId}.`);
  return asked;
}

/** Checks an UpdateKnowledgeBase body against the model; whether the configurations match the knowledge base's is checked against its state. */
export function checkUpdateKnowledgeBase(req: Omit<UpdateKnowledgeBaseRequest, 'knowledgeBaseId'>): void {
  refuse(bodyViolations('bedrock-agent', 'UpdateKnowledgeBase', req));
}

/** Checks a CreateKnowledgeBase request against the model, and that the fake serves it (the storage checks need the emulators). */
export function checkCreateKnowledgeBase(req: CreateKnowledgeBaseRequest): void {
  refuse(bodyViolations('bedrock-agent', 'CreateKnowledgeBase', req));
  if (req.knowledgeBaseConfiguration?.type !== 'VECTOR') throw invalid('The fake serves VECTOR knowledge bases only');
  const storage = req.storageConfiguration;
  if (storage?.type !== 'OPENSEARCH_SERVERLESS') throw invalid('The fake serves OPENSEARCH_SERVERLESS storage only');
  if (!storage.opensearchServerlessConfiguration) throw invalid('opensearchServerlessConfiguration must not be null');
}

/** The settings each chunking strategy needs, which the model (all optional members) cannot say. */
function checkChunking(c: ChunkingConfiguration | undefined): void {
  const needs: Record<string, keyof ChunkingConfiguration> = {
    FIXED_SIZE: 'fixedSizeChunkingConfiguration',
    HIERARCHICAL: 'hierarchicalChunkingConfiguration',
    SEMANTIC: 'semanticChunkingConfiguration',
  };
  const member = c ? needs[c.chunkingStrategy ?? ''] : undefined;
  if (c && member && !c[member]) {
    refuse([{ member: `vectorIngestionConfiguration.chunkingConfiguration.${member}`, constraint: 'required', value: undefined }]);
  }
}

/** Checks a CreateDataSource / UpdateDataSource body against the model, S3 data sources only. */
export function checkDataSource(req: Omit<CreateDataSourceRequest, 'knowledgeBaseId'>): void {
  refuse(bodyViolations('bedrock-agent', 'CreateDataSource', req));
  if (req.dataSourceConfiguration?.type !== 'S3') throw invalid('The fake serves S3 data sources only');
  if (!req.dataSourceConfiguration.s3Configuration) throw invalid('s3Configuration must not be null');
  checkChunking(req.vectorIngestionConfiguration?.chunkingConfiguration);
}
