/** The README's first command works: the sandbox brings every sample to Ready and cleans up. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../support/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('sandbox', () => {
  it('shows the samples Ready with their conditions and leaves no kubeconfig behind', async () => {
    const out = await run(process.execPath, ['--import', 'tsx', 'scripts/sandbox.ts', '--check', '--timeout-seconds', '60'], { cwd: root });
    expect(out).toMatch(/tenant\.rag\.tenancy\.dev\/acme\s+basic\s+pool\s+True/);
    expect(out).toMatch(/tenant\.rag\.tenancy\.dev\/initech\s+premium\s+silo\s+True/);
    // The S3 Vectors tenant, Ready with its knowledge base id.
    expect(out).toMatch(/tenant\.rag\.tenancy\.dev\/hooli\s+lite\s+bridge\s+True\b.*\b[0-9A-Z]{10}\b/);
    expect(out).toMatch(/tenanttier\.rag\.tenancy\.dev\/lite\s+bridge\s+S3Vectors\b/);
    expect(out).toMatch(/modelaccess\.rag\.tenancy\.dev\/acme-claude\s+acme\s+\S+\s+True/);
    expect(out).toContain('ModelAccess/acme-claude  ModelApproved=True');
    expect(out).toContain('export KUBECONFIG=');
    expect(existsSync(`${root}/.sandbox/kubeconfig`)).toBe(false);
  }, 240_000);
});
