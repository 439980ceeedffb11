/**
 * The knowledge base settings a tier or tenant gets: the tenant's overrides (bridge and silo),
 * else the tier's defaults, else the operator's defaults; and their Bedrock wire shapes.
 */
import { DEFAULT_EMBEDDING_MODEL, EMBEDDING_MODELS } from '../api/v1alpha1/constants.js';
import type { Tenant, TenantTier } from '../api/v1alpha1/types.js';

type KbSpec = NonNullable<TenantTier['spec']['knowledgeBase']>;
type Chunking = NonNullable<KbSpec['chunking']>;

/**
 * Bedrock's `chunkingConfiguration` (bedrock-agent `ChunkingConfiguration`), written out here so
 * core needs no SDK: the SDK type accepts it as it is.
 */
export type ChunkingConfiguration =
  | { chunkingStrategy: 'FIXED_SIZE'; fixedSizeChunkingConfiguration: { maxTokens: number; overlapPercentage: number } }
  | {
      chunkingStrategy: 'HIERARCHICAL';
      hierarchicalChunkingConfiguration: { levelConfigurations: { maxTokens: number }[]; overlapTokens: number };
    }
  | {
      chunkingStrategy: 'SEMANTIC';
      semanticChunkingConfiguration: { maxTokens: number; bufferSize: number; breakpointPercentileThreshold: number };
    }
  | { chunkingStrategy: 'NONE' };

/** Resolved knowledge base settings. */
export interface KbSettings {
  embeddingModel: string;
  dimensions: number;
  chunking: Chunking;
  spaceType: string;
  m: number;
  efConstruction: number;
  dataDeletionPolicy: 'DELETE' | 'RETAIN';
}

/** Settings for the tier's shared knowledge base (pool) or for a tenant (with its overrides). */
export function kbSettings(tier: TenantTier, tenant?: Tenant): KbSettings {
  const t: KbSpec = tier.spec.knowledgeBase ?? {};
  const o: KbSpec = (tier.spec.isolation === 'pool' ? undefined : tenant?.spec.knowledgeBase) ?? {};
  const embeddingModel = o.embeddingModel ?? t.embeddingModel ?? DEFAULT_EMBEDDING_MODEL;
  // A tier's dimensions only carry over when the tenant keeps the tier's model.
  const sameModel = embeddingModel === (t.embeddingModel ?? DEFAULT_EMBEDDING_MODEL);
  const dimensions = o.dimensions ?? (sameModel ? t.dimensions : undefined) ?? EMBEDDING_MODELS[embeddingModel]?.default ?? 1024;
  // The tier's index parameters: vectorStore.openSearchServerless.vectorIndex, or their older
  // spelling knowledgeBase.vectorIndex (admission refuses both at once); a tenant's override wins.
  const index = { ...tier.spec.vectorStore?.openSearchServerless?.vectorIndex, ...t.vectorIndex, ...o.vectorIndex };
  return {
    embeddingModel,
    dimensions,
    chunking: o.chunking ?? t.chunking ?? { strategy: 'FixedSize', maxTokens: 300, overlapPercentage: 20 },
    spaceType: index.spaceType ?? 'l2',
    m: index.m ?? 16,
    efConstruction: index.efConstruction ?? 512,
    dataDeletionPolicy: tier.spec.dataDeletionPolicy === 'Retain' ? 'RETAIN' : 'DELETE',
  };
}

/** Bedrock's chunkingConfiguration for a chunking spec. */
export function chunkingConfiguration(c: Chunking): ChunkingConfiguration {
  switch (c.strategy) {
    case 'FixedSize':
      return {
        chunkingStrategy: 'FIXED_SIZE',
        fixedSizeChunkingConfiguration: { maxTokens: c.maxTokens ?? 300, overlapPercentage: c.overlapPercentage ?? 20 },
      };
    case 'Hierarchical':
      return {
        chunkingStrategy: 'HIERARCHICAL',
        hierarchicalChunkingConfiguration: {
          levelConfigurations: [{ maxTokens: c.parentMaxTokens ?? 1500 }, { maxTokens: c.childMaxTokens ?? 300 }],
          overlapTokens: c.overlapTokens ?? 60,
        },
      };
    case 'Semantic':
      return {
        chunkingStrategy: 'SEMANTIC',
        semanticChunkingConfiguration: {
          maxTokens: c.maxTokens ?? 300,
          bufferSize: c.bufferSize ?? 0,
          breakpointPercentileThreshold: c.breakpointPercentileThreshold ?? 95,
        },
      };
    case 'None':
      return { chunkingStrategy: 'NONE' };
  }
}

/** The foundation-model ARN of an embedding model. */
export function embeddingModelArn(partition: string, region: string, model: string): string {
  return `arn:${partition}:bedrock:${region}::foundation-model/${model}`;
}
