import { describe, expect, it } from 'vitest';
import { type ReviewResult, TokenIdentity, tokenExpiry } from './identity.js';

const jwt = (claims: object, sig = 'x'): string =>
  `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;

function setup(answer: (token: string) => ReviewResult, o: { maxEntries?: number; maxTtlMs?: number } = {}) {
  let now = 1_000_000_000_000;
  const calls: string[] = [];
  const id = new TokenIdentity(
    (token) => {
      calls.push(token);
      return Promise.resolve(answer(token));
    },
    { audience: 'gw', maxEntries: o.maxEntries ?? 100, maxTtlMs: o.maxTtlMs ?? 300_000, negativeTtlMs: 5000, now: () => now },
  );
  return { id, calls, advance: (ms: number) => (now += ms), now: () => now };
}
const ok = (ns = 'acme', sa = 'app'): ReviewResult => ({
  authenticated: true,
  username: `system:serviceaccount:${ns}:${sa}`,
  audiences: ['gw'],
});

describe('TokenIdentity', () => {
  it('maps a reviewed ServiceAccount token to its namespace and name, and caches it', async () => {
    const s = setup(() => ok());
    const t = jwt({ exp: (s.now() + 3_600_000) / 1000 });
    expect(await s.id.identify(t)).toEqual({ namespace: 'acme', serviceAccount: 'app' });
    expect(await s.id.identify(t)).toEqual({ namespace: 'acme', serviceAccount: 'app' });
    expect(s.calls).toHaveLength(1);
  });

  it('never keeps an answer past the token expiry, even under the cache lifetime', async () => {
    const s = setup(() => ok(), { maxTtlMs: 300_000 });
    const t = jwt({ exp: (s.now() + 10_000) / 1000 });
    expect(await s.id.identify(t)).toHaveProperty('namespace');
    s.advance(10_001);
    expect(await s.id.identify(t)).toEqual({ refused: 'the token has expired' });
  });

  it('asks again after the cache lifetime', async () => {
    const s = setup(() => ok(), { maxTtlMs: 1000 });
    const t = jwt({ exp: (s.now() + 3_600_000) / 1000 });
    await s.id.identify(t);
    s.advance(1001);
    await s.id.identify(t);
    expect(s.calls).toHaveLength(2);
  });

  it('stays within its size bound, dropping the least recently used', async () => {
    const s = setup(() => ok(), { maxEntries: 3 });
    const tokens = [0, 1, 2, 3].map((i) => jwt({ exp: (s.now() + 3_600_000) / 1000, i }));
    for (const t of tokens) await s.id.identify(t);
    expect(s.id.size()).toBe(3);
    await s.id.identify(tokens[0] ?? '');
    expect(s.calls).toHaveLength(5);
  });

  const refusals: [string, ReviewResult | undefined, string][] = [
    ['not authenticated', { authenticated: false }, 'did not authenticate'],
    ['another audience', { ...ok(), audiences: ['https://kubernetes.default.svc'] }, 'not for the audience gw'],
    ['no audiences', { authenticated: true, username: 'system:serviceaccount:a:b' }, 'not for the audience'],
    ['a user, not a ServiceAccount', { authenticated: true, username: 'alice', audiences: ['gw'] }, 'not a ServiceAccount token'],
    [
      'a ServiceAccount name with a colon',
      { authenticated: true, username: 'system:serviceaccount:a:b:c', audiences: ['gw'] },
      'not a ServiceAccount',
    ],
  ];
  it.each(refusals)('refuses %s', async (_why, answer, message) => {
    const s = setup(() => answer ?? ok());
    const r = await s.id.identify(jwt({ exp: (s.now() + 60_000) / 1000 }));
    expect(r).toHaveProperty('refused');
    expect((r as { refused: string }).refused).toContain(message);
  });

  it('refuses tokens without an expiry or that are not JWTs without asking the API server', async () => {
    const s = setup(() => ok());
    expect(await s.id.identify('opaque')).toHaveProperty('refused');
    expect(await s.id.identify(jwt({ sub: 'x' }))).toHaveProperty('refused');
    expect(s.calls).toHaveLength(0);
  });

  it('reads exp from the payload', () => {
    expect(tokenExpiry(jwt({ exp: 1234 }))).toBe(1_234_000);
    expect(tokenExpiry('a.%%%.c')).toBeUndefined();
  });
});
