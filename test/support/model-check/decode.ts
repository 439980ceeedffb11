/**
 * Decodes a request's input and a response's output into values keyed by member names, by the
 * operation's protocol and each member's binding (`location`: uri, querystring, header, headers
 * prefix, statusCode; otherwise the body or the `payload` member).
 */
import { cbor } from '@smithy/core/cbor';
import { bodyShapeOf, type MemberRef, type ServiceModel, type Shape } from './botocore-models.js';
import { queryParams, type Found, type WireRequest } from './find-operation.js';
import { fromText, memberOf, type ShapeViolation } from './shape-check.js';
import { parseXml, type XmlElement } from './xml.js';

/** A response as the checks see it. */
export interface WireResponse {
  status: number;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: Buffer;
}

/** A decoded input or output, with what the decoding itself found wrong. */
export interface Decoded {
  value: Record<string, unknown>;
  violations: ShapeViolation[];
}

const wire = (name: string, ref: MemberRef): string => ref.locationName ?? name;

/** Reads an XML element as shape `ref.shape` (lists, maps, attributes, flattened members). */
export function fromXml(model: ServiceModel, shapeName: string, el: XmlElement): unknown {
  const shape = model.shapes[shapeName];
  if (!shape) return el.text;
  if (shape.type === 'structure' || shape.type === 'union') {
    const out: Record<string, unknown> = {};
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      if (ref.xmlAttribute && ref.locationName) {
        const a = el.attributes[ref.locationName] ?? el.attributes[ref.locationName.replace(/^[^:]*:/, '')];
        if (a !== undefined) out[name] = fromText(model, ref, a);
      }
    }
    for (const child of el.children) {
      const name = xmlMemberOf(model, shape, child.name);
      const ref = name ? shape.members?.[name] : undefined;
      if (!name || !ref) {
        out[child.name] = child.children.length ? '(element)' : child.text;
        continue;
      }
      const target = model.shapes[ref.shape];
      if ((target?.type === 'list' && (target.flattened || ref.flattened)) || (target?.type === 'map' && target.flattened)) {
        const item = target.type === 'list' ? fromXml(model, target.member?.shape ?? '', child) : fromXml(model, ref.shape, child);
        const prev = out[name];
        if (target.type === 'list') out[name] = [...(Array.isArray(prev) ? (prev as unknown[]) : []), item];
        else out[name] = { ...(prev as Record<string, unknown> | undefined), ...(item as Record<string, unknown>) };
      } else out[name] = fromXml(model, ref.shape, child);
    }
    return out;
  }
  if (shape.type === 'list') return el.children.map((c) => fromXml(model, shape.member?.shape ?? '', c));
  if (shape.type === 'map') {
    const out: Record<string, unknown> = {};
    const entries = shape.flattened ? [el] : el.children;
    for (const e of entries) {
      const k = e.children.find((c) => c.name === (shape.key?.locationName ?? 'key'));
      const v = e.children.find((c) => c.name === (shape.value?.locationName ?? 'value'));
      if (k) out[k.text] = v ? fromXml(model, shape.value?.shape ?? '', v) : undefined;
    }
    return out;
  }
  return el.children.length ? '(element)' : fromText(model, { shape: shapeName }, el.text);
}

const xmlNames = new WeakMap<Shape, Map<string, string>>();

/** Member of a structure an XML element name stands for (flattened lists go by their member's name). */
function xmlMemberOf(model: ServiceModel, shape: Shape, element: string): string | undefined {
  let names = xmlNames.get(shape);
  if (!names) {
    names = new Map();
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      if (ref.location || ref.xmlAttribute) continue;
      const target = model.shapes[ref.shape];
      const flat = target?.type === 'list' && (target.flattened || ref.flattened);
      names.set(ref.locationName ?? (flat ? (target.member?.locationName ?? name) : name), name);
    }
    xmlNames.set(shape, names);
  }
  return names.get(element);
}

/** Reads query-protocol parameters (`Tags.member.1.Key=...`) as shape `shapeName` under `prefix`. */
function fromQuery(model: ServiceModel, shapeName: string, prefix: string, params: Map<string, string>, used: Set<string>): unknown {
  const shape = model.shapes[shapeName];
  const has = (p: string): boolean => [...params.keys()].some((k) => k === p || k.startsWith(`${p}.`));
  if (!shape) return undefined;
  if (shape.type === 'structure' || shape.type === 'union') {
    const out: Record<string, unknown> = {};
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const key = prefix ? `${prefix}.${wire(name, ref)}` : wire(name, ref);
      if (has(key)) out[name] = fromQuery(model, ref.shape, key, params, used);
    }
    return out;
  }
  if (shape.type === 'list') {
    if (params.get(prefix) === '') {
      used.add(prefix);
      return [];
    }
    const base = shape.flattened ? prefix : `${prefix}.${shape.member?.locationName ?? 'member'}`;
    const out: unknown[] = [];
    for (let i = 1; has(`${base}.${i}`); i++) out.push(fromQuery(model, shape.member?.shape ?? '', `${base}.${i}`, params, used));
    return out;
  }
  if (shape.type === 'map') {
    const base = shape.flattened ? prefix : `${prefix}.entry`;
    const out: Record<string, unknown> = {};
    for (let i = 1; has(`${base}.${i}`); i++) {
      const k = `${base}.${i}.${shape.key?.locationName ?? 'key'}`;
      used.add(k);
      out[params.get(k) ?? ''] = fromQuery(
        model,
        shape.value?.shape ?? '',
        `${base}.${i}.${shape.value?.locationName ?? 'value'}`,
        params,
        used,
      );
    }
    return out;
  }
  used.add(prefix);
  return fromText(model, { shape: shapeName }, params.get(prefix) ?? '');
}

