/**
 * Caller identity: the application sends its projected ServiceAccount token (with the gateway's
 * audience); the Kubernetes API server verifies it with a TokenReview. Answers are cached by the
 * token's SHA-256, in a cache bounded in entries, and never longer than the token is valid (its
 * `exp`) nor than `maxTtlMs`; refusals are cached briefly so a bad token cannot make every
 * request a TokenReview. A token is only read for its `exp` before the review; nothing in it is
 * trusted before the API server said it is valid.
 */
import { createHash } from 'node:crypto';

/** What a TokenReview said. */
export interface ReviewResult {
  authenticated: boolean;
  /** `system:serviceaccount:<namespace>:<name>` for a ServiceAccount token. */
  username?: string;
  /** Audiences the token is valid for (of those asked). */
  audiences?: string[];
}

/** The TokenReview call. */
export type TokenReviewer = (token: string, audiences: string[]) => Promise<ReviewResult>;

/** A verified caller: the ServiceAccount its token belongs to. */
export interface ServiceAccountIdentity {
  namespace: string;
  serviceAccount: string;
}

/** Why a token was refused (reported to the caller as 401). */
export type Refused = { refused: string };

/** Settings of the cache. */
export interface IdentityOptions {
  audience: string;
  maxEntries: number;
  maxTtlMs: number;
  /** How long a refusal is remembered (default 5 s). */
  negativeTtlMs?: number;
  now?: () => number;
}

interface Entry {
  result: ServiceAccountIdentity | Refused;
  expiresAt: number;
}

const SA_USER = /^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/;

/** The `exp` of a JWT in milliseconds, or undefined when the token is not a JWT with one. */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Verifies tokens with the API server, with a bounded, expiry-aware cache. */
export class TokenIdentity {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<ServiceAccountIdentity | Refused>>();
  private readonly now: () => number;
  /** Counters for metrics. */
  readonly stats = { hits: 0, reviews: 0 };

  constructor(
    private readonly review: TokenReviewer,
    private readonly o: IdentityOptions,
  ) {
    this.now = o.now ?? Date.now;
  }

  /** The ServiceAccount of `token`, or why it is refused. */
  async identify(token: string): Promise<ServiceAccountIdentity | Refused> {
    const now = this.now();
    const exp = tokenExpiry(token);
    if (exp === undefined) return { refused: 'the token is not a ServiceAccount token (a JWT with an expiry)' };
    if (exp <= now) return { refused: 'the token has expired' };
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > now) {
      this.stats.hits++;
      // Most recently used last: the Map's order is the eviction order.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit.result;
    }
    if (hit) this.cache.delete(key);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.verify(token, exp, key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** Entries held (for tests and metrics). */
  size(): number {
    return this.cache.size;
  }

  private async verify(token: string, exp: number, key: string): Promise<ServiceAccountIdentity | Refused> {
    this.stats.reviews++;
    const r = await this.review(token, [this.o.audience]);
    let result: ServiceAccountIdentity | Refused;
    const m = r.username ? SA_USER.exec(r.username) : null;
    if (!r.authenticated) result = { refused: 'the API server did not authenticate the token (expired, revoked or not for this audience)' };
    else if (!(r.audiences ?? []).includes(this.o.audience)) result = { refused: `the token is not for the audience ${this.o.audience}` };
    else if (!m) result = { refused: 'the token is not a ServiceAccount token' };
    else result = { namespace: m[1] ?? '', serviceAccount: m[3] ?? '' };
    const now = this.now();
    const ttl = 'refused' in result ? (this.o.negativeTtlMs ?? 5000) : this.o.maxTtlMs;
    this.cache.set(key, { result, expiresAt: Math.min(now + ttl, exp) });
    while (this.cache.size > this.o.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    return result;
  }
}
