/**
 * Operator configuration, parsed once in main.ts from a YAML file (the Helm chart mounts it from a
 * ConfigMap) plus a few command-line overrides, validated, and frozen.
 */
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import * as z from 'zod';

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label')
  .max(63);

const approvedModel = z
  .object({
    id: z.string().min(1).describe('Bedrock model id, e.g. anthropic.claude-3-5-sonnet-20241022-v2:0'),
    inputPricePer1k: z.number().nonnegative().describe('USD per 1,000 input tokens'),
    outputPricePer1k: z.number().nonnegative().describe('USD per 1,000 output tokens'),
    copyFrom: z.string().optional().describe('Foundation model or system inference profile ARN the application profile copies'),
  })
  .strict();

const configSchema = z
  .object({
    region: z.string().min(1).default('us-east-1'),
    clusterName: dnsLabel.default('local'),
    resourcePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9]{0,9}$/, 'must be 1-10 lowercase letters or digits, starting with a letter')
      .default('rag'),
    permissionsBoundaryArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:policy\/.+$/, 'must be an IAM policy ARN')
      .optional(),
    eksClusterArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:eks:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/,
        'must be an EKS cluster ARN, e.g. arn:aws:eks:us-east-1:111122223333:cluster/prod',
      )
      .optional()
      .describe(
        "The EKS cluster the operator runs in: tenant roles trust Pod Identity sessions of this cluster only, and the operator creates tenants' Pod Identity associations in it. Required when any Tenant uses spec.access.podIdentity",
      ),
    operatorRoleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN')
      .optional(),
    gatewayRoleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN')
      .optional()
      .describe(
        "The tenant gateway's IAM role: the roles of Pod Identity tenants trust it, only with the gateway's session tags naming the tenant. Unset: no tenant role trusts a gateway",
      ),
    gatewayRedis: z
      .object({
        url: z.string().regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// (TLS) URL'),
        timeoutMs: z.number().int().min(10).max(60_000).default(500).describe('Milliseconds a Redis command may take'),
        keyPrefix: z
          .string()
          .min(1)
          .default('tro:quota') // the gateway's default too (core/quota-counters DEFAULT_QUOTA_KEY_PREFIX; a test holds them equal)
          .describe("The gateway's GATEWAY_REDIS_KEY_PREFIX; the two must be the same"),
        pollSeconds: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .default(10)
          .describe("How often the operator reads the gateway's counters (one round trip for all ModelAccess objects)"),
      })
      .strict()
      .optional()
      .describe(
        "The tenant gateway's Redis (the gateway's GATEWAY_REDIS_URL; the AUTH password from the operator's GATEWAY_REDIS_PASSWORD environment variable): set when the gateway runs, so ModelAccess and Tenant status show its real-time counters next to CloudWatch and the quota conditions follow them (docs/model-access.md). Unset: CloudWatch only",
      ),
    trustedAccountIds: z
      .array(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))
      .default([])
      .describe("Accounts besides the operator's own whose IAM roles a Tenant's spec.access.principals may name"),
    permissionsBoundaryOptional: z
      .boolean()
      .default(false)
      .describe(
        'UNSAFE: create tenant roles without a permissions boundary when permissionsBoundaryArn is empty; only for trying the operator outside a shared account',
      ),
    connectionNamespaces: z
      .array(dnsLabel)
      .default([])
      .describe(
        "Namespaces any Tenant's spec.connection may name besides its own Pod Identity namespace; system namespaces and the operator's own are never allowed, even if listed",
      ),
    approvedModels: z.array(approvedModel).default([]),
    workers: z.number().int().min(1).max(64).default(16),
    resyncSeconds: z.number().int().min(1).default(600),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    leaderElection: z
      .object({
        enabled: z.boolean().default(true),
        namespace: dnsLabel.default('tenant-rag-system'),
        leaseName: dnsLabel.default('tenant-rag-operator'),
        leaseDurationSeconds: z.number().int().min(2).default(15),
        renewDeadlineSeconds: z.number().int().min(1).default(10),
        retryPeriodSeconds: z.number().int().min(1).default(2),
      })
      .strict()
      .default({
        enabled: true,
        namespace: 'tenant-rag-system',
        leaseName: 'tenant-rag-operator',
        leaseDurationSeconds: 15,
        renewDeadlineSeconds: 10,
        retryPeriodSeconds: 2,
      }),
    server: z
      .object({
        bindAddress: z.string().default('0.0.0.0'),
        healthPort: z.number().int().min(0).max(65535).default(8081),
        metricsPort: z.number().int().min(0).max(65535).default(8080),
      })
      .strict()
      .default({ bindAddress: '0.0.0.0', healthPort: 8081, metricsPort: 8080 }),
    aws: z
      .object({
        s3ForcePathStyle: z.boolean().default(false),
        maxAttempts: z.number().int().min(1).max(10).default(3),
        keyPendingWindowDays: z.number().int().min(7).max(30).default(30),
        openSearchDataPlaneUrl: z
          .string()
          .regex(/^$|^https?:\/\/.+\{id\}/, 'must be an http(s) URL template containing {id} (or empty)')
          .optional()
          .describe(
            'Data-plane URL template for AWS-compatible endpoints whose collection hosts do not resolve; {id} is the collection id',
          ),
      })
      .strict()
      .default({ s3ForcePathStyle: false, maxAttempts: 3, keyPendingWindowDays: 30 }),
    openSearch: z
      .object({
        vpcEndpointIds: z
          .array(z.string().regex(/^vpce-[0-9a-z]+$/, 'must be an OpenSearch Serverless VPC endpoint id (vpce-...)'))
          .default([])
          .describe('VPC endpoints collections accept; empty makes collections reachable publicly (still IAM and data-policy gated)'),
        standbyReplicas: z.enum(['ENABLED', 'DISABLED']).default('ENABLED').describe('Standby replicas of new collections'),
      })
      .strict()
      .default({ vpcEndpointIds: [], standbyReplicas: 'ENABLED' }),
    usage: z
      .object({
        pollSeconds: z
          .number()
          .int()
          .min(30)
          .default(300)
          .describe(
            'How often token usage is read from CloudWatch (one GetMetricData call per 250 inference profiles); also how long model lifecycles are cached',
          ),
        minStatusWriteSeconds: z
          .number()
          .int()
          .min(0)
          .default(60)
          .describe('At most one usage-only status write per ModelAccess in this many seconds'),
      })
      .strict()
      .default({ pollSeconds: 300, minStatusWriteSeconds: 60 }),
    watchdogSeconds: z.number().int().min(5).default(120),
    shutdownGraceSeconds: z.number().int().min(1).default(25),
  })
  .strict()
  .refine((c) => c.permissionsBoundaryArn !== undefined || c.permissionsBoundaryOptional, {
    message:
      'permissionsBoundaryArn is required (every role the operator creates gets it): create it with `npm run --silent iam-policies -- --account <id> --cluster <clusterName> --boundary-only > boundary.json` and `aws iam create-policy --policy-name RagTenantBoundary --policy-document file://boundary.json` (docs/iam/README.md) and set its ARN, or set permissionsBoundaryOptional: true to run without one (unsafe)',
    path: ['permissionsBoundaryArn'],
  })
  .refine((c) => c.leaderElection.renewDeadlineSeconds < c.leaderElection.leaseDurationSeconds, {
    message: 'leaderElection.renewDeadlineSeconds must be shorter than leaseDurationSeconds',
    path: ['leaderElection', 'renewDeadlineSeconds'],
  });