function parseJson(body: Buffer, where: string, violations: ShapeViolation[]): unknown {
  if (!body.length) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    violations.push({ member: where, constraint: 'well-formed JSON', value: body.toString('utf8').slice(0, 200) });
    return {};
  }
}

function parseBodyXml(body: Buffer, where: string, violations: ShapeViolation[]): XmlElement | undefined {
  if (!body.length) return undefined;
  try {
    return parseXml(body.toString('utf8'));
  } catch (e) {
    violations.push({ member: where, constraint: `well-formed XML (${(e as Error).message})`, value: body.toString('utf8').slice(0, 200) });
    return undefined;
  }
}

function parseCbor(body: Buffer, where: string, violations: ShapeViolation[]): unknown {
  if (!body.length) return {};
  try {
    return cbor.deserialize(new Uint8Array(body)) as unknown;
  } catch {
    violations.push({ member: where, constraint: 'well-formed CBOR', value: body.length });
    return {};
  }
}

/** A header bound to a member, converted to its type (lists are comma-separated; `jsonvalue` is base64 JSON). */
function fromHeader(model: ServiceModel, ref: MemberRef, text: string): unknown {
  const shape = model.shapes[ref.shape];
  if (shape?.type === 'list') return text.split(',').map((t) => fromText(model, shape.member, t.trim()));
  if (shape?.type === 'timestamp')
    return Number.isNaN(Date.parse(text)) && !/^\d+(\.\d+)?$/.test(text) ? text : new Date(Number(text) || Date.parse(text));
  if (ref.jsonvalue || (shape as { jsonvalue?: boolean } | undefined)?.jsonvalue) return text;
  return fromText(model, ref, text);
}

/** Body members of a REST request or response read from JSON or XML into `out`. */
function restBody(
  f: Found,
  shapeName: string,
  body: Buffer,
  out: Record<string, unknown>,
  violations: ShapeViolation[],
  where: string,
): void {
  const { model } = f;
  const shape = model.shapes[shapeName];
  if (!shape) return;
  const payload = shape.payload ? shape.members?.[shape.payload] : undefined;
  const xml = f.protocol === 'rest-xml';
  if (payload && shape.payload) {
    const target = model.shapes[payload.shape];
    if (target?.type !== 'structure' && target?.type !== 'union') {
      if (body.length) out[shape.payload] = target?.type === 'string' ? body.toString('utf8') : new Uint8Array(body);
      return;
    }
    if (!body.length) return;
    if (xml) {
      const root = parseBodyXml(body, where, violations);
      if (root) out[shape.payload] = fromXml(model, payload.shape, root);
    } else out[shape.payload] = parseJson(body, where, violations);
    return;
  }
  if (xml) {
    const root = parseBodyXml(body, where, violations);
    if (!root) return;
    const b = bodyShapeOf(model, shapeName);
    Object.assign(out, fromXml(b.model, b.shape, root));
    return;
  }
  const json = parseJson(body, where, violations);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    violations.push({ member: where, constraint: 'type structure', value: json });
    return;
  }
  for (const [key, v] of Object.entries(json)) {
    const name = memberOf(shape, key);
    const ref = name ? shape.members?.[name] : undefined;
    if (!name || !ref || ref.location) violations.push({ member: key, constraint: 'unknown member', value: v });
    else out[name] = v;
  }
}

