/**
 * The composition root: builds the operator from a Config (Kubernetes clients and informers, AWS
 * clients and drivers, the three reconcilers, their controllers and watch table, leader election
 * and the HTTP endpoints). The only place adapters meet controllers; nothing here reads the
 * environment, main.ts does that once.
 */
import { isTrue } from './core/conditions.js';
import { CONDITION } from './api/v1alpha1/constants.js';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, KubeConfig } from './adapters/kube/client.js';
import type { Logger } from 'pino';
import { AossDataPlane } from './adapters/aws/aoss-data.js';
import { pinBucketOwner } from './adapters/aws/bucket-owner.js';
import { RateBudgets } from './adapters/aws/budgets.js';
import { type AwsClients, type CallerIdentity, createAwsClients, identityOnce } from './adapters/aws/clients.js';
import { describeAwsFailure } from './adapters/aws/errors.js';
import { ModelLifecycleCache } from './adapters/aws/model-lifecycle.js';
import { awsRetainedData } from './adapters/aws/retained.js';
import { OutputsWriter } from './adapters/kube/configmaps.js';
import { describeKubeFailure } from './adapters/kube/errors.js';
import { KubeEventRecorder } from './adapters/kube/events.js';
import { Informer } from './adapters/kube/informer.js';
import { KubeLeaseStore } from './adapters/kube/lease.js';
import { ResourceWriter, collectionPath, lister } from './adapters/kube/resources.js';
import { KINDS, type KindName } from './api/v1alpha1/constants.js';
import type { AnyResource, ModelAccess, Tenant, TenantTier } from './api/v1alpha1/types.js';
import type { Config } from './config.js';
import type { IngestionDeps } from './controllers/ingestion.js';
import { modelAccessReconciler } from './controllers/modelaccess/reconciler.js';
import type { KindDeps } from './controllers/owner/template.js';
import { type TenantDeps, tenantReconciler } from './controllers/tenant/reconciler.js';
import { tierReconciler } from './controllers/tenanttier/reconciler.js';
import { type WatchRule, ingestionRequeues, requeuesOf, watchTable } from './controllers/watches.js';
import type { NamingContext } from './core/naming.js';
import { IngestionScheduler, bedrockAgentIngestionPort } from './ingestion/scheduler.js';
import { sidecarWriter } from './ingestion/sidecar-cursor.js';
import type { DescribeFailure } from './ports/failures.js';
import type { EventRecorder, ObjectStore } from './ports/kube.js';
import type { RetainedData } from './ports/retained.js';
import { AossCollectionDriver } from './resources/aoss-collection/driver.js';
import { AossPolicyDriver } from './resources/aoss-policy/driver.js';
import { DataSourceDriver } from './resources/data-source/driver.js';
import { IamRoleDriver } from './resources/iam-role/driver.js';
import { InferenceProfileDriver } from './resources/inference-profile/driver.js';
import { KmsKeyDriver } from './resources/kms-key/driver.js';
import { KnowledgeBaseDriver } from './resources/knowledge-base/driver.js';
import { NamingGuard } from './resources/naming-guard/driver.js';
import { PodIdentityDriver } from './resources/pod-identity/driver.js';
import { RolePolicyDriver } from './resources/role-policy/driver.js';
import { S3BucketDriver } from './resources/s3-bucket/driver.js';
import { S3PrefixDriver } from './resources/s3-prefix/driver.js';
import { type StackDeps, tenantResources, tierResources } from './resources/stacks.js';
import { VectorIndexDriver } from './resources/vector-index/driver.js';
import { S3VectorBucketDriver } from './resources/s3vectors-bucket/driver.js';
import { S3VectorIndexDriver } from './resources/s3vectors-index/driver.js';
import { vectorStores } from './resources/vector-stores/index.js';
import { type Clock, systemClock } from './runtime/clock.js';
import { Controller, type Reconciler } from './runtime/controller.js';
import { LeaderElector } from './runtime/leader.js';
import { type Workers, runWhileLeading } from './runtime/leadership.js';
import { type ModelMetrics, type RuntimeMetrics, createMetrics, createModelMetrics, registerTenantInfo } from './runtime/metrics.js';
import { KeyedBackoff } from './runtime/ratelimit.js';
import type { CallPriority } from './runtime/call-priority.js';
import { WorkQueue } from './runtime/workqueue.js';
import { startEndpoints } from './server.js';
import { UsageBook } from './usage/book.js';
import { gatewayCounterSource } from './usage/gateway-poller.js';
import { UsagePoller, type UsageTarget } from './usage/poller.js';
import { sumTenantUsage, tenantQuotaCondition } from './usage/tenant-usage.js';
import { monthKey } from './usage/windows.js';

