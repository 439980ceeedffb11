/**
 * The watch table behind real informers and work queues, wired as the composition root wires them
 * (src/operator.ts: every informer subscribed to its rules, the workers started once every cache
 * has synced): what an informer's initial list of many tenants, read a page at a time, costs the
 * tier they belong to, what a tenant added later does, and what a relist after a 410 does.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { KubeConfig } from '../adapters/kube/client.js';
import type { WatchDoneHandler, WatchEventHandler } from '../adapters/kube/http.js';
import { Informer } from '../adapters/kube/informer.js';
import type { ListPage, ListResult } from '../adapters/kube/resources.js';
import { FINALIZER, type KindName } from '../api/v1alpha1/constants.js';
import type { AnyResource, ModelAccess, Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { ManualClock } from '../runtime/clock.js';
import { Controller } from '../runtime/controller.js';
import { createMetrics } from '../runtime/metrics.js';
import { KeyedBackoff } from '../runtime/ratelimit.js';
import { WorkQueue } from '../runtime/workqueue.js';
import { type WatchRule, requeuesOf, watchTable } from './watches.js';

const PAGE = 500;
const logger = pino({ level: 'silent' });
/** One turn of the event loop: what a page of a list or a read of AWS takes at least. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await turn();
};

/** The API server's side of one kind: a list served a page at a time, and the watch that follows. */
class Collection<T extends AnyResource> {
  readonly objects = new Map<string, T>();
  pagesServed = 0;
  private rv = 0;
  private watching: { onEvent: WatchEventHandler<unknown>; onDone: WatchDoneHandler } | undefined;

  /** Stores `obj` with a new resourceVersion; the watch, if told, delivers it. */
  put(obj: T, tell = true): void {
    const type = this.objects.has(obj.metadata.name) ? 'MODIFIED' : 'ADDED';
    const stored = structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } });
    this.objects.set(obj.metadata.name, stored);
    if (tell) this.watching?.onEvent(type, structuredClone(stored));
  }

  remove(name: string, tell = true): void {
    const gone = this.objects.get(name);
    this.objects.delete(name);
    this.rv++;
    if (tell && gone) this.watching?.onEvent('DELETED', structuredClone(gone));
  }

  /** A page of the list, in its own turn of the event loop, as over the network. */
  list = async (page: ListPage): Promise<ListResult<T>> => {
    await turn();
    this.pagesServed++;
    const all = [...this.objects.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const from = Number(page.continue ?? 0);
    const next = from + page.limit;
    return {
      items: all.slice(from, next).map((o) => structuredClone(o)),
      metadata: { resourceVersion: String(this.rv), ...(next < all.length ? { continue: String(next) } : {}) },
    };
  };

  /** The watch ends as a too-old resourceVersion's does: 410 Gone, and the informer relists. */
  expire(): void {
    const w = this.watching;
    this.watching = undefined;
    w?.onDone(Object.assign(new Error('too old resource version'), { statusCode: 410 }));
  }

  kubeConfig(): KubeConfig {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const collection = this;
    return new (class extends KubeConfig {
      override watch<W>(
        _path: string,
        _query: Record<string, string | number | boolean | undefined>,
        onEvent: WatchEventHandler<W>,
        onDone: WatchDoneHandler,
      ): Promise<AbortController> {
        collection.watching = { onEvent: onEvent as WatchEventHandler<unknown>, onDone };
        return Promise.resolve(new AbortController());
      }
    })();
  }
}

const tier = (name: string): TenantTier => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'TenantTier',
  metadata: { name, generation: 1, finalizers: [FINALIZER] },
  spec: { isolation: 'pool' },
});
const tenant = (name: string, status: Tenant['status'] = {}): Tenant => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name, generation: 1, finalizers: [FINALIZER] },
  spec: { tier: 'pool' },
  status,
});
const access = (name: string, tenantName: string, status: ModelAccess['status'] = {}): ModelAccess => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'ModelAccess',
  metadata: { name, generation: 1, finalizers: [FINALIZER] },
  spec: { tenantRef: { name: tenantName }, model: 'm' },
  status,
});

