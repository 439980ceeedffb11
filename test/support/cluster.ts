/** A per-file test cluster: control plane with the CRDs installed, and the AWS emulator. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ControlPlane, startControlPlane } from './controlplane.js';
import { TestKube } from './kube.js';
import { type Moto, startMoto } from './moto.js';

const crds = fileURLToPath(new URL('../../crds', import.meta.url));

/** A control plane with the CRDs established, a test client, and moto. */
export interface TestCluster {
  cp: ControlPlane;
  kube: TestKube;
  moto: Moto;
  stop(): Promise<void>;
}

/** Starts a control plane and moto, and installs the CRDs. */
export async function startTestCluster(): Promise<TestCluster> {
  const cp = await startControlPlane();
  const moto = await startMoto(join(cp.dir, 'moto.log'));
  const kube = new TestKube(cp.kubeconfig);
  await kube.kubectl('apply', '-f', crds);
  await kube.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
  return {
    cp,
    kube,
    moto,
    async stop() {
      await moto.stop();
      await cp.stop();
    },
  };
}