/** A running operator. */
export interface OperatorHandle {
  healthPort: number;
  metricsPort: number;
  /** Resolves with an exit code when the operator stops by itself (lost leadership). */
  stopped: Promise<number>;
  /** Graceful stop: finish in-flight passes, release the lease, close endpoints. */
  stop(): Promise<void>;
}

/** Errors of AWS calls first (they carry the call), then of Kubernetes calls. */
const describeFailure: DescribeFailure = (e) => describeAwsFailure(e) ?? describeKubeFailure(e);

function kubeConfigFrom(config: Config): KubeConfig {
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  return kc;
}

/** The informers of the three kinds, the status writers and the Event recorder. */
interface KubeParts {
  kc: KubeConfig;
  tiers: Informer<TenantTier>;
  tenants: Informer<Tenant>;
  accesses: Informer<ModelAccess>;
  events: EventRecorder;
  writer<T extends AnyResource>(kind: KindName): ResourceWriter<T>;
}

function kubeParts(config: Config, clock: Clock, logger: Logger, metrics: RuntimeMetrics): KubeParts {
  const kc = kubeConfigFrom(config);
  const custom = kc.makeApiClient(CustomObjectsApi);
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
  return {
    kc,
    tiers: informer<TenantTier>('TenantTier'),
    tenants: informer<Tenant>('Tenant'),
    accesses: informer<ModelAccess>('ModelAccess'),
    events: new KubeEventRecorder(kc.makeApiClient(EventsV1Api), config.identity, clock, logger),
    writer: <T extends AnyResource>(kind: KindName) =>
      new ResourceWriter<T>(custom, kind, (what) => {
        if (what === 'status') metrics.statusWrites.inc({ kind });
      }),
  };
}

/** The AWS side: clients under the rate budgets, who the operator is, and the drivers of each kind. */
interface AwsParts {
  aws: AwsClients;
  identity: () => Promise<CallerIdentity>;
  stacks: StackDeps;
}

function awsParts(config: Config, clock: Clock, logger: Logger, metrics: RuntimeMetrics): AwsParts {
  const budgets = new RateBudgets(clock);
  budgets.observe({ calls: metrics.awsCalls, throttled: metrics.awsThrottled });
  const aws = createAwsClients({
    region: config.region,
    s3ForcePathStyle: config.aws.s3ForcePathStyle,
    maxAttempts: config.aws.maxAttempts,
    budgets,
  });
  const identity = identityOnce(aws.sts, logger);
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
    knowledgeBase: {
      knowledgeBases: new KnowledgeBaseDriver(aws.bedrockAgent),
      dataSources: new DataSourceDriver(aws.bedrockAgent),
    },
    stores: vectorStores({
      openSearchServerless: {
        encryptionPolicies: new AossPolicyDriver(aws.aoss, 'encryption'),
        networkPolicies: new AossPolicyDriver(aws.aoss, 'network'),
        dataPolicies: new AossPolicyDriver(aws.aoss, 'data'),
        collections: new AossCollectionDriver(aws.aoss),
        indexes: new VectorIndexDriver(dataPlane),
        vpcEndpointIds: config.openSearch.vpcEndpointIds,
        standbyReplicas: config.openSearch.standbyReplicas,
      },
      s3Vectors: { buckets: new S3VectorBucketDriver(aws.s3vectors), indexes: new S3VectorIndexDriver(aws.s3vectors) },
    }),
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
    gatewayRoleArn: config.gatewayRoleArn,
  };
  return { aws, identity, stacks };
}

