/**
 * What a knowledge base should be and how it differs from what was found: pure, so every field the
 * driver sets is compared in one place and tested case by case. UpdateKnowledgeBase changes only
 * the name, description and role; the embedding model and the storage configuration are fixed at
 * creation (Bedrock API reference, UpdateKnowledgeBase), so a difference there is reported, never
 * repaired by recreating the knowledge base behind the user's back.
 */
import type { KnowledgeBaseConfiguration, StorageConfiguration } from '@aws-sdk/client-bedrock-agent';
import { INDEX_FIELDS } from '../../core/policies/aoss.js';
import { type OwnerRef, ownerTags, tagDrift } from '../../core/tags.js';

/**
 * Where a knowledge base keeps its vectors: an index of the tier's vector store, or Bedrock's own
 * store (a managed knowledge base: `knowledgeBaseConfiguration.type` MANAGED, no storage
 * configuration, the service-managed embedding model, optionally encrypted with `kmsKeyArn`).
 */
export type KnowledgeBaseStorage =
  | { type: 'OPENSEARCH_SERVERLESS'; collectionArn: string; indexName: string }
  | { type: 'S3_VECTORS'; indexArn: string }
  | { type: 'MANAGED'; kmsKeyArn?: string };

/** The knowledge base as wanted. */
export interface KnowledgeBaseSpec {
  name: string;
  description: string;
  owner: OwnerRef;
  roleArn: string;
  embeddingModelArn: string;
  dimensions: number;
  storage: KnowledgeBaseStorage;
}

/**
 * Bedrock's knowledgeBaseConfiguration for a knowledge base: VECTOR with its embedding model, or
 * MANAGED with the service-managed embedding model (no model ARN or dimensions may be sent with it).
 */
export function knowledgeBaseConfiguration(spec: KnowledgeBaseSpec): KnowledgeBaseConfiguration {
  const st = spec.storage;
  if (st.type === 'MANAGED') {
    return {
      type: 'MANAGED',
      managedKnowledgeBaseConfiguration: {
        embeddingModelType: 'MANAGED',
        ...(st.kmsKeyArn ? { serverSideEncryptionConfiguration: { kmsKeyArn: st.kmsKeyArn } } : {}),
      },
    };
  }
  return {
    type: 'VECTOR',
    vectorKnowledgeBaseConfiguration: {
      embeddingModelArn: spec.embeddingModelArn,
      embeddingModelConfiguration: { bedrockEmbeddingModelConfiguration: { dimensions: spec.dimensions } },
    },
  };
}

/** Bedrock's storageConfiguration for a storage (none for a managed knowledge base). */
export function storageConfiguration(s: KnowledgeBaseStorage): StorageConfiguration | undefined {
  switch (s.type) {
    case 'MANAGED':
      return undefined;
    case 'OPENSEARCH_SERVERLESS':
      return {
        type: 'OPENSEARCH_SERVERLESS',
        opensearchServerlessConfiguration: {
          collectionArn: s.collectionArn,
          vectorIndexName: s.indexName,
          fieldMapping: wantedFieldMapping(),
        },
      };
    case 'S3_VECTORS':
      return { type: 'S3_VECTORS', s3VectorsConfiguration: { indexArn: s.indexArn } };
  }
}

/** The knowledge base as found. */
export interface KnowledgeBaseObserved {
  id: string;
  arn: string;
  status: string;
  tags: Record<string, string>;
  name?: string;
  description?: string;
  roleArn?: string;
  embeddingModelArn?: string;
  /** Undefined when Bedrock reports none (the model's default applies). */
  dimensions?: number;
  /** The storage type, or MANAGED for a managed knowledge base (which has none). */
  storageType?: string;
  /** Managed: the embedding model type (MANAGED when Bedrock reports none, its default). */
  embeddingModelType?: string;
  /** Managed: the key of Bedrock's store. */
  managedKmsKeyArn?: string;
  collectionArn?: string;
  indexName?: string;
  /** S3 Vectors: the index (Bedrock may echo it as its bucket and name instead). */
  indexArn?: string;
  fieldMapping?: { vectorField?: string; textField?: string; metadataField?: string };
  /**
   * Both configurations exactly as GetKnowledgeBase returned them: UpdateKnowledgeBase must be sent
   * the same ones again (it overwrites every field and refuses changed configurations).
   */
  configuration?: { knowledgeBase?: KnowledgeBaseConfiguration; storage?: StorageConfiguration };
}

