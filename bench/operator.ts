/**
 * The operator process for the benchmark: by default the bundle the container image runs
 * (`node dist/main.js`, built by scripts/build.ts here into node_modules/.cache so the repo's dist/
 * is left alone), or the TypeScript sources through tsx. Reads its Prometheus metrics and peak memory.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { eventually, freePort, type Proc, run, startProcess, stopProcess } from '../test/support/processes.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const buildDir = join(repoRoot, 'node_modules/.cache/tro-bench');

/** Builds the production bundle (scripts/build.ts) into the cache directory; returns the entry point. */
export async function buildOperator(): Promise<string> {
  await mkdir(buildDir, { recursive: true });
  await run(process.execPath, [join(repoRoot, 'scripts/build.ts'), '--outdir', join(buildDir, 'dist')], { cwd: repoRoot });
  // Under node_modules the repo's package.json no longer gives the files their module type.
  await writeFile(join(buildDir, 'package.json'), JSON.stringify({ type: 'module' }));
  return join(buildDir, 'dist/main.js');
}

/**
 * How the image runs the operator, from the Dockerfile's last stage: its ENV and the node flags of
 * its ENTRYPOINT (between the node binary and dist/main.js). The benchmark runs the operator with
 * both, and the chart's nodeOptions, so it measures what a pod would.
 */
export async function imageRuntime(): Promise<{ env: Record<string, string>; nodeFlags: string[] }> {
  const dockerfile = await readFile(join(repoRoot, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m);
  const last = stages[stages.length - 1] ?? '';
  const env: Record<string, string> = {};
  for (const [, pairs] of last.matchAll(/^ENV (.+)$/gm))
    for (const [, k, v] of (pairs ?? '').matchAll(/(\w+)=(\S*)/g)) if (k) env[k] = v ?? '';
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(last)?.[1];
  const argv = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  return { env, nodeFlags: argv.slice(1).filter((a) => a.startsWith('-')) };
}

/** One sample of a metric. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text exposition. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([0-9.eE+-]+|NaN)$/.exec(line);
    if (!m?.[1] || m[4] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** A running operator. */
export interface BenchOperator {
  proc: Proc;
  logFile: string;
  samples(): Promise<Sample[]>;
  /** Sum of a metric's samples whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Peak resident set size (VmHWM) and current RSS, in MiB. */
  memory(): Promise<{ peakMiB: number; rssMiB: number }>;
  stop(): Promise<void>;
}

/** Starts the operator with `settings` and `env`; resolves once /readyz answers. */
export async function startBenchOperator(o: {
  /** The compiled entry point, or `tsx` for the TypeScript sources. */
  entry: string;
  kubeconfig: string;
  dir: string;
  settings: Record<string, unknown>;
  env: Record<string, string>;
  nodeOptions?: string;
  name: string;
}): Promise<BenchOperator> {
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const configPath = join(o.dir, `${o.name}.yaml`);
  await writeFile(configPath, stringify({ ...o.settings, server: { bindAddress: '127.0.0.1' } }));
  const logFile = join(o.dir, `${o.name}.log`);
  const image = await imageRuntime();
  const entryArgs = o.entry === 'tsx' ? ['--import', 'tsx', join(repoRoot, 'src/main.ts')] : [o.entry];
  const args = [
    ...image.nodeFlags,
    ...(o.nodeOptions ? o.nodeOptions.split(/\s+/).filter(Boolean) : []),
    ...entryArgs,
    '--kubeconfig',
    o.kubeconfig,
    '--config',
    configPath,
    '--identity',
    o.name,
    '--health-port',
    String(healthPort),
    '--metrics-port',
    String(metricsPort),
  ];
  const proc = startProcess(process.execPath, args, logFile, { ...process.env, ...image.env, ...o.env });
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
    `operator ready (log: ${logFile})`,
    200,
  );
  const samples = async (): Promise<Sample[]> => parseMetrics(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
  return {
    proc,
    logFile,
    samples,
    async metric(name, labels = {}) {
      return (await samples())
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((a, s) => a + s.value, 0);
    },
    async memory() {
      const status = await readFile(`/proc/${proc.child.pid ?? 0}/status`, 'utf8');
      const kib = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
      return { peakMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
    },
    stop: () => stopProcess(proc, 'SIGTERM', 15_000),
  };
}
