/** A per-file test cluster: control plane with the CRDs installed, and the AWS emulators and fakes. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAwsProxy } from './aws-proxy.js';
import { type ControlPlane, startControlPlane } from './controlplane.js';
import { type AwsFakes, startAwsFakes } from './fakes/index.js';
import { type BedrockModelsFake, startBedrockModelsFake } from './fakes/bedrock-models.js';
import { TestKube } from './kube.js';
import { type Ministack, startMinistack } from './ministack.js';
import { throwUnreported } from './model-check/recorder.js';
import { type Moto, startMoto } from './moto.js';
import { TEST_OPERATOR_SETTINGS } from './operator-process.js';

const crds = fileURLToPath(new URL('../../crds', import.meta.url));

/** A control plane with the CRDs established, a test client, moto, ministack and the AWS fakes. */
export interface TestCluster {
  cp: ControlPlane;
  kube: TestKube;
  /** S3, IAM, STS, KMS, CloudWatch. */
  moto: Moto;
  /** The OpenSearch Serverless control plane. */
  ministack: Ministack;
  /** The OpenSearch Serverless data plane and bedrock-agent. */
  fakes: AwsFakes;
  /** Bedrock's control plane: foundation models and application inference profiles. */
  bedrock: BedrockModelsFake;
  /** Value for the operator setting `aws.openSearchDataPlaneUrl` (`http://127.0.0.1:PORT/{id}`). */
  dataPlaneUrl: string;
  /** Environment for an operator process: moto for every service, ministack and the fakes where they serve. */
  awsEnv: Record<string, string>;
  /** The test settings' `aws` block with `openSearchDataPlaneUrl` set, to pass as `settings: { aws }`. */
  awsSettings: Record<string, unknown>;
  /** Resets moto, ministack and the fakes. */
  resetAws(): Promise<void>;
  /**
   * Stops everything; throws when AWS calls made since the last test ended broke AWS's API model
   * (calls during a test fail that test, through test/support/model-check/vitest-setup.ts).
   */
  stop(): Promise<void>;
}

/**
 * An emulator reached through a checking proxy (test/support/aws-proxy.ts): every request to it
 * and every answer from it, whoever sends them (the operator, the tests, the fakes), is checked
 * against AWS's API model. `endpoint` and `env` name the proxy. Tests that start moto or ministack
 * themselves can wrap them with it too.
 */
export async function withModelCheck<E extends { endpoint: string; env: Record<string, string>; stop(): Promise<void> }>(
  emulator: E,
  name: string,
): Promise<E> {
  const proxy = await startAwsProxy(emulator.endpoint, { servedBy: name, ...(name === 'moto' ? { normalise: 'moto' as const } : {}) });
  const env = Object.fromEntries(Object.entries(emulator.env).map(([k, v]) => [k, v === emulator.endpoint ? proxy.endpoint : v]));
  return {
    ...emulator,
    endpoint: proxy.endpoint,
    env,
    async stop() {
      await proxy.stop();
      await emulator.stop();
    },
  };
}

/** Starts a control plane, moto, ministack and the fakes, and installs the CRDs. */
export async function startTestCluster(): Promise<TestCluster> {
  const cp = await startControlPlane();
  const [moto, ministack] = await Promise.all([
    startMoto(join(cp.dir, 'moto.log')).then((m) => withModelCheck(m, 'moto')),
    startMinistack(join(cp.dir, 'ministack.log')).then((m) => withModelCheck(m, 'ministack')),
  ]);
  const [fakes, bedrock] = await Promise.all([
    startAwsFakes({ motoEndpoint: moto.endpoint, ministackEndpoint: ministack.endpoint }),
    startBedrockModelsFake(),
  ]);
  const kube = new TestKube(cp.kubeconfig);
  await kube.kubectl('apply', '-f', crds);
  await kube.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
  return {
    cp,
    kube,
    moto,
    ministack,
    fakes,
    bedrock,
    dataPlaneUrl: fakes.dataPlaneUrl,
    awsEnv: { ...moto.env, ...ministack.env, ...fakes.env, ...bedrock.env },
    awsSettings: { ...TEST_OPERATOR_SETTINGS.aws, openSearchDataPlaneUrl: fakes.dataPlaneUrl },
    async resetAws() {
      fakes.reset();
      bedrock.reset();
      await Promise.all([moto.reset(), ministack.reset()]);
    },
    async stop() {
      await Promise.all([fakes.stop(), bedrock.stop()]);
      await Promise.all([moto.stop(), ministack.stop()]);
      await cp.stop();
      throwUnreported('TestCluster');
    },
  };
}
