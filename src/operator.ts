/**
 * Builds the operator from a Config: Kubernetes clients, informers, the three controllers, leader
 * election and the HTTP endpoints. Nothing here reads the environment; main.ts does that once.
 */
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, KubeConfig } from '@kubernetes/client-node';
import { OutputsWriter } from './adapters/kube/configmaps.js';
import type { Logger } from 'pino';
import { CONDITION, KINDS, type KindName } from './api/v1alpha1/constants.js';
import type { AnyResource, ModelAccess, Tenant, TenantTier } from './api/v1alpha1/types.js';
import type { Config } from './config.js';
import { TenantReconciler } from './controllers/tenant/reconciler.js';
import { TenantTierReconciler } from './controllers/tenanttier/reconciler.js';
import { KubeEventRecorder } from './adapters/kube/events.js';
import { Informer } from './adapters/kube/informer.js';
import { KubeLeaseStore } from './adapters/kube/lease.js';
import { ResourceWriter, collectionPath, lister } from './adapters/kube/resources.js';
import { type Clock, systemClock } from './runtime/clock.js';
import { Controller, type Reconciler } from './runtime/controller.js';
import { LeaderElector } from './runtime/leader.js';
import { createMetrics } from './runtime/metrics.js';
import { KeyedBackoff } from './runtime/ratelimit.js';
import { WorkQueue } from './runtime/workqueue.js';
import { startEndpoints } from './server.js';
import { RateBudgets } from './adapters/aws/budgets.js';
import { pinBucketOwner } from './adapters/aws/bucket-owner.js';
import { PodIdentityDriver } from './resources/pod-identity/driver.js';
import { NamingGuard } from './resources/naming-guard/driver.js';
import { type AwsClients, type CallerIdentity, callerIdentity, createAwsClients } from './adapters/aws/clients.js';
import { AossDataPlane } from './adapters/aws/aoss-data.js';
import { AossCollectionDriver } from './resources/aoss-collection/driver.js';
import { AossPolicyDriver } from './resources/aoss-policy/driver.js';
import { DataSourceDriver } from './resources/data-source/driver.js';
import { KnowledgeBaseDriver } from './resources/knowledge-base/driver.js';
import { VectorIndexDriver } from './resources/vector-index/driver.js';
import { IngestionScheduler, bedrockAgentIngestionPort } from './ingestion/scheduler.js';
import { sidecarWriter } from './ingestion/sidecar-cursor.js';
import { tenantsWithDocuments } from './resources/s3-prefix/driver.js';
import type { IngestionDeps } from './controllers/ingestion.js';
import { createModelAccessParts } from './controllers/modelaccess/wiring.js';
import { sumTenantUsage, tenantQuotaCondition } from './usage/tenant-usage.js';
import { monthKey } from './usage/windows.js';
import type { NamingContext } from './core/naming.js';
import { IamRoleDriver } from './resources/iam-role/driver.js';
import { KmsKeyDriver, markKeyRetained } from './resources/kms-key/driver.js';
import { S3BucketDriver } from './resources/s3-bucket/driver.js';
import { S3PrefixDriver } from './resources/s3-prefix/driver.js';
import { type StackDeps, tenantResources, tierResources } from './resources/stacks.js';
import {
  changedForOwner,
  changedForTenants,
  changedMembership,
  readyFlipped,
  waitingForIdentity,
  waitingForRoom,
} from './controllers/watch-filters.js';

/** A running operator. */
export interface OperatorHandle {
  healthPort: number;
  metricsPort: number;
  /** Resolves with an exit code when the operator stops by itself (lost leadership). */
  stopped: Promise<number>;
  /** Graceful stop: finish in-flight passes, release the lease, close endpoints. */
  stop(): Promise<void>;
}

function kubeConfigFrom(config: Config): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  return kc;
}

/**
 * Who the operator is in AWS, resolved on first use: asked of STS once and cached, and asked
 * again on the next pass if it failed, so the operator starts (and reports healthy) while AWS is
 * briefly unreachable.
 */
