/**
 * Where the Kubernetes API server is and how to authenticate to it, read from a kubeconfig file
 * or from the pod's service account, as client-go does. Only what the operator needs: TLS with a
 * CA, client certificates, bearer tokens (inline, from a file, or from an exec credential plugin
 * such as `aws eks get-token`). Legacy `auth-provider` plugins, basic authentication,
 * impersonation and proxies are refused with a clear error rather than ignored, and so are a user
 * the context names but the file lacks, a client certificate without its key (or the reverse), and
 * insecure-skip-tls-verify together with a CA.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

/** How requests authenticate. */
export type KubeAuth =
  | { kind: 'none' }
  | { kind: 'token'; token: string }
  /** A token re-read from the file: service account tokens are rotated by the kubelet. */
  | { kind: 'token-file'; path: string }
  | { kind: 'exec'; exec: ExecConfig };

/** An exec credential plugin (client.authentication.k8s.io ExecConfig). */
export interface ExecConfig {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  /** Directory a relative command is resolved from (the kubeconfig's). */
  cwd: string;
}

/** One cluster and user, resolved. */
export interface ClusterAccess {
  /** e.g. https://10.0.0.1:443, without a trailing slash. */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  auth: KubeAuth;
  /** The namespace the context (or the service account) names. */
  namespace?: string;
}

/** Where a pod's service account credentials are mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface RawKubeconfig {
  'current-context'?: string;
  clusters?: { name: string; cluster?: Record<string, unknown> }[];
  users?: { name: string; user?: Record<string, unknown> }[];
  contexts?: { name: string; context?: { cluster?: string; user?: string; namespace?: string } }[];
}

/** Reads the current context of a kubeconfig file; relative paths in it are relative to the file. */
export function accessFromFile(path: string): ClusterAccess {
  return accessFromKubeconfig(readFileSync(path, 'utf8'), dirname(path));
}

/** The current context of a kubeconfig's text; `baseDir` resolves relative file paths. */
export function accessFromKubeconfig(text: string, baseDir: string): ClusterAccess {
  const doc = (parse(text) ?? {}) as RawKubeconfig;
  const contextName = doc['current-context'];
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`kubeconfig: no current context${contextName ? ` named ${contextName}` : ''}`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) throw new Error(`kubeconfig: context ${contextName} names no known cluster`);
  // A user the context names but the file lacks is an error, as in client-go: going on without
  // credentials would reach the API server anonymously.
  const userEntry = context.user === undefined ? undefined : doc.users?.find((u) => u.name === context.user);
  if (context.user !== undefined && !userEntry)
    throw new Error(`kubeconfig: context ${contextName} names user ${context.user}, which it does not define`);
  const user = userEntry?.user ?? {};
  const server = str(cluster.server);
  if (!server) throw new Error(`kubeconfig: cluster ${context.cluster} has no server`);
  if (cluster['proxy-url']) throw new Error('kubeconfig: proxy-url is not supported');
  const file = (v: unknown): Buffer | undefined => (str(v) ? readFileSync(resolvePath(str(v) ?? '', baseDir)) : undefined);
  const data = (v: unknown): Buffer | undefined => (str(v) ? Buffer.from(str(v) ?? '', 'base64') : undefined);
  const ca = data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']);
  const cert = data(user['client-certificate-data']) ?? file(user['client-certificate']);
  const key = data(user['client-key-data']) ?? file(user['client-key']);
  // node:tls quietly leaves out a certificate without its key (and a key without its certificate),
  // which would connect without the client certificate; client-go refuses both, so do we.
  if (cert && !key) throw new Error(`kubeconfig: user ${context.user} has a client certificate but no client-key or client-key-data`);
  if (key && !cert)
    throw new Error(`kubeconfig: user ${context.user} has a client key but no client-certificate or client-certificate-data`);
  const insecureSkipTlsVerify = cluster['insecure-skip-tls-verify'] === true;
  // A CA that is then not checked against would read as verified; client-go refuses the pair too.
  if (insecureSkipTlsVerify && ca)
    throw new Error(
      'kubeconfig: insecure-skip-tls-verify cannot be combined with a certificate authority: remove insecure-skip-tls-verify (or the CA)',
    );
  return {
    server: server.replace(/\/+$/, ''),
    ca,
    cert,
    key,
    insecureSkipTlsVerify,
    tlsServerName: str(cluster['tls-server-name']),
    auth: userAuth(user, baseDir),
    namespace: context.namespace,
  };
}

function userAuth(user: Record<string, unknown>, baseDir: string): KubeAuth {
  if (user['auth-provider'])
    throw new Error('kubeconfig: auth-provider plugins are not supported; use an exec credential plugin (e.g. aws eks get-token)');
  if (user.username || user.password) throw new Error('kubeconfig: basic authentication is not supported');
  // Ignoring impersonation would act with the user's own, usually wider, rights.
  if (['as', 'as-uid', 'as-groups', 'as-user-extra'].some((k) => user[k] !== undefined))
    throw new Error('kubeconfig: impersonation (as, as-uid, as-groups, as-user-extra) is not supported');
  const token = str(user.token);
  if (token) return { kind: 'token', token };
  const tokenFile = str(user.tokenFile);
  if (tokenFile) return { kind: 'token-file', path: resolvePath(tokenFile, baseDir) };
  const exec = user.exec as Record<string, unknown> | undefined;
  if (exec) {
    const command = str(exec.command);
    if (!command) throw new Error('kubeconfig: exec has no command');
    return {
      kind: 'exec',
      exec: {
        command,
        args: Array.isArray(exec.args) ? exec.args.map(String) : [],
        env: Array.isArray(exec.env) ? (exec.env as { name: string; value: string }[]) : [],
        apiVersion: str(exec.apiVersion) ?? 'client.authentication.k8s.io/v1',
        cwd: baseDir,
      },
    };
  }
  return { kind: 'none' };
}

/** The pod's service account: the API server from the environment, its CA and rotated token. */
export function accessInCluster(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset');
  const namespaceFile = join(dir, 'namespace');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(dir, 'ca.crt')),
    insecureSkipTlsVerify: false,
    auth: { kind: 'token-file', path: join(dir, 'token') },
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined,
  };
}

/**
 * client-go's order: $KUBECONFIG (its first file that exists), then ~/.kube/config, then the
 * pod's service account.
 */
export function accessFromDefault(env: NodeJS.ProcessEnv = process.env): ClusterAccess {
  const candidates = [...(env.KUBECONFIG ?? '').split(':').filter(Boolean), join(env.HOME ?? homedir(), '.kube', 'config')];
  const file = candidates.find((f) => existsSync(f));
  return file ? accessFromFile(file) : accessInCluster(env);
}

function resolvePath(p: string, baseDir: string): string {
  return isAbsolute(p) ? p : join(baseDir, p);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
