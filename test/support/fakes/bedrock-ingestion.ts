/**
 * What an ingestion job of the bedrock-agent fake does: list the data source's S3 prefix (moto,
 * real S3 client), compare with what it indexed before by ETag, read the `.metadata.json` sidecars,
 * and write or delete one vector document per object in the knowledge base's index: an OpenSearch
 * Serverless index of the data-plane fake, or an S3 Vectors index in moto (bedrock-s3vectors.ts).
 */
import type { IngestionJobStatistics } from '@aws-sdk/client-bedrock-agent';
import { GetObjectCommand, ListObjectsV2Command, type S3Client, type _Object } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type { AossControlPlane } from './aoss-access.js';
import type { IndexStore } from './aoss-data-plane.js';
import type { IndexDocument } from './opensearch-index.js';
import { BEDROCK_METADATA, BEDROCK_TEXT, type S3VectorsTarget, S3VectorsWriter, checkS3VectorsWritable } from './bedrock-s3vectors.js';
import { type ManagedStore, deleteManagedVectors, putManagedVector, readManagedVectors } from './bedrock-managed.js';

/** What a data source last indexed for one object. */
export interface IndexedObject {
  etag: string;
  metadataEtag?: string;
}

/** Where a knowledge base's vectors live and who writes them. */
export interface VectorTarget {
  collectionId: string;
  collectionName: string;
  index: string;
  roleArn: string;
  vectorField: string;
  textField: string;
  metadataField: string;
  dimensions: number;
  /** Set for a knowledge base on S3 Vectors: its vectors are in moto, not in `store`. */
  s3vectors?: S3VectorsTarget;
  /** Set for a managed knowledge base: Bedrock's own store (bedrock-managed.ts). */
  managed?: ManagedStore;
}

/** One vector as tests see it. */
export interface FakeVector {
  id: string;
  sourceUri: string;
  dataSourceId: string;
  /** The metadata attributes from the object's sidecar, e.g. `{ tenantId: 'acme' }`. */
  metadata: Record<string, unknown>;
}

const SOURCE = 'x-amz-bedrock-kb-source-uri';
const DATA_SOURCE = 'x-amz-bedrock-kb-data-source-id';
const SIDECAR = '.metadata.json';

/** The vectors in a knowledge base's index, optionally of one data source. */
export function readVectors(store: IndexStore, t: VectorTarget, dataSourceId?: string): FakeVector[] {
  if (t.managed) return readManagedVectors(t.managed, dataSourceId);
  const ix = store.get(t.collectionId, t.index);
  const reserved = new Set([SOURCE, DATA_SOURCE, t.vectorField, t.textField, t.metadataField]);
  return [...(ix?.docs ?? new Map<string, IndexDocument>()).entries()]
    .filter(([, d]) => d[DATA_SOURCE] !== undefined && (!dataSourceId || d[DATA_SOURCE] === dataSourceId))
    .map(([id, d]) => ({
      id,
      sourceUri: String(d[SOURCE]),
      dataSourceId: String(d[DATA_SOURCE]),
      metadata: Object.fromEntries(Object.entries(d).filter(([k]) => !reserved.has(k))),
    }));
}

/**
 * Deletes a data source's vectors (all, or those of one source URI); throws when the index is gone.
 * On S3 Vectors the deletion runs in the background (use deleteVectorsNow to wait for it).
 */
export function deleteVectors(store: IndexStore, t: VectorTarget, dataSourceId: string, sourceUri?: string): void {
  if (t.managed) return deleteManagedVectors(t.managed, dataSourceId, sourceUri);
  if (t.s3vectors) {
    void deleteVectorsNow(store, t, dataSourceId, sourceUri).catch(() => undefined);
    return;
  }
  const ix = store.get(t.collectionId, t.index);
  if (!ix) throw new Error(`Dependency error document status code: 404, error message: no such index [${t.index}]`);
  for (const [id, d] of ix.docs) if (d[DATA_SOURCE] === dataSourceId && (!sourceUri || d[SOURCE] === sourceUri)) ix.docs.delete(id);
}