/** What the ModelAccess parts are built from. */
export interface ModelAccessWiring {
  config: Pick<Config, 'approvedModels' | 'usage' | 'gatewayRedis' | 'gatewayRedisPassword'>;
  aws: Pick<AwsClients, 'bedrock' | 'iam' | 'cloudwatch'>;
  clock: Clock;
  logger: Logger;
  /** The operator's metrics; the model metrics are added to its registry. */
  metrics: RuntimeMetrics;
  kube: Omit<KindDeps<ModelAccess>, 'now' | 'describeFailure'>;
  tenants: ObjectStore<Tenant>;
  tiers: ObjectStore<TenantTier>;
  naming: () => Promise<NamingContext>;
  /** Queues a ModelAccess key (the controller's enqueue); called by the poller. */
  enqueue: (name: string) => void;
}

/** The ModelAccess reconciler and the account's one usage poller (started with the controllers, on the leader). */
export interface ModelAccessParts {
  reconciler: Reconciler;
  poller: UsagePoller;
  modelMetrics: ModelMetrics;
}

/**
 * The inference profiles a tenant may invoke: those of its ModelAccess objects that have one, are
 * not being deleted and are not throttled (a Shared pool tier's tenant's session policy names them).
 */
export function grantedProfileArns(accesses: readonly ModelAccess[], tenant: string): string[] {
  return accesses
    .filter((a) => a.spec.tenantRef.name === tenant && !a.metadata.deletionTimestamp && !isTrue(a.status?.conditions, CONDITION.Throttled))
    .flatMap((a) => (a.status?.inferenceProfileArn ? [a.status.inferenceProfileArn] : []));
}

/** The ModelAccess objects with a profile on status: what the poller meters. */
export function grantedProfiles(accesses: readonly ModelAccess[]): UsageTarget[] {
  return accesses.flatMap((a) =>
    a.status?.inferenceProfileArn
      ? [{ key: a.metadata.name, profileArn: a.status.inferenceProfileArn, tenant: a.spec.tenantRef.name, model: a.spec.model }]
      : [],
  );
}

/** Builds the ModelAccess reconciler with its drivers, lifecycle cache and usage readings, and the poller. */
export function buildModelAccess(i: ModelAccessWiring): ModelAccessParts {
  const modelMetrics = createModelMetrics(i.metrics.registry);
  const book = new UsageBook();
  const intervalMs = i.config.usage.pollSeconds * 1000;
  const reconciler = modelAccessReconciler({
    ...i.kube,
    now: () => new Date(i.clock.now()),
    describeFailure,
    tenants: i.tenants,
    tiers: i.tiers,
    approved: () => i.config.approvedModels,
    naming: i.naming,
    drivers: { profiles: new InferenceProfileDriver(i.aws.bedrock), policies: new RolePolicyDriver(i.aws.iam) },
    // One GetFoundationModel call per model per poll interval, shared by all its grants.
    lifecycle: new ModelLifecycleCache(i.aws.bedrock, i.clock, intervalMs),
    book,
    metrics: modelMetrics,
    minUsageWriteMs: i.config.usage.minStatusWriteSeconds * 1000,
  });
  const poller = new UsagePoller({
    cloudwatch: i.aws.cloudwatch,
    clock: i.clock,
    logger: i.logger.child({ component: 'usage-poller' }),
    intervalMs,
    targets: () => grantedProfiles(i.kube.store.list()),
    book,
    onChanged: (keys) => {
      for (const k of keys) i.enqueue(k);
    },
    metrics: modelMetrics,
    gateway: gatewayCounterSource(i.config.gatewayRedis, i.config.gatewayRedisPassword),
  });
  return { reconciler, poller, modelMetrics };
}

/** The controllers of the three kinds, by kind. */
type Controllers = Record<KindName, Controller>;

/** What the builders below share: settings, clock, logger, metrics, and the Kubernetes and AWS parts. */
interface Wiring {
  config: Config;
  clock: Clock;
  logger: Logger;
  metrics: RuntimeMetrics;
  k: KubeParts;
  a: AwsParts;
  now: () => Date;
}

