/** Creates the tenant-role permissions boundary in the emulated account, as docs/iam/README.md says to. */
import { CreatePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import { tenantBoundaryPolicy } from '../../src/core/policies/operator.js';

/** Creates the boundary for `scope` and returns its ARN (what config.permissionsBoundaryArn takes). */
export async function createBoundary(
  iam: IAMClient,
  scope: { accountId: string; region: string; prefix: string; cluster: string },
  name = 'RagTenantBoundary',
): Promise<string> {
  const out = await iam.send(new CreatePolicyCommand({ PolicyName: name, PolicyDocument: JSON.stringify(tenantBoundaryPolicy(scope)) }));
  if (!out.Policy?.Arn) throw new Error('CreatePolicy returned no ARN');
  return out.Policy.Arn;
}
