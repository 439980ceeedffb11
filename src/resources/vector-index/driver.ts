/**
 * A vector index in an OpenSearch Serverless collection, made through the data plane (the
 * control-plane CreateIndex configures semantic enrichment, which Bedrock does not want). Until
 * the data access policy has propagated (about a minute, up to five) the data plane answers 403;
 * observe and create report that as a wait, never as a failure.
 */
import { CONDITION } from '../../api/v1alpha1/constants.js';
import { INDEX_FIELDS, type VectorIndexParams, vectorIndexBody } from '../../core/policies/aoss.js';
import { type AossDataPlane, DataPlaneError } from '../../adapters/aws/aoss-data.js';
import { classifyAwsError } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation } from '../managed-resource.js';

/** How soon to look again while the data access policy propagates. */
export const ACCESS_PROPAGATION_MS = 15_000;

/** The index as wanted. */
export interface VectorIndexSpec extends VectorIndexParams {
  collectionId: string;
  collectionEndpoint: string;
  indexName: string;
}

/** The index as found (its vector field's mapping). */
export interface VectorIndexObserved {
  base: string;
  indexName: string;
  dimension?: number;
  engine?: string;
  spaceType?: string;
  m?: number;
  efConstruction?: number;
  /** Set when the data plane refused the call (403): the access policy has not propagated yet. */
  denied?: boolean;
}

interface VectorMapping {
  dimension?: number;
  method?: { engine?: string; space_type?: string; parameters?: { m?: number; ef_construction?: number } };
}

/** The vector index driver. */
export class VectorIndexDriver implements ManagedResource<VectorIndexSpec, VectorIndexObserved> {
  readonly kind = 'VectorIndex';
  readonly conditionType = CONDITION.VectorStoreReady;
  constructor(private readonly data: AossDataPlane) {}

  private path(name: string): string {
    return `/${encodeURIComponent(name)}`;
  }

  async observe(ctx: DriverContext, spec: VectorIndexSpec): Promise<Observation<VectorIndexObserved>> {
    // No collection, no index.
    if (!spec.collectionId) return { state: 'absent' };
    const base = this.data.baseUrl(spec.collectionId, spec.collectionEndpoint);
    let res;
    try {
      res = await this.data.request(base, 'GET', this.path(spec.indexName), undefined, ctx.signal);
    } catch (e) {
      // A deleted collection's endpoint no longer resolves: no collection, no index.
      if ((e as { cause?: { code?: string } }).cause?.code === 'ENOTFOUND') return { state: 'absent' };
      if (e instanceof DataPlaneError && classifyAwsError(e) === 'AccessDenied') {
        const observed = { base, indexName: spec.indexName, denied: true };
        return {
          state: 'pending',
          observed,
          reason: 'AccessPolicyPropagating',
          message: `the data plane refused to describe index ${spec.indexName} (403): waiting for the data access policy to take effect (about a minute)`,
          retryAfterMs: ACCESS_PROPAGATION_MS,
        };
      }
      throw e;
    }
    if (res.status === 404) return { state: 'absent' };
    const body = res.body as Record<string, { mappings?: { properties?: Record<string, VectorMapping> } }> | undefined;
    const field = body?.[spec.indexName]?.mappings?.properties?.[INDEX_FIELDS.vector];
    const observed: VectorIndexObserved = {
      base,
      indexName: spec.indexName,
      dimension: field?.dimension,
      engine: field?.method?.engine,
      spaceType: field?.method?.space_type,
      m: field?.method?.parameters?.m,
      efConstruction: field?.method?.parameters?.ef_construction,
    };
    const differs = mappingDrift(spec, observed);
    if (differs.length > 0) {
      // A mapping cannot change in place; the vectors in it would be unusable anyway.
      return {
        state: 'failed',
        observed,
        reason: 'IndexMismatch',
        message: `index ${spec.indexName} has vector field ${INDEX_FIELDS.vector} with ${differs.join(', ')}; a mapping cannot change in place: delete the index to let the operator recreate it (its vectors come back with the next sync)`,
      };
    }
    return { state: 'ready', observed };
  }

  compare(): string[] {
    // Mapping parameters are fixed at creation; observe reports a mismatch as a failure.
    return [];
  }

  async create(ctx: DriverContext, spec: VectorIndexSpec): Promise<ExternalIds> {
    const base = this.data.baseUrl(spec.collectionId, spec.collectionEndpoint);
    try {
      await this.data.request(base, 'PUT', this.path(spec.indexName), vectorIndexBody(spec), ctx.signal);
    } catch (e) {
      // Made by an earlier pass whose observe had not seen it yet.
      if (e instanceof DataPlaneError && e.name === 'resource_already_exists_exception') return {};
      throw e;
    }
    return {};
  }

  async update(): Promise<void> {
    // Nothing is updatable in place (see compare).
  }

  async delete(ctx: DriverContext, o: VectorIndexObserved): Promise<void> {
    await this.data.request(o.base, 'DELETE', this.path(o.indexName), undefined, ctx.signal);
  }

  outputs(o: VectorIndexObserved): Record<string, string> {
    return { indexName: o.indexName };
  }
}

/** How the vector field differs from what the knowledge base needs: each as "found X, wanted Y". */
function mappingDrift(spec: VectorIndexSpec, o: VectorIndexObserved): string[] {
  const out: string[] = [];
  const check = (what: string, found: string | number | undefined, wanted: string | number): void => {
    if (found !== wanted) out.push(`${what} ${found ?? 'none'} (wanted ${wanted})`);
  };
  check('dimension', o.dimension, spec.dimension);
  check('engine', o.engine, 'faiss');
  check('space type', o.spaceType, spec.spaceType);
  // OpenSearch echoes the HNSW parameters it was given; an index made without them reads as none.
  check('m', o.m, spec.m);
  check('ef_construction', o.efConstruction, spec.efConstruction);
  return out;
}
