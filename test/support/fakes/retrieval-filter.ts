/**
 * Bedrock's retrieval filter (`RetrievalFilter` of bedrock-agent-runtime) as the fake knowledge
 * bases apply it: validated like the service validates it (a union with exactly one member,
 * `andAll`/`orAll` of at least two filters, keys of 1–100 characters, list operators with a list
 * value), and evaluated against a vector's metadata.
 */
import { AwsError } from './http.js';

/** One filter as sent on the wire. */
export type RetrievalFilter = Record<string, unknown>;

const ATTRIBUTE_OPERATORS = [
  'equals',
  'notEquals',
  'greaterThan',
  'greaterThanOrEquals',
  'lessThan',
  'lessThanOrEquals',
  'in',
  'notIn',
  'startsWith',
  'listContains',
  'stringContains',
] as const;
const LIST_OPERATORS = ['andAll', 'orAll'] as const;
const OPERATORS = new Set<string>([...ATTRIBUTE_OPERATORS, ...LIST_OPERATORS]);

function invalid(message: string): AwsError {
  return new AwsError(400, 'ValidationException', message);
}

/** The one operator of a filter and its operand; throws ValidationException on anything else. */
function only(f: unknown, path: string): [string, unknown] {
  if (!f || typeof f !== 'object' || Array.isArray(f)) throw invalid(`${path}: a filter must be an object`);
  const entries = Object.entries(f as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null);
  if (entries.length !== 1) throw invalid(`${path}: a filter must set exactly one operator, found ${entries.length}`);
  const [entry] = entries as [[string, unknown]];
  if (!OPERATORS.has(entry[0])) throw invalid(`${path}: unknown filter operator ${entry[0]}`);
  return entry;
}

/** Validates a filter like Bedrock does; throws a ValidationException naming the first problem. */
export function validateFilter(f: unknown, path = 'filter'): void {
  const [op, operand] = only(f, path);
  if (op === 'andAll' || op === 'orAll') {
    if (!Array.isArray(operand) || operand.length < 2) throw invalid(`${path}.${op}: needs a list of at least 2 filters`);
    operand.forEach((x, i) => validateFilter(x, `${path}.${op}[${i}]`));
    return;
  }
  const attr = operand as { key?: unknown; value?: unknown } | undefined;
  if (!attr || typeof attr !== 'object') throw invalid(`${path}.${op}: needs { key, value }`);
  if (typeof attr.key !== 'string' || attr.key.length < 1 || attr.key.length > 100)
    throw invalid(`${path}.${op}.key: must be a string of 1 to 100 characters`);
  if (attr.value === undefined) throw invalid(`${path}.${op}.value: required`);
  if ((op === 'in' || op === 'notIn') && !Array.isArray(attr.value)) throw invalid(`${path}.${op}.value: must be a list`);
  if ((op === 'startsWith' || op === 'stringContains') && typeof attr.value !== 'string')
    throw invalid(`${path}.${op}.value: must be a string`);
  if (op.startsWith('greater') || op.startsWith('less')) {
    if (typeof attr.value !== 'number') throw invalid(`${path}.${op}.value: must be a number`);
  }
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Whether a vector with `metadata` passes the filter (validate first). `notEquals` and `notIn`
 * also match a vector without the key, as Bedrock documents; comparisons need numbers on both sides.
 */
export function matchesFilter(f: RetrievalFilter, metadata: Record<string, unknown>): boolean {
  const [op, operand] = only(f, 'filter');
  if (op === 'andAll') return (operand as RetrievalFilter[]).every((x) => matchesFilter(x, metadata));
  if (op === 'orAll') return (operand as RetrievalFilter[]).some((x) => matchesFilter(x, metadata));
  const { key, value } = operand as { key: string; value: unknown };
  const has = Object.prototype.hasOwnProperty.call(metadata, key);
  const v = has ? metadata[key] : undefined;
  switch (op) {
    case 'equals':
      return has && same(v, value);
    case 'notEquals':
      return !has || !same(v, value);
    case 'in':
      return has && (value as unknown[]).some((x) => same(v, x));
    case 'notIn':
      return !has || !(value as unknown[]).some((x) => same(v, x));
    case 'greaterThan':
      return typeof v === 'number' && v > (value as number);
    case 'greaterThanOrEquals':
      return typeof v === 'number' && v >= (value as number);
    case 'lessThan':
      return typeof v === 'number' && v < (value as number);
    case 'lessThanOrEquals':
      return typeof v === 'number' && v <= (value as number);
    case 'startsWith':
      return typeof v === 'string' && v.startsWith(value as string);
    case 'stringContains':
      // A string attribute containing the substring, or a string list with a member containing it.
      return typeof v === 'string'
        ? v.includes(value as string)
        : Array.isArray(v) && v.some((x) => typeof x === 'string' && x.includes(value as string));
    case 'listContains':
      return Array.isArray(v) && v.some((x) => same(x, value));
    default:
      return false;
  }
}