/** Deletes a data source's vectors, waiting for S3 Vectors; throws when the index is gone. */
export async function deleteVectorsNow(store: IndexStore, t: VectorTarget, dataSourceId: string, sourceUri?: string): Promise<void> {
  if (!t.s3vectors) return deleteVectors(store, t, dataSourceId, sourceUri);
  const writer = new S3VectorsWriter(t.s3vectors);
  if (sourceUri) await writer.deleteWhere(SOURCE, sourceUri);
  else await writer.deleteWhere(DATA_SOURCE, dataSourceId);
}

/** Whether the knowledge base role may write to its index; throws Bedrock's failure reason otherwise. */
export async function checkWritable(control: AossControlPlane, store: IndexStore, t: VectorTarget): Promise<void> {
  if (t.managed) return;
  if (t.s3vectors) return checkS3VectorsWritable(t.s3vectors, t.roleArn);
  if (!(await control.allowed(t.roleArn, 'aoss:WriteDocument', t.collectionName, t.index))) {
    throw new Error('The knowledge base storage configuration provided is invalid... Request failed: [security_exception] 403 Forbidden');
  }
  if (!store.get(t.collectionId, t.index))
    throw new Error(`Dependency error document status code: 404, error message: no such index [${t.index}]`);
}

/** Flattens sidecar attributes: plain values, or typed `{ value: { type, stringValue | ... } }`. */
function attributes(raw: unknown): Record<string, unknown> {
  const attrs = (raw as { metadataAttributes?: unknown } | undefined)?.metadataAttributes;
  if (!attrs || typeof attrs !== 'object') throw new Error('metadataAttributes must be an object');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs as Record<string, unknown>)) {
    const typed = v && typeof v === 'object' && !Array.isArray(v) ? (v as { value?: Record<string, unknown> }).value : undefined;
    out[k] = typed ? (typed.stringValue ?? typed.numberValue ?? typed.booleanValue ?? typed.stringListValue) : v;
  }
  return out;
}

async function text(s3: S3Client, bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await out.Body?.transformToString()) ?? '';
}

function vector(key: string, dimensions: number): number[] {
  const seed = createHash('sha256').update(key).digest();
  return Array.from({ length: dimensions }, (_, i) => (seed[i % seed.length] ?? 0) / 255);
}

/** Runs one sync of an S3 data source into `t`, updating `indexed`, and returns the job statistics. */
export async function syncDataSource(
  s3: S3Client,
  store: IndexStore,
  t: VectorTarget,
  ds: { dataSourceId: string; bucket: string; prefix?: string; indexed: Map<string, IndexedObject> },
): Promise<Required<IngestionJobStatistics>> {
  const objects: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: ds.bucket, Prefix: ds.prefix, ContinuationToken: token }));
    objects.push(...(page.Contents ?? []));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const sidecars = new Map(objects.filter((o) => o.Key?.endsWith(SIDECAR)).map((o) => [o.Key ?? '', o]));
  const docs = objects.filter((o) => o.Key && !o.Key.endsWith(SIDECAR));
  const stats: Required<IngestionJobStatistics> = {
    numberOfDocumentsScanned: docs.length,
    numberOfMetadataDocumentsScanned: sidecars.size,
    numberOfNewDocumentsIndexed: 0,
    numberOfModifiedDocumentsIndexed: 0,
    numberOfMetadataDocumentsModified: 0,
    numberOfDocumentsDeleted: 0,
    numberOfDocumentsFailed: 0,
    numberOfDocumentsSkipped: 0,
  };
  const write = writerFor(store, t, ds.dataSourceId);
  const seen = new Set<string>();
  for (const o of docs) {
    const key = o.Key ?? '';
    const uri = `s3://${ds.bucket}/${key}`;
    seen.add(key);
    const side = sidecars.get(key + SIDECAR);
    const prev = ds.indexed.get(key);
    const etag = o.ETag ?? '';
    if (prev && prev.etag === etag && prev.metadataEtag === side?.ETag) continue;
    try {
      if ((o.Size ?? 0) > 50 * 1024 * 1024) throw new Error('file larger than 50 MB');
      if (side && (side.Size ?? 0) > 10 * 1024) throw new Error('metadata file larger than 10 KB');
      const meta = side ? attributes(JSON.parse(await text(s3, ds.bucket, side.Key ?? ''))) : {};
      await write.put(key, uri, vector(key, t.dimensions), (await text(s3, ds.bucket, key)).slice(0, 2000), meta);
      if (!prev) stats.numberOfNewDocumentsIndexed++;
      else if (prev.etag !== etag) stats.numberOfModifiedDocumentsIndexed++;
      else stats.numberOfMetadataDocumentsModified++;
      ds.indexed.set(key, { etag, metadataEtag: side?.ETag });
    } catch {
      stats.numberOfDocumentsFailed++;
    }
  }
  for (const key of [...ds.indexed.keys()]) {
    if (seen.has(key)) continue;
    await write.remove(key, `s3://${ds.bucket}/${key}`);
    ds.indexed.delete(key);
    stats.numberOfDocumentsDeleted++;
  }
  return stats;
}

