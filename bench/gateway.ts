/**
 * Benchmark of the tenant gateway: the latency it adds, its throughput per core and its quota
 * overshoot. A real kube-apiserver (TokenReview, informers), real Redis, moto for STS, and an
 * upstream stub that answers Retrieve and Converse at once (so the measured latency is the
 * gateway's own: token cache, scoping, the Redis reservation and settlement, the SDK call over
 * loopback). N pool tenants, each with a ModelAccess; open-loop load at fixed rates, 80 % chat
 * completions and 20 % retrievals spread over all tenants.
 *
 * Usage: npm run bench:gateway -- [--tenants 100] [--rates 100,500] [--seconds 20] [--json out.json] [--cpu-prof dir]
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../test/support/controlplane.js';
import { startGatewayProcess } from '../test/support/gateway-env.js';
import { TestKube } from '../test/support/kube.js';
import { startMoto } from '../test/support/moto.js';
import { eventually, freePort, startProcess, stopProcess } from '../test/support/processes.js';
import { startRedis } from '../test/support/redis.js';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '100' },
    rates: { type: 'string', default: '100,500' },
    seconds: { type: 'string', default: '20' },
    json: { type: 'string' },
    /** Write a CPU profile of the gateway into this directory. */
    'cpu-prof': { type: 'string' },
  },
});
const N = Number(values.tenants);
const RATES = (values.rates ?? '100,500').split(',').map(Number);
const SECONDS = Number(values.seconds);
const MODEL = 'amazon.nova-lite-v1:0';
const ACCOUNT = '123456789012';
const crds = fileURLToPath(new URL('../crds', import.meta.url));

/** Bedrock stub: Converse with fixed usage (output = min(maxTokens, 40)), Retrieve with one result. */
const STUB = `
import { createServer } from 'node:http';
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    let out;
    if (req.url.endsWith('/converse')) {
      const output = Math.min(body.inferenceConfig?.maxTokens ?? 40, 40);
      out = { output: { message: { role: 'assistant', content: [{ text: 'word '.repeat(output).trim() }] } },
        stopReason: 'end_turn', usage: { inputTokens: 12, outputTokens: output, totalTokens: 12 + output }, metrics: { latencyMs: 0 } };
    } else out = { retrievalResults: [{ content: { type: 'TEXT', text: 'a document' }, score: 1 }] };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(out));
  });
});
server.listen(Number(process.argv[1]), '127.0.0.1');
`;

/** Starts the stub in a process of its own, so it does not share the load generator's CPU time. */
async function startUpstream(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc = startProcess(process.execPath, ['--input-type=module', '-e', STUB, String(port)], join(dir, 'upstream.log'));
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

/** CPU seconds (user + system) of a process, from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tro-bench-gw-'));
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
            inferenceProfileArn: `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/${t}`,
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
      },
      values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof']}`] : [],
    );
    const pid = gw.proc.child.pid ?? 0;
    const call = async (i: number, chat: boolean): Promise<{ ms: number; status: number }> => {
      const t0 = performance.now();
      const res = await fetch(`${gw.url}${chat ? '/v1/chat/completions' : '/v1/retrieve'}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[i % N] ?? ''}`, 'content-type': 'application/json' },
        body: JSON.stringify(
          chat ? { model: MODEL, max_tokens: 64, messages: [{ role: 'user', content: `question ${i}` }] } : { query: `question ${i}` },
        ),
      });
      await res.arrayBuffer();
      return { ms: performance.now() - t0, status: res.status };
    };
    // Warm-up: every tenant's token reviewed, role session assumed, clients built.
    for (let i = 1; i < N; i += 20) await Promise.all(Array.from({ length: Math.min(20, N - i) }, (_, k) => call(i + k, true)));
    const results: Record<string, unknown>[] = [];
    for (const rate of RATES) {
      const total = rate * SECONDS;
      const lat: number[] = [];
      const statuses = new Map<number, number>();
      const cpu0 = await cpuSeconds(pid);
      const t0 = performance.now();
      const pending: Promise<void>[] = [];
      for (let k = 0; k < total; k++) {
        const due = t0 + (k * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((ok) => setTimeout(ok, wait));
        // Tenant 0 is kept for the overshoot test.
        const i = 1 + (k % (N - 1));
        pending.push(
          call(i, k % 5 !== 0).then((r) => {
            lat.push(r.ms);
            statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          }),
        );
      }
      await Promise.all(pending);
      const wall = (performance.now() - t0) / 1000;
      const cores = (await cpuSeconds(pid)) - cpu0;
      const achieved = total / wall;
      results.push({
        rate,
        achievedRps: Math.round(achieved),
        p50Ms: +pct(lat, 50).toFixed(2),
        p95Ms: +pct(lat, 95).toFixed(2),
        p99Ms: +pct(lat, 99).toFixed(2),
        gatewayCpuCores: +(cores / wall).toFixed(2),
        rpsPerCore: Math.round(achieved / Math.max(cores / wall, 0.01)),
        statuses: Object.fromEntries(statuses),
      });
    }
    // Overshoot: 50 concurrent clients on tenant 0 (10,000 tokens a day) until refused.
    let served = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        let refused = 0;
        while (refused < 3) {
          const r = await call(0, true);
          if (r.status === 200) served += 52;
          else if (r.status === 429) refused++;
          else break;
        }
      }),
    );
    const overshoot = { quota: 10_000, served, overshoot: Math.max(0, served - 10_000) };
    await gw.stop();
    const report = { tenants: N, seconds: SECONDS, results, overshoot };
    console.log(JSON.stringify(report, null, 2));
    console.log('\n| target rps | achieved | p50 ms | p95 ms | p99 ms | gateway cores | rps per core |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of results)
      console.log(
        `| ${String(r.rate)} | ${String(r.achievedRps)} | ${String(r.p50Ms)} | ${String(r.p95Ms)} | ${String(r.p99Ms)} | ${String(r.gatewayCpuCores)} | ${String(r.rpsPerCore)} |`,
      );
    console.log(`\nquota overshoot: ${served} tokens served of a ${overshoot.quota} quota (overshoot ${overshoot.overshoot})`);
    if (values.json) await writeFile(values.json, JSON.stringify(report, null, 2));
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
