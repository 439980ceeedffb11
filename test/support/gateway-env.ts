/**
 * What the tenant gateway needs around a TestCluster: the bedrock-agent-runtime fake (Retrieve,
 * RetrieveAndGenerate over the vectors ingestion indexed) and the bedrock-runtime fake (Converse,
 * ConverseStream on the inference profiles the Bedrock fake holds), both authorizing callers from
 * their role policies in the cluster's moto.
 */
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestCluster } from './cluster.js';
import { type BedrockAgentRuntimeFake, startBedrockAgentRuntimeFake } from './fakes/bedrock-agent-runtime.js';
import { type BedrockRuntimeFake, startBedrockRuntimeFake } from './fakes/bedrock-runtime.js';
import { RuntimeAuth } from './fakes/bedrock-runtime-auth.js';
import type { InferenceProfiles } from './fakes/bedrock-runtime-converse.js';
import { Faults } from './fakes/http.js';
import { eventually, freePort, type Proc, startProcess, stopProcess } from './processes.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The running runtime fakes. */
export interface GatewayFakes {
  agentRuntime: BedrockAgentRuntimeFake;
  runtime: BedrockRuntimeFake;
  /** Fault injection for both (`Retrieve`, `RetrieveAndGenerate`, `Converse`, `ConverseStream`). */
  faults: Faults;
  /** Environment for a gateway process: the runtime endpoints, and moto for STS. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the bedrock-agent-runtime and bedrock-runtime fakes over `c`'s emulators. */
export async function startGatewayFakes(c: Pick<TestCluster, 'moto' | 'fakes' | 'bedrock'>): Promise<GatewayFakes> {
  const iam = new IAMClient({
    region: 'us-east-1',
    endpoint: c.moto.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 2,
  });
  const auth = new RuntimeAuth(c.moto.endpoint, iam);
  const faults = new Faults();
  const profiles: InferenceProfiles = {
    has: (x) => c.bedrock.profiles.has(x) || [...c.bedrock.profiles.values()].some((p) => p.arn === x),
  };
  const [agentRuntime, runtime] = await Promise.all([
    startBedrockAgentRuntimeFake({ fakes: c.fakes, profiles, auth, faults }),
    startBedrockRuntimeFake({ profiles, auth, faults }),
  ]);
  return {
    agentRuntime,
    runtime,
    faults,
    env: {
      ...c.moto.env,
      AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME: agentRuntime.endpoint,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: runtime.endpoint,
    },
    async stop() {
      await Promise.all([agentRuntime.stop(), runtime.stop()]);
      iam.destroy();
    },
  };
}

/** A running gateway process (src/gateway/main.ts), as a Deployment's pod would run it. */
export interface GatewayProcess {
  url: string;
  proc: Proc;
  logFile: string;
  /** Sum of one metric's samples whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a gateway on a free port with `env` (GATEWAY_* settings, AWS endpoints); resolves when ready. */
export async function startGatewayProcess(
  kubeconfig: string,
  logDir: string,
  env: Record<string, string>,
  o: {
    /** Extra Node.js flags, e.g. `--cpu-prof` (NODE_OPTIONS refuses some). */
    nodeArgs?: string[];
    /** The built gateway (dist/gateway/main.js) as the image runs it; default: the sources with tsx. */
    entry?: string;
  } = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const logFile = join(logDir, `gateway-${port}.log`);
  const entryArgs = o.entry ? [o.entry] : ['--import', 'tsx', join(repoRoot, 'src/gateway/main.ts')];
  const proc = startProcess(process.execPath, [...(o.nodeArgs ?? []), ...entryArgs], logFile, {
    ...process.env,
    KUBECONFIG: kubeconfig,
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: String(port),
    GATEWAY_LOG_LEVEL: 'debug',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => (proc.child.exitCode === null && (await fetch(`${url}/readyz`).catch(() => undefined))?.ok ? true : undefined),
    60_000,
    `gateway on ${url} ready (log: ${logFile})`,
    200,
  );
  return {
    url,
    proc,
    logFile,
    async metric(name, labels = {}) {
      const text = await (await fetch(`${url}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
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

/**
 * The role pool retrievals are made as, in moto: Retrieve on the pool tier's knowledge base only,
 * RetrieveAndGenerate (it has no resource type: only `*` grants it; the data stays behind
 * Retrieve), and, with `invokeProfiles`, the account's application inference profiles.
 */
export async function createPoolRetrievalRole(
  iam: IAMClient,
  o: { account: string; roleName: string; knowledgeBaseId: string; invokeProfiles?: boolean },
): Promise<string> {
  const trust = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${o.account}:root` }, Action: 'sts:AssumeRole' }],
  };
  await iam.send(new CreateRoleCommand({ RoleName: o.roleName, AssumeRolePolicyDocument: JSON.stringify(trust) }));
  const statements: Record<string, unknown>[] = [
    { Effect: 'Allow', Action: 'bedrock:Retrieve', Resource: `arn:aws:bedrock:us-east-1:${o.account}:knowledge-base/${o.knowledgeBaseId}` },
    { Effect: 'Allow', Action: 'bedrock:RetrieveAndGenerate', Resource: '*' },
  ];
  if (o.invokeProfiles)
    statements.push({
      Effect: 'Allow',
      Action: 'bedrock:InvokeModel',
      Resource: `arn:aws:bedrock:us-east-1:${o.account}:application-inference-profile/*`,
    });
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: o.roleName,
      PolicyName: 'retrieve-pool',
      PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
    }),
  );
  return `arn:aws:iam::${o.account}:role/${o.roleName}`;
}
