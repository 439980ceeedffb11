/**
 * Prints the operator's IAM policy, the tenant-role permissions boundary and the tenant gateway's
 * policy for your account:
 *   npm run iam-policies -- --account 111122223333 --region eu-central-1 --cluster prod-eu-1 \
 *     [--prefix rag] [--boundary-name RagTenantBoundary] [--partition aws] [--boundary-only | --gateway-only] \
 *     [--eks-cluster-arn arn:aws:eks:eu-central-1:111122223333:cluster/prod-eu-1]
 * --eks-cluster-arn (the operator's config eksClusterArn) adds the Pod Identity grants.
 * With --boundary-only or --gateway-only it prints just that document, for `aws iam create-policy`.
 */
import { parseArgs } from 'node:util';
import { gatewayPolicy } from '../src/core/policies/gateway.js';
import { operatorPolicy, tenantBoundaryPolicy } from '../src/core/policies/operator.js';

const { values } = parseArgs({
  options: {
    account: { type: 'string' },
    region: { type: 'string', default: 'us-east-1' },
    cluster: { type: 'string' },
    prefix: { type: 'string', default: 'rag' },
    'boundary-name': { type: 'string', default: 'RagTenantBoundary' },
    partition: { type: 'string', default: 'aws' },
    'boundary-only': { type: 'boolean', default: false },
    'gateway-only': { type: 'boolean', default: false },
    'eks-cluster-arn': { type: 'string' },
  },
});
if (!values.account || !/^\d{12}$/.test(values.account) || !values.cluster) {
  process.stderr.write(
    'usage: npm run iam-policies -- --account <12 digits> --cluster <clusterName> [--region r] [--prefix rag] [--boundary-name RagTenantBoundary] [--boundary-only | --gateway-only]\n',
  );
  process.exit(2);
}
const scope = {
  partition: values.partition,
  accountId: values.account,
  region: values.region,
  prefix: values.prefix,
  cluster: values.cluster,
};
const boundaryArn = `arn:${values.partition}:iam::${values.account}:policy/${values['boundary-name']}`;
if (values['boundary-only']) {
  process.stdout.write(`${JSON.stringify(tenantBoundaryPolicy(scope), null, 2)}\n`);
  process.exit(0);
}
if (values['gateway-only']) {
  process.stdout.write(`${JSON.stringify(gatewayPolicy(scope), null, 2)}\n`);
  process.exit(0);
}
process.stdout.write(
  `# Operator policy (attach to the operator's role)\n${JSON.stringify(operatorPolicy({ ...scope, boundaryArn, eksClusterArn: values['eks-cluster-arn'] }), null, 2)}\n`,
);
process.stdout.write(
  `# Permissions boundary ${boundaryArn} (create it first; set config.permissionsBoundaryArn)\n${JSON.stringify(tenantBoundaryPolicy(scope), null, 2)}\n`,
);
process.stdout.write(
  `# Tenant gateway policy (attach to the gateway's role, when the chart's gateway.enabled; set config.gatewayRoleArn to that role)\n${JSON.stringify(gatewayPolicy(scope), null, 2)}\n`,
);
