/**
 * The Kubernetes client as an attacker would try it: servers it must not trust, credentials it must
 * not send or must not send empty, plugins it must not run through a shell, tokens the kubelet
 * rotates. Real TLS servers (node:https) with certificates from throwaway CAs made with openssl.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { type IncomingMessage, type Server as HttpServer, type ServerResponse, createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { statusOf } from './errors.js';
import { KubeApiError, KubeHttp } from './http.js';
import { type ClusterAccess, accessFromFile, accessInCluster } from './kubeconfig.js';

/** Throwaway PKI: two CAs that know nothing of each other, and certificates they signed. */
let pki: string;
const pem = (name: string): string => join(pki, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
}
/** openssl req's arguments for a new P-256 key, unencrypted, written to `<name>.key`. */
const newKey = (name: string): string[] => [
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:prime256v1',
  '-nodes',
  '-keyout',
  `${name}.key`,
];
function makeCa(name: string): void {
  openssl('req', '-x509', ...newKey(name), '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`);
}
function makeCert(name: string, ca: string, extensions: string): void {
  openssl('req', '-new', ...newKey(name), '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  writeFileSync(pem(`${name}.ext`), `basicConstraints=critical,CA:FALSE\n${extensions}\n`);
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
  );
}

beforeAll(() => {
  pki = mkdtempSync(join(tmpdir(), 'kube-pki-'));
  makeCa('cluster-ca');
  makeCa('rogue-ca');
  makeCert('apiserver-ip', 'cluster-ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  makeCert('apiserver-named', 'cluster-ca', 'subjectAltName=DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth');
  makeCert('impostor', 'rogue-ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  makeCert('admin', 'cluster-ca', 'extendedKeyUsage=clientAuth');
}, 60_000);

/** What a server saw of each request that reached it. */
interface Seen {
  url?: string;
  authorization?: string;
  clientCn?: string;
}
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const servers: HttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const ok: Handler = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end('{"ok":true}');
};

async function listen(server: HttpServer, seen: Seen[], handler: Handler): Promise<string> {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const cert = (req.socket as Partial<TLSSocket>).getPeerCertificate?.();
    seen.push({ url: req.url, authorization: req.headers.authorization, clientCn: cert?.subject?.CN?.toString() });
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An HTTPS API server presenting `cert`; with `clientCa`, it asks for a client certificate. */
async function apiServer(cert: string, handler: Handler = ok, clientCa?: string): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createHttpsServer({
    cert: readFileSync(pem(`${cert}.crt`)),
    key: readFileSync(pem(`${cert}.key`)),
    ...(clientCa ? { requestCert: true, rejectUnauthorized: true, ca: readFileSync(pem(`${clientCa}.crt`)) } : {}),
  });
  return { url: `https://${await listen(server, seen, handler)}`, seen };
}

/** A plain HTTP server that records what reaches it. */
async function plainServer(): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  return { url: `http://${await listen(createHttpServer(), seen, ok)}`, seen };
}

/** Writes a kubeconfig (JSON is YAML) with one cluster and user into a fresh directory. */
function kubeconfig(
  cluster: Record<string, unknown>,
  user: Record<string, unknown>,
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-')),
): string {
  const path = join(dir, 'config');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster }],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  return path;
}

const get = (access: ClusterAccess): Promise<unknown> => new KubeHttp(access).request({ method: 'GET', path: '/version' });

