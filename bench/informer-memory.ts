/**
 * Benchmark: the memory of an informer's initial list of N Tenants, read a page at a time (the
 * informer's pageSize, 500 by default) against in one response (a page size larger than the
 * fleet: how informers listed before).
 *
 * Starts a real kube-apiserver (test/support/controlplane.ts) with the CRDs, and creates N Tenants
 * that look like a pool tier's after onboarding: the spec with Pod Identity access applied
 * server-side by `kubectl` (as bench/run.ts does), the operator's finalizer, and the status the
 * operator writes for a Ready pool tenant (conditions, resources, isolation, inSync), both written
 * by the operator's field manager, so each carries managedFields of three writers. Then, for each
 * page size and run, a fresh Node process (the informer code bundled as scripts/build.ts bundles
 * the operator, run with the image's node flags and ENV and the chart's nodeOptions) starts one
 * Informer<Tenant> the way src/operator.ts does, waits for it to sync, and reports its peak RSS
 * (VmHWM), its RSS before the list and after the sync, the V8 heap used after the sync, and the
 * time to sync. It measures the informer alone, not the operator (no controllers, no start-up pass).
 *
 *   bash scripts/node.sh --exec node --import tsx bench/informer-memory.ts -- --tenants 10000
 *     [--page-sizes 500,100000] [--runs 3] [--concurrency 32] [--json FILE]
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { FIELD_MANAGER, FINALIZER, GROUP, VERSION } from '../src/api/v1alpha1/constants.js';
import type { Tenant } from '../src/api/v1alpha1/types.js';
import { CustomObjectsApi, KubeConfig } from '../src/adapters/kube/client.js';
import { Informer } from '../src/adapters/kube/informer.js';
import { collectionPath, type ListPage, lister } from '../src/adapters/kube/resources.js';
import { systemClock } from '../src/runtime/clock.js';
import { bundleOptions } from '../scripts/bundle-options.js';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    tenants: { type: 'string', default: '1000' },
    'page-sizes': { type: 'string', default: '500,100000' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
    json: { type: 'string' },
    // The measuring process (started by this script).
    child: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    'page-size': { type: 'string' },
  },
});

/** What one measuring process reports. */
interface Measurement {
  pageSize: number;
  pages: number;
  objects: number;
  syncMs: number;
  /** CPU time (user and system) of the measuring process during the sync. */
  cpuMs: number;
  rssBeforeMiB: number;
  peakMiB: number;
  rssAfterSyncMiB: number;
  heapUsedAfterSyncMiB: number;
}

const MiB = 1024 * 1024;

/** VmHWM and VmRSS of this process, in MiB. */
function memory(): { peakMiB: number; rssMiB: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}

/** The measuring process: one informer, as src/operator.ts kubeParts makes it, until it has synced. */
async function child(kubeconfig: string, pageSize: number): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const list = lister<Tenant>(custom, 'Tenant');
  let pages = 0;
  const informer = new Informer<Tenant>({
    path: collectionPath('Tenant'),
    list: (page: ListPage) => {
      pages++;
      return list(page);
    },
    pageSize,
    kubeConfig: kc,
    clock: systemClock,
    logger: pino({ level: 'warn' }).child({ informer: 'Tenant' }),
  });
  // The operator's handlers queue a key per event; a handler that keeps nothing stands for them.
  let events = 0;
  informer.onEvent(() => void events++);
  const before = memory();
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  informer.start();
  await informer.waitForSync();
  const syncMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const after = memory();
  const heapUsed = process.memoryUsage().heapUsed / MiB;
  const result: Measurement = {
    pageSize,
    pages,
    objects: informer.list().length,
    syncMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssBeforeMiB: before.rssMiB,
    peakMiB: after.peakMiB,
    rssAfterSyncMiB: after.rssMiB,
    heapUsedAfterSyncMiB: heapUsed,
  };
  informer.stop();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const buildDir = join(repoRoot, 'node_modules/.cache/tro-informer-bench');

/** Bundles this file as scripts/build.ts bundles the operator; the parent's own imports stay out. */
async function buildChild(): Promise<string> {
  const { build } = await import('esbuild');
  await rm(buildDir, { recursive: true, force: true });
  await build({
    ...bundleOptions,
    absWorkingDir: repoRoot,
    entryPoints: { 'informer-memory': fileURLToPath(import.meta.url) },
    outdir: buildDir,
    outExtension: { '.js': '.mjs' },
    plugins: [
      {
        name: 'parent-only',
        setup(b) {
          b.onResolve({ filter: /^(esbuild|yaml|\.\/operator\.js|\.\.\/test\/.*)$/ }, (a) => ({ path: a.path, external: true }));
        },
      },
    ],
  });
  return join(buildDir, 'informer-memory.mjs');
}

