/**
 * The gateway's settings, from environment variables (the chart sets them), parsed once into a
 * frozen object. Pure: the environment is passed in.
 */
import * as z from 'zod';

/** A setting that cannot be used. */
export class GatewayConfigError extends Error {
  override readonly name = 'GatewayConfigError';
}

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const int = (min: number, max: number): z.ZodCoercedNumber => z.coerce.number().int().min(min).max(max);

const schema = z.object({
  GATEWAY_HOST: z.string().default('0.0.0.0'),
  GATEWAY_PORT: int(0, 65535).default(8080),
  GATEWAY_TOKEN_AUDIENCE: z.string().min(1).default('tenant-rag-gateway'),
  GATEWAY_TOKEN_CACHE_SIZE: int(1, 1_000_000).default(10_000),
  GATEWAY_TOKEN_CACHE_SECONDS: int(1, 3600).default(300),
  GATEWAY_REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL'),
  GATEWAY_REDIS_PASSWORD: z.string().optional(),
  GATEWAY_REDIS_TIMEOUT_MS: int(10, 60_000).default(500),
  GATEWAY_REDIS_KEY_PREFIX: z.string().min(1).default('tro:quota'),
  /** Let model calls through, uncounted, while the quota store is unreachable (default: refuse, 503). */
  GATEWAY_QUOTA_FAIL_OPEN: bool.default(false),
  /** Requests per minute per tenant and model; unset: no request rate limit. */
  GATEWAY_REQUESTS_PER_MINUTE: int(1, 1_000_000).optional(),
  GATEWAY_DEFAULT_MAX_TOKENS: int(1, 1_000_000).default(1024),
  GATEWAY_MAX_TOKENS: int(1, 1_000_000).default(8192),
  GATEWAY_PROMPT_BYTES_PER_TOKEN: z.coerce.number().min(0.5).max(8).default(2),
  GATEWAY_CONTEXT_TOKENS_PER_RESULT: int(1, 100_000).default(1000),
  GATEWAY_MAX_RESULTS: int(1, 100).default(100),
  GATEWAY_MAX_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  GATEWAY_RETRIEVAL_ROLE_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/)
    .optional(),
  GATEWAY_SESSION_PREFIX: z
    .string()
    .regex(/^[\w+=,.@-]{1,32}$/)
    .default('rag-gateway'),
  GATEWAY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  KUBECONFIG: z.string().optional(),
});

/** The parsed settings. */
export type GatewayConfig = Readonly<z.infer<typeof schema>>;

/** Parses the settings from `env`; throws GatewayConfigError naming every bad variable. */
export function parseGatewayConfig(env: Record<string, string | undefined>): GatewayConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = schema.safeParse(present);
  if (!r.success) {
    throw new GatewayConfigError(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  if (r.data.GATEWAY_DEFAULT_MAX_TOKENS > r.data.GATEWAY_MAX_TOKENS) {
    throw new GatewayConfigError('GATEWAY_DEFAULT_MAX_TOKENS: must not exceed GATEWAY_MAX_TOKENS');
  }
  return Object.freeze(r.data);
}
