/**
 * Checks a decoded value against a shape of a botocore model: required members, string lengths and
 * patterns, enums, numeric ranges, list and map sizes, unknown members and types. Values read from
 * text (headers, query strings, XML) arrive already converted to their shape's type by the
 * decoders, or as {@link Unparsable} when they could not be.
 */
import type { MemberRef, ServiceModel, Shape } from './botocore-models.js';
import { compilePattern } from './java-regex.js';

/** A text value that does not parse as its shape's type (`abc` for an integer header). */
export class Unparsable {
  constructor(readonly text: string) {}
}

/** One broken constraint, before the service, operation and direction are added. */
export interface ShapeViolation {
  /** Member path from the input or output structure: `Tags[0].Key`, `knowledgeBaseConfiguration.type`. */
  member: string;
  /** What was broken: `required`, `length >= 33`, `pattern ...`, `enum [...]`, `type integer`, ... */
  constraint: string;
  value: unknown;
}

/**
 * Patterns in AWS's models that are wrong as written, with what they evidently mean. Each is
 * listed in docs/testing.md.
 */
export const PATTERN_ERRATA: Readonly<Record<string, { corrected: string; why: string }>> = {
  // bedrock-agent TaggableResourcesArn writes `/d{12}` for the account id, which no real ARN matches.
  '.*(^arn:aws:bedrock:[a-zA-Z0-9-]+:/d{12}:(agent|agent-alias|knowledge-base|flow|prompt)/[A-Z0-9]{10}(?:/[A-Z0-9]{10})?$|^arn:aws:bedrock:[a-zA-Z0-9-]+:/d{12}:flow/([A-Z0-9]{10})/alias/([A-Z0-9]{10})$|^arn:aws:bedrock:[a-zA-Z0-9-]+:/d{12}:prompt/([A-Z0-9]{10})?(?::/d+)?$|^arn:aws(-cn|-us-gov|-eusc|-iso(-[b-f])?)?:bedrock:[a-zA-Z0-9-]+:[0-9]{12}:retrieval-instruction/[a-z0-9]{10}$).*':
    {
      corrected:
        '.*(^arn:aws:bedrock:[a-zA-Z0-9-]+:\\d{12}:(agent|agent-alias|knowledge-base|flow|prompt)/[A-Z0-9]{10}(?:/[A-Z0-9]{10})?$|^arn:aws:bedrock:[a-zA-Z0-9-]+:\\d{12}:flow/([A-Z0-9]{10})/alias/([A-Z0-9]{10})$|^arn:aws:bedrock:[a-zA-Z0-9-]+:\\d{12}:prompt/([A-Z0-9]{10})?(?::\\d+)?$|^arn:aws(-cn|-us-gov|-eusc|-iso(-[b-f])?)?:bedrock:[a-zA-Z0-9-]+:[0-9]{12}:retrieval-instruction/[a-z0-9]{10}$).*',
      why: '`/d{12}` for `\\d{12}`',
    },
};

/**
 * Enum values AWS sends that its model does not list yet (the SDKs take any string), by
 * `service:shape`. Each is listed in docs/testing.md.
 */
export const ENUM_ERRATA: Readonly<Record<string, readonly string[]>> = {
  // GetFoundationModel answers INFERENCE_PROFILE for models served only through inference
  // profiles (Bedrock's user guide, "Supported Regions and models for inference profiles").
  'bedrock:InferenceType': ['INFERENCE_PROFILE'],
};

/** What a check collects besides violations: patterns it could not compile. */
export interface CheckContext {
  model: ServiceModel;
  violations: ShapeViolation[];
  /** Patterns left unchecked because they have no faithful JavaScript translation. */
  unchecked: Set<string>;
}

const wireNames = new WeakMap<Shape, Map<string, string>>();

/** Member name of a structure key, which may be the member's name or its wire (location) name. */
export function memberOf(shape: Shape, key: string): string | undefined {
  let names = wireNames.get(shape);
  if (!names) {
    names = new Map();
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      if (ref.locationName) names.set(ref.locationName, name);
    }
    for (const name of Object.keys(shape.members ?? {})) names.set(name, name);
    wireNames.set(shape, names);
  }
  return names.get(key);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  !(v instanceof Uint8Array) &&
  !(v instanceof Date) &&
  !(v instanceof Unparsable);

function typeName(v: unknown): string {
  if (v instanceof Unparsable) return `text ${JSON.stringify(v.text)}`;
  if (Array.isArray(v)) return 'list';
  if (v === null) return 'null';
  return typeof v;
}

