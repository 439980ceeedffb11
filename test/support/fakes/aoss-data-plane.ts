/**
 * A fake of the OpenSearch Serverless data plane for vector indexes, served at
 * `/<collectionId>/<index>` (the operator's `aws.openSearchDataPlaneUrl` template). Requests must be
 * SigV4-signed for service `aoss` with a correct `x-amz-content-sha256`; the collection must be
 * ACTIVE in the control-plane emulator, covered by a network policy, and the caller must hold the
 * permission in a data access policy there.
 */
import { randomUUID } from 'node:crypto';
import { type AossControlPlane, type AossPermission } from './aoss-access.js';
import { type Fault, type FakeRequest, type FakeResponse, type Faults, startFakeServer } from './http.js';
import { buildIndex, checkIndexName, describeIndex, type FakeIndex, OpenSearchError, search } from './opensearch-index.js';
import { type FakeCredential, sha256Hex, verifySigV4 } from './sigv4.js';

/** The indexes of every collection, shared with the bedrock-agent fake and readable by tests. */
export class IndexStore {
  private readonly byCollection = new Map<string, Map<string, FakeIndex>>();

  /** The indexes of one collection (created on first use). */
  of(collectionId: string): Map<string, FakeIndex> {
    let m = this.byCollection.get(collectionId);
    if (!m) this.byCollection.set(collectionId, (m = new Map<string, FakeIndex>()));
    return m;
  }

  /** One index, or undefined. */
  get(collectionId: string, index: string): FakeIndex | undefined {
    return this.byCollection.get(collectionId)?.get(index);
  }

  /** Forgets everything. */
  clear(): void {
    this.byCollection.clear();
  }
}

/** A running data-plane fake. */
export interface AossDataPlaneFake {
  endpoint: string;
  /** Value for the operator's `aws.openSearchDataPlaneUrl`: `<endpoint>/{id}`. */
  urlTemplate: string;
  store: IndexStore;
  stop(): Promise<void>;
}

/** Options of the data-plane fake. */
export interface AossDataPlaneOptions {
  control: AossControlPlane;
  faults: Faults;
  credentials: Record<string, FakeCredential>;
  store?: IndexStore;
  /** Refuse collections no network policy covers (default true), as AOSS does. */
  requireNetworkPolicy?: boolean;
}

interface Route {
  operation: string;
  permission: AossPermission;
  action: string;
  collectionId: string;
  index: string;
  rest: string[];
}

function route(req: FakeRequest): Route | undefined {
  const [collectionId = '', index = '', ...rest] = req.rawPath.split('/').filter(Boolean).map(decodeURIComponent);
  const m = req.method;
  const base = { collectionId, index, rest };
  if (!collectionId || !index) return undefined;
  if (rest.length === 0) {
    if (m === 'PUT') return { ...base, operation: 'CreateIndex', permission: 'aoss:CreateIndex', action: 'indices:admin/create' };
    if (m === 'GET' || m === 'HEAD')
      return { ...base, operation: 'DescribeIndex', permission: 'aoss:DescribeIndex', action: 'indices:admin/get' };
    if (m === 'DELETE') return { ...base, operation: 'DeleteIndex', permission: 'aoss:DeleteIndex', action: 'indices:admin/delete' };
  }
  if (rest[0] === '_mapping' && m === 'GET')
    return { ...base, operation: 'GetMapping', permission: 'aoss:DescribeIndex', action: 'indices:admin/mappings/get' };
  if (rest[0] === '_doc' && (m === 'POST' || m === 'PUT')) {
    return { ...base, operation: 'IndexDocument', permission: 'aoss:WriteDocument', action: 'indices:data/write/index' };
  }
  if (rest[0] === '_search' && (m === 'GET' || m === 'POST')) {
    return { ...base, operation: 'Search', permission: 'aoss:ReadDocument', action: 'indices:data/read/search' };
  }
  return undefined;
}

/** An error from the AOSS gateway (before OpenSearch sees the request). */
function gateway(status: number, reason: string, type: string, headers: Record<string, string> = {}): FakeResponse {
  return { status, headers, body: { status, 'request-id': randomUUID(), error: { reason, type } } };
}

