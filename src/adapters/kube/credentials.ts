/**
 * The bearer token of each request. A token file is read again every minute, as client-go does,
 * because the kubelet rotates projected service account tokens (a read that fails after a good
 * one keeps the token read last, as client-go does, and tries again sooner: the kubelet swaps the
 * file's link while rotating); an exec plugin's token is kept until shortly before the expiry it
 * states, or until the API server answers 401, which also forgets a token file's last token.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { ExecConfig, KubeAuth } from './kubeconfig.js';

/** How long a token read from a file is used before it is read again. */
const TOKEN_FILE_TTL_MS = 60_000;
/** How soon a token file that could not be read is tried again. */
const TOKEN_FILE_RETRY_MS = 5_000;
/** An exec token is renewed this long before the expiry it states. */
const EXEC_EXPIRY_MARGIN_MS = 30_000;

interface Cached {
  token: string;
  until: number;
}

/** Supplies the Authorization header of requests. */
export class Credentials {
  private cached: Cached | undefined;
  private pending: Promise<Cached> | undefined;
  /** The token a token file held when last read, until the API server refuses it. */
  private lastRead: string | undefined;

  constructor(
    private readonly auth: KubeAuth,
    private readonly now: () => number = Date.now,
  ) {}

  /** The Authorization header value, if the cluster is reached with a token. */
  async authorization(): Promise<string | undefined> {
    if (this.auth.kind === 'none') return undefined;
    if (this.auth.kind === 'token') return `Bearer ${this.auth.token}`;
    if (!this.cached || this.now() >= this.cached.until) {
      // One refresh at a time: concurrent requests wait for the same read or plugin run.
      this.pending ??= this.fetch().finally(() => {
        this.pending = undefined;
      });
      this.cached = await this.pending;
    }
    return `Bearer ${this.cached.token}`;
  }

  /** Forgets the token after a 401, so the next request reads or asks for a fresh one. */
  invalidate(): void {
    this.cached = undefined;
    this.lastRead = undefined;
  }

  private async fetch(): Promise<Cached> {
    if (this.auth.kind === 'token-file') {
      try {
        const token = (await readFile(this.auth.path, 'utf8')).trim();
        // As client-go: an empty file is an error, not a request with an empty bearer token.
        if (!token) throw new Error(`token file ${this.auth.path} is empty`);
        this.lastRead = token;
        return { token, until: this.now() + TOKEN_FILE_TTL_MS };
      } catch (e) {
        if (this.lastRead === undefined) throw e;
        return { token: this.lastRead, until: this.now() + TOKEN_FILE_RETRY_MS };
      }
    }
    if (this.auth.kind === 'exec') return runExecPlugin(this.auth.exec, this.now);
    throw new Error(`no token for auth kind ${this.auth.kind}`);
  }
}

/** Runs an exec credential plugin and reads the token from its ExecCredential. */
async function runExecPlugin(exec: ExecConfig, now: () => number): Promise<Cached> {
  const env = { ...process.env, ...Object.fromEntries(exec.env.map((e) => [e.name, e.value])) };
  env.KUBERNETES_EXEC_INFO = JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(exec.command, exec.args, { env, cwd: exec.cwd, timeout: 60_000, maxBuffer: 1 << 20 }, (err, out, stderr) => {
      if (err) reject(new Error(`exec credential plugin ${exec.command} failed: ${stderr.trim() || err.message}`, { cause: err }));
      else resolve(out);
    });
  });
  let credential: { status?: { token?: unknown; expirationTimestamp?: string } } | null;
  try {
    credential = JSON.parse(stdout) as typeof credential;
  } catch {
    // Not its output in the message: it may hold a secret.
    throw new Error(`exec credential plugin ${exec.command} returned no ExecCredential (its output is not JSON)`);
  }
  const status = credential?.status;
  if (typeof status?.token !== 'string' || !status.token) throw new Error(`exec credential plugin ${exec.command} returned no token`);
  const expiry = status.expirationTimestamp ? Date.parse(status.expirationTimestamp) : Number.POSITIVE_INFINITY;
  return { token: status.token, until: Math.max(now(), expiry - EXEC_EXPIRY_MARGIN_MS) };
}
