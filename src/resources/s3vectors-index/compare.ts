/**
 * What an S3 Vectors index should be and how it differs from what was found: pure. Every setting
 * of an index is fixed at creation, so only its tags can be repaired; anything else is a
 * mismatch the owner must resolve.
 */
import { type OwnerRef, ownerTags, tagDrift } from '../../core/tags.js';

/** The vector index as wanted. */
export interface S3VectorIndexSpec {
  vectorBucketName: string;
  indexName: string;
  owner: OwnerRef;
  dimension: number;
  distanceMetric: 'cosine' | 'euclidean';
  dataType: 'float32';
  /** A set: order does not matter. Bedrock's AMAZON_BEDROCK_TEXT and AMAZON_BEDROCK_METADATA belong here. */
  nonFilterableMetadataKeys: string[];
  /** SSE-KMS for this index with this key; unset, the index takes its bucket's encryption. */
  kmsKeyArn?: string | undefined;
}

/** The vector index as found. */
export interface S3VectorIndexObserved {
  vectorBucketName: string;
  indexName: string;
  arn: string;
  dimension?: number;
  distanceMetric?: string;
  dataType?: string;
  nonFilterableMetadataKeys: string[];
  /** The index's own KMS key, when GetIndex reports SSE-KMS. */
  sseType?: string;
  kmsKeyArn?: string | undefined;
  tags: Record<string, string>;
}

/** Differences an update can repair: only the ownership tags. */
export function compareVectorIndex(spec: S3VectorIndexSpec, o: S3VectorIndexObserved): string[] {
  return tagDrift(o.tags, ownerTags(spec.owner)).length > 0 ? ['tags'] : [];
}

const setText = (keys: readonly string[]): string => (keys.length ? `[${[...keys].sort().join(', ')}]` : 'none');

/**
 * Differences no update can repair, each as `field: found X, wanted Y`. Non-filterable keys are
 * compared as sets. Without a key in the spec the index takes its bucket's encryption, which is
 * not compared here (the bucket's driver does).
 */
export function vectorIndexMismatch(spec: S3VectorIndexSpec, o: S3VectorIndexObserved): string[] {
  const out: string[] = [];
  const differs = (field: string, found: string | number | undefined, wanted: string | number): void => {
    if (found !== wanted) out.push(`${field}: found ${found ?? 'none'}, wanted ${wanted}`);
  };
  differs('dimension', o.dimension, spec.dimension);
  differs('distanceMetric', o.distanceMetric, spec.distanceMetric);
  differs('dataType', o.dataType, spec.dataType);
  const have = new Set(o.nonFilterableMetadataKeys);
  const want = new Set(spec.nonFilterableMetadataKeys);
  if (have.size !== want.size || [...want].some((k) => !have.has(k)))
    out.push(`nonFilterableMetadataKeys: found ${setText([...have])}, wanted ${setText([...want])}`);
  if (spec.kmsKeyArn && (o.sseType !== 'aws:kms' || o.kmsKeyArn !== spec.kmsKeyArn))
    out.push(`encryption: found ${o.kmsKeyArn ? `SSE-KMS with ${o.kmsKeyArn}` : "the bucket's"}, wanted SSE-KMS with ${spec.kmsKeyArn}`);
  return out;
}
