/**
 * Composition root of the tenant gateway (`npm run gateway`): settings -> Kubernetes informers
 * (Tenant, TenantTier, ModelAccess; read-only) -> TokenReview identity -> Redis quota store ->
 * Bedrock clients -> HTTP server; drains on SIGTERM/SIGINT. Stateless: run as many replicas as
 * needed behind one Service, sharing one Redis.
 */
import { pino, type Logger } from 'pino';
import type { KindName } from '../api/v1alpha1/constants.js';
import type { ModelAccess, Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { AuthenticationV1Api, CustomObjectsApi, KubeConfig } from '../adapters/kube/client.js';
import { Informer } from '../adapters/kube/informer.js';
import { collectionPath, lister } from '../adapters/kube/resources.js';
import { systemClock } from '../runtime/clock.js';
import { SdkBedrock } from './bedrock.js';
import { type GatewayConfig, GatewayConfigError, parseGatewayConfig } from './config.js';
import { Directory, forgetDeleted } from './directory.js';
import { TokenIdentity, type TokenReviewer } from './identity.js';
import { createGatewayMetrics, seriesForgetter } from './metrics.js';
import { QuotaGate } from './quota-gate.js';
import { RedisQuotaStore } from './quota-store.js';
import { startGatewayServer } from './server.js';

function informers(
  kc: KubeConfig,
  logger: Logger,
): { tenants: Informer<Tenant>; tiers: Informer<TenantTier>; accesses: Informer<ModelAccess> } {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const make = <T extends Tenant | TenantTier | ModelAccess>(kind: KindName): Informer<T> =>
    new Informer<T>({
      path: collectionPath(kind),
      list: lister<T>(custom, kind),
      kubeConfig: kc,
      clock: systemClock,
      logger: logger.child({ informer: kind }),
      watchdogMs: 300_000,
    });
  return { tenants: make<Tenant>('Tenant'), tiers: make<TenantTier>('TenantTier'), accesses: make<ModelAccess>('ModelAccess') };
}

function tokenReviewer(kc: KubeConfig): TokenReviewer {
  const api = kc.makeApiClient(AuthenticationV1Api);
  return async (token, audiences) => {
    const r = await api.createTokenReview({ body: { spec: { token, audiences } } }, { timeoutMs: 10_000 });
    return { authenticated: r.status?.authenticated === true, username: r.status?.user?.username, audiences: r.status?.audiences };
  };
}

async function run(config: GatewayConfig, logger: Logger): Promise<void> {
  const kc = new KubeConfig();
  if (config.KUBECONFIG) kc.loadFromFile(config.KUBECONFIG);
  else kc.loadFromDefault();
  const caches = informers(kc, logger);
  const metrics = createGatewayMetrics();
  // A deleted Tenant's (or grant's) series go with it; subscribed before the informers start, so no deletion is missed.
  forgetDeleted(
    caches.tenants,
    caches.accesses,
    seriesForgetter(metrics, (err: unknown) => logger.warn({ err }, 'could not drop the metric series of a deleted object')),
  );
  for (const i of Object.values(caches)) i.start();
  const store = new RedisQuotaStore({
    url: config.GATEWAY_REDIS_URL,
    password: config.GATEWAY_REDIS_PASSWORD,
    commandTimeoutMs: config.GATEWAY_REDIS_TIMEOUT_MS,
  });
  if (!(await store.connect())) logger.warn('quota store not reachable yet; model calls get 503 until it is');
  const bedrock = new SdkBedrock({
    region: config.AWS_REGION,
    retrievalRoleArn: config.GATEWAY_RETRIEVAL_ROLE_ARN,
    sessionPrefix: config.GATEWAY_SESSION_PREFIX,
  });
  const server = await startGatewayServer(
    {
      identity: new TokenIdentity(tokenReviewer(kc), {
        audience: config.GATEWAY_TOKEN_AUDIENCE,
        maxEntries: config.GATEWAY_TOKEN_CACHE_SIZE,
        maxTtlMs: config.GATEWAY_TOKEN_CACHE_SECONDS * 1000,
      }),
      directory: new Directory(caches.tenants, caches.tiers, caches.accesses, config.GATEWAY_REQUESTS_PER_MINUTE),
      bedrock,
      quota: new QuotaGate(store, metrics, logger, {
        prefix: config.GATEWAY_REDIS_KEY_PREFIX,
        failOpen: config.GATEWAY_QUOTA_FAIL_OPEN,
        now: () => new Date(),
      }),
      metrics,
      logger,
      ready: () => Object.values(caches).every((i) => i.hasSynced()),
      audience: config.GATEWAY_TOKEN_AUDIENCE,
      chat: {
        defaultMaxTokens: config.GATEWAY_DEFAULT_MAX_TOKENS,
        maxTokens: config.GATEWAY_MAX_TOKENS,
        bytesPerToken: config.GATEWAY_PROMPT_BYTES_PER_TOKEN,
      },
      maxResults: config.GATEWAY_MAX_RESULTS,
      contextTokensPerResult: config.GATEWAY_CONTEXT_TOKENS_PER_RESULT,
      maxBodyBytes: config.GATEWAY_MAX_BODY_BYTES,
    },
    config.GATEWAY_PORT,
    config.GATEWAY_HOST,
  );
  logger.info(
    { port: server.port, audience: config.GATEWAY_TOKEN_AUDIENCE, failOpen: config.GATEWAY_QUOTA_FAIL_OPEN },
    'gateway listening',
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'shutting down: draining requests');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  setTimeout(() => process.exit(1), 15_000).unref();
  await server.close();
  for (const i of Object.values(caches)) i.stop();
  await store.close();
  bedrock.destroy();
}

async function main(): Promise<number> {
  let config: GatewayConfig;
  try {
    config = parseGatewayConfig(process.env);
  } catch (e) {
    if (e instanceof GatewayConfigError) {
      process.stderr.write(`tenant-rag-gateway: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const logger = pino({ level: config.GATEWAY_LOG_LEVEL, base: { component: 'gateway' } });
  await run(config, logger);
  logger.info('stopped');
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tenant-rag-gateway: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
