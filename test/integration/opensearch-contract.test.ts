/**
 * The vector index contract against a real OpenSearch 2.19.1 with its k-NN plugin 2.19.1.0
 * (test/support/opensearch.ts; installed from Maven Central by scripts/opensearch.sh).
 *
 * The operator's own VectorIndexDriver, over its own SigV4 data-plane client (OpenSearch without
 * the security plugin ignores the signature), creates the index body the operator builds
 * (`vectorIndexBody`) for every space type the CRD schema allows, the schema's bounds of `m` and
 * `efConstruction`, and every dimension an embedding model the schema knows can output; OpenSearch
 * must accept each, and the driver's observe of what OpenSearch returns must be in sync (ready,
 * no differences). Bodies with values OpenSearch refuses must be refused by the CRD schema as
 * well, on a real kube-apiserver. The data-plane fake (test/support/fakes/opensearch-index.ts) is
 * held to the same answers: it must accept and refuse the same bodies and describe the vector
 * field as OpenSearch does.
 *
 * What this cannot check: the faiss and nmslib native libraries are not published to Maven, so
 * faiss indexes (the only engine the operator uses) are created and described here, but no vector
 * is ever written into one: that makes the node load libopensearchknn_faiss, fail and exit.
 * Graph building and k-NN search are shown with the lucene engine instead, on the operator's
 * field layout. OpenSearch Serverless is a managed service built on OpenSearch; where its data
 * plane differs from OpenSearch 2.19 (settings it sets itself, shard counts), this does not tell.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { RateBudgets } from '../../src/adapters/aws/budgets.js';
import { AossDataPlane, DataPlaneError } from '../../src/adapters/aws/aoss-data.js';
import { EMBEDDING_MODELS } from '../../src/api/v1alpha1/constants.js';
import type { TenantTier } from '../../src/api/v1alpha1/types.js';
import { vectorIndex } from '../../src/api/v1alpha1/schema/common.js';
import { kbSettings } from '../../src/core/kb-settings.js';
import { indexName } from '../../src/core/naming.js';
import { INDEX_FIELDS, vectorIndexBody } from '../../src/core/policies/aoss.js';
import { VectorIndexDriver, type VectorIndexSpec } from '../../src/resources/vector-index/driver.js';
import { systemClock } from '../../src/runtime/clock.js';
import { buildIndex, describeIndex, OpenSearchError } from '../support/fakes/opensearch-index.js';
import { type ControlPlane, startControlPlane } from '../support/controlplane.js';
import { TestKube } from '../support/kube.js';
import { type OpenSearchNode, startOpenSearch } from '../support/opensearch.js';

const crds = fileURLToPath(new URL('../../crds', import.meta.url));
const ctx = { signal: new AbortController().signal, logger: pino({ level: 'silent' }) };

// What the CRD schema allows, read from the schema source the CRDs are generated from.
const vi = vectorIndex.properties as Record<'spaceType' | 'm' | 'efConstruction', { enum?: string[]; minimum?: number; maximum?: number }>;
const SPACE_TYPES = vi.spaceType.enum ?? [];
const M = [vi.m.minimum ?? NaN, vi.m.maximum ?? NaN];
const EF = [vi.efConstruction.minimum ?? NaN, vi.efConstruction.maximum ?? NaN];
const DIMENSIONS = [...new Set(Object.values(EMBEDDING_MODELS).flatMap((m) => m.outputs))].sort((a, b) => a - b);
// The operator's own defaults: a tier that sets nothing.
const tierDefaults = kbSettings({ spec: { isolation: 'bridge' } } as TenantTier);
const DEFAULTS = { spaceType: tierDefaults.spaceType, m: tierDefaults.m, efConstruction: tierDefaults.efConstruction };
const DEFAULT_DIMENSIONS = tierDefaults.dimensions;

interface Case {
  dimension: number;
  spaceType: string;
  m: number;
  efConstruction: number;
}

/** Smallest and largest dimension with every space type and both bounds of m and efConstruction; the others with the defaults. */
function acceptedCases(): Case[] {
  const out: Case[] = [];
  const [dMin, dMax] = [DIMENSIONS[0] ?? NaN, DIMENSIONS.at(-1) ?? NaN];
  for (const dimension of [dMin, dMax])
    for (const spaceType of SPACE_TYPES)
      for (const m of M) for (const efConstruction of EF) out.push({ dimension, spaceType, m, efConstruction });
  for (const dimension of DIMENSIONS.filter((d) => d !== dMin && d !== dMax)) out.push({ dimension, ...DEFAULTS });
  return out;
}

