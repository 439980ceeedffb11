/**
 * The in-memory model of OpenSearch indexes behind the data-plane fake: body validation the way
 * OpenSearch Serverless refuses bad vector indexes, the GET shape, and documents for counting.
 */

/** A stored document. */
export type IndexDocument = Record<string, unknown>;

/** One index of one collection. */
export interface FakeIndex {
  name: string;
  uuid: string;
  createdAt: number;
  mappings: { properties?: Record<string, FieldMapping> } & Record<string, unknown>;
  /** Settings as OpenSearch returns them: `{ index: { <dotted key>: <string> } }`. */
  settings: { index: Record<string, string> };
  docs: Map<string, IndexDocument>;
}

/** A field mapping; vector fields carry dimension and method. */
export interface FieldMapping {
  type?: string;
  dimension?: number;
  method?: { name?: string; engine?: string; space_type?: string; parameters?: Record<string, unknown> };
  [k: string]: unknown;
}

/** An OpenSearch-style error: HTTP status, error type and reason. */
export class OpenSearchError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly reason: string,
    readonly index?: string,
  ) {
    super(reason);
  }

  /** The JSON body OpenSearch sends for this error. */
  body(): Record<string, unknown> {
    const cause = { type: this.type, reason: this.reason, ...(this.index ? { index: this.index } : {}) };
    return { error: { root_cause: [cause], ...cause }, status: this.status };
  }
}

/** Index names: lowercase, not starting with `_` or `-`, none of OpenSearch's forbidden characters. */
export function checkIndexName(name: string): void {
  const bad = (why: string): never => {
    throw new OpenSearchError(400, 'invalid_index_name_exception', `Invalid index name [${name}], ${why}`, name);
  };
  if (name !== name.toLowerCase()) bad('must be lowercase');
  if (name.startsWith('_') || name.startsWith('-') || name.startsWith('+')) bad("must not start with '_', '-', or '+'");
  if (/[\\/*?"<>| ,#:]/.test(name) || name === '.' || name === '..')
    bad('must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]');
  if (Buffer.byteLength(name) > 255) bad('index name is too long');
}

function flattenSettings(v: unknown, prefix: string, out: Record<string, string>): void {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flattenSettings(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = String(v);
  }
}

/** Space types the k-NN plugin knows, and those an HNSW float vector field takes per engine. */
const SPACE_TYPES = ['l2', 'innerproduct', 'cosinesimil', 'l1', 'linf', 'hamming'];
const HNSW_SPACE_TYPES: Record<string, string[]> = {
  faiss: ['l2', 'innerproduct', 'cosinesimil'],
  nmslib: ['l2', 'innerproduct', 'cosinesimil', 'l1', 'linf'],
};

/**
 * Validates a create-index body and builds the index. Vector fields need `index.knn: true`, a
 * dimension of 1-16000 and an engine OpenSearch Serverless supports (faiss or nmslib with hnsw).
 */
export function buildIndex(name: string, body: Record<string, unknown>, vectorCollection: boolean): FakeIndex {
  const flat: Record<string, string> = {};
  flattenSettings(body.settings ?? {}, '', flat);
  const settings: Record<string, string> = {};
  for (const [k, v] of Object.entries(flat)) settings[k.startsWith('index.') ? k.slice(6) : k] = v;
  const mappings = (body.mappings ?? {}) as FakeIndex['mappings'];
  const parse = (reason: string): never => {
    throw new OpenSearchError(400, 'mapper_parsing_exception', reason, name);
  };
  for (const [field, m] of Object.entries(mappings.properties ?? {})) {
    if (m.type !== 'knn_vector') continue;
    if (!vectorCollection)
      throw new OpenSearchError(400, 'illegal_argument_exception', `knn_vector field [${field}] requires a VECTORSEARCH collection`, name);
    if (settings.knn !== 'true') parse(`Cannot set modelId or method parameters when index.knn setting is false for field [${field}]`);
    if (!Number.isInteger(m.dimension) || (m.dimension ?? 0) < 1 || (m.dimension ?? 0) > 16000) {
      parse(`Dimension value must be between 1 and 16000 for field [${field}]`);
    }
    const engine = m.method?.engine ?? 'nmslib';
    if (!['faiss', 'nmslib'].includes(engine)) parse(`Engine [${engine}] is not supported by OpenSearch Serverless for field [${field}]`);
    if ((m.method?.name ?? 'hnsw') !== 'hnsw') parse(`Method [${m.method?.name}] is not supported by OpenSearch Serverless`);
    // As the k-NN plugin 2.19 validates a float vector's HNSW method (checked against a real
    // OpenSearch 2.19.1 by test/integration/opensearch-contract.test.ts).
    const space = m.method?.space_type ?? 'l2';
    if (!SPACE_TYPES.includes(space)) parse(`Invalid space_type: ${space}`);
    if (!(HNSW_SPACE_TYPES[engine] ?? []).includes(space))
      parse(`Validation Failed: 1: "hnsw" with "${engine}" configuration does not support space type: "${space}".;`);
    for (const [k, v] of Object.entries(m.method?.parameters ?? {})) {
      if (!['m', 'ef_construction', 'ef_search'].includes(k)) continue;
      if (!Number.isInteger(v)) parse(`Validation Failed: 1: value is not an instance of Integer for Integer parameter [${k}].;`);
      if ((v as number) <= 0) parse(`Validation Failed: 1: parameter validation failed for Integer parameter [${k}].;`);
    }
  }
  const uuid = Math.random().toString(36).slice(2, 12);
  const createdAt = Date.now();
  return {
    name,
    uuid,
    createdAt,
    mappings,
    settings: {
      index: { number_of_shards: '2', number_of_replicas: '0', ...settings, provided_name: name, uuid, creation_date: String(createdAt) },
    },
    docs: new Map(),
  };
}

/** The body of `GET /<index>`. */
export function describeIndex(ix: FakeIndex): Record<string, unknown> {
  return { [ix.name]: { aliases: {}, mappings: ix.mappings, settings: ix.settings } };
}

/** Documents matching a minimal query: `match_all`, or `term`/`match` on one field (dotted paths allowed). */
export function search(ix: FakeIndex, body: Record<string, unknown>): Record<string, unknown> {
  const query = (body.query ?? { match_all: {} }) as Record<string, Record<string, unknown>>;
  const clause = query.term ?? query.match;
  const [field, raw] = clause ? (Object.entries(clause)[0] ?? []) : [];
  const want =
    raw && typeof raw === 'object' ? ((raw as { value?: unknown; query?: unknown }).value ?? (raw as { query?: unknown }).query) : raw;
  const read = (doc: IndexDocument, path: string): unknown =>
    path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), doc);
  const hits = [...ix.docs.entries()].filter(([, d]) => field === undefined || read(d, field) === want);
  const size = typeof body.size === 'number' ? body.size : 10;
  return {
    took: 1,
    timed_out: false,
    hits: {
      total: { value: hits.length, relation: 'eq' },
      hits: hits.slice(0, size).map(([id, d]) => ({ _index: ix.name, _id: id, _score: 1, _source: d })),
    },
  };
}
