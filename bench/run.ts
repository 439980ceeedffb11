/**
 * Benchmark: N tenants over the three isolation patterns, applied at once with server-side apply
 * to a real kube-apiserver, reconciled by the real operator process against the AWS emulators with
 * AWS-like request rates enforced (bench/rates.ts). Prints the time until all are Ready next to
 * the lower bound the rates allow, when each pattern's conditions first turned True (where the
 * chains spend their time), AWS calls per tenant by API, throttling seen by the SDK and in
 * statuses, the first syncs, calls at steady state, and the operator's peak memory.
 *
 * Usage: npm run bench -- [--tenants 300] [--mix 80/13/7] [--store opensearch|s3vectors] [--workers 16] [--resync 60] [--window 120]
 *                         [--skip-steady] [--no-rates] [--tsx | --entry dist/main.js] [--node-options="..." (default: the chart's nodeOptions)]
 *                         [--json out.json]
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startTestCluster } from '../test/support/cluster.js';
import { TEST_OPERATOR_SETTINGS } from '../test/support/operator-process.js';
import { type Mix, READ_KIND, STORES, type Store, budgetBound, needs, rateBound, splitMix } from './model.js';
import { type BenchOperator, type Sample, buildOperator, startBenchOperator } from './operator.js';
import { startAwsProxy } from '../test/support/aws-proxy.js';
import { AWS_RATES, isWrite } from './rates.js';
import { KindWatch, throttleMentions } from './watch.js';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '300' },
    mix: { type: 'string', default: '80/13/7' },
    store: { type: 'string', default: 'opensearch' },
    workers: { type: 'string', default: '16' },
    resync: { type: 'string', default: '60' },
    window: { type: 'string', default: '120' },
    'skip-steady': { type: 'boolean', default: false },
    'no-rates': { type: 'boolean', default: false },
    tsx: { type: 'boolean', default: false },
    entry: { type: 'string' },
    'node-options': { type: 'string' },
    json: { type: 'string' },
    timeout: { type: 'string', default: '1800' },
    'tenant-roles': { type: 'string', default: 'shared' },
  },
});
/** The heap flags the chart runs the operator with, unless --node-options says otherwise. */
const chartValues = parse(await readFile(new URL('../charts/tenant-rag-operator/values.yaml', import.meta.url), 'utf8')) as {
  nodeOptions?: string;
};
const nodeOptions = values['node-options'] ?? chartValues.nodeOptions ?? '';
const n = Number(values.tenants);
const mix = splitMix(n, values.mix);
if (!(values.store in STORES)) throw new Error(`--store must be one of ${Object.keys(STORES).join(', ')}`);
const store = values.store as Store;
const resyncSeconds = Number(values.resync);
const windowSeconds = Number(values.window);
const timeoutMs = Number(values.timeout) * 1000;
if (!['shared', 'per-tenant'].includes(values['tenant-roles'])) throw new Error('--tenant-roles must be shared or per-tenant');
/**
 * The pool tier's tenantRoles: `shared` (the default) gives pool tenants no role of their own and
 * each an EKS Pod Identity association with its session policy (their application's access, one
 * EKS call each); `per-tenant` gives each a role (two IAM writes) and no access, as before.
 */
const sharedPool = values['tenant-roles'] === 'shared';
const PATTERNS = ['pool', 'bridge', 'silo'] as const;
/** Ingestion calls: the account-wide scheduler's, reported apart from the reconcilers' reads. */
const INGESTION = new Set(['bedrockAgent:StartIngestionJob', 'bedrockAgent:GetIngestionJob', 'bedrockAgent:ListIngestionJobs']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (msg: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** Counter values by `service:operation`. */
function byApi(samples: Sample[], metric: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== metric) continue;
    const k = `${s.labels.service ?? ''}:${s.labels.operation ?? ''}`;
    out.set(k, (out.get(k) ?? 0) + s.value);
  }
  return out;
}
function diff(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) out.set(k, v - (before.get(k) ?? 0));
  return out;
}
const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
const sum = (samples: Sample[], name: string, labels: Record<string, string> = {}): number =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((a, s) => a + s.value, 0);
const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));

