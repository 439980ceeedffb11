/**
 * What the model checks saw in this test process: calls checked per operation and who served them,
 * requests no model covers, and violations not yet reported to a test. The wiring (the fakes'
 * HTTP plumbing, the AWS proxy) records here; `TestCluster.stop()` and the per-test hook of
 * vitest-setup.ts throw the unreported violations, and the per-file counts go to
 * `$TRO_MODEL_CHECK_DIR` (default `$TMPDIR/tro-model-check/`) for summary.ts to add up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkExchange, type ModelViolation, type WireRequest, type WireResponse } from './check-exchange.js';

/** Calls of one operation checked against the model. */
export interface OperationCount {
  service: string;
  operation: string;
  calls: number;
  /** Calls per server (moto, ministack, fake bedrock-agent, aws-proxy). */
  servedBy: Record<string, number>;
}

/** The per-file record summary.ts reads. */
export interface CountsFile {
  file: string;
  /** The vitest run that wrote it (global-setup.ts sets `TRO_MODEL_CHECK_RUN`), if known. */
  run?: string;
  written: string;
  counts: OperationCount[];
  /** Requests no botocore model covers, by reason (the OpenSearch data plane, unsigned requests). */
  unmodelled: Record<string, number>;
  violations: ModelViolation[];
  /** How many of `violations` are known open ones (KNOWN_OPEN), which do not fail tests. */
  knownOpen?: number;
  unchecked: string[];
}

/**
 * Violations found in a fake that another change owns, recorded and written with the counts but
 * not failing tests until that fake is fixed; each is listed in docs/testing.md as open. Matched
 * exactly (service, operation, member, constraint, served by); keep this list short.
 */
const KNOWN_OPEN: readonly Omit<ModelViolation, 'direction' | 'value'>[] = [];

const isKnownOpen = (v: ModelViolation): boolean =>
  KNOWN_OPEN.some(
    (k) =>
      k.service === v.service &&
      k.operation === v.operation &&
      k.member === v.member &&
      k.constraint === v.constraint &&
      k.servedBy === v.servedBy,
  );

const counts = new Map<string, OperationCount>();
const unmodelled = new Map<string, number>();
const all: ModelViolation[] = [];
let unreported: ModelViolation[] = [];
const unchecked = new Set<string>();

/** The directory the per-file counts are written to. */
export function countsDir(): string {
  return process.env.TRO_MODEL_CHECK_DIR ?? join(tmpdir(), 'tro-model-check');
}

/**
 * Checks one exchange and records the outcome; never throws (a checker bug must not take the
 * emulator down with it, so it is recorded as a violation instead).
 */
export function checkAndRecord(request: WireRequest, response: WireResponse | undefined, servedBy: string): ModelViolation[] {
  let result;
  try {
    result = checkExchange(request, response, servedBy);
  } catch (e) {
    const v: ModelViolation = {
      service: '(checker)',
      operation: `${request.method} ${request.path}`,
      direction: 'request',
      member: '(checker)',
      constraint: 'the model checker ran',
      value: (e as Error).stack ?? String(e),
      servedBy,
    };
    all.push(v);
    unreported.push(v);
    return [v];
  }
  if (result.unmodelled) {
    unmodelled.set(result.unmodelled, (unmodelled.get(result.unmodelled) ?? 0) + 1);
    return [];
  }
  const key = `${result.service ?? ''}:${result.operation ?? ''}`;
  let c = counts.get(key);
  if (!c) counts.set(key, (c = { service: result.service ?? '', operation: result.operation ?? '', calls: 0, servedBy: {} }));
  c.calls++;
  c.servedBy[servedBy] = (c.servedBy[servedBy] ?? 0) + 1;
  for (const u of result.unchecked) unchecked.add(u);
  all.push(...result.violations);
  unreported.push(...result.violations.filter((v) => !isKnownOpen(v)));
  return result.violations;
}

/** Violations recorded since the last call, which the caller is now to report. */
export function takeUnreported(): ModelViolation[] {
  const out = unreported;
  unreported = [];
  return out;
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : v instanceof Uint8Array ? `<${v.length} bytes>` : (JSON.stringify(v) ?? String(v));
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

/** A readable list, one line per distinct violation with how often it happened. */
export function formatViolations(vs: readonly ModelViolation[]): string {
  const groups = new Map<string, { v: ModelViolation; n: number }>();
  for (const v of vs) {
    const key = [v.service, v.operation, v.direction, v.member, v.constraint, v.servedBy].join('|');
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { v, n: 1 });
  }
  return [...groups.values()]
    .map(
      ({ v, n }) =>
        `  ${v.service}:${v.operation} ${v.direction} ${v.member}: breaks "${v.constraint}" with ${show(v.value)} (served by ${v.servedBy})${n > 1 ? ` x${n}` : ''}`,
    )
    .join('\n');
}

/** Throws the unreported violations, if any, saying where they came from. */
export function throwUnreported(where: string): void {
  const vs = takeUnreported();
  if (vs.length) throw new Error(`${where}: ${vs.length} call(s) break AWS's API model (botocore):\n${formatViolations(vs)}`);
}

/** Calls checked so far in this process, per operation. */
export function checkedCounts(): OperationCount[] {
  return [...counts.values()];
}

/** Writes this process's counts for `file` (a test file path), when anything was checked. */
export function writeCounts(file: string): void {
  if (!counts.size && !unmodelled.size && !all.length) return;
  const dir = countsDir();
  mkdirSync(dir, { recursive: true });
  const record: CountsFile = {
    file,
    run: process.env.TRO_MODEL_CHECK_RUN,
    written: new Date().toISOString(),
    counts: checkedCounts(),
    unmodelled: Object.fromEntries(unmodelled),
    violations: all.map((v) => ({ ...v, value: show(v.value) })),
    knownOpen: all.filter(isKnownOpen).length,
    unchecked: [...unchecked],
  };
  const name = file.replace(/^.*?(test|src|scripts)\//, '$1/').replace(/[^A-Za-z0-9.-]+/g, '_');
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(record, null, 1)}\n`);
}
