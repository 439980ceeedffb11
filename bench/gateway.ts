/**
 * Benchmark of the tenant gateway: the latency it adds, its throughput per core and its quota
 * overshoot. A real kube-apiserver (TokenReview, informers), real Redis, moto for STS, and an
 * upstream stub that answers Retrieve and Converse after a fixed delay. The gateway runs as the
 * image runs it (the production bundle, dist/gateway/main.js). N pool tenants, each with a
 * ModelAccess; open-loop load at fixed rates, 80 % chat completions and 20 % retrievals spread
 * over all tenants.
 *
 * At each rate the same load is sent twice, one phase after the other: straight to the stub (the
 * request bodies Bedrock would get, unsigned: the baseline holds no client-side SigV4 work, so
 * the gateway's own signing counts as added), then through the gateway. The added latency at a
 * percentile is the gateway's percentile minus the direct one. The load comes from a lean process of
 * its own (bench/open-loop.ts), not this one: this process's garbage collection paused it for
 * 15-25 ms every 1.5 s, which was most of either phase's p99.
 *
 * --pin gives the gateway the last CPU to itself (taskset) and the load generator, the stub, Redis,
 * the API server and moto the others. On a 2-core machine that overloads the one left to the
 * others (the direct baseline's p99 rises to 30-40 ms), so it is off by default.
 *
 * Usage: npm run bench:gateway -- [--tenants 100] [--rates 100,500] [--seconds 20] [--upstream-ms 10]
 *                                 [--tsx] [--pin] [--node-args="--single-threaded-gc"] [--node-options="..." (default: the chart's gateway.nodeOptions)]
 *                                 [--json out.json] [--cpu-prof dir] [--trace requests.csv]
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { execFile, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { parse } from 'yaml';
import { startControlPlane } from '../test/support/controlplane.js';
import { buildOperator } from './operator.js';
import { startGatewayProcess } from '../test/support/gateway-env.js';
import { TestKube } from '../test/support/kube.js';
import { startMoto } from '../test/support/moto.js';
import { eventually, freePort, startProcess, stopProcess } from '../test/support/processes.js';
import { startRedis } from '../test/support/redis.js';

const { values } = parseArgs({
  allowNegative: true,
  options: {
    tenants: { type: 'string', default: '100' },
    rates: { type: 'string', default: '100,500' },
    seconds: { type: 'string', default: '20' },
    /** The stub's fixed delay before it answers, in ms. */
    'upstream-ms': { type: 'string', default: '10' },
    /** Run the gateway from its TypeScript sources instead of the production bundle. */
    tsx: { type: 'boolean', default: false },
    /** Give the gateway a CPU of its own (taskset): the last one, the rest to everything else. */
    pin: { type: 'boolean', default: false },
    /** Node.js flags NODE_OPTIONS refuses (e.g. --single-threaded-gc, --trace-gc), space-separated. */
    'node-args': { type: 'string', default: '' },
    /** NODE_OPTIONS of the gateway; default: the chart's gateway.nodeOptions. */
    'node-options': { type: 'string' },
    json: { type: 'string' },
    /** Write a CPU profile of the gateway into this directory. */
    'cpu-prof': { type: 'string' },
    /** Write every request of the measured phases (rate, phase, sent ms, latency ms, route, status) to this CSV file. */
    trace: { type: 'string' },
  },
});
const N = Number(values.tenants);
const RATES = (values.rates ?? '100,500').split(',').map(Number);
const SECONDS = Number(values.seconds);
const UPSTREAM_MS = Number(values['upstream-ms']);
const chartValues = parse(await readFile(new URL('../charts/tenant-rag-operator/values.yaml', import.meta.url), 'utf8')) as {
  gateway?: { nodeOptions?: string };
};
const NODE_OPTIONS = values['node-options'] ?? chartValues.gateway?.nodeOptions ?? '';
const MODEL = 'amazon.nova-lite-v1:0';
const ACCOUNT = '123456789012';
const crds = fileURLToPath(new URL('../crds', import.meta.url));