/** A controller for `kind`: its own work queue (per-key backoff, shared retry budget) and workers. */
function controllerFor(
  w: Wiring,
  kind: KindName,
  reconciler: Reconciler,
  store: ObjectStore<unknown>,
  priorityOf?: (key: string) => CallPriority,
): Controller {
  const backoff = new KeyedBackoff(500, 300_000);
  return new Controller({
    name: KINDS[kind].plural,
    queue: new WorkQueue({ clock: w.clock, backoff, retryRatePerSec: 10, retryBurst: 100, priorityOf }),
    reconciler,
    workers: w.config.workers,
    logger: w.logger,
    metrics: w.metrics,
    clock: w.clock,
    resyncMs: w.config.resyncSeconds * 1000,
    exists: (key) => store.get(key) !== undefined,
  });
}

/** The Tenant reconciler's dependencies. */
function tenantDeps(w: Wiring, ingestion: IngestionDeps, retained: RetainedData): TenantDeps {
  const { config, k, a, now } = w;
  return {
    events: k.events,
    now,
    describeFailure,
    store: k.tenants,
    writer: k.writer<Tenant>('Tenant'),
    tiers: k.tiers,
    resources: (t, tr) => tenantResources({ ...a.stacks, grantedProfiles: (name) => grantedProfileArns(k.accesses.list(), name) }, t, tr),
    ingestion,
    usageOf: (name) => {
      const mine = k.accesses.list().filter((x) => x.spec.tenantRef.name === name);
      return { usage: sumTenantUsage(mine, monthKey(now())), quota: tenantQuotaCondition(mine) };
    },
    outputs: {
      writer: new OutputsWriter(k.kc.makeApiClient(CoreV1Api)),
      region: config.region,
      // The Lease's namespace is the one the operator runs in (the chart sets it to the release's).
      scope: { allowedNamespaces: config.connectionNamespaces, operatorNamespace: config.leaderElection.namespace },
    },
    retained,
    access: {
      trust: async () => ({
        accountId: (await a.identity()).accountId,
        trustedAccountIds: config.trustedAccountIds,
        operatorPrincipal: await a.stacks.operatorPrincipal(),
      }),
      eksClusterArn: config.eksClusterArn,
    },
  };
}

/** Builds the reconcilers and their controllers; the ingestion scheduler and the usage poller requeue through them. */
function controllers(w: Wiring): { byKind: Controllers; scheduler: IngestionScheduler; poller: UsagePoller } {
  const { k, a } = w;
  let requeue: (kind: KindName, name: string) => void = () => undefined;
  // One scheduler for the account: it starts and polls ingestion jobs and requeues their owners.
  const scheduler = new IngestionScheduler({
    port: bedrockAgentIngestionPort(a.aws.bedrockAgent),
    clock: w.clock,
    logger: w.logger.child({ component: 'ingestion' }),
    onChange: (key) => {
      for (const [kind, name] of ingestionRequeues(key, k.tenants)) requeue(kind, name);
    },
  });
  const ingestion: IngestionDeps = { scheduler, sidecars: sidecarWriter(a.aws.s3) };
  const retained = awsRetainedData(a.aws.s3, a.aws.kms);
  const tier = tierReconciler({
    events: k.events,
    now: w.now,
    describeFailure,
    store: k.tiers,
    writer: k.writer<TenantTier>('TenantTier'),
    tenants: k.tenants,
    resources: (t) => tierResources(a.stacks, t),
    ingestion,
    retained,
  });
  const model = buildModelAccess({
    ...w,
    aws: a.aws,
    kube: { store: k.accesses, writer: k.writer<ModelAccess>('ModelAccess'), events: k.events },
    tenants: k.tenants,
    tiers: k.tiers,
    naming: a.stacks.naming,
    enqueue: (name) => requeue('ModelAccess', name),
  });
  const byKind: Controllers = {
    TenantTier: controllerFor(w, 'TenantTier', tier, k.tiers),
    // A dedicated (bridge, silo) tenant's passes go first in the queue, as its calls do in the rate
    // budgets: its chain of roles, index, knowledge base and data source holds it up, while a
    // pool tenant's pass starts nothing others wait on.
    Tenant: controllerFor(w, 'Tenant', tenantReconciler(tenantDeps(w, ingestion, retained)), k.tenants, (name) =>
      k.tiers.get(k.tenants.get(name)?.spec.tier ?? '')?.spec.isolation === 'pool' ? 'low' : 'high',
    ),
    ModelAccess: controllerFor(w, 'ModelAccess', model.reconciler, k.accesses),
  };
  requeue = (kind, name) => byKind[kind].enqueue(name);
  return { byKind, scheduler, poller: model.poller };
}

