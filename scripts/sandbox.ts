/**
 * The local sandbox: builds or reuses the control plane and AWS emulator, installs the CRDs,
 * applies config/samples/, runs the operator, and shows the objects with their conditions.
 * Runs until Ctrl-C, then stops everything and removes the control plane's temporary data (the
 * logs stay in .sandbox/). `--check` exits after showing them (0 when all are Ready).
 */
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../test/support/controlplane.js';
import { TestKube } from '../test/support/kube.js';
import { startMoto } from '../test/support/moto.js';
import { withModelCheck } from '../test/support/cluster.js';
import { formatViolations, takeUnreported } from '../test/support/model-check/recorder.js';
import { clientsFor } from '../test/support/aws.js';
import { createBoundary } from '../test/support/boundary.js';
import { startMinistack } from '../test/support/ministack.js';
import { startAwsFakes } from '../test/support/fakes/index.js';
import { startBedrockModelsFake } from '../test/support/fakes/bedrock-models.js';
import { startRedis } from '../test/support/redis.js';
import { startSandboxGateway } from './sandbox-gateway.js';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { modelIdDimension } from '../src/usage/queries.js';
import { parse, stringify } from 'yaml';
import { eventually, run, startProcess, stopProcess } from '../test/support/processes.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const state = join(root, '.sandbox');
const { values } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    'timeout-seconds': { type: 'string', default: '240' },
    // Token usage for the sample inference profiles, as Bedrock would publish it to CloudWatch.
    'no-seed': { type: 'boolean', default: false },
  },
});
const say = (msg: string): void => {
  process.stdout.write(`sandbox: ${msg}\n`);
};

interface Listed {
  kind: string;
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
}