/**
 * The path of every setting in the --config file as it is spelled there (`operatorRoleArn`,
 * `aws.maxAttempts`, `leaderElection.namespace`, ...), so messages that name one can be checked.
 */
export function settingPaths(): string[] {
  const paths: string[] = [];
  const walk = (schema: z.ZodType, prefix: string): void => {
    let s: z.ZodType = schema;
    while (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    if (!(s instanceof z.ZodObject)) return;
    for (const [key, child] of Object.entries<z.ZodType>(s.shape)) {
      const path = prefix ? `${prefix}.${key}` : key;
      paths.push(path);
      walk(child, path);
    }
  };
  walk(configSchema, '');
  return paths;
}

/** The validated configuration. */
export type Config = Readonly<z.infer<typeof configSchema>> & {
  readonly kubeconfig?: string;
  readonly identity: string;
  /** The AUTH password of gatewayRedis, from the environment (a Secret), never from the config file. */
  readonly gatewayRedisPassword?: string;
};

/** A configuration error with a message that says which setting to fix. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses command-line flags and the config file they name; throws ConfigError on bad input. */
export function parseConfig(argv: string[], env: NodeJS.ProcessEnv, readFile: (path: string) => string): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      kubeconfig: { type: 'string' },
      identity: { type: 'string' },
      'health-port': { type: 'string' },
      'metrics-port': { type: 'string' },
      'leader-elect': { type: 'string' },
      'log-level': { type: 'string' },
      workers: { type: 'string' },
      'resync-seconds': { type: 'string' },
    },
    strict: true,
  });
  let file: Record<string, unknown> = {};
  if (values.config) {
    let text: string;
    try {
      text = readFile(values.config);
    } catch (e) {
      throw new ConfigError(`cannot read --config ${values.config}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const parsed: unknown = parseYaml(text);
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed))
        throw new ConfigError(`${values.config}: expected a YAML mapping of settings`);
      file = parsed as Record<string, unknown>;
    }
  }
  const num = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new ConfigError(`--${flag} must be a whole number, got "${v}"`);
    return n;
  };
  const merged: Record<string, unknown> = { ...file };
  const server = { ...(file.server as object | undefined) } as Record<string, unknown>;
  const leader = { ...(file.leaderElection as object | undefined) } as Record<string, unknown>;
  if (values['health-port'] !== undefined) server.healthPort = num('health-port', values['health-port']);
  if (values['metrics-port'] !== undefined) server.metricsPort = num('metrics-port', values['metrics-port']);
  if (values['leader-elect'] !== undefined) {
    if (!['true', 'false'].includes(values['leader-elect'])) throw new ConfigError('--leader-elect must be true or false');
    leader.enabled = values['leader-elect'] === 'true';
  }
  if (Object.keys(server).length) merged.server = server;
  if (Object.keys(leader).length) merged.leaderElection = leader;
  if (values['log-level'] !== undefined) merged.logLevel = values['log-level'];
  if (values.workers !== undefined) merged.workers = num('workers', values.workers);
  if (values['resync-seconds'] !== undefined) merged.resyncSeconds = num('resync-seconds', values['resync-seconds']);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const identity = values.identity ?? env.POD_NAME ?? `${env.HOSTNAME ?? 'operator'}-${process.pid}`;
  const gatewayRedisPassword = env.GATEWAY_REDIS_PASSWORD || undefined;
  return Object.freeze({
    ...result.data,
    kubeconfig: values.kubeconfig ?? env.KUBECONFIG,
    identity,
    ...(result.data.gatewayRedis && gatewayRedisPassword ? { gatewayRedisPassword } : {}),
  });
}