/**
 * Bedrock stub: Converse with fixed usage (output = min(maxTokens, 40)), Retrieve with one result,
 * each after a fixed delay (argv[2] ms).
 */
const STUB = `
import { createServer } from 'node:http';
const delay = Number(process.argv[2]);
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => setTimeout(() => {
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    let out;
    if (req.url.endsWith('/converse')) {
      const output = Math.min(body.inferenceConfig?.maxTokens ?? 40, 40);
      out = { output: { message: { role: 'assistant', content: [{ text: 'word '.repeat(output).trim() }] } },
        stopReason: 'end_turn', usage: { inputTokens: 12, outputTokens: output, totalTokens: 12 + output }, metrics: { latencyMs: 0 } };
    } else out = { retrievalResults: [{ content: { type: 'TEXT', text: 'a document' }, score: 1 }] };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
  }, delay));
});
server.listen(Number(process.argv[1]), '127.0.0.1');
`;

/** Starts the stub in a process of its own, so it does not share the load generator's CPU time. */
async function startUpstream(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc = startProcess(
    process.execPath,
    ['--input-type=module', '-e', STUB, String(port), String(UPSTREAM_MS)],
    join(dir, 'upstream.log'),
  );
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => ((await fetch(`${url}/knowledgebases/x/retrieve`, { method: 'POST' }).catch(() => undefined))?.ok ? true : undefined),
    10_000,
    'the upstream stub',
  );
  return { url, stop: () => stopProcess(proc) };
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** One request of a phase: where it goes and what it carries. */
interface Template {
  path: string;
  headers: Record<string, string>;
  body: unknown;
}
/** The request for tenant index `i`, a chat completion (else a retrieval). */
type Make = (i: number, chat: boolean) => Template;

interface Phase {
  lat: number[];
  wall: number;
  /** From the first request sent (warm-up included) to the last answer. */
  loadSeconds: number;
  /** How far behind its schedule the load generator sent a recorded request at worst. */
  maxLagMs: number;
  achieved: number;
  statuses: Record<number, number>;
  /** CSV lines: sent (ms since the phase began), latency ms, route, status. */
  trace: string[];
}

/**
 * `rate` requests a second for `seconds` to `origin`, open loop, from the load generator's own
 * process (bench/open-loop.ts), after `warmupSeconds` of the same load that are not recorded: 4 of 5 chat completions, spread over tenants 1..N-1 (tenant 0 is
 * kept for the overshoot test). The sequence repeats every lcm(N-1, 5) requests, so that many
 * templates describe it exactly.
 */
