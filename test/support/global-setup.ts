/** Builds or reuses the local control plane binaries once before the integration tests. */
import { kubeApiServerBinary } from './controlplane.js';

export default async function setup(): Promise<void> {
  await kubeApiServerBinary();
}