/** The operator in small: the three informers, the table, and a controller per kind whose passes are recorded. */
function operator(opts: { tenants: number; accesses?: number }) {
  const clock = new ManualClock(0);
  const api = { TenantTier: new Collection<TenantTier>(), Tenant: new Collection<Tenant>(), ModelAccess: new Collection<ModelAccess>() };
  api.TenantTier.put(tier('pool'));
  for (let i = 0; i < opts.tenants; i++) api.Tenant.put(tenant(`t${String(i).padStart(5, '0')}`));
  for (let i = 0; i < (opts.accesses ?? 0); i++)
    api.ModelAccess.put(access(`a${String(i).padStart(5, '0')}`, `t${String(i).padStart(5, '0')}`));
  const informer = <T extends AnyResource>(c: Collection<T>): Informer<T> =>
    new Informer<T>({ path: '/x', list: c.list, pageSize: PAGE, kubeConfig: c.kubeConfig(), clock, logger });
  const tiers = informer(api.TenantTier);
  const tenants = informer(api.Tenant);
  const accesses = informer(api.ModelAccess);
  /** Each tier pass: how many tenants of the tier the cache held when it ran. */
  const tierPasses: number[] = [];
  const tenantPasses: string[] = [];
  const accessPasses: string[] = [];
  const controller = (kind: KindName): Controller =>
    new Controller({
      name: kind,
      queue: new WorkQueue({ clock, backoff: new KeyedBackoff(500, 300_000, 0), retryRatePerSec: 10, retryBurst: 100 }),
      reconciler: {
        reconcile: async (name) => {
          if (kind === 'TenantTier') {
            tierPasses.push(tenants.list().filter((t) => t.spec.tier === name).length);
            // A tier's pass reads its AWS resources: it spans turns of the event loop.
            await turns(3);
          }
          if (kind === 'Tenant') tenantPasses.push(name);
          if (kind === 'ModelAccess') accessPasses.push(name);
          return {};
        },
      },
      workers: 4,
      logger,
      metrics: createMetrics(false),
      clock,
      resyncMs: 3_600_000,
      exists: () => true,
    });
  const byKind: Record<KindName, Controller> = {
    TenantTier: controller('TenantTier'),
    Tenant: controller('Tenant'),
    ModelAccess: controller('ModelAccess'),
  };
  const table = watchTable({ tiers, tenants, accesses });
  // As src/operator.ts subscribes each informer to its rules.
  const subscribe = <T extends AnyResource>(inf: Informer<T>, rules: readonly WatchRule<T>[]): void =>
    inf.onEvent((type, obj, old) => {
      for (const [kind, name] of requeuesOf(rules, { type, obj, old })) byKind[kind].enqueue(name);
    });
  subscribe(tiers, table.TenantTier);
  subscribe(tenants, table.Tenant);
  subscribe(accesses, table.ModelAccess);
  const informers = [tiers, tenants, accesses];
  return {
    clock,
    api,
    tierPasses,
    tenantPasses,
    accessPasses,
    /** As src/operator.ts starts: informers, every cache synced, then the workers. */
    async start(): Promise<void> {
      for (const inf of informers) inf.start();
      await Promise.all(informers.map((inf) => inf.waitForSync()));
      for (const c of Object.values(byKind)) c.start();
      await turns(20);
    },
    async stop(): Promise<void> {
      for (const inf of informers) inf.stop();
      await Promise.all(Object.values(byKind).map((c) => c.stop()));
    },
  };
}

describe('the watch table behind informers', () => {
  it('an initial list of 2,000 tenants in pages reconciles their tier once, on the full membership, and each tenant once', async () => {
    const op = operator({ tenants: 2000 });
    await op.start();
    try {
      expect(op.api.Tenant.pagesServed).toBe(4);
      expect(op.tierPasses).toEqual([2000]);
      expect(op.tenantPasses).toHaveLength(2000);
      expect(new Set(op.tenantPasses).size).toBe(2000);
    } finally {
      await op.stop();
    }
  });

  it('a tenant added after the caches synced reconciles its tier at once; a status write of a tenant does not', async () => {
    const op = operator({ tenants: 1200 });
    await op.start();
    try {
      op.api.Tenant.put(tenant('late'));
      await turns(10);
      expect(op.tierPasses).toEqual([1200, 1201]);
      op.api.Tenant.put(tenant('late', { isolation: 'pool' }));
      await turns(10);
      expect(op.tierPasses).toEqual([1200, 1201]);
    } finally {
      await op.stop();
    }
  });

  it('a relist after a 410 requeues the tier only for what changed meanwhile, and never on a membership missing a tenant', async () => {
    const op = operator({ tenants: 1200 });
    await op.start();
    try {
      const [tiers, tenants] = [op.tierPasses.length, op.tenantPasses.length];
      // Nothing changed while the watch was down: the relist lists every page and requeues nothing.
      const pages = op.api.Tenant.pagesServed;
      op.api.Tenant.expire();
      op.clock.advance(1_000);
      await turns(20);
      expect(op.api.Tenant.pagesServed).toBe(pages + 3);
      expect(op.tierPasses).toHaveLength(tiers);
      expect(op.tenantPasses).toHaveLength(tenants);

      // One tenant came and one went while the watch was down.
      op.api.Tenant.put(tenant('t99999'), false);
      op.api.Tenant.remove('t00000', false);
      op.api.Tenant.expire();
      op.clock.advance(1_000);
      await turns(20);
      const relisted = op.tierPasses.slice(tiers);
      // The tier runs for the newcomer, perhaps while the list is still under way, and again for
      // the departure (known only once the list is complete): at most twice, not once per page.
      expect(relisted.length).toBeGreaterThanOrEqual(1);
      expect(relisted.length).toBeLessThanOrEqual(2);
      // A relist drops nothing from the cache before it has read every page: a tier never sees
      // fewer tenants than it has, so one being deleted never concludes it has none.
      expect(Math.min(...relisted)).toBeGreaterThanOrEqual(1200);
      expect(relisted.at(-1)).toBe(1200);
      expect(op.tenantPasses.slice(tenants).sort()).toEqual(['t00000', 't99999']);
    } finally {
      await op.stop();
    }
  });

  it('a relist of model accesses requeues only those that changed while the watch was down', async () => {
    const op = operator({ tenants: 600, accesses: 600 });
    await op.start();
    try {
      expect(op.accessPasses).toHaveLength(600);
      op.api.ModelAccess.expire();
      op.clock.advance(1_000);
      await turns(20);
      expect(op.accessPasses).toHaveLength(600);
      op.api.ModelAccess.put(
        access('a00007', 't00007', { inferenceProfileArn: 'arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/x' }),
        false,
      );
      op.api.ModelAccess.expire();
      op.clock.advance(1_000);
      await turns(20);
      expect(op.accessPasses.slice(600)).toEqual(['a00007']);
    } finally {
      await op.stop();
    }
  });
});
