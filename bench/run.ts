/**
 * Benchmark: N tenants (spread over one tier per isolation pattern) applied at once to a real
 * kube-apiserver with the real operator process. Prints time until all are Ready, reconcile
 * passes and status writes per object, the operator's peak memory, and work-queue throughput.
 * Usage: npm run bench -- [--tenants 300] [--workers 4]
 */
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ManualClock } from '../src/runtime/clock.js';
import { KeyedBackoff } from '../src/runtime/ratelimit.js';
import { WorkQueue } from '../src/runtime/workqueue.js';
import { startTestCluster } from '../test/support/cluster.js';
import { startOperatorProcess } from '../test/support/operator-process.js';
import { eventually } from '../test/support/processes.js';

const { values } = parseArgs({ options: { tenants: { type: 'string', default: '300' }, workers: { type: 'string', default: '4' } } });
const n = Number(values.tenants);

async function peakRssMiB(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

function queueThroughput(keys: number, rounds: number): number {
  const q = new WorkQueue({ clock: new ManualClock(), backoff: new KeyedBackoff(1, 1000, 0), retryRatePerSec: 1e9, retryBurst: 1e9 });
  const start = process.hrtime.bigint();
  let ops = 0;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < keys; k++) q.add(`k${k}`);
    for (let k = 0; k < keys; k++) {
      // Synchronous drain: get() resolves immediately while the queue is non-empty.
      void q.get().then((key) => {
        if (key) q.done(key);
      });
      ops++;
    }
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return ops / secs;
}

async function main(): Promise<void> {
  const tiers = [
    ['bench-pool', 'pool'],
    ['bench-bridge', 'bridge'],
    ['bench-silo', 'silo'],
  ] as const;
  const docs: string[] = tiers.map(
    ([name, iso]) => `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${name} }\nspec: { isolation: ${iso} }\n`,
  );
  for (let i = 0; i < n; i++) {
    const tier = tiers[i % 3]?.[0] ?? 'bench-pool';
    docs.push(
      `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: t${String(i).padStart(4, '0')} }\nspec: { tier: ${tier}, deletionPolicy: Delete }\n`,
    );
  }
  const manifest = join(tmpdir(), `bench-${process.pid}.yaml`);
  await writeFile(manifest, docs.join('---\n'));

  const c = await startTestCluster();
  const op = await startOperatorProcess(c.cp.kubeconfig, {
    cluster: c,
    settings: { workers: Number(values.workers), logLevel: 'warn', leaderElection: { enabled: false } },
  });
  try {
    const t0 = Date.now();
    await c.kube.kubectl('apply', '--server-side', '-f', manifest);
    const applied = Date.now() - t0;
    await eventually(
      async () => {
        const list = JSON.parse(await c.kube.kubectl('get', 'tenants', '-o', 'json')) as {
          items: { status?: { conditions?: { type: string; status: string }[] } }[];
        };
        const ready = list.items.filter((t) => t.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')).length;
        return ready === n ? true : undefined;
      },
      600_000,
      `all ${n} tenants Ready`,
      250,
    );
    const allReady = Date.now() - t0;
    // Let the pass triggered by each status write settle, then read the counters.
    await new Promise((r) => setTimeout(r, 2000));
    const passes = await op.metric('tenant_rag_operator_reconcile_total', { controller: 'tenants' });
    const writes = await op.metric('tenant_rag_operator_status_writes_total', { kind: 'Tenant' });
    const errors = await op.metric('tenant_rag_operator_reconcile_errors_total');
    const rss = await peakRssMiB(op.proc.child.pid);
    const qps = queueThroughput(10_000, 20);
    const rows: [string, string][] = [
      ['tenants', String(n)],
      ['workers per kind', String(values.workers)],
      ['kubectl apply of all objects (ms)', String(applied)],
      ['time until all Ready (ms)', String(allReady)],
      ['tenant reconcile passes per tenant', (passes / n).toFixed(2)],
      ['tenant status writes per tenant', (writes / n).toFixed(2)],
      ['reconcile errors (all kinds)', String(errors)],
      ['operator peak RSS (MiB)', rss.toFixed(1)],
      ['work queue add+get+done per second', qps.toFixed(0)],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  } finally {
    await op.stop();
    await c.stop();
  }
}

await main();