/** Values OpenSearch refuses, each with the field the CRD schema must refuse it on. */
const REFUSED: { what: string; params: Case; field: string; kb: string }[] = [
  {
    what: 'a dimension over the engine limit (16000)',
    params: { ...DEFAULTS, dimension: 16001 },
    field: 'dimensions',
    kb: '{ embeddingModel: amazon.titan-embed-text-v2:0, dimensions: 16001 }',
  },
  { what: 'dimension 0', params: { ...DEFAULTS, dimension: 0 }, field: 'dimensions', kb: '{ dimensions: 0 }' },
  {
    what: 'm 0',
    params: { ...DEFAULTS, dimension: 1024, m: 0 },
    field: 'vectorIndex.m',
    kb: '{ vectorIndex: { spaceType: l2, m: 0, efConstruction: 512 } }',
  },
  {
    what: 'efConstruction 0',
    params: { ...DEFAULTS, dimension: 1024, efConstruction: 0 },
    field: 'vectorIndex.efConstruction',
    kb: '{ vectorIndex: { spaceType: l2, m: 16, efConstruction: 0 } }',
  },
  {
    what: 'space type l1 (not with faiss)',
    params: { ...DEFAULTS, dimension: 1024, spaceType: 'l1' },
    field: 'vectorIndex.spaceType',
    kb: '{ vectorIndex: { spaceType: l1, m: 16, efConstruction: 512 } }',
  },
];

const tier = (name: string, kb: string): string => `apiVersion: rag.tenancy.dev/v1alpha1
kind: TenantTier
metadata: { name: ${name} }
spec:
  isolation: bridge
  knowledgeBase: ${kb}
  storage: { encryption: AwsOwned }
  ingestion: { interval: 1h }
  defaultQuota: { tokensPerMonth: 1000000 }
  maxTenants: 5
`;

let node: OpenSearchNode;
let cp: ControlPlane;
let kube: TestKube;
let driver: VectorIndexDriver;
let seq = 0;

/** A name as the operator makes them (80 characters at most, hashed tail), unique per case. */
function nameFor(c: Case): string {
  seq += 1;
  const owner = {
    kind: 'Tenant' as const,
    name: `contract-${seq}-${c.spaceType}-d${c.dimension}-m${c.m}-ef${c.efConstruction}-${'x'.repeat(40)}`,
  };
  return indexName({ prefix: 'rag', cluster: 'contract', accountId: '123456789012', region: 'us-east-1' }, owner);
}

function specFor(c: Case): VectorIndexSpec {
  return { collectionId: 'contract', collectionEndpoint: node.url, indexName: nameFor(c), ...c };
}

beforeAll(async () => {
  const started = Date.now();
  [node, cp] = await Promise.all([startOpenSearch(), startControlPlane()]);
  kube = new TestKube(cp.kubeconfig);
  await kube.kubectl('apply', '-f', crds);
  await kube.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
  const data = new AossDataPlane({
    region: 'us-east-1',
    credentials: () => Promise.resolve({ accessKeyId: 'testing', secretAccessKey: 'testing' }),
    // The budgets are not under test here; the operator's would only slow the run down.
    budgets: new RateBudgets(systemClock, {}, { ratePerSec: 1000, burst: 1000 }),
    urlTemplate: node.url,
  });
  driver = new VectorIndexDriver(data);
  console.log(`opensearch-contract: OpenSearch ${node.version} and a control plane up in ${Date.now() - started} ms`);
});
afterAll(async () => {
  await Promise.all([node?.stop(), cp?.stop()]);
});