/** Checks `value` against shape `shapeName`; `path` names it in violations. */
export function checkShape(ctx: CheckContext, shapeName: string, value: unknown, path: string): void {
  const shape = ctx.model.shapes[shapeName];
  if (!shape) return;
  const fail = (constraint: string, v: unknown = value): void =>
    void ctx.violations.push({ member: path || '(root)', constraint, value: v });
  if (value instanceof Unparsable) return fail(`type ${shape.type}`, value.text);
  if (shape.document) return;
  switch (shape.type) {
    case 'structure':
    case 'union': {
      if (!isObject(value)) return fail(`type structure`, typeName(value));
      const present = new Set<string>();
      for (const [key, v] of Object.entries(value)) {
        const name = memberOf(shape, key);
        const ref = name ? shape.members?.[name] : undefined;
        if (!name || !ref) {
          ctx.violations.push({ member: path ? `${path}.${key}` : key, constraint: 'unknown member', value: v });
          continue;
        }
        if (v === undefined || v === null) continue;
        present.add(name);
        checkShape(ctx, ref.shape, v, path ? `${path}.${name}` : name);
      }
      for (const r of shape.required ?? [])
        if (!present.has(r)) ctx.violations.push({ member: path ? `${path}.${r}` : r, constraint: 'required', value: undefined });
      if ((shape.union || shape.type === 'union') && present.size !== 1) fail('union: exactly one member', [...present]);
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) return fail('type list', typeName(value));
      size(shape, value.length, fail, 'items');
      value.forEach((v, i) => checkShape(ctx, shape.member?.shape ?? '', v, `${path}[${i}]`));
      return;
    }
    case 'map': {
      if (!isObject(value)) return fail('type map', typeName(value));
      const entries = Object.entries(value);
      size(shape, entries.length, fail, 'entries');
      for (const [k, v] of entries) {
        checkShape(ctx, shape.key?.shape ?? '', k, `${path}{key}`);
        checkShape(ctx, shape.value?.shape ?? '', v, `${path}.${k}`);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') return fail('type string', typeName(value));
      if (shape.min !== undefined && value.length < shape.min) fail(`length >= ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max) fail(`length <= ${shape.max}`);
      if (shape.enum && !shape.enum.includes(value) && !ENUM_ERRATA[`${ctx.model.service}:${shapeName}`]?.includes(value))
        fail(`enum [${shape.enum.join(', ')}]`);
      if (shape.pattern) {
        const p = compilePattern(PATTERN_ERRATA[shape.pattern]?.corrected ?? shape.pattern);
        if ('re' in p) {
          if (!p.re.test(value)) fail(`pattern ${shape.pattern}`);
        } else ctx.unchecked.add(`${shape.pattern} (${p.unchecked})`);
      }
      return;
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) return fail(`type ${shape.type}`, value);
      return range(shape, value, fail);
    }
    case 'float':
    case 'double': {
      if (typeof value !== 'number') return fail(`type ${shape.type}`, value);
      return range(shape, value, fail);
    }
    case 'boolean':
      if (typeof value !== 'boolean') fail('type boolean', value);
      return;
    case 'timestamp':
      if (value instanceof Date || typeof value === 'number') return;
      // CBOR (smithy-rpc-v2-cbor) sends timestamps as tag 1 around epoch seconds.
      if (isObject(value) && value.tag === 1 && typeof value.value === 'number') return;
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) fail('type timestamp', value);
      return;
    case 'blob':
      if (typeof value !== 'string' && !(value instanceof Uint8Array)) fail('type blob', typeName(value));
      return;
  }
}

function size(shape: Shape, n: number, fail: (c: string, v?: unknown) => void, what: string): void {
  if (shape.min !== undefined && n < shape.min) fail(`${what} >= ${shape.min}`, n);
  if (shape.max !== undefined && n > shape.max) fail(`${what} <= ${shape.max}`, n);
}

function range(shape: Shape, n: number, fail: (c: string, v?: unknown) => void): void {
  if (shape.min !== undefined && n < shape.min) fail(`value >= ${shape.min}`, n);
  if (shape.max !== undefined && n > shape.max) fail(`value <= ${shape.max}`, n);
}

/** Converts text (a header, query parameter, URI label or XML text) to the type of `ref`'s shape. */
export function fromText(model: ServiceModel, ref: MemberRef | undefined, text: string): unknown {
  const shape = ref ? model.shapes[ref.shape] : undefined;
  switch (shape?.type) {
    case 'integer':
    case 'long':
      return /^-?\d+$/.test(text.trim()) ? Number(text) : new Unparsable(text);
    case 'float':
    case 'double': {
      const t = text.trim();
      if (t === 'NaN' || t === 'Infinity' || t === '-Infinity') return Number(t);
      return t !== '' && !Number.isNaN(Number(t)) ? Number(t) : new Unparsable(text);
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : new Unparsable(text);
    case 'timestamp':
      return /^\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    default:
      return text;
  }
}