function identityOnce(aws: AwsClients, logger: Logger): () => Promise<CallerIdentity> {
  let pending: Promise<CallerIdentity> | undefined;
  return () => {
    pending ??= callerIdentity(aws.sts).then(
      (id) => {
        logger.info(id, 'AWS identity resolved');
        return id;
      },
      (e: unknown) => {
        pending = undefined;
        throw e;
      },
    );
    return pending;
  };
}

/** Starts the operator. */
export async function startOperator(config: Config, logger: Logger, clock: Clock = systemClock): Promise<OperatorHandle> {
  const kc = kubeConfigFrom(config);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const metrics = createMetrics();
  const now = (): Date => new Date(clock.now());
  const events = new KubeEventRecorder(kc.makeApiClient(EventsV1Api), config.identity, clock, logger);

  const informer = <T extends AnyResource>(kind: KindName): Informer<T> =>
    new Informer<T>({
      path: collectionPath(kind),
      list: lister<T>(custom, kind),
      kubeConfig: kc,
      clock,
      logger: logger.child({ informer: kind }),
      watchdogMs: config.watchdogSeconds * 1000,
      onRestart: (reason) => metrics.informerRestarts.inc({ kind, reason }),
    });
  const tiers = informer<TenantTier>('TenantTier');
  const tenants = informer<Tenant>('Tenant');
  const accesses = informer<ModelAccess>('ModelAccess');

  const writer = <T extends AnyResource>(kind: KindName): ResourceWriter<T> =>
    new ResourceWriter<T>(custom, kind, (what) => {
      if (what === 'status') metrics.statusWrites.inc({ kind });
    });
  const controller = (kind: KindName, reconciler: Reconciler, store: { get(name: string): unknown }): Controller =>
    new Controller({
      name: KINDS[kind].plural,
      queue: new WorkQueue({ clock, backoff: new KeyedBackoff(500, 300_000), retryRatePerSec: 10, retryBurst: 100 }),
      reconciler,
      workers: config.workers,
      logger,
      metrics,
      clock,
      resyncMs: config.resyncSeconds * 1000,
      exists: (key) => store.get(key) !== undefined,
    });
  const budgets = new RateBudgets(clock);
  budgets.observe({ calls: metrics.awsCalls, throttled: metrics.awsThrottled });
  const aws = createAwsClients({
    region: config.region,
    s3ForcePathStyle: config.aws.s3ForcePathStyle,
    maxAttempts: config.aws.maxAttempts,
    budgets,
  });
  const identity = identityOnce(aws, logger);
  pinBucketOwner(aws.s3, async () => (await identity()).accountId);
  const dataPlane = new AossDataPlane({
    region: config.region,
    credentials: () => aws.sts.config.credentials(),
    budgets,
    urlTemplate: config.aws.openSearchDataPlaneUrl || undefined,
  });
  const stacks: StackDeps = {
    naming: async (): Promise<NamingContext> => ({
      prefix: config.resourcePrefix,
      cluster: config.clusterName,
      accountId: (await identity()).accountId,
      region: config.region,
    }),
    operatorPrincipal: async () => config.operatorRoleArn ?? (await identity()).principalArn,
    vector: {
      encryptionPolicies: new AossPolicyDriver(aws.aoss, 'encryption'),
      networkPolicies: new AossPolicyDriver(aws.aoss, 'network'),
      dataPolicies: new AossPolicyDriver(aws.aoss, 'data'),
      collections: new AossCollectionDriver(aws.aoss),
      indexes: new VectorIndexDriver(dataPlane),
      knowledgeBases: new KnowledgeBaseDriver(aws.bedrockAgent),
      dataSources: new DataSourceDriver(aws.bedrockAgent),
      vpcEndpointIds: config.openSearch.vpcEndpointIds,
      standbyReplicas: config.openSearch.standbyReplicas,
    },
    permissionsBoundaryArn: config.permissionsBoundaryArn,
    keyPendingWindowDays: config.aws.keyPendingWindowDays,
    keys: new KmsKeyDriver(aws.kms),
    buckets: new S3BucketDriver(aws.s3),
    prefixes: new S3PrefixDriver(aws.s3),
    knowledgeBaseRoles: new IamRoleDriver(aws.iam, 'KnowledgeBaseRole'),
    tenantRoles: new IamRoleDriver(aws.iam, 'TenantRole'),
    podIdentities: new PodIdentityDriver(aws.eks),
    namingGuard: new NamingGuard(),
    eksClusterArn: config.eksClusterArn,
  };
  // One scheduler for the account: it starts and polls ingestion jobs and requeues their owners.
  let onIngestionChange: (key: string) => void = () => undefined;
  const scheduler = new IngestionScheduler({
    port: bedrockAgentIngestionPort(aws.bedrockAgent),
    clock,
    logger: logger.child({ component: 'ingestion' }),
    onChange: (key) => onIngestionChange(key),
  });
  const ingestion: IngestionDeps = { scheduler, sidecars: sidecarWriter(aws.s3) };
  const tierController = controller(
    'TenantTier',
    new TenantTierReconciler(
      tiers,
      tenants,
      { writer: writer('TenantTier'), events, now },
      (tier) => tierResources(stacks, tier),
      ingestion,
      (bucket, signal) => tenantsWithDocuments(aws.s3, bucket, signal),
    ),
    tiers,
  );
  const tenantController = controller(
    'Tenant',
    new TenantReconciler(
      tenants,
      tiers,
      { writer: writer('Tenant'), events, now },
      (tenant, tier) => tenantResources(stacks, tenant, tier),
      ingestion,
      (name) => {
        const mine = accesses.list().filter((a) => a.spec.tenantRef.name === name);
        return { usage: sumTenantUsage(mine, monthKey(now())), quota: tenantQuotaCondition(mine) };
      },
      {
        writer: new OutputsWriter(kc.makeApiClient(CoreV1Api)),
        region: config.region,
        // The Lease's namespace is the one the operator runs in (the chart sets it to the release's).
        scope: { allowedNamespaces: config.connectionNamespaces, operatorNamespace: config.leaderElection.namespace },
      },
      (keyArn, tenant, bucket, signal) => markKeyRetained(aws.kms, keyArn, tenant, bucket, signal),
      {
        trust: async () => ({
          accountId: (await identity()).accountId,
          trustedAccountIds: config.trustedAccountIds,
          operatorPrincipal: await stacks.operatorPrincipal(),
        }),
        eksClusterArn: config.eksClusterArn,
      },
    ),
    tenants,
  );
  onIngestionChange = (key) => {
    const [kind, name = ''] = key.split('/');
    if (kind === 'Tenant') tenantController.enqueue(name);
    if (kind !== 'TenantTier') return;
    tierController.enqueue(name);
    // A pool's tenants show their tier's syncs.
    for (const t of tenants.list()) if (t.spec.tier === name) tenantController.enqueue(t.metadata.name);
  };
  const modelParts = createModelAccessParts({
    config,
    aws,
    clock,
    logger,
    metrics,
    accesses,
    tenants,
    tiers,
    events,
    writer: writer<ModelAccess>('ModelAccess'),
    naming: stacks.naming,
    // Resolved when the poller calls it, after the controller exists.
    enqueue: (name) => accessController.enqueue(name),
  });
  const accessController = controller('ModelAccess', modelParts.reconciler, accesses);

  // Watches map events to keys: an object's own changes, plus the objects that depend on it,
  // filtered to the changes that can alter a pass's outcome (see watch-filters.ts).
  tiers.onEvent((type, tier, old) => {
    if (type === 'delete' || changedForOwner(tier, old)) {
      tierController.enqueue(tier.metadata.name);
      // A tier's defaultQuota applies to its tenants' accesses.
      for (const k of modelParts.accessesOfTier(tier.metadata.name)) accessController.enqueue(k);
    }
    if (type === 'delete' || changedForTenants(tier, old))
      for (const t of tenants.list()) if (t.spec.tier === tier.metadata.name) tenantController.enqueue(t.metadata.name);
  });
  tenants.onEvent((type, tenant, old) => {
    const deleted = type === 'delete';
    const own = deleted || changedForOwner(tenant, old);
    if (own) tenantController.enqueue(tenant.metadata.name);
    // Model accesses wait for their tenant's spec, readiness and deletion.
    if (own || readyFlipped(tenant, old))
      for (const a of accesses.list()) if (a.spec.tenantRef.name === tenant.metadata.name) accessController.enqueue(a.metadata.name);
    // A tenant refused for another's service account gets another look when that one changes or goes.
    if (own) for (const t of tenants.list()) if (waitingForIdentity(t)) tenantController.enqueue(t.metadata.name);
    if (!changedMembership(tenant, old, deleted)) return;
    tierController.enqueue(tenant.spec.tier);
    if (old && old.spec.tier !== tenant.spec.tier) tierController.enqueue(old.spec.tier);
    // A tenant leaving a tier (or being admitted) changes who fits under maxTenants: the tier's
    // tenants refused for want of room get another look.
    for (const t of tenants.list())
      if (t.spec.tier === tenant.spec.tier && t.metadata.name !== tenant.metadata.name && waitingForRoom(t))
        tenantController.enqueue(t.metadata.name);
  });
  accesses.onEvent((_t, a, old) => {
    accessController.enqueue(a.metadata.name);
    // The tenant sums its accesses' usage and quota state: look again when those change.
    const shown = (x: ModelAccess | undefined): string =>
      JSON.stringify([x?.status?.usage, x?.status?.conditions?.find((c) => c.type === CONDITION.QuotaExceeded)?.status]);
    if (!old || shown(old) !== shown(a) || a.metadata.deletionTimestamp) tenantController.enqueue(a.spec.tenantRef.name);
  });

  for (const inf of [tiers, tenants, accesses]) inf.start();
  const endpoints = await startEndpoints({
    host: config.server.bindAddress,
    healthPort: config.server.healthPort,
    metricsPort: config.server.metricsPort,
    registry: metrics.registry,
    ready: () => tiers.hasSynced() && tenants.hasSynced() && accesses.hasSynced(),
  });
  await Promise.all([tiers.waitForSync(), tenants.waitForSync(), accesses.waitForSync()]);
  logger.info({ healthPort: endpoints.healthPort, metricsPort: endpoints.metricsPort }, 'caches synced');

  const controllers = [tierController, tenantController, accessController];
  let resolveStopped: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((r) => {
    resolveStopped = r;
  });
  const startControllers = (): void => {
    scheduler.start();
    modelParts.poller.start();
    for (const c of controllers) c.start();
  };

  let elector: LeaderElector | undefined;
  if (config.leaderElection.enabled) {
    const le = config.leaderElection;
    elector = new LeaderElector(
      new KubeLeaseStore(kc.makeApiClient(CoordinationV1Api), le.namespace, le.leaseName),
      config.identity,
      clock,
      {
        leaseDurationMs: le.leaseDurationSeconds * 1000,
        renewDeadlineMs: le.renewDeadlineSeconds * 1000,
        retryPeriodMs: le.retryPeriodSeconds * 1000,
      },
      logger,
    );
    elector.run({
      onStartedLeading: () => {
        metrics.leader.set(1);
        startControllers();
      },
      // Another instance may already be acting: stop at once rather than race it.
      onStoppedLeading: () => {
        metrics.leader.set(0);
        for (const c of controllers) c.halt();
        void scheduler.stop();
        void modelParts.poller.stop();
        resolveStopped(1);
      },
    });
  } else {
    startControllers();
  }

  let stopping: Promise<void> | undefined;
  return {
    healthPort: endpoints.healthPort,
    metricsPort: endpoints.metricsPort,
    stopped,
    stop: () => {
      stopping ??= (async () => {
        await Promise.all(controllers.map((c) => c.stop()));
        await scheduler.stop();
        await modelParts.poller.stop();
        await elector?.shutdown();
        metrics.leader.set(0);
        for (const inf of [tiers, tenants, accesses]) inf.stop();
        await endpoints.close();
        resolveStopped(0);
      })();
      return stopping;
    },
  };
}
