/**
 * Amazon S3 Vectors as a tier's vector store: a vector bucket holds indexes, billed by storage
 * and queries rather than by the hour; every index setting (dimension, distance metric,
 * non-filterable keys, key) is fixed at creation. Bedrock's own metadata keys are always
 * non-filterable (its chunk text exceeds the 2 KB of filterable metadata a vector may carry);
 * `tenantId` stays filterable, so a pool's shared knowledge base can be queried per tenant.
 *
 * | pattern | tier                            | tenant                                 |
 * |---------|---------------------------------|----------------------------------------|
 * | pool    | vector bucket, one index        | -                                      |
 * | bridge  | vector bucket                   | its index in the tier's vector bucket, under its own key with TenantKey |
 * | silo    | -                               | vector bucket, index                   |
 */
import { BEDROCK_NON_FILTERABLE } from '../../../api/v1alpha1/constants.js';
import { vectorBucketName, vectorIndexName } from '../../../core/naming.js';
import type { S3VectorBucketDriver, S3VectorBucketSpec } from '../../s3vectors-bucket/driver.js';
import type { S3VectorIndexDriver, S3VectorIndexSpec } from '../../s3vectors-index/driver.js';
import type { BoundResource } from '../../managed-resource.js';
import { bind } from '../bind.js';
import { NONE, type Outputs, type StoreInput, type StoreSlots, type VectorStore } from '../store.js';

/** The drivers of the S3 Vectors store. */
export interface S3VectorsDeps {
  buckets: S3VectorBucketDriver;
  indexes: S3VectorIndexDriver;
}

/** The tier's `vectorStore.s3Vectors` settings. */
interface S3VectorsSettings {
  distanceMetric?: 'cosine' | 'euclidean';
  nonFilterableMetadataKeys?: string[];
}

/** The S3 Vectors store. */
export function s3Vectors(d: S3VectorsDeps): VectorStore {
  const bucket = (i: StoreInput): BoundResource => {
    const name = vectorBucketName(i.n, { kind: i.owner.kind, name: i.owner.name });
    return bind(d.buckets, (o: Outputs): S3VectorBucketSpec => ({ name, owner: i.owner, kmsKeyArn: i.kmsKeyArn(o) }));
  };

  /**
   * The owner's index in the vector bucket `at` names, and the knowledge base on it; `key` is the
   * index's own key (a bridge tenant's), else it takes its bucket's encryption.
   */
  const slots = (
    i: StoreInput,
    at: (o: Outputs) => string | undefined,
    container: BoundResource[],
    key: (o: Outputs) => string | undefined = () => undefined,
  ): StoreSlots => {
    const settings = (i.vectorStore.s3Vectors ?? {}) as S3VectorsSettings;
    const indexName = vectorIndexName(i.n, { kind: i.owner.kind, name: i.owner.name });
    const region = i.n.region;
    const indexArn = (o: Outputs): string | undefined => {
      const b = at(o);
      return b ? `arn:aws:s3vectors:${region}:${i.n.accountId}:bucket/${b}/index/${indexName}` : undefined;
    };
    return {
      container,
      access: NONE,
      index: [
        bind(d.indexes, (o: Outputs): S3VectorIndexSpec => ({
          vectorBucketName: at(o) ?? '',
          indexName,
          owner: i.owner,
          dimension: i.settings.dimensions,
          distanceMetric: settings.distanceMetric ?? 'cosine',
          dataType: 'float32',
          nonFilterableMetadataKeys: [...BEDROCK_NON_FILTERABLE, ...(settings.nonFilterableMetadataKeys ?? [])],
          kmsKeyArn: key(o),
        })),
      ],
      scope: (o) => ({ vectorIndexArn: indexArn(o) }),
      storage: (o) => ({ type: 'S3_VECTORS', indexArn: indexArn(o) ?? '' }),
    };
  };

  const own = (i: StoreInput): ((o: Outputs) => string) => {
    const name = vectorBucketName(i.n, { kind: i.owner.kind, name: i.owner.name });
    return () => name;
  };

  return {
    type: 'S3Vectors',
    tier: (_pattern, i) => slots(i, own(i), [bucket(i)]),
    tenant(pattern, i) {
      if (pattern === 'silo') return slots(i, own(i), [bucket(i)]);
      // Bridge: its own index in the tier's vector bucket (its name is on the tier's status),
      // under its own key when it has one (published by this pass, before the index).
      return slots(
        i,
        () => i.tierShared.vectorBucketName,
        NONE,
        (o) => o.kmsKeyArn,
      );
    },
  };
}