function osError(e: OpenSearchError): FakeResponse {
  return { status: e.status, body: e.body() };
}

function faultResponse(f: Fault): FakeResponse {
  const status = f.status ?? 500;
  return gateway(status, f.message ?? `${status} injected`, f.name ?? (status === 429 ? 'TooManyRequests' : 'InternalServerError'));
}

/** Starts the data-plane fake on a free loopback port. */
export async function startAossDataPlane(o: AossDataPlaneOptions): Promise<AossDataPlaneFake> {
  const store = o.store ?? new IndexStore();
  const handle = async (req: FakeRequest): Promise<FakeResponse> => {
    const auth = await verifySigV4(req, 'aoss', o.credentials);
    if (!auth.ok) return gateway(403, '403 Forbidden', 'Forbidden');
    const sha = req.headers['x-amz-content-sha256'];
    if (!sha || sha !== sha256Hex(req.body))
      return gateway(403, '403 Forbidden', 'Forbidden', { 'x-aoss-response-hint': 'X01:gw-helper-deny' });
    const r = route(req);
    const collection = r ? await o.control.collection(r.collectionId) : undefined;
    if (!r || !collection?.name || collection.status !== 'ACTIVE') return gateway(404, '404 Not Found', 'NotFound');
    if (o.requireNetworkPolicy !== false && (await o.control.networkStatements(collection.name)).length === 0) {
      return gateway(403, '403 Forbidden', 'Forbidden');
    }
    if (!(await o.control.allowed(auth.principalArn, r.permission, collection.name, r.index))) {
      const reason = `no permissions for [${r.action}] and User [name=${auth.principalArn}, backend_roles=[${auth.principalArn}], requestedTenant=null]`;
      return osError(new OpenSearchError(403, 'security_exception', reason));
    }
    try {
      return serve(req, r, store.of(r.collectionId), collection.type === 'VECTORSEARCH');
    } catch (e) {
      if (e instanceof OpenSearchError) return osError(e);
      throw e;
    }
  };
  const server = await startFakeServer(handle, {
    faults: o.faults,
    operationOf: (req) => route(req)?.operation ?? 'Unknown',
    faultResponse,
  });
  return { endpoint: server.endpoint, urlTemplate: `${server.endpoint}/{id}`, store, stop: () => server.stop() };
}

function serve(req: FakeRequest, r: Route, indexes: Map<string, FakeIndex>, vector: boolean): FakeResponse {
  const notFound = (): never => {
    throw new OpenSearchError(404, 'index_not_found_exception', `no such index [${r.index}]`, r.index);
  };
  const body = (): Record<string, unknown> => {
    if (req.body.length === 0) return {};
    try {
      return JSON.parse(req.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new OpenSearchError(400, 'parse_exception', 'request body is required to be valid JSON');
    }
  };
  const ix = indexes.get(r.index);
  switch (r.operation) {
    case 'CreateIndex': {
      checkIndexName(r.index);
      if (ix) throw new OpenSearchError(400, 'resource_already_exists_exception', `index [${r.index}/${ix.uuid}] already exists`, r.index);
      indexes.set(r.index, buildIndex(r.index, body(), vector));
      return { status: 200, body: { acknowledged: true, shards_acknowledged: true, index: r.index } };
    }
    case 'DescribeIndex':
      return ix ? { status: 200, body: describeIndex(ix) } : notFound();
    case 'GetMapping':
      return ix ? { status: 200, body: { [ix.name]: { mappings: ix.mappings } } } : notFound();
    case 'DeleteIndex':
      if (!ix) notFound();
      indexes.delete(r.index);
      return { status: 200, body: { acknowledged: true } };
    case 'IndexDocument': {
      if (!ix) return notFound();
      if (r.rest[1] && vector)
        throw new OpenSearchError(400, 'illegal_argument_exception', 'Document ID is not supported in create/index operation request');
      const id = r.rest[1] ?? randomUUID();
      ix.docs.set(id, body());
      return { status: 201, body: { _index: r.index, _id: id, _version: 1, result: 'created' } };
    }
    case 'Search':
      return ix ? { status: 200, body: search(ix, body()) } : notFound();
    default:
      return notFound();
  }
}
