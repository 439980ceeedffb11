/**
 * The outcome labels stay a fixed, named set: every refusal type the gateway's code can throw maps
 * to a reason of its own (so a new refusal without one fails here rather than hiding under
 * `other`), and every upstream error type to a failure.
 */
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FAILURES, REFUSAL_REASONS, refusalReason, upstreamFailure } from './metrics.js';

const dir = fileURLToPath(new URL('.', import.meta.url));

async function sources(): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  return (await Promise.all(files.map((f) => readFile(`${dir}/${f}`, 'utf8')))).join('\n');
}

describe('gateway outcome labels', () => {
  it('map every refusal type thrown in src/gateway to a reason of its own', async () => {
    const text = await sources();
    const types = new Set([...text.matchAll(/(?:Refusal\(|super\()\s*\d{3},\s*'([a-z_]+)'/g)].map((m) => m[1] ?? ''));
    expect([...types]).toEqual(
      expect.arrayContaining([
        'identity_unavailable',
        'model_not_granted',
        'model_not_ready',
        'quota_exceeded',
        'quota_store_unavailable',
        'tenant_not_ready',
        'tenant_suspended',
        'unauthorized',
      ]),
    );
    for (const t of types) expect(refusalReason(t), t).not.toBe('other');
    expect(refusalReason('quota_exceeded', 'tokensPerDay')).toBe('quota');
    expect(refusalReason('quota_exceeded', 'tokensPerMonth')).toBe('quota');
    expect(refusalReason('quota_exceeded', 'requestsPerMinute')).toBe('rate');
    expect(refusalReason('something_new')).toBe('other');
    expect(REFUSAL_REASONS).toContain('other');
  });

  it('map every upstream error type the server sends to a failure', async () => {
    const text = await sources();
    const types = [...text.matchAll(/type: '(upstream_[a-z_]+)'/g)].map((m) => m[1] ?? '');
    expect(types.length).toBeGreaterThanOrEqual(5);
    expect(new Set(types.map(upstreamFailure))).toEqual(new Set(FAILURES.filter((f) => f !== 'client_closed')));
  });
});