/** A seeded shuffle, so every run applies the tenants in the same mixed order. */
function shuffle<T>(xs: T[], seed = 42): T[] {
  let s = seed;
  const rnd = (): number => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j] as T, xs[i] as T];
  }
  return xs;
}

/** The manifest: one tier per pattern with tenants, then the tenants in a mixed order. */
function manifest(m: Mix): { yaml: string; patternOf: Map<string, string> } {
  const docs: string[] = [];
  const patternOf = new Map<string, string>();
  for (const p of PATTERNS)
    if (m[p] > 0)
      docs.push(
        `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: bench-${p} }\nspec: { isolation: ${p}, vectorStore: { type: ${STORES[store]} }${p === 'pool' && sharedPool ? ', tenantRoles: Shared' : ''} }\n`,
      );
  const names: [string, string][] = [];
  let i = 0;
  for (const p of PATTERNS) for (let k = 0; k < m[p]; k++) names.push([`t${String(i++).padStart(4, '0')}`, p]);
  for (const [name, p] of shuffle(names)) {
    patternOf.set(name, p);
    docs.push(
      `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${name} }\nspec: { tier: bench-${p}, deletionPolicy: Delete${
        p === 'pool' && sharedPool ? `, access: { podIdentity: { namespace: ${name}, serviceAccount: app } }` : ''
      } }\n`,
    );
  }
  return { yaml: docs.join('---\n'), patternOf };
}