async function openLoop(rate: number, seconds: number, origin: string, make: Make, warmupSeconds = 1): Promise<Phase> {
  const period = lcm(N - 1, 5);
  const requests = Array.from({ length: period }, (_, k) => make(1 + (k % (N - 1)), k % 5 !== 0));
  const child = spawn(process.execPath, [fileURLToPath(new URL('./open-loop.ts', import.meta.url))], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const out: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => out.push(c));
  const exited = new Promise<number | null>((ok) => child.once('exit', ok));
  child.stdin.end(JSON.stringify({ rate, seconds, warmupSeconds, origin, requests }));
  const code = await exited;
  if (code !== 0) throw new Error(`the load generator exited with ${String(code)}`);
  const r = JSON.parse(Buffer.concat(out).toString('utf8')) as {
    wall: number;
    loadSeconds: number;
    maxLagMs: number;
    offset: number;
    sent: number[];
    ms: number[];
    status: number[];
  };
  const statuses: Record<number, number> = {};
  for (const c of r.status) statuses[c] = (statuses[c] ?? 0) + 1;
  const trace = r.ms.map(
    (ms, k) => `${(r.sent[k] ?? 0).toFixed(2)},${ms.toFixed(2)},${(k + r.offset) % 5 !== 0 ? 'chat' : 'retrieve'},${r.status[k] ?? 0}`,
  );
  // Latency is compared only between answered requests: a phase with failures (which may fail
  // fast) is not a measurement.
  const failed = r.status.filter((c) => c !== 200).length;
  if (failed > 0)
    throw new Error(`${failed} of ${r.status.length} requests to ${origin} were not answered 200: ${JSON.stringify(statuses)}`);
  return { lat: r.ms, wall: r.wall, loadSeconds: r.loadSeconds, maxLagMs: r.maxLagMs, achieved: r.ms.length / r.wall, statuses, trace };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (a: number, b: number): number => (a * b) / gcd(a, b);

const profileArn = (t: string): string => `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/${t}`;

/** Seconds the gateway has spent in garbage collection, by kind (minor, major, incremental, weakcb). */
async function gcSeconds(gw: { metric(name: string, labels?: Record<string, string>): Promise<number> }): Promise<Record<string, number>> {
  const kinds = ['minor', 'major', 'incremental', 'weakcb'];
  return Object.fromEntries(
    await Promise.all(
      kinds.map(async (kind): Promise<[string, number]> => [kind, await gw.metric('nodejs_gc_duration_seconds_sum', { kind })]),
    ),
  );
}

/** Binds every thread of process `pid` to `cpuList` (taskset's syntax). */
async function pinTo(pid: number, cpuList: string): Promise<void> {
  await promisify(execFile)('taskset', ['--all-tasks', '--cpu-list', '--pid', cpuList, String(pid)]);
}

/** CPU seconds (user + system) of a process, from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tro-bench-gw-'));
  const cpus = availableParallelism();
  // Everything started from here on inherits the bench's CPUs; the gateway is moved after its start.
  if (values.pin) await pinTo(process.pid, `0-${cpus - 2}`);
  const cp = await startControlPlane({ logDir: dir });
  const kube = new TestKube(cp.kubeconfig);
  const [moto, redis, upstream] = await Promise.all([
    startMoto(join(dir, 'moto.log')),
    startRedis(join(dir, 'redis.log')),
    startUpstream(dir),
  ]);
  try {
    await kube.kubectl('apply', '-f', crds);
    await kube.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
    const tenants = Array.from({ length: N }, (_, i) => `bench${i}`);
    const kb = 'BENCHKB001';
    const yaml = [
      `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: bench }\nspec: { isolation: pool }\n`,
      ...tenants.flatMap((t, i) => [
        `apiVersion: v1\nkind: Namespace\nmetadata: { name: ${t} }\n`,
        `apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: app, namespace: ${t} }\n`,
        `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${t} }\nspec: { tier: bench, access: { podIdentity: { namespace: ${t}, serviceAccount: app } } }\n`,
        `apiVersion: rag.tenancy.dev/v1alpha1\nkind: ModelAccess\nmetadata: { name: ${t}-m }\nspec: { tenantRef: { name: ${t} }, model: "${MODEL}", quota: { tokensPerDay: ${i === 0 ? 10_000 : 1_000_000_000} } }\n`,
      ]),
    ].join('---\n');
    await writeFile(join(dir, 'all.yaml'), yaml);
    await kube.kubectl('apply', '--server-side', '-f', join(dir, 'all.yaml'));
    // Status as the operator would write it (no operator runs in this benchmark).
    const ready = { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'bench', lastTransitionTime: '2026-12-01T00:00:00Z' };
    const patch = (kind: string, name: string, status: unknown): Promise<string> =>
      kube.kubectl('patch', kind, name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status }));
    await patch('tenanttier', 'bench', { conditions: [ready], shared: { knowledgeBaseId: kb } });
    for (let i = 0; i < N; i += 10) {
      await Promise.all(
        tenants.slice(i, i + 10).flatMap((t) => [
          patch('tenant', t, {
            conditions: [ready],
            isolation: 'pool',
            resources: { knowledgeBaseId: kb, roleArn: `arn:aws:iam::${ACCOUNT}:role/rag-tenant/rag-bench-t-${t}-app` },
          }),
          patch('modelaccess', `${t}-m`, {
            conditions: [ready],
            inferenceProfileArn: profileArn(t),
          }),
        ]),
      );
    }
    const tokens = await Promise.all(
      tenants.map(async (t) =>
        (await kube.kubectl('create', 'token', 'app', '-n', t, '--audience', 'tenant-rag-gateway', '--duration', '1h')).trim(),
      ),
    );
    const gw = await startGatewayProcess(
      cp.kubeconfig,
      dir,
      {
        ...moto.env,
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME: upstream.url,
        AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME: upstream.url,
        GATEWAY_REDIS_URL: redis.url,
        GATEWAY_LOG_LEVEL: 'warn',
        NODE_OPTIONS,
      },
      {
        nodeArgs: [
          ...(values['node-args'] ?? '').split(/\s+/).filter(Boolean),
          ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : []),
        ],
        entry: values.tsx ? undefined : join(dirname(await buildOperator()), 'gateway/main.js'),
      },
    );
    const pid = gw.proc.child.pid ?? 0;
    if (values.pin) await pinTo(pid, String(cpus - 1));
    const question = (i: number): string => `question ${i}`;
    const viaGateway: Make = (i, chat) => ({
      path: chat ? '/v1/chat/completions' : '/v1/retrieve',
      headers: { authorization: `Bearer ${tokens[i % N] ?? ''}` },
      body: chat ? { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: question(i) }] } : { query: question(i) },
    });
    // What the gateway sends Bedrock for the same request (the stub reads only these fields).
    const direct: Make = (i, chat) => {
      const t = tenants[i % N] ?? '';
      return chat
        ? {
            path: `/model/${encodeURIComponent(profileArn(t))}/converse`,
            headers: {},
            body: { messages: [{ role: 'user', content: [{ text: question(i) }] }], inferenceConfig: { maxTokens: 64 } },
          }
        : {
            path: `/knowledgebases/${kb}/retrieve`,
            headers: {},
            body: {
              retrievalQuery: { text: question(i) },
              retrievalConfiguration: {
                vectorSearchConfiguration: { numberOfResults: 5, filter: { equals: { key: 'tenantId', value: t } } },
              },
            },
          };
    };
    /** One request through the gateway from this process (warm-up and the overshoot test). */
    const callGateway = async (i: number, chat: boolean): Promise<number> => {
      const t = viaGateway(i, chat);
      const res = await fetch(`${gw.url}${t.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...t.headers },
        body: JSON.stringify(t.body),
      });
      await res.arrayBuffer();
      return res.status;
    };
    // Warm-up: every tenant's token reviewed, role session assumed, clients built.
    for (let i = 1; i < N; i += 20) await Promise.all(Array.from({ length: Math.min(20, N - i) }, (_, k) => callGateway(i + k, true)));
    const results: Record<string, unknown>[] = [];
    const traces: string[] = ['rate,phase,sent_ms,latency_ms,route,status'];
    for (const rate of RATES) {
      const base = await openLoop(rate, SECONDS, upstream.url, direct);
      const cpu0 = await cpuSeconds(pid);
      const gc0 = await gcSeconds(gw);
      const through = await openLoop(rate, SECONDS, gw.url, viaGateway);
      // The gateway's CPU time over the phase's load, its warm-up included (the process's start
      // and end around it add a little CPU of the gateway's and no time: cores err high).
      const cores = ((await cpuSeconds(pid)) - cpu0) / through.loadSeconds;
      const gc1 = await gcSeconds(gw);
      traces.push(...base.trace.map((l) => `${rate},direct,${l}`), ...through.trace.map((l) => `${rate},gateway,${l}`));
      const added = (p: number): number => +(pct(through.lat, p) - pct(base.lat, p)).toFixed(2);
      results.push({
        rate,
        achievedRps: Math.round(through.achieved),
        loadGeneratorMaxLagMs: { direct: +base.maxLagMs.toFixed(2), gateway: +through.maxLagMs.toFixed(2) },
        directMs: { p50: +pct(base.lat, 50).toFixed(2), p95: +pct(base.lat, 95).toFixed(2), p99: +pct(base.lat, 99).toFixed(2) },
        gatewayMs: { p50: +pct(through.lat, 50).toFixed(2), p95: +pct(through.lat, 95).toFixed(2), p99: +pct(through.lat, 99).toFixed(2) },
        addedMs: { p50: added(50), p95: added(95), p99: added(99) },
        gatewayCpuCores: +cores.toFixed(2),
        rpsPerCore: Math.round(through.achieved / Math.max(cores, 0.01)),
        statuses: { direct: base.statuses, gateway: through.statuses },
        // The gateway's own view (prom-client's process metrics) after the phase.
        gatewayRssMiB: +((await gw.metric('process_resident_memory_bytes')) / 2 ** 20).toFixed(1),
        gatewayHeapUsedMiB: +((await gw.metric('nodejs_heap_size_used_bytes')) / 2 ** 20).toFixed(1),
        gatewayHeapTotalMiB: +((await gw.metric('nodejs_heap_size_total_bytes')) / 2 ** 20).toFixed(1),
        gatewayExternalMiB: +((await gw.metric('nodejs_external_memory_bytes')) / 2 ** 20).toFixed(1),
        gcMsPerSecond: Object.fromEntries(
          Object.keys(gc1).map((k) => [k, +((1000 * ((gc1[k] ?? 0) - (gc0[k] ?? 0))) / through.loadSeconds).toFixed(1)]),
        ),
      });
    }
    // Overshoot: 50 concurrent clients on tenant 0 (10,000 tokens a day) until refused.
    let served = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        let refused = 0;
        while (refused < 3) {
          const status = await callGateway(0, true);
          if (status === 200) served += 52;
          else if (status === 429) refused++;
          else break;
        }
      }),
    );
    const overshoot = { quota: 10_000, served, overshoot: Math.max(0, served - 10_000) };
    await gw.stop();
    const report = {
      tenants: N,
      seconds: SECONDS,
      upstreamMs: UPSTREAM_MS,
      pinned: values.pin,
      nodeOptions: NODE_OPTIONS,
      nodeArgs: values['node-args'],
      results,
      overshoot,
    };
    console.log(JSON.stringify(report, null, 2));
    console.log(
      `\n${values.pin ? `gateway on CPU ${cpus - 1}, the rest on 0-${cpus - 2}; ` : ''}NODE_OPTIONS ${NODE_OPTIONS || '(none)'}${values['node-args'] ? `, flags ${values['node-args']}` : ''}; upstream delay ${UPSTREAM_MS} ms; added = through the gateway minus straight to the upstream, per percentile`,
    );
    console.log(
      '| target rps | achieved | direct p50 / p95 / p99 ms | gateway p50 / p95 / p99 ms | added p50 / p95 / p99 ms | gateway cores | rps per core | load generator max lag ms (direct / gateway) |',
    );
    console.log('|---|---|---|---|---|---|---|---|');
    const lags = (x: unknown): string => {
      const m = x as { direct: number; gateway: number };
      return `${m.direct} / ${m.gateway}`;
    };
    const three = (x: unknown): string => {
      const m = x as { p50: number; p95: number; p99: number };
      return `${m.p50} / ${m.p95} / ${m.p99}`;
    };
    for (const r of results)
      console.log(
        `| ${String(r.rate)} | ${String(r.achievedRps)} | ${three(r.directMs)} | ${three(r.gatewayMs)} | ${three(r.addedMs)} | ${String(r.gatewayCpuCores)} | ${String(r.rpsPerCore)} | ${lags(r.loadGeneratorMaxLagMs)} |`,
      );
    console.log(`\nquota overshoot: ${served} tokens served of a ${overshoot.quota} quota (overshoot ${overshoot.overshoot})`);
    if (values.json) await writeFile(values.json, JSON.stringify(report, null, 2));
    if (values.trace) await writeFile(values.trace, `${traces.join('\n')}\n`);
  } finally {
    await upstream.stop();
    await redis.close();
    await moto.stop();
    await cp.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
