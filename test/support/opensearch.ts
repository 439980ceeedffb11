/**
 * A real OpenSearch 2.19 node with the k-NN plugin, installed by scripts/opensearch.sh from Maven
 * Central, for contract tests of the vector index mapping.
 *
 * One node per call: single-node discovery, HTTP and transport bound to 127.0.0.1 on free ports,
 * a 512 MB heap, no security plugin (the minimal distribution has none), data, logs and config in
 * a temporary directory removed by `stop()`. OpenSearch refuses to run as root and has no setting
 * to allow it, so as root the node runs as the unprivileged user the install script makes
 * (`tro-opensearch`); the install lives under root's home, which that user cannot enter, so the
 * node runs from a hard-linked copy of it inside the temporary directory.
 *
 * The faiss and nmslib native libraries are not in the Maven artifacts: indexes with those engines
 * can be created and described, but writing a vector into one makes the node load the library,
 * fail with UnsatisfiedLinkError and exit. Tests must not index vectors into a faiss index here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, chown, copyFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, freePort, run } from './processes.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const USER = process.env.OPENSEARCH_USER ?? 'tro-opensearch';

/** A running node. */
export interface OpenSearchNode {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** What `GET /` reported, e.g. `2.19.1`. */
  version: string;
  /** Installed plugins (`opensearch-knn`). */
  plugins: string[];
  logFile: string;
  /** A plain JSON request; resolves with the status and parsed body whatever the status. */
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

/** The install dir (scripts/opensearch.sh fetches and installs on first use). */
export async function openSearchHome(): Promise<string> {
  return (await run('bash', [join(repoRoot, 'scripts/opensearch.sh')])).trim();
}

async function javaHome(): Promise<string> {
  if (process.env.JAVA_HOME) return process.env.JAVA_HOME;
  return (await run('bash', ['-c', 'dirname "$(dirname "$(readlink -f "$(command -v java)")")"'])).trim();
}

/** The uid and gid to run as: the unprivileged user when we are root, else ourselves. */
async function runAs(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await run('id', ['-u', USER])).trim());
  const gid = Number((await run('id', ['-g', USER])).trim());
  return { uid, gid };
}

async function request(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed };
}

/** Starts a node and resolves once the cluster is yellow or green. */
export async function startOpenSearch(opts: { timeoutMs?: number } = {}): Promise<OpenSearchNode> {
  const [home, java, user] = await Promise.all([openSearchHome(), javaHome(), runAs()]);
  const dir = await mkdtemp(join(tmpdir(), 'tro-opensearch-'));
  await chmod(dir, 0o755);
  const nodeHome = join(dir, 'home');
  // Hard links: instant and no extra space; a copy where the cache is on another file system.
  await run('cp', ['-al', home, nodeHome]).catch(() => cp(home, nodeHome, { recursive: true }));
  const config = join(dir, 'config');
  const [data, logs, tmp] = [join(dir, 'data'), join(dir, 'logs'), join(dir, 'tmp')];
  for (const d of [config, data, logs, tmp]) await mkdir(d);
  await copyFile(join(home, 'config/log4j2.properties'), join(config, 'log4j2.properties'));
  // The stock options log GC and dump heaps into paths relative to the install; keep the rest,
  // without the JVM's perf data file in /tmp.
  const jvm = (await readFile(join(home, 'config/jvm.options'), 'utf8')).split('\n').filter((l) => !/logs\/|HeapDumpPath|^-Xm[sx]/.test(l));
  await writeFile(join(config, 'jvm.options'), [...jvm, '-Xms512m', '-Xmx512m', '-XX:-UsePerfData', ''].join('\n'));
  const [httpPort, transportPort] = [await freePort(), await freePort()];
  await writeFile(
    join(config, 'opensearch.yml'),
    [
      'cluster.name: tro-contract',
      'node.name: node-1',
      'discovery.type: single-node',
      'network.host: 127.0.0.1',
      `http.port: ${httpPort}`,
      `transport.port: ${transportPort}`,
      `path.data: ${data}`,
      `path.logs: ${logs}`,
      // One node: no disk watermarks to trip over on a full shared disk.
      'cluster.routing.allocation.disk.threshold_enabled: false',
      '',
    ].join('\n'),
  );
  if (user) for (const d of [dir, config, data, logs, tmp]) await chown(d, user.uid, user.gid);
  if (user) for (const f of ['jvm.options', 'opensearch.yml', 'log4j2.properties']) await chown(join(config, f), user.uid, user.gid);

  const logFile = join(dir, 'opensearch.out');
  const out = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(join(nodeHome, 'bin/opensearch'), [], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      JAVA_HOME: java,
      OPENSEARCH_PATH_CONF: config,
      OPENSEARCH_TMPDIR: tmp,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(user ?? {}),
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Never leave a node behind when the test process ends abruptly.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    out.end();
    await rm(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${httpPort}`;
  const died = exited.then(async (code) => {
    const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-30).join('\n');
    throw new Error(`OpenSearch exited (${code ?? child.signalCode}) while starting:\n${tail}`);
  });
  died.catch(() => undefined);
  try {
    await Promise.race([
      died,
      eventually(
        async () => {
          const health = await request(url, 'GET', '/_cluster/health').catch(() => undefined);
          const status = (health?.body as { status?: string } | undefined)?.status;
          return status === 'green' || status === 'yellow' ? status : undefined;
        },
        opts.timeoutMs ?? 90_000,
        'OpenSearch cluster health green or yellow',
        250,
      ),
    ]);
  } catch (e) {
    await stop();
    throw e;
  }
  const root = (await request(url, 'GET', '/')).body as { version?: { number?: string } };
  const cat = (await request(url, 'GET', '/_cat/plugins?format=json')).body as { component: string }[];
  return {
    url,
    version: root.version?.number ?? '',
    plugins: cat.map((p) => p.component),
    logFile,
    request: (method, path, body) => request(url, method, path, body),
    stop,
  };
}
