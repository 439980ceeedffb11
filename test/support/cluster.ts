/** A per-file test cluster: control plane with the CRDs installed. */
import { fileURLToPath } from 'node:url';
import { type ControlPlane, startControlPlane } from './controlplane.js';
import { TestKube } from './kube.js';

const crds = fileURLToPath(new URL('../../crds', import.meta.url));

/** A control plane with the CRDs established, and a test client. */
export interface TestCluster {
  cp: ControlPlane;
  kube: TestKube;
}

/** Starts a control plane and installs the CRDs. */
export async function startTestCluster(): Promise<TestCluster> {
  const cp = await startControlPlane();
  const kube = new TestKube(cp.kubeconfig);
  await kube.kubectl('apply', '-f', crds);
  await kube.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
  return { cp, kube };
}
