/** Runs the real operator (src/main.ts) as a child process, the way a Deployment would. */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { eventually, freePort, type Proc, startProcess, stopProcess } from './processes.js';
import { EKS_CLUSTER_ARN } from './ministack.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A running operator process. */
export interface OperatorProcess {
  proc: Proc;
  identity: string;
  metricsPort: number;
  healthPort: number;
  logFile: string;
  metrics(): Promise<string>;
  /** Sum of one metric's samples whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Default settings for tests: fast leader election, approved test models. */
export const TEST_OPERATOR_SETTINGS = {
  clusterName: 'test',
  // moto is reset between tests, which would remove a boundary policy; the sandbox and the
  // boundary integration test create and use one.
  permissionsBoundaryOptional: true,
  workers: 2,
  resyncSeconds: 600,
  logLevel: 'debug',
  leaderElection: {
    enabled: true,
    namespace: 'default',
    leaseName: 'tenant-rag-operator',
    // controller-runtime's defaults: a test machine under load can stall a process for seconds,
    // and a leader that cannot renew in time exits (as it must), which would end the test.
    leaseDurationSeconds: 15,
    renewDeadlineSeconds: 10,
    retryPeriodSeconds: 2,
  },
  aws: { s3ForcePathStyle: true, maxAttempts: 3, keyPendingWindowDays: 7 },
  // The principal the data-plane fake maps the test credentials to.
  operatorRoleArn: 'arn:aws:iam::123456789012:role/rag-operator',
  // The cluster every test ministack has (Pod Identity associations go there).
  eksClusterArn: EKS_CLUSTER_ARN,
  approvedModels: [
    { id: 'anthropic.claude-3-5-sonnet-20241022-v2:0', inputPricePer1k: 0.003, outputPricePer1k: 0.015 },
    { id: 'amazon.nova-lite-v1:0', inputPricePer1k: 0.00006, outputPricePer1k: 0.00024 },
  ],
};

/** Starts the operator with `settings` merged over the test defaults. */
export async function startOperatorProcess(
  kubeconfig: string,
  opts: {
    identity?: string;
    settings?: Record<string, unknown>;
    rawConfig?: string;
    logDir?: string;
    env?: Record<string, string>;
    /** The emulators to reach: their environment and the data-plane URL setting. */
    cluster?: { awsEnv: Record<string, string>; awsSettings: Record<string, unknown> };
  } = {},
): Promise<OperatorProcess> {
  const dir = opts.logDir ?? (await mkdtemp(join(tmpdir(), 'tro-op-')));
  const identity = opts.identity ?? `op-${Math.random().toString(36).slice(2, 7)}`;
  const [metricsPort, healthPort] = [await freePort(), await freePort()];
  const configPath = join(dir, `${identity}.yaml`);
  // A raw config is used verbatim (e.g. the chart's rendered ConfigMap); ports come from flags.
  await writeFile(
    configPath,
    opts.rawConfig ??
      stringify({
        ...TEST_OPERATOR_SETTINGS,
        ...(opts.cluster ? { aws: opts.cluster.awsSettings } : {}),
        ...opts.settings,
        server: { bindAddress: '127.0.0.1' },
      }),
  );
  const logFile = join(dir, `${identity}.log`);
  const proc = startProcess(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'src/main.ts'),
      '--kubeconfig',
      kubeconfig,
      '--config',
      configPath,
      '--identity',
      identity,
      '--health-port',
      String(healthPort),
      '--metrics-port',
      String(metricsPort),
    ],
    logFile,
    { ...process.env, ...opts.cluster?.awsEnv, ...opts.env },
  );
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${healthPort}/readyz`)).ok ? true : undefined),
    60_000,
    `operator ${identity} ready (log: ${logFile})`,
    200,
  );
  return {
    proc,
    identity,
    metricsPort,
    healthPort,
    logFile,
    metrics,
    async metric(name, labels = {}) {
      const text = await metrics();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(name)) continue;
        const m = /^([a-z_]+)(\{([^}]*)\})? ([0-9.e+-]+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const lbl = new Map(
          (m[3] ?? '')
            .split(',')
            .filter(Boolean)
            .map((kv): [string, string] => {
              const [k = '', v = ''] = kv.split('=');
              return [k, v.replace(/"/g, '')];
            }),
        );
        if (Object.entries(labels).every(([k, v]) => lbl.get(k) === v)) sum += Number(m[4]);
      }
      return sum;
    },
    stop: (signal = 'SIGTERM') => stopProcess(proc, signal),
  };
}