/** The fields UpdateKnowledgeBase can change, as diff entries. */
export const UPDATABLE = ['name', 'description', 'roleArn'] as const;

/** Fields fixed at creation, as diff entries, with how each reads in a message. */
export const IMMUTABLE = {
  embeddingModel: 'embedding model',
  dimensions: 'dimensions',
  storageType: 'vector store type',
  collectionArn: 'collection',
  indexName: 'vector index',
  indexArn: 'S3 Vectors index',
  fieldMapping: 'field mapping',
  embeddingModelType: 'managed embedding model type',
  managedKmsKeyArn: "managed knowledge base's key",
} as const;

/** A knowledge base field that cannot change after creation. */
export type ImmutableField = keyof typeof IMMUTABLE;

/** What the operator's field mapping is (the index fields the vector-index driver creates). */
export function wantedFieldMapping(): { vectorField: string; textField: string; metadataField: string } {
  return { vectorField: INDEX_FIELDS.vector, textField: INDEX_FIELDS.text, metadataField: INDEX_FIELDS.metadata };
}

/** The fields fixed at creation in which the knowledge base differs from the spec, with what each is and should be. */
export function immutableDrift(
  spec: KnowledgeBaseSpec,
  o: KnowledgeBaseObserved,
): { field: ImmutableField; found: string; wanted: string }[] {
  const out: { field: ImmutableField; found: string; wanted: string }[] = [];
  const check = (field: ImmutableField, found: unknown, wanted: unknown): void => {
    const [f, w] = [JSON.stringify(found ?? null), JSON.stringify(wanted)];
    if (f !== w) out.push({ field, found: f, wanted: w });
  };
  const st = spec.storage;
  if (st.type === 'MANAGED') {
    // The service-managed embedding model: no model ARN or dimensions to compare.
    check('storageType', o.storageType, st.type);
    if (o.storageType !== st.type) return out;
    check('embeddingModelType', o.embeddingModelType ?? 'MANAGED', 'MANAGED');
    check('managedKmsKeyArn', o.managedKmsKeyArn, st.kmsKeyArn ?? null);
    return out;
  }
  check('embeddingModel', o.embeddingModelArn, spec.embeddingModelArn);
  // Bedrock echoes the dimensions it was given; when it reports none, the model's default
  // applies, which Bedrock checked against the index at creation.
  if (o.dimensions !== undefined) check('dimensions', o.dimensions, spec.dimensions);
  check('storageType', o.storageType, st.type);
  if (o.storageType !== st.type) return out;
  if (st.type === 'S3_VECTORS') {
    check('indexArn', o.indexArn, st.indexArn);
    return out;
  }
  check('collectionArn', o.collectionArn, st.collectionArn);
  check('indexName', o.indexName, st.indexName);
  const fm = o.fieldMapping ?? {};
  check('fieldMapping', { vectorField: fm.vectorField, textField: fm.textField, metadataField: fm.metadataField }, wantedFieldMapping());
  return out;
}

/**
 * The fields in which the knowledge base differs from the spec: the updatable ones (`name`,
 * `description`, `roleArn`), `tags`, and those fixed at creation (see IMMUTABLE), which observe
 * reports as a failure instead of letting them reach an update.
 */
export function compareKnowledgeBase(spec: KnowledgeBaseSpec, o: KnowledgeBaseObserved): string[] {
  const diff: string[] = [];
  if (o.name !== spec.name) diff.push('name');
  if ((o.description ?? '') !== spec.description) diff.push('description');
  if (o.roleArn !== spec.roleArn) diff.push('roleArn');
  diff.push(...immutableDrift(spec, o).map((d) => d.field));
  if (tagDrift(o.tags, ownerTags(spec.owner)).length > 0) diff.push('tags');
  return diff;
}
