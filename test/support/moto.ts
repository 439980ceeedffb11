/**
 * The moto AWS emulator (PyPI `moto[server]`, installed into a venv by scripts/setup.sh), started
 * on a free loopback port through moto-server.py (moto_server with one fidelity fix for bucket
 * policy conditions). The SDK reaches it through the standard AWS_ENDPOINT_URL_* settings.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, freePort, type Proc, startProcess, stopProcess } from './processes.js';

/** Pinned moto version; scripts/setup.sh installs the same. */
export const MOTO_VERSION = process.env.MOTO_VERSION ?? '5.2.5';

/** A running moto server. */
export interface Moto {
  endpoint: string;
  /** Environment that points the AWS SDK at this server with dummy credentials. */
  env: Record<string, string>;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Path of the moto_server entry point. */
export function motoBinary(): string {
  const cache = process.env.TRO_CACHE ?? join(homedir(), '.cache/tenant-rag-operator');
  return join(cache, `moto-${MOTO_VERSION}`, 'bin', 'moto_server');
}

/** moto_server with a fidelity fix (see moto-server.py), run by the venv's Python. */
const MOTO_SERVER_PY = fileURLToPath(new URL('./moto-server.py', import.meta.url));

/** Starts moto; resolves when it answers. */
export async function startMoto(logFile: string): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://localhost:${port}`;
  const python = join(motoBinary(), '..', 'python3');
  const proc: Proc = startProcess(python, [MOTO_SERVER_PY, '-H', '127.0.0.1', '-p', String(port)], logFile);
  await eventually(
    async () => ((await fetch(`${endpoint}/moto-api/`).catch(() => undefined))?.ok ? true : undefined),
    30_000,
    `moto on ${endpoint} (log: ${logFile})`,
    200,
  );
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
    },
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
    },
    stop: () => stopProcess(proc),
  };
}
