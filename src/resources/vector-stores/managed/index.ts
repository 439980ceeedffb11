/**
 * Bedrock-managed knowledge bases as a tier's vector store: Bedrock keeps the vectors and embeds
 * with its service-managed model, so the store makes nothing itself (no container, no access, no
 * index); the knowledge base is `type: MANAGED` with no storage configuration, and its data source
 * is the managed S3 connector on the owner's bucket or prefix. The knowledge base role only reads
 * the documents (no vector store or model grants).
 *
 * | pattern | tier                          | tenant                                        |
 * |---------|-------------------------------|-----------------------------------------------|
 * | pool    | one managed knowledge base    | -  (its documents carry its tenantId)         |
 * | bridge  | -                             | its managed knowledge base on its prefix      |
 * | silo    | -                             | its managed knowledge base on its bucket      |
 *
 * The owner's key (tier or tenant), where there is one, also encrypts Bedrock's store.
 */
import { NONE, type Outputs, type StoreInput, type StoreSlots, type VectorStore } from '../store.js';

/** The managed store: no drivers of its own. */
export function managed(): VectorStore {
  const slots = (i: StoreInput): StoreSlots => ({
    container: NONE,
    access: NONE,
    index: NONE,
    scope: () => ({ managedKnowledgeBase: true }),
    storage: (o: Outputs) => {
      const kmsKeyArn = i.kmsKeyArn(o);
      return { type: 'MANAGED', ...(kmsKeyArn ? { kmsKeyArn } : {}) };
    },
    dataSource: 'MANAGED_S3',
  });
  return { type: 'Managed', tier: (_pattern, i) => slots(i), tenant: (_pattern, i) => slots(i) };
}
