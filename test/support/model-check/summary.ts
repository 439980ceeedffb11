/**
 * Adds up the per-file counts of model-checked calls (recorder.ts) into one table per operation.
 * Run as `node --import tsx test/support/model-check/summary.ts [dir]`; the integration project's
 * global teardown prints it after a run.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CountsFile, countsDir, type OperationCount } from './recorder.js';

/** Totals per `service:operation` (and violations, known open ones aside) of the files in `dir` written at or after `since` (ms), of run `run` if given. */
export function summarise(
  dir = countsDir(),
  since = 0,
  run?: string,
): { counts: OperationCount[]; files: number; violations: number; unmodelled: Record<string, number> } {
  const totals = new Map<string, OperationCount>();
  const unmodelled: Record<string, number> = {};
  let files = 0;
  let violations = 0;
  if (!existsSync(dir)) return { counts: [], files, violations, unmodelled };
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const path = join(dir, f);
    if (statSync(path).mtimeMs < since) continue;
    const rec = JSON.parse(readFileSync(path, 'utf8')) as CountsFile;
    if (run && rec.run !== run) continue;
    files++;
    violations += rec.violations.length - (rec.knownOpen ?? 0);
    for (const [k, n] of Object.entries(rec.unmodelled)) unmodelled[k] = (unmodelled[k] ?? 0) + n;
    for (const c of rec.counts) {
      const key = `${c.service}:${c.operation}`;
      let t = totals.get(key);
      if (!t) totals.set(key, (t = { service: c.service, operation: c.operation, calls: 0, servedBy: {} }));
      t.calls += c.calls;
      for (const [s, n] of Object.entries(c.servedBy)) t.servedBy[s] = (t.servedBy[s] ?? 0) + n;
    }
  }
  const counts = [...totals.values()].sort((a, b) => a.service.localeCompare(b.service) || a.operation.localeCompare(b.operation));
  return { counts, files, violations, unmodelled };
}

/** A Markdown table of the totals. */
export function formatTable(counts: readonly OperationCount[]): string {
  const rows = counts.map((c) => {
    const by = Object.entries(c.servedBy)
      .sort((a, b) => b[1] - a[1])
      .map(([s, n]) => `${s} ${n}`)
      .join(', ');
    return `| ${c.service} | ${c.operation} | ${c.calls} | ${by} |`;
  });
  return ['| service | operation | calls checked | served by |', '|---|---|---|---|', ...rows].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const s = summarise(process.argv[2] ?? countsDir());
  console.log(formatTable(s.counts));
  console.log(
    `\n${s.files} test files, ${s.counts.reduce((a, c) => a + c.calls, 0)} calls checked, ${s.violations} violations; not modelled: ${JSON.stringify(s.unmodelled)}`,
  );
}