/** Where one sync writes a document's vector, and removes it. */
interface VectorWriter {
  put(objectKey: string, uri: string, data: number[], text: string, meta: Record<string, unknown>): Promise<void>;
  remove(objectKey: string, uri: string): Promise<void>;
}

/** The vector of one object, keyed by data source and object key. */
const vectorKey = (dataSourceId: string, objectKey: string): string =>
  createHash('sha1').update(`${dataSourceId}/${objectKey}`).digest('hex');

/** The writer of a sync: a document in the fake's OpenSearch index, or a vector in moto's S3 Vectors index. */
function writerFor(store: IndexStore, t: VectorTarget, dataSourceId: string): VectorWriter {
  const managed = t.managed;
  if (managed) {
    return {
      put: (objectKey, uri, data, text, meta) =>
        Promise.resolve(putManagedVector(managed, vectorKey(dataSourceId, objectKey), { uri, dataSourceId, data, text, meta })),
      remove: (_objectKey, uri) => Promise.resolve(deleteManagedVectors(managed, dataSourceId, uri)),
    };
  }
  if (t.s3vectors) {
    const s3v = new S3VectorsWriter(t.s3vectors);
    return {
      // Bedrock's own keys carry the chunk and its source; the sidecar's attributes sit beside them.
      put: (objectKey, uri, data, text, meta) =>
        s3v.put(vectorKey(dataSourceId, objectKey), data, {
          ...meta,
          [BEDROCK_TEXT]: text,
          [BEDROCK_METADATA]: JSON.stringify({ source: uri }),
          [SOURCE]: uri,
          [DATA_SOURCE]: dataSourceId,
        }),
      remove: (objectKey) => s3v.delete([vectorKey(dataSourceId, objectKey)]),
    };
  }
  const ix = store.get(t.collectionId, t.index);
  if (!ix) throw new Error(`Dependency error document status code: 404, error message: no such index [${t.index}]`);
  return {
    put(objectKey, uri, data, text, meta) {
      deleteVectors(store, t, dataSourceId, uri);
      ix.docs.set(vectorKey(dataSourceId, objectKey), {
        [t.vectorField]: data,
        [t.textField]: text,
        [t.metadataField]: JSON.stringify({ source: uri }),
        [SOURCE]: uri,
        [DATA_SOURCE]: dataSourceId,
        ...meta,
      });
      return Promise.resolve();
    },
    remove(_objectKey, uri) {
      deleteVectors(store, t, dataSourceId, uri);
      return Promise.resolve();
    },
  };
}
