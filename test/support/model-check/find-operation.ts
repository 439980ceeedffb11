/**
 * Finds the operation an HTTP request calls, by the model's protocol: `json` by the X-Amz-Target
 * header, `query` by the Action parameter, `smithy-rpc-v2-cbor` by its `/service/S/operation/O`
 * path, `rest-json` and `rest-xml` by method and `requestUri` template (labels, greedy `{Key+}`
 * labels, and query literals such as `?tagging` or `?list-type=2`).
 */
import { loadModel, type Operation, SERVICES_OF_SIGNING_NAME, type ServiceModel } from './botocore-models.js';

/** A request as the checks see it. */
export interface WireRequest {
  method: string;
  /** The path as sent (percent-encoded), without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: Buffer;
}

/** The operation a request calls, with its URI labels (REST protocols). */
export interface Found {
  model: ServiceModel;
  operation: Operation;
  protocol: string;
  labels: Record<string, string>;
  /** Query keys the requestUri fixes (`tagging`, `list-type`): not members. */
  literalKeys: string[];
}

interface Route {
  operation: Operation;
  re: RegExp;
  labels: string[];
  literals: [string, string | undefined][];
  /** Required members bound to headers and query parameters: their absence argues for another operation. */
  required: [string, string][];
  score: number;
}

const routes = new Map<string, Route[]>();

function restRoutes(model: ServiceModel): Route[] {
  const hit = routes.get(model.service);
  if (hit) return hit;
  const out: Route[] = [];
  for (const op of Object.values(model.operations)) {
    const [pathT = '/', queryT = ''] = op.http.requestUri.split('?');
    const labels: string[] = [];
    let literalChars = 0;
    const source = pathT
      .replace(/\/+$/, '')
      .split(/(\{[^}]+\})/)
      .map((part) => {
        const label = /^\{([^}+]+)(\+?)\}$/.exec(part);
        if (!label) {
          literalChars += part.length;
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        }
        labels.push(label[1] ?? '');
        return label[2] ? '(.+)' : '([^/]+)';
      })
      .join('');
    const literals = [...new URLSearchParams(queryT)].map(([k, v]): [string, string | undefined] => [
      k,
      queryT.includes(`${k}=`) ? v : undefined,
    ]);
    const input = op.input ? model.shapes[op.input.shape] : undefined;
    const bound = (input?.required ?? [])
      .map((r) => input?.members?.[r])
      .filter((m) => m?.location === 'header' || m?.location === 'querystring')
      .map((m): [string, string] => [m?.location ?? '', (m?.locationName ?? '').toLowerCase()]);
    const score = literals.filter(([k]) => k !== 'x-id').length * 1000 + literalChars;
    out.push({ operation: op, re: new RegExp(`^${source}/?$`), labels, literals, required: bound, score });
  }
  routes.set(model.service, out);
  return out;
}

/** The protocols a model speaks, newest first as botocore lists them. */
function protocolsOf(model: ServiceModel): string[] {
  return model.metadata.protocols ?? [model.metadata.protocol];
}

/** Parameters of a query-protocol request: the URL's and the form body's. */
export function queryParams(req: WireRequest): URLSearchParams {
  const params = new URLSearchParams(req.query);
  const type = req.headers['content-type'] ?? '';
  if (req.body.length && (type.includes('x-www-form-urlencoded') || !type))
    for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) params.append(k, v);
  return params;
}

function findIn(model: ServiceModel, req: WireRequest): (Found & { score: number }) | undefined {
  const protocols = protocolsOf(model);
  const target = req.headers['x-amz-target'];
  if (target && protocols.includes('json')) {
    const dot = target.lastIndexOf('.');
    const [prefix, name] = [target.slice(0, dot), target.slice(dot + 1)];
    const operation = model.operations[name];
    if (operation && (!model.metadata.targetPrefix || prefix === model.metadata.targetPrefix))
      return { model, operation, protocol: 'json', labels: {}, literalKeys: [], score: 1e9 };
    return undefined;
  }
  const rpc = /^\/service\/([^/]+)\/operation\/([^/]+)$/.exec(req.path);
  if (rpc && protocols.includes('smithy-rpc-v2-cbor')) {
    const operation = model.operations[rpc[2] ?? ''];
    return operation ? { model, operation, protocol: 'smithy-rpc-v2-cbor', labels: {}, literalKeys: [], score: 1e9 } : undefined;
  }
  if (protocols.includes('query')) {
    const action = queryParams(req).get('Action');
    const operation = action ? model.operations[action] : undefined;
    if (operation) return { model, operation, protocol: 'query', labels: {}, literalKeys: [], score: 1e9 };
    if (!protocols.some((p) => p.startsWith('rest-'))) return undefined;
  }
  const protocol = protocols.find((p) => p.startsWith('rest-'));
  if (!protocol) return undefined;
  const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : '';
  let best: (Found & { score: number }) | undefined;
  for (const r of restRoutes(model)) {
    if (r.operation.http.method !== req.method) continue;
    const m = r.re.exec(path);
    if (!m) continue;
    // The SDKs add `x-id=<Operation>` to some S3 paths; it names the operation but may be absent.
    const ok = r.literals.every(([k, v]) =>
      k === 'x-id' ? !req.query.has(k) || req.query.get(k) === v : v === undefined ? req.query.has(k) : req.query.get(k) === v,
    );
    if (!ok) continue;
    // Operations sharing a path (PutObject, CopyObject, UploadPart) differ in x-id and required headers or parameters.
    const missing = r.required.filter(([where, name]) =>
      where === 'header' ? req.headers[name] === undefined : !req.query.has(name),
    ).length;
    const score = r.score + (req.query.get('x-id') === r.operation.name ? 1000 : 0) - missing * 100_000;
    if (best && best.score >= score) continue;
    const labels: Record<string, string> = {};
    r.labels.forEach((l, i) => {
      const raw = m[i + 1] ?? '';
      try {
        labels[l] = decodeURIComponent(raw);
      } catch {
        labels[l] = raw;
      }
    });
    best = { model, operation: r.operation, protocol, labels, literalKeys: r.literals.map(([k]) => k), score };
  }
  return best;
}

/** Why a request names no operation: a service or API without a botocore model, or no match. */
export type NotFound = { unmodelled: string } | { unmatched: string };

/**
 * The operation `req` calls among the models of SigV4 signing name `signingName` (several for
 * Bedrock, whose APIs share it), or why there is none.
 */
export function findOperation(signingName: string | undefined, req: WireRequest): Found | NotFound {
  if (!signingName) return { unmodelled: 'unsigned request' };
  const services = SERVICES_OF_SIGNING_NAME[signingName] ?? [signingName];
  const models = services.map((s) => loadModel(s)).filter((m): m is ServiceModel => m !== undefined);
  if (!models.length) return { unmodelled: `no botocore model for ${signingName}` };
  // The OpenSearch Serverless data plane signs as `aoss` too but is OpenSearch's REST API, not a model's.
  if (models.every((m) => protocolsOf(m).every((p) => p === 'json')) && !req.headers['x-amz-target'])
    return { unmodelled: `${signingName} request without X-Amz-Target (a data plane)` };
  let best: (Found & { score: number }) | undefined;
  for (const m of models) {
    const f = findIn(m, req);
    if (f && (!best || f.score > best.score)) best = f;
  }
  if (!best) return { unmatched: `${req.method} ${req.path}${req.query.size ? `?${req.query.toString()}` : ''}` };
  const { score: _score, ...found } = best;
  return found;
}
