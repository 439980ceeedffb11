/**
 * A list-then-watch cache of one resource kind that never gives up. A watch ends on any error and
 * can go silent, so this wrapper: relists on 410 Gone or a watch ERROR event;
 * restarts a closed or failed watch from the last resourceVersion with exponential backoff;
 * restarts a watch that delivered nothing for `watchdogMs` (bookmarks count as activity). The
 * cache keeps objects without what no reader needs (`leanObject`).
 */
import type { Logger } from 'pino';
import type { ObjectStore } from '../../ports/kube.js';
import type { Clock, TimerHandle } from '../../runtime/clock.js';
import { KeyedBackoff } from '../../runtime/ratelimit.js';
import type { KubeConfig } from './client.js';
import { statusOf } from './errors.js';
import type { ListPage, ListResult } from './resources.js';

interface Named {
  metadata?: { name?: string; resourceVersion?: string; managedFields?: unknown; annotations?: Record<string, string> };
}

/** kubectl's client-side apply keeps a copy of the whole applied object in this annotation. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * What the cache keeps of an object: all of it but what no reader needs and can be larger than
 * the object itself. `managedFields` (server-side apply's record of who set which field; the
 * operator writes with JSON patches and never reads it) grows with every field manager that
 * touched the object and its status, and kubectl's last-applied annotation repeats the spec.
 */
export function leanObject<T extends Named>(obj: T): T {
  const meta = obj.metadata;
  if (!meta) return obj;
  delete meta.managedFields;
  if (meta.annotations && LAST_APPLIED in meta.annotations) {
    const { [LAST_APPLIED]: _dropped, ...rest } = meta.annotations;
    meta.annotations = rest;
  }
  return obj;
}

/** What an informer tells its handlers. */
export type InformerEvent = 'add' | 'update' | 'delete';

/** Options of an informer. */
export interface InformerOptions<T> {
  /** API path of the collection, e.g. /apis/rag.tenancy.dev/v1alpha1/tenants. */
  path: string;
  list: (page: ListPage) => Promise<ListResult<T>>;
  /** Objects per page of a list (client-go's pager reads 500). */
  pageSize?: number;
  kubeConfig: KubeConfig;
  clock: Clock;
  logger: Logger;
  watchdogMs?: number;
  /** Server-side watch timeout; the server closes the watch and it is resumed. */
  watchTimeoutSeconds?: number;
  listTimeoutMs?: number;
  onRestart?: (reason: string) => void;
}

/** A running informer. */
export class Informer<T extends Named> implements ObjectStore<T> {
  private readonly cache = new Map<string, T>();
  private readonly handlers: ((type: InformerEvent, obj: T, old?: T) => void)[] = [];
  private readonly backoff = new KeyedBackoff(200, 30_000, 0.2);
  private resourceVersion: string | undefined;
  private abort: AbortController | undefined;
  private watchdog: TimerHandle | undefined;
  private stopped = false;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private generation = 0;

  constructor(private readonly opts: InformerOptions<T>) {}

  /** Registers a handler for changes; called for every object on each (re)list too. */
  onEvent(handler: (type: InformerEvent, obj: T, old?: T) => void): void {
    this.handlers.push(handler);
  }

  /** Starts listing and watching in the background. */
  start(): void {
    void this.relist();
  }

  /** Resolves once the first list has filled the cache. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((r) => this.syncWaiters.push(r));
  }

  /** True once the cache holds a full list. */
  hasSynced(): boolean {
    return this.synced;
  }

  get(name: string): T | undefined {
    return this.cache.get(name);
  }
  list(): T[] {
    return [...this.cache.values()];
  }

  /** Stops watching. */
  stop(): void {
    this.stopped = true;
    this.watchdog?.cancel();
    this.abort?.abort();
  }

  private emit(type: InformerEvent, obj: T, old?: T): void {
    for (const h of this.handlers) h(type, obj, old);
  }