/** The input of a request, keyed by member names. */
export function decodeInput(f: Found, req: WireRequest): Decoded {
  const { model, operation } = f;
  const violations: ShapeViolation[] = [];
  const shapeName = operation.input?.shape;
  const shape = shapeName ? model.shapes[shapeName] : undefined;
  if (!shapeName || !shape) return { value: {}, violations };
  if (f.protocol === 'json') {
    const v = parseJson(req.body, '(body)', violations);
    return { value: (v ?? {}) as Record<string, unknown>, violations };
  }
  if (f.protocol === 'smithy-rpc-v2-cbor')
    return { value: (parseCbor(req.body, '(body)', violations) ?? {}) as Record<string, unknown>, violations };
  if (f.protocol === 'query') {
    const params = new Map<string, string>();
    for (const [k, v] of queryParams(req)) if (k !== 'Action' && k !== 'Version') params.set(k, v);
    const used = new Set<string>();
    const value = fromQuery(model, shapeName, '', params, used) as Record<string, unknown>;
    for (const k of params.keys()) if (!used.has(k)) violations.push({ member: k, constraint: 'unknown member', value: params.get(k) });
    return { value, violations };
  }
  const value: Record<string, unknown> = {};
  const boundQuery = new Set(f.literalKeys);
  boundQuery.add('x-id');
  let queryMap: string | undefined;
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const target = model.shapes[ref.shape];
    const key = wire(name, ref);
    if (ref.location === 'uri') {
      if (f.labels[key] !== undefined) value[name] = fromText(model, ref, f.labels[key]);
    } else if (ref.location === 'querystring') {
      if (target?.type === 'map') {
        queryMap = name;
        continue;
      }
      boundQuery.add(key);
      const all = req.query.getAll(key);
      if (!all.length) continue;
      value[name] = target?.type === 'list' ? all.map((t) => fromText(model, target.member, t)) : fromText(model, ref, all[0] ?? '');
    } else if (ref.location === 'header') {
      const h = req.headers[key.toLowerCase()];
      if (h !== undefined) value[name] = fromHeader(model, ref, h);
    } else if (ref.location === 'headers') {
      const prefix = key.toLowerCase();
      const map = Object.fromEntries(
        Object.entries(req.headers)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
      if (Object.keys(map).length) value[name] = map;
    }
  }
  const rest = [...req.query.keys()].filter((k) => !boundQuery.has(k));
  if (queryMap && rest.length) value[queryMap] = Object.fromEntries(rest.map((k) => [k, req.query.get(k) ?? '']));
  else for (const k of new Set(rest)) violations.push({ member: k, constraint: 'unknown member', value: req.query.get(k) });
  restBody(f, shapeName, req.body, value, violations, '(body)');
  return { value, violations };
}

/** The output of a successful response, keyed by member names. */
export function decodeOutput(f: Found, res: WireResponse, head: boolean): Decoded {
  const { model, operation } = f;
  const violations: ShapeViolation[] = [];
  const shapeName = operation.output?.shape;
  const shape = shapeName ? model.shapes[shapeName] : undefined;
  if (!shapeName || !shape) return { value: {}, violations };
  if (f.protocol === 'json') return { value: parseJson(res.body, '(body)', violations) as Record<string, unknown>, violations };
  if (f.protocol === 'smithy-rpc-v2-cbor')
    return { value: parseCbor(res.body, '(body)', violations) as Record<string, unknown>, violations };
  if (f.protocol === 'query') {
    const root = parseBodyXml(res.body, '(body)', violations);
    const wrapper = root?.children.find((c) => c.name === operation.output?.resultWrapper);
    if (!wrapper) {
      if (root) violations.push({ member: '(body)', constraint: `element ${operation.output?.resultWrapper ?? ''}`, value: root.name });
      return { value: {}, violations };
    }
    return { value: fromXml(model, shapeName, wrapper) as Record<string, unknown>, violations };
  }
  const value: Record<string, unknown> = {};
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const key = wire(name, ref);
    if (ref.location === 'header') {
      const h = res.headers[key.toLowerCase()];
      if (h !== undefined) value[name] = fromHeader(model, ref, h);
    } else if (ref.location === 'headers') {
      const prefix = key.toLowerCase();
      const map = Object.fromEntries(
        Object.entries(res.headers)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
      if (Object.keys(map).length) value[name] = map;
    } else if (ref.location === 'statusCode') value[name] = res.status;
  }
  const payloadShape = shape.payload ? model.shapes[shape.members?.[shape.payload]?.shape ?? ''] : undefined;
  // A streamed payload or an event stream (ConverseStream) is not a document to check.
  const streaming = payloadShape?.streaming || payloadShape?.eventstream;
  if (!head && !streaming) restBody(f, shapeName, res.body, value, violations, '(body)');
  return { value, violations };
}

/** The error code of an error response, by protocol, or undefined when it carries none (a HEAD). */
export function errorCode(protocol: string, res: WireResponse): string | undefined {
  const clean = (c: string): string => c.replace(/^.*#/, '').replace(/:.*$/, '').trim();
  const header = res.headers['x-amzn-errortype'];
  if (protocol === 'json' || protocol === 'rest-json') {
    if (header) return clean(header);
    try {
      const b = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
      const c = b.__type ?? b.code ?? b.Code;
      return typeof c === 'string' ? clean(c) : undefined;
    } catch {
      return undefined;
    }
  }
  if (protocol === 'smithy-rpc-v2-cbor') {
    try {
      const b = cbor.deserialize(new Uint8Array(res.body)) as Record<string, unknown>;
      return typeof b.__type === 'string' ? clean(b.__type) : undefined;
    } catch {
      return undefined;
    }
  }
  if (!res.body.length) return undefined;
  try {
    const root = parseXml(res.body.toString('utf8'));
    const error = root.name === 'Error' ? root : root.children.find((c) => c.name === 'Error');
    return error?.children.find((c) => c.name === 'Code')?.text.trim();
  } catch {
    return undefined;
  }
}
