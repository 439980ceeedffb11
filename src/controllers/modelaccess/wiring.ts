/**
 * Builds the ModelAccess parts for the composition root: the reconciler (with its drivers, the
 * model lifecycle cache and the usage readings) and the one account-wide usage poller, which
 * hands changed keys to the ModelAccess controller's queue. The caller owns the controller and
 * starts and stops the poller with the controllers (on the leader only).
 */
import type { Logger } from 'pino';
import type { ModelAccess, Tenant, TenantTier } from '../../api/v1alpha1/types.js';
import type { AwsClients } from '../../adapters/aws/clients.js';
import { ModelLifecycleCache } from '../../adapters/aws/model-lifecycle.js';
import type { Config } from '../../config.js';
import type { NamingContext } from '../../core/naming.js';
import type { EventRecorder, ObjectStore, ObjectWriter } from '../../ports/kube.js';
import { InferenceProfileDriver } from '../../resources/inference-profile/driver.js';
import { RolePolicyDriver } from '../../resources/role-policy/driver.js';
import type { Clock } from '../../runtime/clock.js';
import { type ModelMetrics, type RuntimeMetrics, createModelMetrics } from '../../runtime/metrics.js';
import { UsageBook } from '../../usage/book.js';
import { UsagePoller, type UsageTarget } from '../../usage/poller.js';
import { ModelAccessReconciler } from './reconciler.js';

/** What the parts are built from. */
export interface ModelAccessPartsInput {
  config: Pick<Config, 'approvedModels' | 'usage'>;
  aws: Pick<AwsClients, 'bedrock' | 'iam' | 'cloudwatch'>;
  clock: Clock;
  logger: Logger;
  /** The operator's metrics; the model metrics are added to its registry. */
  metrics: RuntimeMetrics;
  accesses: ObjectStore<ModelAccess>;
  tenants: ObjectStore<Tenant>;
  tiers: ObjectStore<TenantTier>;
  events: EventRecorder;
  writer: ObjectWriter<ModelAccess>;
  naming: () => Promise<NamingContext>;
  /** Queues a ModelAccess key (the ModelAccess controller's enqueue); called by the poller. */
  enqueue: (name: string) => void;
}

/** The built parts. */
export interface ModelAccessParts {
  reconciler: ModelAccessReconciler;
  /** Start with the controllers (leader only); stop before the informers. */
  poller: UsagePoller;
  /** ModelAccess keys of a tenant, to requeue on its events. */
  accessesOfTenant(tenant: string): string[];
  /** ModelAccess keys of a tier's tenants, to requeue when its defaultQuota changes. */
  accessesOfTier(tier: string): string[];
  modelMetrics: ModelMetrics;
}

/** Builds the parts; see the module comment. */
export function createModelAccessParts(i: ModelAccessPartsInput): ModelAccessParts {
  const modelMetrics = createModelMetrics(i.metrics.registry);
  const book = new UsageBook();
  const intervalMs = i.config.usage.pollSeconds * 1000;
  const reconciler = new ModelAccessReconciler(
    i.accesses,
    i.tenants,
    () => i.config.approvedModels,
    { writer: i.writer, events: i.events, now: () => new Date(i.clock.now()) },
    {
      tiers: i.tiers,
      naming: i.naming,
      drivers: { profiles: new InferenceProfileDriver(i.aws.bedrock), policies: new RolePolicyDriver(i.aws.iam) },
      // One GetFoundationModel call per model per poll interval, shared by all its grants.
      lifecycle: new ModelLifecycleCache(i.aws.bedrock, i.clock, intervalMs),
      book,
      metrics: modelMetrics,
      minUsageWriteMs: i.config.usage.minStatusWriteSeconds * 1000,
    },
  );
  const poller = new UsagePoller({
    cloudwatch: i.aws.cloudwatch,
    clock: i.clock,
    logger: i.logger.child({ component: 'usage-poller' }),
    intervalMs,
    targets: () => grantedProfiles(i.accesses.list()),
    book,
    onChanged: (keys) => {
      for (const k of keys) i.enqueue(k);
    },
    metrics: modelMetrics,
  });
  const accessesOfTenant = (tenant: string): string[] =>
    i.accesses
      .list()
      .filter((a) => a.spec.tenantRef.name === tenant)
      .map((a) => a.metadata.name);
  return {
    reconciler,
    poller,
    accessesOfTenant,
    accessesOfTier: (tier) =>
      i.tenants
        .list()
        .filter((t) => t.spec.tier === tier)
        .flatMap((t) => accessesOfTenant(t.metadata.name)),
    modelMetrics,
  };
}

/** The ModelAccess objects with a profile on status: what the poller meters. */
export function grantedProfiles(accesses: readonly ModelAccess[]): UsageTarget[] {
  return accesses.flatMap((a) =>
    a.status?.inferenceProfileArn ? [{ key: a.metadata.name, profileArn: a.status.inferenceProfileArn }] : [],
  );
}
