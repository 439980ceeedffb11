/**
 * AWS's front-door validation, from the model, for the fakes: a request that breaks its input
 * shape's constraints is refused with ValidationException (400) and AWS's wording ("1 validation
 * error detected: Value 'x' at 'name' failed to satisfy constraint: Member must ..."), before the
 * fake's own handler sees it. Unknown members are not refused (AWS ignores what the SDKs would
 * never send); the model check still reports them.
 */
import { bodyShapeOf, loadModel } from './botocore-models.js';
import { checkExchange, type WireRequest } from './check-exchange.js';
import { type CheckContext, checkShape, type ShapeViolation } from './shape-check.js';

const REFUSED = /^(required|length|pattern|enum|value|items|entries|type)/;

function memberMust(v: ShapeViolation): string {
  const [kind = '', op, n] = v.constraint.split(' ');
  if (kind === 'required') return 'Member must not be null';
  if (kind === 'pattern') return `Member must satisfy regular expression pattern: ${v.constraint.slice('pattern '.length)}`;
  if (kind === 'enum') return `Member must satisfy enum value set: ${v.constraint.slice('enum '.length)}`;
  if (kind === 'type') return `Member must be of type ${op ?? ''}`;
  const what = kind === 'value' ? 'value' : 'length';
  return `Member must have ${what} ${op === '>=' ? 'greater' : 'less'} than or equal to ${n ?? ''}`;
}

/** AWS's ValidationException message for `violations`. */
export function validationMessage(violations: readonly ShapeViolation[]): string {
  const parts = violations.map((v) => {
    const value = v.value === undefined ? 'null' : `'${typeof v.value === 'string' ? v.value : JSON.stringify(v.value)}'`;
    return `Value ${value} at '${v.member}' failed to satisfy constraint: ${memberMust(v)}`;
  });
  const n = parts.length;
  return `${n} validation error${n > 1 ? 's' : ''} detected: ${parts.join('; ')}`;
}

/** The ValidationException a JSON or REST-JSON service answers `req` with, if its input breaks the model. */
export function validationRefusal(
  req: WireRequest,
): { status: number; headers: Record<string, string>; body: { message: string } } | undefined {
  const result = checkExchange(req, undefined, 'validation');
  if (!result.protocol || !/json/.test(result.protocol)) return undefined;
  const refused = result.violations.filter((v) => REFUSED.test(v.constraint));
  if (!refused.length) return undefined;
  return { status: 400, headers: { 'x-amzn-errortype': 'ValidationException' }, body: { message: validationMessage(refused) } };
}

/** Violations of `value` against shape `shape` of botocore service `service`, named from `path`. */
export function shapeViolations(service: string, shape: string, value: unknown, path: string): ShapeViolation[] {
  const model = loadModel(service);
  if (!model) throw new Error(`no botocore model for ${service}`);
  const ctx: CheckContext = { model, violations: [], unchecked: new Set() };
  checkShape(ctx, shape, value, path);
  return ctx.violations.filter((v) => REFUSED.test(v.constraint));
}

/**
 * Violations of the body members of operation `operation`'s input (members bound to the URI,
 * query or headers are left out: the caller has them separately).
 */
export function bodyViolations(service: string, operation: string, body: object): ShapeViolation[] {
  const model = loadModel(service);
  const input = model?.operations[operation]?.input?.shape;
  if (!model || !input) throw new Error(`no input shape for ${service}:${operation}`);
  const b = bodyShapeOf(model, input);
  const ctx: CheckContext = { model: b.model, violations: [], unchecked: new Set() };
  checkShape(ctx, b.shape, body, '');
  return ctx.violations.filter((v) => REFUSED.test(v.constraint));
}