describe('TLS verification of the API server', () => {
  it('connects to a server whose certificate the kubeconfig CA signed for the address it dials', async () => {
    const { url, seen } = await apiServer('apiserver-ip');
    await expect(
      get(accessFromFile(kubeconfig({ server: url, 'certificate-authority': pem('cluster-ca.crt') }, { token: 's3cret' }))),
    ).resolves.toEqual({
      ok: true,
    });
    expect(seen).toEqual([{ url: '/version', authorization: 'Bearer s3cret', clientCn: undefined }]);
  });

  it('refuses a server whose certificate another CA signed, before the token leaves', async () => {
    const { url, seen } = await apiServer('impostor');
    const err = await get(
      accessFromFile(kubeconfig({ server: url, 'certificate-authority': pem('cluster-ca.crt') }, { token: 's3cret' })),
    ).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
    expect(seen).toEqual([]);
  });

  it("refuses a certificate the cluster's CA signed for another host name", async () => {
    const { url, seen } = await apiServer('apiserver-named');
    const err = await get(
      accessFromFile(kubeconfig({ server: url, 'certificate-authority': pem('cluster-ca.crt') }, { token: 's3cret' })),
    ).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(seen).toEqual([]);
  });

  it('checks the certificate against tls-server-name, and only against it', async () => {
    const { url, seen } = await apiServer('apiserver-named');
    const ca = pem('cluster-ca.crt');
    await expect(
      get(
        accessFromFile(
          kubeconfig({ server: url, 'certificate-authority': ca, 'tls-server-name': 'kubernetes.default.svc' }, { token: 'a' }),
        ),
      ),
    ).resolves.toEqual({ ok: true });
    const err = await get(
      accessFromFile(kubeconfig({ server: url, 'certificate-authority': ca, 'tls-server-name': 'kubernetes.evil.svc' }, { token: 'b' })),
    ).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer a']);
  });

  it('without a CA in the kubeconfig still verifies (against the public roots), so a self-made CA is not trusted', async () => {
    const { url, seen } = await apiServer('apiserver-ip');
    await expect(get(accessFromFile(kubeconfig({ server: url }, { token: 's3cret' })))).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    expect(seen).toEqual([]);
  });

  it('turns verification off for insecure-skip-tls-verify: true only, not for a quoted "true"', async () => {
    const { url, seen } = await apiServer('impostor');
    await expect(
      get(accessFromFile(kubeconfig({ server: url, 'insecure-skip-tls-verify': 'true' }, { token: 'quoted' }))),
    ).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    await expect(get(accessFromFile(kubeconfig({ server: url, 'insecure-skip-tls-verify': true }, { token: 'asked' })))).resolves.toEqual({
      ok: true,
    });
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer asked']);
  });
});

describe('client certificates', () => {
  it("presents the kubeconfig's client certificate, its files relative to the kubeconfig", async () => {
    const { url, seen } = await apiServer('apiserver-ip', ok, 'cluster-ca');
    const path = kubeconfig(
      { server: url, 'certificate-authority': 'cluster-ca.crt' },
      { 'client-certificate': 'admin.crt', 'client-key': 'admin.key' },
      pki,
    );
    await expect(get(accessFromFile(path))).resolves.toEqual({ ok: true });
    expect(seen).toEqual([{ url: '/version', authorization: undefined, clientCn: 'admin' }]);
  });
});

