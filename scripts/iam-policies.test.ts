/**
 * `npm run iam-policies` prints the documents the code generates, unchanged: the operator's
 * policy, the boundary and the gateway's policy for the account given, and each alone with its
 * `--*-only` flag (what `aws iam create-policy` takes).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { gatewayPolicy } from '../src/core/policies/gateway.js';
import { tenantBoundaryPolicy } from '../src/core/policies/operator.js';

const script = fileURLToPath(new URL('./iam-policies.ts', import.meta.url));
const scope = { partition: 'aws', accountId: '111122223333', region: 'eu-central-1', prefix: 'rag', cluster: 'prod-eu-1' };
const args = ['--account', scope.accountId, '--region', scope.region, '--cluster', scope.cluster];

async function run(...extra: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args, ...extra]);
  return stdout;
}

/** The documents of the full output, by their `# ` heading. */
function sections(out: string): { heading: string; document: unknown }[] {
  return out
    .split(/^# /m)
    .filter(Boolean)
    .map((part) => {
      const newline = part.indexOf('\n');
      return { heading: part.slice(0, newline), document: JSON.parse(part.slice(newline + 1)) as unknown };
    });
}

describe('npm run iam-policies', () => {
  it("prints the operator's policy, the boundary and the gateway's policy", async () => {
    const out = sections(await run());
    expect(out.map((s) => s.heading.split(' (')[0])).toEqual([
      'Operator policy',
      `Permissions boundary arn:aws:iam::${scope.accountId}:policy/RagTenantBoundary`,
      'Tenant gateway policy',
    ]);
    expect(out[1]?.document).toEqual(tenantBoundaryPolicy(scope));
    expect(out[2]?.document).toEqual(gatewayPolicy(scope));
    expect(JSON.stringify(out[2]?.document)).toContain(`arn:aws:bedrock:${scope.region}:${scope.accountId}:knowledge-base/*`);
  });

  it('prints only the gateway policy with --gateway-only, and only the boundary with --boundary-only', async () => {
    expect(JSON.parse(await run('--gateway-only'))).toEqual(gatewayPolicy(scope));
    expect(JSON.parse(await run('--boundary-only'))).toEqual(tenantBoundaryPolicy(scope));
  });
});
