/**
 * What a vector store module contributes to a tier's or a tenant's stack. The stack (stacks.ts)
 * owns the pattern's parts (key, bucket or prefix, knowledge base role, knowledge base, data
 * source, tenant role) and places the store's slots between them in AWS's order:
 *
 *   [key] bucket|prefix  container  kb-role  access  index  knowledge-base  data-source  ...
 *
 * Deletion runs the same list backwards. Adding a store means one folder that implements this.
 */
import type { KbSettings } from '../../core/kb-settings.js';
import type { NamingContext } from '../../core/naming.js';
import type { DataScope } from '../../core/policies/roles.js';
import type { OwnerRef } from '../../core/tags.js';
import type { VectorStoreType } from '../../core/vector-stores.js';
import type { KnowledgeBaseStorage } from '../knowledge-base/driver.js';
import type { BoundResource } from '../managed-resource.js';

/** Outputs published by resources earlier in the pass. */
export type Outputs = Record<string, string>;

/** What the stack tells a store about the owner it builds for. */
export interface StoreInput {
  n: NamingContext;
  owner: OwnerRef;
  /** "tier gold" or "tenant acme", for descriptions. */
  what: string;
  /** The operator's own principal (it creates indexes in stores that check data access). */
  operator: string;
  /** ARN of the owner's knowledge base role (pool tier, bridge and silo tenants). */
  kbRoleArn: string;
  /** Settings of the owner's knowledge base (pool tier, bridge and silo tenants). */
  settings: KbSettings;
  /** The owner's KMS key, if any, from this pass's outputs. */
  kmsKeyArn: (o: Outputs) => string | undefined;
  /** The tier's vector store settings (`spec.vectorStore`). */
  vectorStore: Record<string, unknown>;
}

/** What a tenant's store parts need besides: its tier, and the ids the tier published. */
export interface TenantStoreInput extends StoreInput {
  tierOwner: OwnerRef;
  tierShared: Record<string, string | undefined>;
}

/** What a store contributes to one owner's stack, slot by slot. */
export interface StoreSlots {
  /** Where the vectors live, made before the knowledge base role (pool and bridge tier, silo tenant). */
  container: BoundResource[];
  /** After the knowledge base role, before the index: a bridge tenant's access to the tier's container. */
  access: BoundResource[];
  /** The owner's index, made before its knowledge base (pool tier, bridge and silo tenants). */
  index: BoundResource[];
  /** What the knowledge base role must reach, from this pass's outputs. */
  scope(o: Outputs): Pick<DataScope, 'collectionArn' | 'vectorIndexArn' | 'managedKnowledgeBase'>;
  /** The knowledge base's storage configuration, from this pass's outputs. */
  storage(o: Outputs): KnowledgeBaseStorage;
  /**
   * How the knowledge base reads the owner's documents: an S3 data source (the default), or the
   * S3 connector of a managed knowledge base (no chunking, DELETE only).
   */
  dataSource?: 'S3' | 'MANAGED_S3';
}

/** A vector store: its parts for a tier and for a tenant, per pattern. */
export interface VectorStore {
  readonly type: VectorStoreType;
  tier(pattern: 'pool' | 'bridge', i: StoreInput): StoreSlots;
  tenant(pattern: 'bridge' | 'silo', i: TenantStoreInput): StoreSlots;
}

/** No resources in a slot. */
export const NONE: BoundResource[] = [];
