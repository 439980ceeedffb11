/**
 * OpenSearch Serverless as a tier's vector store. A collection is its encryption and network
 * policies, a data access policy and the collection itself (the data access policy before the
 * collection, so a deletion removes it only after the collection: until then the operator may
 * still read and delete the collection's indexes); each knowledge base gets an index in it.
 *
 * | pattern | tier                                                     | tenant                                          |
 * |---------|----------------------------------------------------------|-------------------------------------------------|
 * | pool    | collection (kb role and operator on the pool index), index | -                                             |
 * | bridge  | collection (operator on every index)                     | data policy (its kb role, its index only), index |
 * | silo    | -                                                        | collection (kb role and operator), index        |
 */
import { collectionName, indexName } from '../../../core/naming.js';
import { type DataGrant, dataAccessPolicy, encryptionPolicy, networkPolicy } from '../../../core/policies/aoss.js';
import type { OwnerRef } from '../../../core/tags.js';
import type { AossCollectionDriver, CollectionSpec } from '../../aoss-collection/driver.js';
import type { AossPolicyDriver, AossPolicySpec } from '../../aoss-policy/driver.js';
import type { BoundResource } from '../../managed-resource.js';
import type { VectorIndexDriver, VectorIndexSpec } from '../../vector-index/driver.js';
import { bind } from '../bind.js';
import { NONE, type Outputs, type StoreInput, type StoreSlots, type VectorStore } from '../store.js';

/** The drivers and settings of the OpenSearch Serverless store. */
export interface OpenSearchServerlessDeps {
  encryptionPolicies: AossPolicyDriver;
  networkPolicies: AossPolicyDriver;
  dataPolicies: AossPolicyDriver;
  collections: AossCollectionDriver;
  indexes: VectorIndexDriver;
  /** VPC endpoints the collections accept (none: public endpoint, still IAM and policy gated). */
  vpcEndpointIds: readonly string[];
  standbyReplicas: 'ENABLED' | 'DISABLED';
}

/** Where a collection is: published by this pass (own collection) or by the tier. */
interface CollectionRef {
  collectionId?: string;
  collectionArn?: string;
  collectionEndpoint?: string;
}

/** The OpenSearch Serverless store. */
export function openSearchServerless(d: OpenSearchServerlessDeps): VectorStore {
  const ownName = (i: StoreInput): string => collectionName(i.n, { kind: i.owner.kind, name: i.owner.name });

  /** Encryption and network policies, the data access policy and the collection, named after the owner. */
  const collection = (i: StoreInput, access: BoundResource): BoundResource[] => {
    const name = ownName(i);
    const policy = (driver: AossPolicyDriver, document: (o: Outputs) => unknown): BoundResource =>
      bind(driver, (o: Outputs): AossPolicySpec => ({ name, type: driver.type, owner: i.owner, document: document(o) }));
    return [
      policy(d.encryptionPolicies, (o) => encryptionPolicy(name, i.kmsKeyArn(o))),
      policy(d.networkPolicies, () => networkPolicy(name, d.vpcEndpointIds)),
      access,
      bind(d.collections, {
        name,
        owner: i.owner,
        description: `vectors of ${i.what}`,
        standbyReplicas: d.standbyReplicas,
      } satisfies CollectionSpec),
    ];
  };

  /** A data access policy named after `owner`, granting on the collection named after `collectionOwner`. */
  const dataPolicy = (i: StoreInput, grants: (collection: string) => DataGrant[], collectionOwner: OwnerRef = i.owner): BoundResource =>
    bind(d.dataPolicies, {
      name: ownName(i),
      type: 'data',
      owner: i.owner,
      document: dataAccessPolicy(grants(collectionName(i.n, { kind: collectionOwner.kind, name: collectionOwner.name }))),
    } satisfies AossPolicySpec);

  /** The owner's index in the collection `at` finds. */
  const slots = (i: StoreInput, at: (o: Outputs) => CollectionRef, container: BoundResource[], access: BoundResource[]): StoreSlots => {
    const index = indexName(i.n, { kind: i.owner.kind, name: i.owner.name });
    const s = i.settings;
    return {
      container,
      access,
      // Creating, the resources before it are ready, so their outputs are set; deleting, the ids
      // come from status, and an index whose collection is unknown observes as absent.
      index: [
        bind(d.indexes, (o: Outputs): VectorIndexSpec => {
          const c = at(o);
          return {
            collectionId: c.collectionId ?? '',
            collectionEndpoint: c.collectionEndpoint ?? '',
            indexName: index,
            dimension: s.dimensions,
            spaceType: s.spaceType,
            m: s.m,
            efConstruction: s.efConstruction,
          };
        }),
      ],
      scope: (o) => ({ collectionArn: at(o).collectionArn }),
      storage: (o) => ({ type: 'OPENSEARCH_SERVERLESS', collectionArn: at(o).collectionArn ?? '', indexName: index }),
    };
  };

  return {
    type: 'OpenSearchServerless',
    tier(pattern, i) {
      const name = i.owner.name;
      // Bridge: tenants get their own index and data policy; the operator creates the indexes.
      // Pool: the shared knowledge base's role and the operator reach the one index.
      const access =
        pattern === 'bridge'
          ? dataPolicy(i, (c) => [
              {
                description: `operator: indexes of tier ${name}`,
                principals: [i.operator],
                collection: c,
                index: '*',
                collectionItems: true,
              },
            ])
          : dataPolicy(i, (c) => [
              {
                description: `pool tier ${name}`,
                principals: [i.kbRoleArn, i.operator],
                collection: c,
                index: indexName(i.n, { kind: 'TenantTier', name }),
                collectionItems: true,
              },
            ]);
      return slots(i, (o) => o, collection(i, access), NONE);
    },
    tenant(pattern, i) {
      const index = indexName(i.n, { kind: 'Tenant', name: i.owner.name });
      if (pattern === 'silo') {
        // The whole collection is the tenant's.
        const access = dataPolicy(i, (c) => [
          { description: `tenant ${i.owner.name}`, principals: [i.kbRoleArn, i.operator], collection: c, index, collectionItems: true },
        ]);
        return slots(i, (o) => o, collection(i, access), NONE);
      }
      // Bridge: the tenant's role reaches only its own index in the tier collection (the tier's
      // policy lets the operator create it).
      const access = dataPolicy(
        i,
        (c) => [{ description: `tenant ${i.owner.name}`, principals: [i.kbRoleArn], collection: c, index, collectionItems: false }],
        i.tierOwner,
      );
      const t = i.tierShared;
      return slots(
        i,
        () => ({ collectionId: t.collectionId, collectionArn: t.collectionArn, collectionEndpoint: t.collectionEndpoint }),
        NONE,
        [access],
      );
    },
  };
}