async function until(what: string, ms: number, check: () => boolean | Promise<boolean>, progress?: () => string): Promise<void> {
  const start = Date.now();
  let lastLog = start;
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms / 1000}s waiting for ${what}`);
    if (progress && Date.now() - lastLog > 30_000) {
      lastLog = Date.now();
      log(`${what}: ${progress()}`);
    }
    await sleep(250);
  }
}

/** The order conditions are shown in: the tier first, then a tenant's chain as stacks.ts builds it. */
const TIMELINE = [
  'tier Ready',
  'Synced',
  'StorageReady',
  'IdentityReady',
  'VectorStoreReady',
  'KnowledgeBaseReady',
  'IngestionReady',
  'Ready',
];

/** Median and last time (ms) each condition first turned True, per pattern: where a chain spends its time. */
function chainTimeline(tenants: KindWatch, tiers: KindWatch, patternOf: Map<string, string>) {
  const patterns = PATTERNS.filter((p) => [...patternOf.values()].includes(p));
  const json: Record<string, Record<string, { medianMs: number; lastMs: number }>> = {};
  const rows = TIMELINE.map((type) => {
    const cells = patterns.map((p) => {
      const times =
        type === 'tier Ready'
          ? [tiers.objects.get(`bench-${p}`)?.readyAt ?? NaN]
          : [...tenants.objects].filter(([k]) => patternOf.get(k) === p).map(([, o]) => o.trueAt[type] ?? NaN);
      const seen = times.filter(Number.isFinite).sort((a, b) => a - b);
      if (seen.length === 0) return '-';
      const median = seen[Math.floor((seen.length - 1) / 2)] ?? NaN;
      const last = seen[seen.length - 1] ?? NaN;
      (json[p] ??= {})[type] = { medianMs: median, lastMs: last };
      return `${fmt(median / 1000)} / ${fmt(last / 1000)}`;
    });
    return [type, ...cells];
  });
  return { patterns, rows, json };
}

const fmt = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
function table(rows: (string | number)[][], head?: string[]): string {
  const all = head ? [head, ...rows] : rows;
  const widths = all[0]?.map((_, i) => Math.max(...all.map((r) => String(r[i] ?? '').length))) ?? [];
  return all
    .map((r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i] ?? 0) : String(c).padStart(widths[i] ?? 0))).join('  '))
    .join('\n');
}

async function main(): Promise<void> {
  const need = needs(mix, store, sharedPool);
  const rules = values['no-rates'] ? [] : AWS_RATES;
  if (need.knowledgeBases > 100)
    throw new Error(
      `the mix needs ${need.knowledgeBases} knowledge bases; the account quota is 100 (not adjustable): use fewer bridge/silo tenants`,
    );
  const objects = n + PATTERNS.filter((p) => mix[p] > 0).length;
  const resources = total(new Map(Object.entries(need.resources)));
  log(`mix ${JSON.stringify(mix)}; ${need.knowledgeBases} knowledge bases, ${resources} AWS resources`);

  const buildStart = Date.now();
  // --entry: an operator built elsewhere (e.g. an earlier commit's build, to compare memory).
  const entry = values.tsx ? 'tsx' : (values.entry ?? (await buildOperator()));
  if (entry !== 'tsx' && !values.entry) log(`operator built in ${fmt((Date.now() - buildStart) / 1000)} s: ${entry}`);

  const c = await startTestCluster();
  const dir = await mkdtemp(join(tmpdir(), 'tro-bench-'));
  for (const r of rules)
    if (r.service === 'bedrockAgent' && Array.isArray(r.operations))
      for (const op of r.operations as string[]) c.fakes.faults.limit(op, { ratePerSec: r.ratePerSec, burst: r.burst });
  const motoProxy = await startAwsProxy(c.moto.endpoint, { rules });
  const aossProxy = await startAwsProxy(c.ministack.endpoint, { rules });
  // ministack serves OpenSearch Serverless and EKS: both behind the proxy that enforces the rates.
  const env = {
    ...c.awsEnv,
    AWS_ENDPOINT_URL: motoProxy.endpoint,
    AWS_ENDPOINT_URL_OPENSEARCHSERVERLESS: aossProxy.endpoint,
    AWS_ENDPOINT_URL_EKS: aossProxy.endpoint,
  };
  const settings = (resync: number): Record<string, unknown> => ({
    ...TEST_OPERATOR_SETTINGS,
    aws: c.awsSettings,
    workers: Number(values.workers),
    logLevel: 'warn',
    leaderElection: { enabled: false },
    resyncSeconds: resync,
  });
  const { yaml, patternOf } = manifest(mix);
  const manifestPath = join(dir, 'tenants.yaml');
  await writeFile(manifestPath, yaml);

  const kc = new KubeConfig();
  kc.loadFromFile(c.cp.kubeconfig);
  let t0 = Date.now();
  const tenants = new KindWatch(kc, 'Tenant', 'tenants', () => t0);
  const tiers = new KindWatch(kc, 'TenantTier', 'tenanttiers', () => t0);
  await Promise.all([tenants.start(), tiers.start()]);

  let op: BenchOperator | undefined = await startBenchOperator({
    entry,
    kubeconfig: c.cp.kubeconfig,
    dir,
    settings: settings(600),
    env,
    nodeOptions,
    name: 'bench-onboarding',
  });
  const report: Record<string, unknown> = {
    tenants: n,
    mix,
    store,
    workers: Number(values.workers),
    rates: !values['no-rates'],
    runtime: entry === 'tsx' ? 'tsx' : (values.entry ?? 'bundle'),
  };
  const out: string[] = [];
  try {
    // ---- Onboarding -------------------------------------------------------------------------
    await sleep(3000);
    const memIdle = await op.memory();
    const heapIdle = (await op.metric('tenant_rag_operator_nodejs_heap_size_used_bytes')) / 2 ** 20;
    t0 = Date.now();
    await c.kube.kubectl('apply', '--server-side', '-f', manifestPath);
    const applyMs = Date.now() - t0;
    const readyCount = (): number => [...tenants.objects.values()].filter((s) => s.ready).length;
    await until(
      'all tenants Ready',
      timeoutMs,
      () => readyCount() === n,
      () => `${readyCount()}/${n} Ready`,
    );
    const allReadyMs = Date.now() - t0;
    const readyByPattern = Object.fromEntries(
      PATTERNS.filter((p) => mix[p] > 0).map((p) => [
        p,
        Math.max(...[...tenants.objects].filter(([k]) => patternOf.get(k) === p).map(([, s]) => s.readyAt ?? NaN)),
      ]),
    );
    log(`all ${n} Ready after ${fmt(allReadyMs / 1000)} s`);
    await sleep(2000);
    const atReady = await op.samples();
    const memReady = await op.memory();
    const calls = byApi(atReady, 'tenant_rag_operator_aws_calls_total');
    const throttledSdk = byApi(atReady, 'tenant_rag_operator_aws_throttled_total');
    const bound = rateBound(need.calls, rules);
    const budget = budgetBound(need.calls);
    const boundS = bound[0]?.seconds ?? 0;
    const writesMade = new Map([...calls].filter(([k]) => isWrite(k.split(':')[1] ?? '') && !INGESTION.has(k)));

    out.push(
      `\n== Onboarding: ${n} tenants (${mix.pool} pool / ${mix.bridge} bridge / ${mix.silo} silo) on ${STORES[store]}, pool tenantRoles ${sharedPool ? 'Shared' : 'PerTenant'}, ${values.workers} workers per kind, node ${nodeOptions || '(no flags)'}`,
    );
    out.push(
      table([
        ['AWS resources created (model)', resources],
        ['knowledge bases (quota 100)', need.knowledgeBases],
        ['kubectl apply --server-side of all objects (s)', fmt(applyMs / 1000)],
        ['time until all Ready (s)', fmt(allReadyMs / 1000)],
        ...PATTERNS.filter((p) => mix[p] > 0).map((p) => [`  last ${p} tenant Ready (s)`, fmt((readyByPattern[p] ?? NaN) / 1000)]),
        [`lower bound from the enforced rates (s)`, fmt(boundS)],
        ['  binding rate', bound[0] ? `${bound[0].label}: ${bound[0].calls} calls at ${bound[0].ratePerSec}/s` : '-'],
        ['ratio (target <= 1.2)', fmt(allReadyMs / 1000 / boundS, 2)],
        ["bound from the operator's own budgets (s)", fmt(budget[0]?.seconds ?? 0)],
        ['  binding budget', budget[0] ? `${budget[0].label}: ${budget[0].calls} calls at ${budget[0].ratePerSec}/s` : '-'],
        ['AWS calls, all attempts', total(calls)],
        ['AWS calls per tenant', fmt(total(calls) / n)],
        [
          'AWS write calls made / needed by the model',
          `${total(writesMade)} / ${total(new Map([...need.calls].filter(([k]) => isWrite(k.split(':')[1] ?? ''))))}`,
        ],
        ['tenant reconcile passes per tenant', fmt(sum(atReady, 'tenant_rag_operator_reconcile_total', { controller: 'tenants' }) / n, 2)],
        ['tenant status writes per tenant', fmt(sum(atReady, 'tenant_rag_operator_status_writes_total', { kind: 'Tenant' }) / n, 2)],
        ['reconcile errors (all kinds)', sum(atReady, 'tenant_rag_operator_reconcile_errors_total')],
        ['throttled responses seen by the SDK', total(throttledSdk)],
        [
          'throttled responses served by the emulators',
          total(motoProxy.stats.throttled) + total(aossProxy.stats.throttled) + total(c.fakes.faults.throttled),
        ],
        ['statuses that mentioned throttling (watch)', tenants.mentions.length + tiers.mentions.length],
        ['operator peak RSS so far (MiB)', fmt(memReady.peakMiB)],
      ]),
    );
    out.push('\nSlowest rates for the calls the mix needs (creating writes + one observing read per resource):');
    out.push(
      table(
        bound.slice(0, 6).map((b) => [b.label, b.calls, `${b.ratePerSec}/s`, fmt(b.seconds)]),
        ['rate', 'calls', 'rate', 'seconds'],
      ),
    );
    out.push('\nAWS calls per tenant by API during onboarding (all attempts; model = the minimum the mix needs):');
    out.push(
      table(
        sorted(calls).map(([k, v]) => [k, v, fmt(v / n, 2), need.calls.get(k) ?? '', throttledSdk.get(k) ?? '']),
        ['service:operation', 'calls', 'per tenant', 'model', 'throttled'],
      ),
    );
    const timeline = chainTimeline(tenants, tiers, patternOf);
    out.push(
      '\nWhere the time goes: seconds from the apply until each condition was first True, by pattern (median / last); Synced is the first status write:',
    );
    out.push(table(timeline.rows, ['condition', ...timeline.patterns]));
    const errorsByReason = atReady
      .filter((s) => s.name === 'tenant_rag_operator_reconcile_errors_total' && s.value > 0)
      .map((s): [string, number] => [`${s.labels.controller ?? ''} ${s.labels.reason ?? ''}`, s.value]);
    if (errorsByReason.length) out.push(`\nReconcile errors by reason:\n${table(errorsByReason)}`);
    const emulatorThrottles = [
      ...motoProxy.stats.throttled,
      ...aossProxy.stats.throttled,
      ...[...c.fakes.faults.throttled].map(([k, v]): [string, number] => [`fake:${k}`, v]),
    ];
    if (emulatorThrottles.length) out.push(`\nThrottled by the emulators:\n${table(emulatorThrottles)}`);
    Object.assign(report, {
      applyMs,
      allReadyMs,
      readyByPatternMs: readyByPattern,
      chainTimeline: timeline.json,
      lowerBoundS: boundS,
      boundTerms: bound.slice(0, 6),
      budgetBoundS: budget[0]?.seconds,
      budgetTerms: budget.slice(0, 3),
      ratio: allReadyMs / 1000 / boundS,
      onboardingCalls: Object.fromEntries(sorted(calls)),
      throttledSdk: Object.fromEntries(throttledSdk),
      throttledEmulators: Object.fromEntries(emulatorThrottles),
      passesPerTenant: sum(atReady, 'tenant_rag_operator_reconcile_total', { controller: 'tenants' }) / n,
      statusWritesPerTenant: sum(atReady, 'tenant_rag_operator_status_writes_total', { kind: 'Tenant' }) / n,
      reconcileErrors: Object.fromEntries(errorsByReason),
      memoryAtReady: memReady,
      heapUsedMiBAtReady: sum(atReady, 'tenant_rag_operator_nodejs_heap_size_used_bytes') / 2 ** 20,
    });

    if (!values['skip-steady']) {
      // ---- First syncs ------------------------------------------------------------------------
      const owners = (): { pending: number; all: number } => {
        const own = [
          ...[...tenants.objects].filter(([k]) => patternOf.get(k) !== 'pool').map(([, s]) => s),
          ...[...tiers.objects].filter(([k]) => k === 'bench-pool').map(([, s]) => s),
        ];
        return { pending: own.filter((s) => !['COMPLETE', 'FAILED', 'STOPPED'].includes(s.ingestion ?? '')).length, all: own.length };
      };
      await until(
        'first syncs complete',
        need.knowledgeBases * 10_000 * 2 + 300_000,
        () => owners().pending === 0,
        () => `${owners().pending}/${owners().all} pending`,
      );
      const syncedMs = Date.now() - t0;
      log(`first syncs complete after ${fmt(syncedMs / 1000)} s`);
      await sleep(5000);
      const atSynced = await op.samples();
      const memSynced = await op.memory();
      const syncCalls = diff(byApi(atSynced, 'tenant_rag_operator_aws_calls_total'), calls);
      const starts = syncCalls.get('bedrockAgent:StartIngestionJob') ?? 0;
      const polls = syncCalls.get('bedrockAgent:GetIngestionJob') ?? 0;
      out.push(`\n== First syncs (${need.knowledgeBases} data sources; AWS starts one ingestion job per 10 s per account)`);
      out.push(
        table([
          ['time until every first sync completed (s, from apply)', fmt(syncedMs / 1000)],
          ['lower bound: data sources / 0.1 per s (s)', fmt(Math.max(0, need.knowledgeBases - 1) / 0.1)],
          [
            'StartIngestionJob calls (all attempts)',
            byApi(atSynced, 'tenant_rag_operator_aws_calls_total').get('bedrockAgent:StartIngestionJob') ?? 0,
          ],
          ['GetIngestionJob calls after all Ready', polls],
          ['AWS calls between all Ready and the last first sync', total(syncCalls)],
          ['tenant passes per tenant by then', fmt(sum(atSynced, 'tenant_rag_operator_reconcile_total', { controller: 'tenants' }) / n, 2)],
          ['operator peak RSS (MiB)', fmt(memSynced.peakMiB)],
        ]),
      );
      out.push(`\nAWS calls between all Ready and the last first sync:\n${table(sorted(syncCalls).slice(0, 15))}`);
      Object.assign(report, {
        syncedMs,
        syncCalls: Object.fromEntries(sorted(syncCalls)),
        startsAfterReady: starts,
        memorySynced: memSynced,
      });

      // ---- Steady state: a new operator process with a short resync -----------------------------
      await op.stop();
      op = undefined;
      const sweepStart = Date.now();
      op = await startBenchOperator({
        entry,
        kubeconfig: c.cp.kubeconfig,
        dir,
        settings: settings(resyncSeconds),
        env,
        nodeOptions,
        name: 'bench-steady',
      });
      const steady = op;
      let last = -1;
      let stableSince = Date.now();
      await until('the start-up pass over every object', timeoutMs, async () => {
        const passes = await steady.metric('tenant_rag_operator_reconcile_total');
        if (passes !== last) [last, stableSince] = [passes, Date.now()];
        return passes >= objects && (Date.now() - stableSince > 3000 || Date.now() - sweepStart > resyncSeconds * 1000);
      });
      const sweepMs = Date.now() - sweepStart;
      const w0 = await steady.samples();
      log(`start-up pass done in ${fmt(sweepMs / 1000)} s; measuring ${windowSeconds} s at resyncSeconds ${resyncSeconds}`);
      await sleep(windowSeconds * 1000);
      const w1 = await steady.samples();
      const memSteady = await steady.memory();
      const split = (
        m: Map<string, number>,
      ): { writes: Map<string, number>; ingestion: Map<string, number>; reads: Map<string, number> } => ({
        writes: new Map([...m].filter(([k]) => isWrite(k.split(':')[1] ?? '') && !INGESTION.has(k))),
        ingestion: new Map([...m].filter(([k]) => INGESTION.has(k))),
        reads: new Map([...m].filter(([k]) => !isWrite(k.split(':')[1] ?? '') && !INGESTION.has(k) && k !== 'sts:GetCallerIdentity')),
      });
      // The start-up pass looks at every object once with nothing to do: what one resync of every
      // object costs.
      const sweep = split(byApi(w0, 'tenant_rag_operator_aws_calls_total'));
      const fullPass = total(sweep.reads);
      const win = split(diff(byApi(w1, 'tenant_rag_operator_aws_calls_total'), byApi(w0, 'tenant_rag_operator_aws_calls_total')));
      const winPasses = sum(w1, 'tenant_rag_operator_reconcile_total') - sum(w0, 'tenant_rag_operator_reconcile_total');
      // Each successful pass comes back after resyncSeconds plus 0-10% jitter.
      const expectedPasses = (objects * windowSeconds) / (resyncSeconds * 1.05);
      const winReadsPerHour = (total(win.reads) * 3600) / windowSeconds;
      // A restart spot-checks each resource of an owner whose status.inSync it can trust (one read)
      // and observes the rest in full (src/controllers/in-sync.ts); later passes of a steady owner
      // spot-check one aspect per resource (src/controllers/spot-checks.ts): what a resync costs is
      // the window's.
      const resyncsInWindow = winPasses / objects;
      const readsPerResync = resyncsInWindow > 0 ? total(win.reads) / resyncsInWindow : 0;
      out.push(`\n== Steady state (all Ready, first syncs done; a new operator process with resyncSeconds ${resyncSeconds})`);
      out.push(
        table([
          ['start-up pass over all objects (s; after a restart)', fmt(sweepMs / 1000)],
          ['  reads', fullPass],
          ['  writes (target 0)', total(sweep.writes)],
          ['  reads per AWS resource', fmt(fullPass / resources, 2)],
          [`measured window at resyncSeconds ${resyncSeconds} (s)`, windowSeconds],
          ['  reconcile passes / passes if every object were resynced', `${winPasses} / ${fmt(expectedPasses, 0)}`],
          ['  AWS calls', total(win.reads) + total(win.writes) + total(win.ingestion)],
          ['  write calls (Create/Put/Update/Delete/Tag/...; target 0)', total(win.writes)],
          ['  ingestion calls (scheduler)', total(win.ingestion)],
          ['  reads', total(win.reads)],
          ['  reads per resync of every object', fmt(readsPerResync, 0)],
          ['  reads per AWS resource per resync (target <= 1)', fmt(readsPerResync / resources, 2)],
          ['  reads per tenant per resync', fmt(readsPerResync / n, 2)],
          ['calls per hour with every object resynced every 600 s', fmt(readsPerResync * 6, 0)],
          ['  per tenant per hour', fmt((readsPerResync * 6) / n, 1)],
          ['operator peak RSS of this process (MiB)', fmt(memSteady.peakMiB)],
        ]),
      );
      out.push(
        `\nReads per resync in the window, by API:\n${table(
          sorted(win.reads).map(([k, v]) => {
            const kind = READ_KIND[k];
            const count = kind ? need.resources[kind] : 0;
            return [k, fmt(v / (resyncsInWindow || 1), 0), kind ?? '', count ? fmt(v / (resyncsInWindow || 1) / count, 2) : ''];
          }),
          ['service:operation', 'reads', 'observes', 'per resource'],
        )}`,
      );
      out.push(
        `\nReads of the start-up pass, by API:\n${table(
          sorted(sweep.reads).map(([k, v]) => {
            const kind = READ_KIND[k];
            const count = kind ? need.resources[kind] : 0;
            return [k, v, kind ?? '', count ? fmt(v / count, 2) : ''];
          }),
          ['service:operation', 'reads', 'observes', 'per resource'],
        )}`,
      );
      const perKind = new Map<string, number>();
      for (const [k, v] of sweep.reads) {
        const kind = READ_KIND[k];
        if (kind) perKind.set(kind, (perKind.get(kind) ?? 0) + v);
      }
      out.push(
        `\nReads per resource of each kind in the start-up pass: ${[...perKind]
          .map(([kind, v]) => `${kind} ${fmt(v / (need.resources[kind as keyof typeof need.resources] || 1), 2)}`)
          .join(', ')}`,
      );
      Object.assign(report, {
        fullPassReadsPerResourceByKind: Object.fromEntries(
          [...perKind].map(([k, v]) => [k, v / (need.resources[k as keyof typeof need.resources] || 1)]),
        ),
      });
      if (win.writes.size || sweep.writes.size)
        out.push(`\nWrites at steady state:\n${table(sorted(new Map([...sweep.writes, ...win.writes])))}`);
      if (win.ingestion.size) out.push(`\nIngestion calls in the window:\n${table(sorted(win.ingestion))}`);
      Object.assign(report, {
        resyncSeconds,
        windowSeconds,
        sweepMs,
        fullPassReads: fullPass,
        fullPassReadsByApi: Object.fromEntries(sorted(sweep.reads)),
        fullPassWrites: total(sweep.writes),
        readsPerResourcePerFullPass: fullPass / resources,
        readsPerResync,
        readsPerResourcePerResync: readsPerResync / resources,
        callsPerHourAt600: readsPerResync * 6,
        windowPasses: winPasses,
        windowExpectedPasses: expectedPasses,
        windowCalls: Object.fromEntries(sorted(new Map([...win.reads, ...win.writes, ...win.ingestion]))),
        steadyWrites: total(win.writes) + total(sweep.writes),
        steadyIngestionCalls: total(win.ingestion),
        windowReadsPerHour: winReadsPerHour,
        windowReadsPerHourScaledTo600: (winReadsPerHour * resyncSeconds) / 600,
        memorySteady: memSteady,
      });
    }

    // ---- Throttling in statuses, and memory ------------------------------------------------------
    const finalAll = JSON.parse(await c.kube.kubectl('get', 'tenants,tenanttiers', '-o', 'json')) as {
      items: { kind: string; metadata: { name: string } }[];
    };
    const finalMentions = finalAll.items.flatMap((o) => throttleMentions(o.kind, o as never));
    const lastSamples = await op.samples();
    const sdkThrottles = byApi(lastSamples, 'tenant_rag_operator_aws_throttled_total');
    const peak = Math.max(memReady.peakMiB, (report.memorySynced as { peakMiB?: number } | undefined)?.peakMiB ?? 0);
    out.push('\n== Throttling and memory');
    out.push(
      table([
        [
          'throttled responses served by the emulators (whole run)',
          total(motoProxy.stats.throttled) + total(aossProxy.stats.throttled) + total(c.fakes.faults.throttled),
        ],
        ['statuses that ever mentioned throttling (every status write, watched)', tenants.mentions.length + tiers.mentions.length],
        ['statuses that mention throttling at the end', finalMentions.length],
        ['status events watched', tenants.events + tiers.events],
        ['operator RSS before any object existed (MiB)', fmt(memIdle.rssMiB)],
        ['operator heap used before any object existed (MiB)', fmt(heapIdle)],
        ['operator peak RSS, onboarding and first syncs (MiB)', fmt(peak)],
        ['operator heap used when all were Ready (MiB)', fmt(report.heapUsedMiBAtReady as number)],
      ]),
    );
    const mentions = [...tenants.mentions, ...tiers.mentions];
    if (mentions.length)
      out.push(
        `\nFirst throttling mentions:\n${mentions
          .slice(0, 5)
          .map((m) => `  ${m.kind}/${m.name} ${m.type} ${m.reason ?? ''}: ${m.message ?? ''}`)
          .join('\n')}`,
      );
    Object.assign(report, {
      statusThrottleMentions: mentions.length,
      finalThrottleMentions: finalMentions.length,
      peakRssMiB: peak,
      idleRssMiB: memIdle.rssMiB,
      idleHeapUsedMiB: heapIdle,
      throttledSdkSteady: Object.fromEntries(sdkThrottles),
      proxyServed: Object.fromEntries([...motoProxy.stats.served, ...aossProxy.stats.served]),
    });
    process.stdout.write(`${out.join('\n')}\n`);
    if (values.json) await writeFile(values.json, JSON.stringify(report, null, 2));
  } finally {
    tenants.stop();
    tiers.stop();
    await op?.stop();
    await Promise.all([motoProxy.stop(), aossProxy.stop()]);
    await c.stop();
  }
}

await main();