describe('a real OpenSearch 2.19 with k-NN', () => {
  it('is the version the contract is about, with the k-NN plugin and no security plugin', () => {
    expect(node.version).toMatch(/^2\.19\./);
    expect(node.plugins).toContain('opensearch-knn');
    expect(node.plugins).not.toContain('opensearch-security');
  });

  it('the cases cover every space type, both bounds of m and efConstruction, and every model output', () => {
    const cases = acceptedCases();
    expect(SPACE_TYPES).toEqual(['l2', 'innerproduct']);
    expect(new Set(cases.map((c) => c.spaceType))).toEqual(new Set(SPACE_TYPES));
    expect(new Set(cases.map((c) => c.m))).toEqual(new Set([...M, DEFAULTS.m]));
    expect(new Set(cases.map((c) => c.efConstruction))).toEqual(new Set([...EF, DEFAULTS.efConstruction]));
    expect(new Set(cases.map((c) => c.dimension))).toEqual(new Set(DIMENSIONS));
    expect(DIMENSIONS).toContain(DEFAULT_DIMENSIONS);
  });

  it.each(acceptedCases())(
    'accepts the operator body for dimension $dimension, $spaceType, m $m, efConstruction $efConstruction, and reads back in sync',
    async (c) => {
      const spec = specFor(c);
      const sent = vectorIndexBody(spec) as {
        mappings: { properties: Record<string, Record<string, unknown>> };
      };
      await driver.create(ctx, spec);

      // The operator's own observation of what OpenSearch returns: ready, nothing to change.
      const o = await driver.observe(ctx, spec);
      expect(o).toMatchObject({
        state: 'ready',
        observed: { indexName: spec.indexName, dimension: c.dimension, engine: 'faiss', spaceType: c.spaceType },
      });
      expect(o.state === 'ready' && driver.compare()).toEqual([]);

      // The mapping as stored: the vector field exactly as sent, HNSW parameters included.
      const mapping = await node.request('GET', `/${spec.indexName}/_mapping`);
      expect(mapping.status).toBe(200);
      const props = (mapping.body as Record<string, { mappings: { properties: Record<string, unknown> } }>)[spec.indexName]?.mappings
        .properties;
      expect(props?.[INDEX_FIELDS.vector]).toEqual(sent.mappings.properties[INDEX_FIELDS.vector]);
      // `index: true` is the default for text and is not printed back.
      expect(props?.[INDEX_FIELDS.text]).toEqual({ type: 'text' });
      expect(props?.[INDEX_FIELDS.metadata]).toEqual({ type: 'text', index: false });
      const settings = await node.request('GET', `/${spec.indexName}/_settings?flat_settings=true`);
      expect((settings.body as Record<string, { settings: Record<string, string> }>)[spec.indexName]?.settings).toMatchObject({
        'index.knn': 'true',
        'index.knn.algo_param.ef_search': '512',
      });

      // The fake accepts the same body and describes the vector field the same way.
      const fake = describeIndex(buildIndex(spec.indexName, vectorIndexBody(spec), true)) as Record<
        string,
        { mappings: { properties: Record<string, unknown> } }
      >;
      expect(fake[spec.indexName]?.mappings.properties[INDEX_FIELDS.vector]).toEqual(props?.[INDEX_FIELDS.vector]);

      // A second create (an earlier pass made it) is no error.
      await expect(driver.create(ctx, spec)).resolves.toEqual({});
      if (o.state !== 'ready') throw new Error('not ready');
      await driver.delete(ctx, o.observed);
      expect((await driver.observe(ctx, spec)).state).toBe('absent');
    },
  );

  it('an index whose dimension differs from the spec is reported as a mismatch, not in sync', async () => {
    const spec = specFor({ dimension: 1024, ...DEFAULTS });
    await driver.create(ctx, spec);
    const o = await driver.observe(ctx, { ...spec, dimension: 512 });
    expect(o).toMatchObject({ state: 'failed', reason: 'IndexMismatch', observed: { dimension: 1024, engine: 'faiss' } });
    await node.request('DELETE', `/${spec.indexName}`);
  });

  it.each([
    { what: 'space type', change: { spaceType: 'innerproduct' }, says: 'space type l2 (wanted innerproduct)' },
    { what: 'm', change: { m: 32 }, says: 'm 16 (wanted 32)' },
    { what: 'ef_construction', change: { efConstruction: 256 }, says: 'ef_construction 512 (wanted 256)' },
  ])('an index whose $what differs (as real OpenSearch reports it) is a mismatch naming it', async ({ change, says }) => {
    const spec = specFor({ dimension: 1024, ...DEFAULTS });
    await driver.create(ctx, spec);
    const o = await driver.observe(ctx, { ...spec, ...change });
    expect(o).toMatchObject({ state: 'failed', reason: 'IndexMismatch' });
    expect((o as { message: string }).message).toContain(says);
    await node.request('DELETE', `/${spec.indexName}`);
  });

  describe.each(REFUSED)('refuses $what', ({ params, field, kb }) => {
    it('OpenSearch refuses the operator body with 400, and so does the fake', async () => {
      const spec = specFor(params);
      const err = await driver.create(ctx, spec).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DataPlaneError);
      expect((err as DataPlaneError).$metadata.httpStatusCode).toBe(400);
      expect((err as DataPlaneError).name).toBe('mapper_parsing_exception');
      expect((await driver.observe(ctx, spec)).state).toBe('absent');

      let fakeErr: unknown;
      try {
        buildIndex(spec.indexName, vectorIndexBody(spec), true);
      } catch (e) {
        fakeErr = e;
      }
      expect(fakeErr).toBeInstanceOf(OpenSearchError);
      expect((fakeErr as OpenSearchError).status).toBe(400);
      expect((fakeErr as OpenSearchError).type).toBe('mapper_parsing_exception');
    });

    it(`the CRD schema refuses it on knowledgeBase.${field}`, async () => {
      const refusal = await kube.apply(tier(`refused-${(seq += 1)}`, kb), '--dry-run=server').then(
        () => 'accepted',
        (e: unknown) => String(e),
      );
      expect(refusal).toContain(`spec.knowledgeBase.${field}`);
    });
  });

  it('the CRD schema accepts the bounds the contract cases use (the refusals above are about the value)', async () => {
    const [dMin, dMax] = [DIMENSIONS[0], DIMENSIONS.at(-1)];
    const model = (d: number | undefined): string =>
      Object.entries(EMBEDDING_MODELS).find(([, m]) => m.outputs.includes(d ?? NaN))?.[0] ?? '';
    for (const [d, spaceType, m, ef] of [
      [dMin, SPACE_TYPES[0], M[0], EF[0]],
      [dMax, SPACE_TYPES.at(-1), M[1], EF[1]],
    ] as const) {
      const kb = `{ embeddingModel: "${model(d)}", dimensions: ${d}, vectorIndex: { spaceType: ${spaceType}, m: ${m}, efConstruction: ${ef} } }`;
      await expect(kube.apply(tier(`bounds-${(seq += 1)}`, kb), '--dry-run=server')).resolves.toContain('(server dry run)');
    }
  });

  it('serves k-NN search on the operator field layout (lucene engine: faiss cannot build graphs here)', async () => {
    // The operator's body with only the engine changed; faiss would need its native library.
    const spec = specFor({ dimension: DIMENSIONS[0] ?? 256, ...DEFAULTS });
    const body = vectorIndexBody(spec) as { mappings: { properties: Record<string, { method?: { engine?: string } }> } };
    const method = body.mappings.properties[INDEX_FIELDS.vector]?.method;
    if (method) method.engine = 'lucene';
    expect((await node.request('PUT', `/${spec.indexName}`, body)).status).toBe(200);
    const vector = (i: number): number[] => Array.from({ length: spec.dimension }, (_, k) => (k === i ? 1 : 0));
    for (const i of [0, 1, 2]) {
      const doc = {
        [INDEX_FIELDS.vector]: vector(i),
        [INDEX_FIELDS.text]: `chunk ${i}`,
        [INDEX_FIELDS.metadata]: JSON.stringify({ source: `s3://bucket/doc-${i}.txt` }),
        'x-amz-bedrock-kb-source-uri': `s3://bucket/doc-${i}.txt`,
      };
      expect((await node.request('PUT', `/${spec.indexName}/_doc/${i}?refresh=true`, doc)).status).toBe(201);
    }
    const found = await node.request('POST', `/${spec.indexName}/_search`, {
      size: 1,
      query: { knn: { [INDEX_FIELDS.vector]: { vector: vector(2), k: 1 } } },
    });
    expect(found.status).toBe(200);
    const hits = (found.body as { hits: { hits: { _source: Record<string, unknown> }[] } }).hits.hits;
    expect(hits[0]?._source[INDEX_FIELDS.text]).toBe('chunk 2');
    await node.request('DELETE', `/${spec.indexName}`);
  });
});