  /** Lists one page, failing after `listTimeoutMs` so a hung connection cannot stall the informer. */
  private listWithTimeout(page: ListPage): Promise<ListResult<T>> {
    const ms = this.opts.listTimeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      const timer = this.opts.clock.setTimer(ms, () => reject(new Error(`list of ${this.opts.path} timed out after ${ms} ms`)));
      this.opts.list(page).then(
        (r) => {
          timer.cancel();
          resolve(r);
        },
        (e: unknown) => {
          timer.cancel();
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  /**
   * Lists the collection a page at a time (one consistent snapshot: the pages after the first
   * are read at its resourceVersion), so no more than a page's response and objects are in
   * memory besides the cache: a restart with 10,000 Tenants parsed them all at once before. A
   * token expired between pages (410) fails the list, which is retried from its first page.
   */
  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const seen = new Set<string>();
      let page: ListResult<T> | undefined;
      do {
        page = await this.listWithTimeout({ limit: this.opts.pageSize ?? 500, continue: page?.metadata?.continue });
        for (const item of page.items.map(leanObject)) {
          const name = item.metadata?.name;
          if (!name) continue;
          seen.add(name);
          const old = this.cache.get(name);
          this.cache.set(name, item);
          this.emit(old ? 'update' : 'add', item, old);
        }
      } while (page.metadata?.continue && !this.stopped);
      // Stopped between pages: what was not seen was not read, not deleted.
      if (this.stopped) return;
      for (const [name, old] of [...this.cache]) {
        if (!seen.has(name)) {
          this.cache.delete(name);
          this.emit('delete', old);
        }
      }
      this.resourceVersion = page.metadata?.resourceVersion;
      if (!this.synced) {
        this.synced = true;
        for (const w of this.syncWaiters.splice(0)) w();
      }
      await this.watch();
    } catch (e) {
      const delay = this.backoff.next('watch');
      this.opts.logger.warn({ err: e, path: this.opts.path, retryInMs: delay }, 'list failed; retrying');
      this.opts.onRestart?.('list-error');
      this.opts.clock.setTimer(delay, () => void this.relist());
    }
  }

  private armWatchdog(gen: number): void {
    this.watchdog?.cancel();
    const ms = this.opts.watchdogMs ?? 120_000;
    this.watchdog = this.opts.clock.setTimer(ms, () => {
      if (gen !== this.generation || this.stopped) return;
      this.opts.logger.warn({ path: this.opts.path, silentMs: ms }, 'watch silent too long; restarting');
      this.opts.onRestart?.('watchdog');
      // Retire this watch even if it is still connecting (no controller yet): a late controller
      // of an old generation is aborted when it arrives.
      this.generation++;
      this.abort?.abort();
      this.abort = undefined;
      // Resume from the last resourceVersion: a relist would have to cross the same dead path,
      // and a too-old version is answered with 410, which does relist.
      const delay = this.backoff.next('watch');
      this.opts.clock.setTimer(delay, () => void this.watch());
    });
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    const gen = ++this.generation;
    let needRelist = false;
    this.armWatchdog(gen);
    const onEvent = (phase: string, obj: T & { code?: number }): void => {
      if (gen !== this.generation) return;
      this.armWatchdog(gen);
      // Anything delivered proves the path healthy again.
      this.backoff.forget('watch');
      if (phase === 'BOOKMARK') {
        this.resourceVersion = obj.metadata?.resourceVersion ?? this.resourceVersion;
        return;
      }
      if (phase === 'ERROR') {
        // A Status object; 410 Gone means our resourceVersion is too old to resume from.
        needRelist = true;
        this.abort?.abort();
        return;
      }
      const name = obj.metadata?.name;
      if (!name) return;
      leanObject(obj);
      this.resourceVersion = obj.metadata?.resourceVersion ?? this.resourceVersion;
      const old = this.cache.get(name);
      if (phase === 'DELETED') {
        this.cache.delete(name);
        this.emit('delete', obj, old);
      } else {
        this.cache.set(name, obj);
        this.emit(old ? 'update' : 'add', obj, old);
      }
    };
    const startedAt = this.opts.clock.now();
    const onDone = (err: unknown): void => {
      if (gen !== this.generation || this.stopped) return;
      this.watchdog?.cancel();
      if (statusOf(err) === 410) needRelist = true;
      // A watch that lived a while and closed cleanly resumes at once; errors, relists and watches
      // that end right after starting back off, so a persistent fault cannot make a hot loop.
      const healthy = !err && !needRelist && this.opts.clock.now() - startedAt > 5_000;
      if (healthy) this.backoff.forget('watch');
      const delay = healthy ? 0 : this.backoff.next('watch');
      this.opts.onRestart?.(needRelist ? 'relist' : err ? 'watch-error' : 'watch-closed');
      this.opts.clock.setTimer(delay, () => void (needRelist ? this.relist() : this.watch()));
    };
    const timeout = this.opts.watchTimeoutSeconds ?? 300;
    const controller = await this.opts.kubeConfig.watch<T & { code?: number }>(
      this.opts.path,
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        // Spread server-side closes so many informers do not reconnect at once.
        timeoutSeconds: Math.round(timeout * (0.9 + Math.random() * 0.2)),
      },
      onEvent,
      onDone,
    );
    if (gen !== this.generation || this.stopped) {
      controller.abort();
      return;
    }
    this.abort = controller;
  }
}
