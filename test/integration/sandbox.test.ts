/** The README's first command works: the sandbox brings every sample to Ready and cleans up. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from '../support/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('sandbox', () => {
  it('shows the samples Ready with their conditions and leaves no kubeconfig behind', async () => {
    const out = await run(process.execPath, ['--import', 'tsx', 'scripts/sandbox.ts', '--check', '--timeout-seconds', '120'], {
      cwd: root,
    });
    expect(out).toMatch(/tenant\.rag\.tenancy\.dev\/acme\s+basic\s+pool\s+True/);
    expect(out).toMatch(/tenant\.rag\.tenancy\.dev\/initech\s+premium\s+silo\s+True/);
    // The S3 Vectors tenant, Ready with its knowledge base id.
    expect(out).toMatch(/tenant\.rag\.tenancy\.dev\/hooli\s+lite\s+bridge\s+True\b.*\b[0-9A-Z]{10}\b/);
    expect(out).toMatch(/tenanttier\.rag\.tenancy\.dev\/lite\s+bridge\s+S3Vectors\b/);
    expect(out).toMatch(/modelaccess\.rag\.tenancy\.dev\/acme-claude\s+acme\s+\S+\s+True/);
    expect(out).toContain('ModelAccess/acme-claude  ModelApproved=True');
    expect(out).toContain('export KUBECONFIG=');
    // The curl line, and what its request returned: acme's document, nothing of globex's.
    expect(out).toMatch(
      /curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/retrieve -H "Authorization: Bearer \$\(kubectl create token rag-app -n acme --audience tenant-rag-gateway\)"/,
    );
    expect(out).toContain(
      `acme's retrieval through the gateway: HTTP 200, 1 result(s): ["Acme handbook: the onboarding handbook of Acme Corp."]`,
    );
    expect(out).not.toContain('Globex handbook');
    expect(existsSync(`${root}/.sandbox/kubeconfig`)).toBe(false);
  }, 240_000);
});