describe('redirects', () => {
  it('are not followed: the token never goes to another host, nor over plain http', async () => {
    const elsewhere = await plainServer();
    const { url } = await apiServer('apiserver-ip', (req, res) => {
      res.writeHead(307, { Location: `${elsewhere.url}${req.url ?? ''}` });
      res.end();
    });
    const http = new KubeHttp(
      accessFromFile(kubeconfig({ server: url, 'certificate-authority': pem('cluster-ca.crt') }, { token: 's3cret' })),
    );
    const err = await http.request({ method: 'GET', path: '/api/v1/namespaces/n/configmaps/c' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(statusOf(err)).toBe(307);
    const watchEnd = await new Promise<unknown>((resolve) => void http.watch('/api/v1/configmaps', {}, () => undefined, resolve));
    expect(statusOf(watchEnd)).toBe(307);
    expect(elsewhere.seen).toEqual([]);
  });
});

describe('bearer tokens', () => {
  it.each([
    { what: 'missing', content: undefined, error: /ENOENT/ },
    { what: 'empty', content: ' \n', error: /token file .* is empty/ },
  ])('a token file that is $what fails the request; no empty bearer is sent', async ({ content, error }) => {
    const { url, seen } = await apiServer('apiserver-ip');
    const path = kubeconfig({ server: url, 'certificate-authority': pem('cluster-ca.crt') }, { tokenFile: 'token' });
    if (content !== undefined) writeFileSync(join(path, '..', 'token'), content);
    await expect(get(accessFromFile(path))).rejects.toThrow(error);
    expect(seen).toEqual([]);
  });

  it.each([
    { what: 'an inline token', user: { token: 'abc\r\nX-Injected: 1' } },
    { what: 'a token file', user: { tokenFile: 'token' } },
  ])('a line break in $what cannot add a header: the request fails and nothing is sent', async ({ user }) => {
    const { url, seen } = await apiServer('apiserver-ip');
    const path = kubeconfig({ server: url, 'certificate-authority': pem('cluster-ca.crt') }, user);
    writeFileSync(join(path, '..', 'token'), 'abc\r\nX-Injected: 1\n');
    await expect(get(accessFromFile(path))).rejects.toMatchObject({ code: 'ERR_INVALID_CHAR' });
    expect(seen).toEqual([]);
  });
});

describe('the in-cluster service account', () => {
  /** Mounts the token and CA as the kubelet does: files behind a `..data` symlink swapped atomically. */
  function mount(dir: string, version: number, token: string): void {
    const data = join(dir, `..${version}`);
    mkdirSync(data);
    writeFileSync(join(data, 'token'), token);
    copyFileSync(pem('cluster-ca.crt'), join(data, 'ca.crt'));
    symlinkSync(`..${version}`, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    if (version > 1) rmSync(join(dir, `..${version - 1}`), { recursive: true });
    else for (const f of ['token', 'ca.crt']) symlinkSync(join('..data', f), join(dir, f));
  }

  it('uses the rotated token after a minute, and at once after the old one is refused', async () => {
    let valid = new Set(['first']);
    const { url, seen } = await apiServer('apiserver-ip', (req, res) => {
      if (valid.has(req.headers.authorization?.replace(/^Bearer /, '') ?? '')) return ok(req, res);
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end('{"kind":"Status","code":401}');
    });
    const dir = mkdtempSync(join(tmpdir(), 'serviceaccount-'));
    mount(dir, 1, 'first');
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const port = new URL(url).port;
      const http = new KubeHttp(accessInCluster({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port }, dir));
      const call = (): Promise<unknown> => http.request({ method: 'GET', path: '/version' });
      await call();
      // The kubelet rotates the token; the old one stays valid for a while.
      mount(dir, 2, 'second');
      valid = new Set(['first', 'second']);
      await call();
      vi.setSystemTime(Date.now() + 60_000);
      await call();
      // Rotated again, and the old token is refused before the minute is up.
      mount(dir, 3, 'third');
      valid = new Set(['third']);
      await expect(call()).rejects.toMatchObject({ code: 401 });
      await call();
      expect(seen.map((s) => s.authorization)).toEqual(['Bearer first', 'Bearer first', 'Bearer second', 'Bearer second', 'Bearer third']);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('exec credential plugins', () => {
  /** A plugin (node script) whose token is its arguments, base64url-encoded JSON. */
  function echoPlugin(dir: string): string {
    const plugin = join(dir, 'echo-args.cjs');
    writeFileSync(
      plugin,
      `process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential',
         status: { token: Buffer.from(JSON.stringify(process.argv.slice(2))).toString('base64url') } }));`,
    );
    return plugin;
  }

  it("runs the kubeconfig's command with its arguments exactly as written, never through a shell", async () => {
    const { url, seen } = await apiServer('apiserver-ip');
    const dir = mkdtempSync(join(tmpdir(), 'exec-'));
    const marker = join(dir, 'pwned');
    const args = [
      `; touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `&& touch ${marker}`,
      `| touch ${marker}`,
      "'",
      '"',
      '*',
      '$HOME',
    ];
    const path = kubeconfig(
      { server: url, 'certificate-authority': pem('cluster-ca.crt') },
      { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [echoPlugin(dir), ...args] } },
      dir,
    );
    await get(accessFromFile(path));
    const token = seen[0]?.authorization?.replace(/^Bearer /, '') ?? '';
    expect(JSON.parse(Buffer.from(token, 'base64url').toString())).toEqual(args);
    expect(existsSync(marker)).toBe(false);
  });

  it.each([
    { what: 'a command line with a shell', command: (m: string) => `/bin/sh -c "touch ${m}"` },
    { what: 'a command joined with ;', command: (m: string) => `true; touch ${m}` },
  ])('does not interpret $what: it fails to start, runs nothing and sends nothing', async ({ command }) => {
    const { url, seen } = await apiServer('apiserver-ip');
    const dir = mkdtempSync(join(tmpdir(), 'exec-'));
    const marker = join(dir, 'pwned');
    const path = kubeconfig(
      { server: url, 'certificate-authority': pem('cluster-ca.crt') },
      { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: command(marker) } },
      dir,
    );
    await expect(get(accessFromFile(path))).rejects.toThrow(/exec credential plugin .* failed/);
    expect(existsSync(marker)).toBe(false);
    expect(seen).toEqual([]);
  });

  it("resolves a relative command from the kubeconfig's directory, and a bare name from PATH only", async () => {
    const { url, seen } = await apiServer('apiserver-ip');
    const dir = mkdtempSync(join(tmpdir(), 'exec-'));
    const onPath = mkdtempSync(join(tmpdir(), 'exec-path-'));
    const script = (token: string): string =>
      `#!/bin/sh\nprintf '%s' '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"${token}"}}'\n`;
    writeFileSync(join(dir, 'kube-login'), script('from-kubeconfig-dir'));
    writeFileSync(join(onPath, 'kube-login'), script('from-path'));
    chmodSync(join(dir, 'kube-login'), 0o755);
    chmodSync(join(onPath, 'kube-login'), 0o755);
    const cluster = { server: url, 'certificate-authority': pem('cluster-ca.crt') };
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', env: [{ name: 'PATH', value: `${onPath}:/usr/bin:/bin` }] };
    const sub = mkdtempSync(join(dir, 'a-'));
    await get(accessFromFile(kubeconfig(cluster, { exec: { ...exec, command: '../kube-login' } }, sub)));
    await get(accessFromFile(kubeconfig(cluster, { exec: { ...exec, command: 'kube-login' } }, dir)));
    expect(seen.map((s) => s.authorization)).toEqual(['Bearer from-kubeconfig-dir', 'Bearer from-path']);
  });

  it.each([
    {
      what: 'exits with an error',
      script: 'process.stderr.write("login expired"); process.exit(1)',
      error: /plugin .* failed: login expired/,
    },
    {
      what: 'prints no JSON',
      script: 'process.stdout.write("Please log in at https://example.com")',
      error: /exec credential plugin .* returned no ExecCredential/,
    },
    {
      what: 'gives a client certificate instead of a token',
      script: `process.stdout.write(JSON.stringify({ kind: 'ExecCredential', status: { clientCertificateData: 'x', clientKeyData: 'y' } }))`,
      error: /plugin .* returned no token/,
    },
  ])('when the plugin $what, the request fails naming it and nothing is sent unauthenticated', async ({ script, error }) => {
    const { url, seen } = await apiServer('apiserver-ip');
    const dir = mkdtempSync(join(tmpdir(), 'exec-'));
    writeFileSync(join(dir, 'plugin.cjs'), script);
    const path = kubeconfig(
      { server: url, 'certificate-authority': pem('cluster-ca.crt') },
      { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: ['plugin.cjs'] } },
      dir,
    );
    await expect(get(accessFromFile(path))).rejects.toThrow(error);
    expect(seen).toEqual([]);
  });
});
