import { describe, expect, it } from 'vitest';
import type { Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { chunkingConfiguration, kbSettings } from './kb-settings.js';

const tier = (isolation: 'pool' | 'bridge' | 'silo', knowledgeBase?: TenantTier['spec']['knowledgeBase']): TenantTier =>
  ({ metadata: { name: 't' }, spec: { isolation, knowledgeBase } }) as TenantTier;
const tenant = (knowledgeBase?: Tenant['spec']['knowledgeBase']): Tenant =>
  ({ metadata: { name: 'a' }, spec: { tier: 't', knowledgeBase } }) as Tenant;

describe('kbSettings', () => {
  it.each([
    { name: 'operator defaults', t: tier('silo'), n: tenant(), want: { embeddingModel: 'amazon.titan-embed-text-v2:0', dimensions: 1024 } },
    {
      name: "tier's model and dimensions",
      t: tier('silo', { embeddingModel: 'amazon.titan-embed-text-v2:0', dimensions: 512 }),
      n: tenant(),
      want: { dimensions: 512 },
    },
    {
      name: "a tenant's other model does not inherit the tier's dimensions",
      t: tier('bridge', { embeddingModel: 'amazon.titan-embed-text-v2:0', dimensions: 256 }),
      n: tenant({ embeddingModel: 'amazon.titan-embed-text-v1' }),
      want: { embeddingModel: 'amazon.titan-embed-text-v1', dimensions: 1536 },
    },
    {
      name: 'pool tenants cannot override (the knowledge base is shared)',
      t: tier('pool', { dimensions: 512 }),
      n: tenant({ dimensions: 256 }),
      want: { dimensions: 512 },
    },
  ])('$name', ({ t, n, want }) => {
    expect(kbSettings(t, n)).toMatchObject(want);
  });

  it.each([
    {
      strategy: 'FixedSize' as const,
      want: { chunkingStrategy: 'FIXED_SIZE', fixedSizeChunkingConfiguration: { maxTokens: 300, overlapPercentage: 20 } },
    },
    { strategy: 'None' as const, want: { chunkingStrategy: 'NONE' } },
    {
      strategy: 'Hierarchical' as const,
      want: {
        chunkingStrategy: 'HIERARCHICAL',
        hierarchicalChunkingConfiguration: { levelConfigurations: [{ maxTokens: 1500 }, { maxTokens: 300 }], overlapTokens: 60 },
      },
    },
  ])('chunking $strategy maps to Bedrock with AWS sample defaults', ({ strategy, want }) => {
    expect(chunkingConfiguration({ strategy })).toEqual(want);
  });
});