/** Runs `fn` over `items` with at most `n` at once. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** The status the operator writes for a Ready pool tenant of a Shared tier on OpenSearch Serverless. */
function readyPoolStatus(name: string, at: string): NonNullable<Tenant['status']> {
  const account = '123456789012';
  const collectionId = 'k7r2pq9xw1m3zt5vbn8c';
  const condition = (type: string, reason: string, message: string) => ({
    type,
    status: 'True' as const,
    observedGeneration: 1,
    lastTransitionTime: at,
    reason,
    message,
  });
  return {
    observedGeneration: 1,
    conditions: [
      condition('StorageReady', 'Ready', 'Prefix in place'),
      condition('IdentityReady', 'Ready', 'PodIdentityAssociation in place'),
      condition('VectorStoreReady', 'Ready', 'Index in place'),
      condition('KnowledgeBaseReady', 'Ready', 'KnowledgeBase, DataSource in place'),
      condition('IngestionReady', 'Ready', 'last ingestion job COMPLETE'),
      condition('Synced', 'Reconciled', 'the last pass completed'),
      condition('Ready', 'Reconciled', 'tenant is ready in tier "bench-pool" (pool)'),
    ],
    isolation: 'pool',
    vectorStore: 'OpenSearchServerless',
    tenantRoles: 'Shared',
    resources: {
      bucket: `tro-bench-pool-${account}-us-east-1`,
      prefix: `tenants/${name}/`,
      roleArn: `arn:aws:iam::${account}:role/tro-bench-pool-tenants`,
      knowledgeBaseRoleArn: `arn:aws:iam::${account}:role/tro-bench-pool-kb`,
      collectionArn: `arn:aws:aoss:us-east-1:${account}:collection/${collectionId}`,
      collectionEndpoint: `https://${collectionId}.us-east-1.aoss.amazonaws.com`,
      collectionId,
      indexName: 'tro-bench-pool',
      knowledgeBaseId: 'KB8Q2W4E6R',
      dataSourceId: 'DS1Z3X5C7V',
      podIdentityAssociationId: `a-${name.padEnd(17, '0').slice(0, 17)}`,
    },
    ingestion: {
      lastJobId: 'JOB9K8J7H6G',
      lastStatus: 'COMPLETE',
      lastStartedAt: at,
      lastCompletedAt: at,
      documentsScanned: 0,
      documentsIndexed: 0,
      documentsFailed: 0,
    },
    inSync: { digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', at },
  };
}

/** Creates the fleet: server-side apply of each spec, then the finalizer and status the operator writes. */
async function createFleet(kubeconfig: string, n: number, concurrency: number): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const http = kc.connection();
  const base = `/apis/${GROUP}/${VERSION}/tenants`;
  const names = Array.from({ length: n }, (_, i) => `t${String(i).padStart(String(n - 1).length, '0')}`);
  const step = async (what: string, fn: (name: string) => Promise<unknown>): Promise<void> => {
    const start = performance.now();
    await pool(names, concurrency, async (name) => void (await fn(name)));
    console.log(`  ${what}: ${n} in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  };
  await step('server-side apply of the specs (field manager kubectl)', (name) =>
    http.request({
      method: 'PATCH',
      path: `${base}/${name}`,
      query: { fieldManager: 'kubectl' },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'Tenant',
        metadata: { name },
        spec: { tier: 'bench-pool', deletionPolicy: 'Delete', access: { podIdentity: { namespace: name, serviceAccount: 'app' } } },
      },
    }),
  );
  await step('finalizer (merge patch, the operator as field manager)', (name) =>
    http.request({
      method: 'PATCH',
      path: `${base}/${name}`,
      query: { fieldManager: FIELD_MANAGER },
      contentType: 'application/merge-patch+json',
      body: { metadata: { finalizers: [FINALIZER] } },
    }),
  );
  const at = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await step('status of a Ready pool tenant (merge patch of /status)', (name) =>
    http.request({
      method: 'PATCH',
      path: `${base}/${name}/status`,
      query: { fieldManager: FIELD_MANAGER },
      contentType: 'application/merge-patch+json',
      body: { status: readyPoolStatus(name, at) },
    }),
  );
}

/** One measuring process with the image's flags and ENV and the chart's nodeOptions. */
function measure(entry: string, kubeconfig: string, pageSize: number, flags: string[], env: Record<string, string>): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...flags, entry, '--child', '--kubeconfig', kubeconfig, '--page-size', String(pageSize)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`measuring process exited ${code}: ${err.slice(-2000)}`));
      else resolve(JSON.parse(line) as Measurement);
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const n = Number(values.tenants);
  const pageSizes = (values['page-sizes'] ?? '').split(',').map(Number);
  const runs = Number(values.runs);
  const { startControlPlane } = await import('../test/support/controlplane.js');
  const { TestKube } = await import('../test/support/kube.js');
  const { imageRuntime } = await import('./operator.js');
  const { parse } = await import('yaml');
  const chart = parse(readFileSync(join(repoRoot, 'charts/tenant-rag-operator/values.yaml'), 'utf8')) as { nodeOptions?: string };
  const image = await imageRuntime();
  const flags = [...image.nodeFlags, ...(chart.nodeOptions ?? '').split(/\s+/).filter(Boolean)];

  const [entry, cp] = await Promise.all([buildChild(), startControlPlane()]);
  try {
    const kube = new TestKube(cp.kubeconfig);
    await kube.kubectl('apply', '-f', join(repoRoot, 'crds'));
    await kube.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
    console.log(`Creating ${n} Tenants`);
    await createFleet(cp.kubeconfig, n, Number(values.concurrency));
    const one = JSON.parse(
      await kube.kubectl('get', 'tenant', 't'.padEnd(String(n - 1).length + 1, '0'), '-o', 'json', '--show-managed-fields'),
    ) as Tenant;
    console.log(
      `  one Tenant as the API server sends it: ${JSON.stringify(one).length} bytes of JSON, ${one.metadata.managedFields?.length ?? 0} managedFields entries`,
    );
    console.log(
      `Measuring: node ${flags.join(' ')} (${Object.entries(image.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}), ${runs} run(s) per page size`,
    );

    const results = new Map<number, Measurement[]>(pageSizes.map((s) => [s, []]));
    // Alternate the page sizes so a drift of the machine's load touches both alike.
    for (let r = 0; r < runs; r++)
      for (const size of pageSizes) {
        const m = await measure(entry, cp.kubeconfig, size, flags, image.env);
        if (m.objects !== n) throw new Error(`page size ${size}: the informer holds ${m.objects} Tenants, not ${n}`);
        results.get(size)?.push(m);
        console.log(
          `  pageSize ${size}: ${m.pages} page(s), peak ${m.peakMiB.toFixed(1)} MiB, RSS before ${m.rssBeforeMiB.toFixed(1)} / after sync ${m.rssAfterSyncMiB.toFixed(1)} MiB, heap used ${m.heapUsedAfterSyncMiB.toFixed(1)} MiB, sync ${(m.syncMs / 1000).toFixed(2)} s (CPU ${(m.cpuMs / 1000).toFixed(2)} s)`,
        );
      }

    const range = (xs: number[], digits = 1): string => {
      const [lo, hi, mid] = [Math.min(...xs), Math.max(...xs), median(xs)];
      return xs.length > 1 ? `${mid.toFixed(digits)} (${lo.toFixed(digits)}-${hi.toFixed(digits)})` : mid.toFixed(digits);
    };
    console.log(`\n== Informer<Tenant> initial list of ${n} Tenants, median (min-max) of ${runs} run(s)`);
    console.log(
      '| pageSize | pages | RSS before list (MiB) | peak RSS (MiB) | RSS after sync (MiB) | heap used after sync (MiB) | time to sync (s) | CPU time of the sync (s) |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    for (const [size, ms] of results) {
      const pick = (f: (m: Measurement) => number): number[] => ms.map(f);
      console.log(
        `| ${size} | ${ms[0]?.pages ?? 0} | ${range(pick((m) => m.rssBeforeMiB))} | ${range(pick((m) => m.peakMiB))} | ${range(pick((m) => m.rssAfterSyncMiB))} | ${range(pick((m) => m.heapUsedAfterSyncMiB))} | ${range(
          pick((m) => m.syncMs / 1000),
          2,
        )} | ${range(
          pick((m) => m.cpuMs / 1000),
          2,
        )} |`,
      );
    }
    if (values.json)
      await writeFile(values.json, JSON.stringify({ tenants: n, flags, env: image.env, results: Object.fromEntries(results) }, null, 2));
  } finally {
    await cp.stop();
  }
}

if (values.child) {
  if (!values.kubeconfig || !values['page-size']) throw new Error('--child needs --kubeconfig and --page-size');
  await child(values.kubeconfig, Number(values['page-size']));
} else await main();