/** Subscribes an informer to its rules of the watch table. */
function subscribe<T extends AnyResource>(informer: Informer<T>, rules: readonly WatchRule<T>[], byKind: Controllers): void {
  informer.onEvent((type, obj, old) => {
    for (const [kind, name] of requeuesOf(rules, { type, obj, old })) byKind[kind].enqueue(name);
  });
}

/** Starts the operator. */
export async function startOperator(config: Config, logger: Logger, clock: Clock = systemClock): Promise<OperatorHandle> {
  const metrics = createMetrics();
  const k = kubeParts(config, clock, logger, metrics);
  const a = awsParts(config, clock, logger, metrics);
  const c = controllers({ config, clock, logger, metrics, k, a, now: () => new Date(clock.now()) });
  const table = watchTable({ tiers: k.tiers, tenants: k.tenants, accesses: k.accesses });
  subscribe(k.tiers, table.TenantTier, c.byKind);
  subscribe(k.tenants, table.Tenant, c.byKind);
  subscribe(k.accesses, table.ModelAccess, c.byKind);
  const informers = [k.tiers, k.tenants, k.accesses];
  registerTenantInfo(metrics.registry, () =>
    k.tenants.list().flatMap((t) =>
      t.status?.isolation
        ? [
            {
              tenant: t.metadata.name,
              tier: t.spec.tier,
              isolation: t.status.isolation,
              vectorStore: t.status.vectorStore ?? 'OpenSearchServerless',
            },
          ]
        : [],
    ),
  );
  for (const inf of informers) inf.start();
  const endpoints = await startEndpoints({
    host: config.server.bindAddress,
    healthPort: config.server.healthPort,
    metricsPort: config.server.metricsPort,
    registry: metrics.registry,
    ready: () => informers.every((inf) => inf.hasSynced()),
  });
  // The workers start only once every cache holds its full first list. Each listed object arrives
  // as an add and requeues its owners, and the queues collapse them: a pool tier whose 10,000
  // tenants come a page at a time is reconciled once, on all of them. Workers started earlier would
  // run it again after each page, the first time with no tenants at all (a tier being deleted
  // would conclude that none is left).
  await Promise.all(informers.map((inf) => inf.waitForSync()));
  logger.info({ healthPort: endpoints.healthPort, metricsPort: endpoints.metricsPort }, 'caches synced');

  const running = Object.values(c.byKind);
  const workers: Workers = {
    start: () => {
      c.scheduler.start();
      c.poller.start();
      for (const x of running) x.start();
    },
    halt: () => {
      for (const x of running) x.halt();
      void c.scheduler.stop();
      void c.poller.stop();
    },
    stop: async () => {
      await Promise.all(running.map((x) => x.stop()));
      await c.scheduler.stop();
      await c.poller.stop();
    },
    close: async () => {
      for (const inf of informers) inf.stop();
      await endpoints.close();
    },
  };
  const leading = runWhileLeading(elector(config, logger, clock, k.kc), workers, (on) => metrics.leader.set(on ? 1 : 0));
  return { healthPort: endpoints.healthPort, metricsPort: endpoints.metricsPort, ...leading };
}

/** The Lease candidate, when leader election is on. */
function elector(config: Config, logger: Logger, clock: Clock, kc: KubeConfig): LeaderElector | undefined {
  const le = config.leaderElection;
  if (!le.enabled) return undefined;
  return new LeaderElector(
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
}