async function main(): Promise<number> {
  await mkdir(state, { recursive: true });
  say('installing or reusing etcd, kube-apiserver and moto (first run builds kube-apiserver: a few minutes)');
  await run('bash', [join(root, 'scripts/setup.sh')]);
  // Ctrl-C (or SIGTERM) at any point from here on stops and cleans up whatever was started: a
  // start under way finishes first (so it can be undone), a wait (for Ready, for usage, for Ctrl-C)
  // is abandoned, and a second Ctrl-C does not cut the clean-up short.
  let stopped = false;
  let interrupted: () => void = () => undefined;
  const stop = new Promise<void>((resolve) => {
    interrupted = resolve;
  });
  const onSignal = (): void => {
    if (stopped) say('still stopping: removing the control plane and its data');
    stopped = true;
    interrupted();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  /** `wait`'s result, or undefined as soon as the sandbox is told to stop. */
  const unlessStopped = <T>(wait: Promise<T>): Promise<T | undefined> => Promise.race([wait, stop.then(() => undefined)]);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const cp = await startControlPlane({ logDir: state });
    // Only the logs go to .sandbox/; etcd's data, the keys and certificates (about 60 MB) sit in
    // a temporary folder of their own, which the control plane keeps when given a log dir.
    cleanups.unshift(async () => {
      await cp.stop();
      await rm(cp.dir, { recursive: true, force: true });
    });
    if (stopped) return 130;
    // Every call the operator makes, and every answer, is checked against AWS's API models.
    const [moto, ministack] = await Promise.all([
      startMoto(join(state, 'moto.log')).then((m) => withModelCheck(m, 'moto')),
      startMinistack(join(state, 'ministack.log')).then((m) => withModelCheck(m, 'ministack')),
    ]);
    cleanups.unshift(() => Promise.all([moto.stop(), ministack.stop()]).then(() => undefined));
    // Redis before the operator: the gateway's quota counters live there, and the operator reads
    // them (gatewayRedis) to show the gateway's usage on status.
    const [fakes, bedrock, redis] = await Promise.all([
      startAwsFakes({ motoEndpoint: moto.endpoint, ministackEndpoint: ministack.endpoint }),
      startBedrockModelsFake(),
      startRedis(join(state, 'redis.log')),
    ]);
    cleanups.unshift(() => Promise.all([fakes.stop(), bedrock.stop(), redis.close()]).then(() => undefined));
    if (stopped) return 130;
    // The sandbox's settings plus where the local emulators are.
    const settings = parse(await readFile(join(root, 'config/sandbox/operator.yaml'), 'utf8')) as Record<string, Record<string, unknown>>;
    const operatorConfig = join(state, 'operator.yaml');
    // Every role the operator creates carries the boundary, as in a real account.
    const named = settings as unknown as { region: string; resourcePrefix: string; clusterName: string };
    const permissionsBoundaryArn = await createBoundary(clientsFor(moto).iam, {
      accountId: '123456789012',
      region: named.region,
      prefix: named.resourcePrefix,
      cluster: named.clusterName,
    });
    await writeFile(
      operatorConfig,
      stringify({
        ...settings,
        // The principal the local data plane maps the emulators' credentials to.
        operatorRoleArn: 'arn:aws:iam::123456789012:role/rag-operator',
        permissionsBoundaryArn,
        aws: { ...settings.aws, openSearchDataPlaneUrl: fakes.dataPlaneUrl },
        // The gateway's Redis, read every few seconds so its usage shows on status soon after a call.
        gatewayRedis: { url: redis.url, pollSeconds: 5 },
      }),
    );
    const kubeconfig = join(state, 'kubeconfig');
    await copyFile(cp.kubeconfig, kubeconfig);
    cleanups.unshift(() => rm(kubeconfig, { force: true }));
    const kube = new TestKube(kubeconfig);
    say(
      `control plane at ${cp.server}; AWS emulators: moto ${moto.endpoint}, ministack ${ministack.endpoint}, bedrock-agent ${fakes.env.AWS_ENDPOINT_URL_BEDROCK_AGENT ?? ''}`,
    );
    await kube.kubectl('apply', '-f', join(root, 'crds'));
    await kube.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
    await kube.kubectl('create', 'namespace', 'tenant-rag-system');
    const operator = startProcess(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'src/main.ts'),
        '--kubeconfig',
        kubeconfig,
        '--config',
        operatorConfig,
        '--identity',
        'sandbox',
        '--health-port',
        '0',
        '--metrics-port',
        '0',
      ],
      join(state, 'operator.log'),
      { ...process.env, ...moto.env, ...ministack.env, ...fakes.env, ...bedrock.env },
    );
    cleanups.unshift(() => stopProcess(operator));
    await kube.kubectl('apply', '-f', join(root, 'config/samples'));
    say('applied config/samples/; waiting for the operator to report status');
    const deadline = Date.now() + Number(values['timeout-seconds']) * 1000;
    let code = await unlessStopped(waitReady(kube, deadline));
    if (code === 0 && !values['no-seed']) code = await unlessStopped(seedUsage(kube, moto.endpoint, deadline));
    if (code === undefined || stopped) return 130;
    // The tenant gateway, once the stacks it serves are Ready.
    const parts = { state, kubeconfig, kube, aws: clientsFor(moto), moto, fakes, bedrock, redis, say };
    const gateway = code === 0 ? await unlessStopped(startSandboxGateway(parts, deadline)) : undefined;
    if (gateway) cleanups.unshift(...gateway.stops);
    if (stopped) return 130;
    await show(kube);
    say(`point kubectl at it:  export KUBECONFIG=${kubeconfig}`);
    say('logs: .sandbox/operator.log, .sandbox/kube-apiserver.log, .sandbox/moto.log, .sandbox/ministack.log');
    if (gateway) {
      say(`retrieve acme's documents through the tenant gateway:\n  ${gateway.curl}`);
      say(
        `call acme's model through it (the tokens show on acme-claude's and acme's status.usage.gateway within seconds):\n  ${gateway.chatCurl}`,
      );
      say(`see them:  ${gateway.usageCommand}`);
      if (values.check && code === 0) code = await gateway.check();
    }
    const broken = takeUnreported();
    if (broken.length > 0) {
      say(`${broken.length} AWS call(s) broke AWS's API model (botocore):\n${formatViolations(broken)}`);
      if (code === 0) code = 1;
    }
    if (values.check) return code;
    say('running; press Ctrl-C to stop and clean up');
    await stop;
    return 0;
  } finally {
    stopped = true;
    say('stopping');
    for (const c of cleanups) await c().catch(() => undefined);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function listAll(kube: TestKube): Promise<Listed[]> {
  return (JSON.parse(await kube.kubectl('get', 'tenanttiers,tenants,modelaccesses', '-o', 'json')) as { items: Listed[] }).items;
}

/** Waits for every sample to be Ready; 1 if not all are by the deadline. */
async function waitReady(kube: TestKube, deadline: number): Promise<number> {
  try {
    await eventually(
      async () => {
        const items = await listAll(kube);
        return items.length > 0 && items.every((i) => i.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
          ? true
          : undefined;
      },
      Math.max(deadline - Date.now(), 1),
      'every sample to be Ready',
      500,
    );
    return 0;
  } catch {
    say('not every sample became Ready in time; see the conditions below and .sandbox/operator.log');
    return 1;
  }
}

/**
 * Publishes token counts for every sample profile to CloudWatch (as Bedrock does per inference
 * profile) and waits for the operator to show usage and cost on the ModelAccess objects.
 */
async function seedUsage(kube: TestKube, cloudwatchEndpoint: string, deadline: number): Promise<number> {
  const cw = new CloudWatchClient({
    region: 'us-east-1',
    endpoint: cloudwatchEndpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const accesses = (await listAll(kube)).filter((i) => i.kind === 'ModelAccess') as (Listed & {
    status?: { inferenceProfileArn?: string };
  })[];
  for (const [i, a] of accesses.entries()) {
    const arn = a.status?.inferenceProfileArn;
    if (!arn) continue;
    const at = new Date();
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/Bedrock',
        MetricData: [
          {
            MetricName: 'InputTokenCount',
            Dimensions: [{ Name: 'ModelId', Value: modelIdDimension(arn) }],
            Timestamp: at,
            Value: 12_000 * (i + 1),
          },
          {
            MetricName: 'OutputTokenCount',
            Dimensions: [{ Name: 'ModelId', Value: modelIdDimension(arn) }],
            Timestamp: at,
            Value: 3_000 * (i + 1),
          },
        ],
      }),
    );
  }
  say(`seeded token usage for ${accesses.length} inference profile(s); waiting for the next usage poll`);
  try {
    await eventually(
      async () =>
        (await listAll(kube))
          .filter((i) => i.kind === 'ModelAccess')
          .every((i) => ((i.status as { usage?: { totalTokens?: number } } | undefined)?.usage?.totalTokens ?? 0) > 0)
          ? true
          : undefined,
      Math.max(deadline - Date.now(), 1),
      'usage on every ModelAccess',
      1_000,
    );
    return 0;
  } catch {
    say('usage did not appear in time; see .sandbox/operator.log');
    return 1;
  }
}

/** Prints the objects and their conditions. */
async function show(kube: TestKube): Promise<void> {
  process.stdout.write(`\n${await kube.kubectl('get', 'tenanttiers,tenants,modelaccesses', '-o', 'wide')}\n`);
  for (const item of await listAll(kube)) {
    for (const c of item.status?.conditions ?? [])
      process.stdout.write(`  ${item.kind}/${item.metadata.name}  ${c.type}=${c.status}  ${c.reason}: ${c.message}\n`);
  }
}

// Exits explicitly: a wait abandoned on Ctrl-C may still hold a timer.
main().then(
  (c) => process.exit(c),
  (e: unknown) => {
    process.stderr.write(`sandbox: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
