/**
 * A real Kubernetes control plane for tests and the sandbox, started the way envtest does it:
 * etcd on a free loopback port with a temporary data dir, kube-apiserver (built from the Go
 * modules by scripts/build-kube-apiserver.sh) with RBAC on and client-certificate auth, and a
 * kubeconfig for an admin in `system:masters`. There is no controller-manager: namespaces never
 * finish deleting and garbage collection does not run.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, freePort, type Proc, run, startProcess, stopProcess } from './processes.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A running control plane. */
export interface ControlPlane {
  dir: string;
  kubeconfig: string;
  server: string;
  /** The API server's port. */
  port: number;
  /** Stops and starts kube-apiserver on the same port and etcd (for recovery tests). */
  restartApiServer(downMs?: number): Promise<void>;
  /** Writes an admin kubeconfig that reaches the API server through another port (a proxy). */
  kubeconfigVia(name: string, port: number): Promise<string>;
  /** Writes a kubeconfig that authenticates with a bearer token (e.g. a ServiceAccount's). */
  kubeconfigForToken(name: string, token: string): Promise<string>;
  stop(): Promise<void>;
}

/** Path of the kube-apiserver binary, building it if it is not cached yet. */
export async function kubeApiServerBinary(): Promise<string> {
  return (await run('bash', [join(repoRoot, 'scripts/build-kube-apiserver.sh')])).trim();
}

async function makeCertificates(dir: string): Promise<void> {
  const o = (args: string[]): Promise<string> => run('openssl', args, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await o(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=tenant-rag-operator-local-ca']);
  await writeFile(join(dir, 'serving.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  const sign = async (name: string, subj: string, ext: string): Promise<void> => {
    await o(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj]);
    await o([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '30',
      '-extfile',
      ext,
    ]);
  };
  await sign('serving', '/CN=kube-apiserver', 'serving.ext');
  await sign('admin', '/O=system:masters/CN=admin', 'client.ext');
  await o(['genrsa', '-out', 'sa.key', '2048']);
  await o(['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

function kubeconfigYaml(server: string, dir: string, user: Record<string, string>): string {
  const userLines = Object.entries(user)
    .map(([k, v]) => `    ${k}: ${v}`)
    .join('\n');
  return `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${server}
    certificate-authority: ${join(dir, 'ca.crt')}
users:
- name: user
  user:
${userLines}
contexts:
- name: local
  context: { cluster: local, user: user }
current-context: local
`;
}

async function waitReady(server: string, dir: string, timeoutMs: number): Promise<void> {
  const ca = readFileSync(join(dir, 'ca.crt'));
  const cert = readFileSync(join(dir, 'admin.crt'));
  const key = readFileSync(join(dir, 'admin.key'));
  await eventually(
    () =>
      new Promise<true | undefined>((resolve) => {
        const req = request(`${server}/readyz`, { ca, cert, key, timeout: 2000 }, (res) => {
          res.resume();
          resolve(res.statusCode === 200 ? true : undefined);
        });
        req.on('error', () => resolve(undefined));
        req.end();
      }),
    timeoutMs,
    'kube-apiserver /readyz',
    250,
  );
}

/** Starts etcd and kube-apiserver; resolves once /readyz answers 200. */
export async function startControlPlane(opts: { logDir?: string } = {}): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'tro-cp-'));
  const logDir = opts.logDir ?? dir;
  await mkdir(logDir, { recursive: true });
  const [binary] = await Promise.all([kubeApiServerBinary(), makeCertificates(dir)]);
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcd = startProcess(
    'etcd',
    [
      '--name',
      'local',
      '--data-dir',
      join(dir, 'etcd'),
      '--listen-client-urls',
      etcdUrl,
      '--advertise-client-urls',
      etcdUrl,
      '--listen-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peerPort}`,
      '--initial-cluster',
      `local=http://127.0.0.1:${peerPort}`,
      '--log-level',
      'warn',
    ],
    join(logDir, 'etcd.log'),
  );
  const server = `https://127.0.0.1:${apiPort}`;
  const apiArgs = [
    '--etcd-servers',
    etcdUrl,
    '--cert-dir',
    join(dir, 'certs'),
    '--secure-port',
    String(apiPort),
    '--bind-address',
    '127.0.0.1',
    '--advertise-address',
    '127.0.0.1',
    '--tls-cert-file',
    join(dir, 'serving.crt'),
    '--tls-private-key-file',
    join(dir, 'serving.key'),
    '--client-ca-file',
    join(dir, 'ca.crt'),
    '--service-cluster-ip-range',
    '10.0.0.0/24',
    '--service-account-issuer',
    'https://kubernetes.default.svc.cluster.local',
    '--service-account-key-file',
    join(dir, 'sa.pub'),
    '--service-account-signing-key-file',
    join(dir, 'sa.key'),
    '--authorization-mode',
    'RBAC',
    '--allow-privileged=true',
    '--disable-admission-plugins',
    'ServiceAccount',
  ];
  let api: Proc = startProcess(binary, apiArgs, join(logDir, 'kube-apiserver.log'));
  await waitReady(server, dir, 90_000);
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    kubeconfigYaml(server, dir, {
      'client-certificate': join(dir, 'admin.crt'),
      'client-key': join(dir, 'admin.key'),
    }),
  );
  return {
    dir,
    kubeconfig,
    server,
    port: apiPort,
    async restartApiServer(downMs = 0) {
      await stopProcess(api);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      api = startProcess(binary, apiArgs, join(logDir, 'kube-apiserver.log'));
      await waitReady(server, dir, 90_000);
    },
    async kubeconfigVia(name, port) {
      const path = join(dir, `kubeconfig-${name}`);
      await writeFile(
        path,
        kubeconfigYaml(`https://127.0.0.1:${port}`, dir, {
          'client-certificate': join(dir, 'admin.crt'),
          'client-key': join(dir, 'admin.key'),
        }),
      );
      return path;
    },
    async kubeconfigForToken(name, token) {
      const path = join(dir, `kubeconfig-${name}`);
      await writeFile(path, kubeconfigYaml(server, dir, { token }));
      return path;
    },
    async stop() {
      await stopProcess(api);
      await stopProcess(etcd);
      if (!opts.logDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
