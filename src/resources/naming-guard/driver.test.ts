import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { NamingGuard, recordedNames } from './driver.js';

const ctx = { signal: new AbortController().signal, logger: pino({ level: 'silent' }) };

describe('NamingGuard', () => {
  const guard = new NamingGuard();
  it('passes when every recorded name has the current prefix (or nothing is recorded yet)', async () => {
    const recorded = recordedNames({
      bucket: 'rag-prodeu1ab12-t-acme-111122223333-us-east-1',
      roleArn: 'arn:aws:iam::111122223333:role/rag-tenant/rag-prodeu1ab12-t-acme-app',
    });
    expect(await guard.observe(ctx, { recorded, prefix: 'rag-prodeu1ab12-' })).toEqual({ state: 'absent' });
    expect(await guard.observe(ctx, { recorded: recordedNames(undefined), prefix: 'rag-prodeu1ab12-' })).toEqual({ state: 'absent' });
  });

  it("fails, naming them, when status records an earlier version's names, and refuses a deletion", async () => {
    const recorded = recordedNames({
      bucket: 'rag-prod-eu-1-t-acme-111122223333-us-east-1',
      roleArn: 'arn:aws:iam::111122223333:role/rag-tenant/rag-prod-eu-1-t-acme-app',
      knowledgeBaseId: 'KB12345678',
    });
    const o = await guard.observe(ctx, { recorded, prefix: 'rag-prodeu1ab12-' });
    expect(o).toMatchObject({ state: 'failed', reason: 'ResourceNamesChanged' });
    if (o.state !== 'failed') throw new Error('unreachable');
    expect(o.message).toContain('rag-prod-eu-1-t-acme-app');
    expect(o.message).toContain('docs/operations.md');
    await expect(guard.delete(ctx, o.observed)).rejects.toMatchObject({ reason: 'ResourceNamesChanged' });
  });
});
