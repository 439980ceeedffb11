/**
 * Watches Tenants and TenantTiers for the benchmark: when each became Ready and each of its
 * conditions first turned True, where its ingestion is, and every status that ever mentioned
 * throttling (each status write is one watch event, so none is missed).
 */
import { CustomObjectsApi, type KubeConfig, Watch } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../src/api/v1alpha1/constants.js';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Obj {
  metadata: { name: string; resourceVersion?: string };
  spec?: { tier?: string; isolation?: string };
  status?: { conditions?: Condition[]; ingestion?: { lastStatus?: string } };
}

/** What the watch saw of one object. */
export interface Seen {
  readyAt?: number;
  /** When each condition type was first True (ms from t0): how far along its chain the object was when. */
  trueAt: Record<string, number>;
  ready: boolean;
  ingestion?: string;
  obj: Obj;
}

/** A condition that mentioned throttling. */
export interface ThrottleMention {
  kind: string;
  name: string;
  type: string;
  reason?: string;
  message?: string;
}

/** Words a throttling error leaves in a reason or message. */
export const THROTTLE_WORDS = /thrott|rate exceeded|slow ?down|too ?many ?requests|request ?limit/i;

/** Throttling mentions in an object's conditions. */
export function throttleMentions(kind: string, o: Obj): ThrottleMention[] {
  return (o.status?.conditions ?? [])
    .filter((c) => THROTTLE_WORDS.test(`${c.reason ?? ''} ${c.message ?? ''}`))
    .map((c) => ({ kind, name: o.metadata.name, type: c.type, reason: c.reason, message: c.message }));
}

/** A running watch of one kind. */
export class KindWatch {
  readonly objects = new Map<string, Seen>();
  readonly mentions: ThrottleMention[] = [];
  events = 0;
  private abort: AbortController | undefined;
  private stopped = false;
  private rv: string | undefined;

  constructor(
    private readonly kc: KubeConfig,
    readonly kind: string,
    private readonly plural: string,
    private readonly t0: () => number,
  ) {}

  /** Lists, then watches from the list's resourceVersion (restarting when the server ends it). */
  async start(): Promise<void> {
    if (!this.rv) {
      const api = this.kc.makeApiClient(CustomObjectsApi);
      const list = (await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: this.plural })) as {
        metadata: { resourceVersion: string };
        items: Obj[];
      };
      for (const o of list.items) this.onEvent('ADDED', o);
      this.rv = list.metadata.resourceVersion;
    }
    const restart = (): void => {
      if (!this.stopped) setTimeout(() => void this.start().catch(restart), 500);
    };
    const w = new Watch(this.kc);
    this.abort = await w.watch(
      `/apis/${GROUP}/${VERSION}/${this.plural}`,
      { allowWatchBookmarks: true, resourceVersion: this.rv },
      (type: string, o: Obj & { code?: number }) => {
        // A Status: 410 Gone means the resourceVersion is too old; list again.
        if (type === 'ERROR') {
          if (o.code === 410) this.rv = undefined;
          return;
        }
        this.onEvent(type, o);
      },
      restart,
    );
  }

  private onEvent(type: string, o: Obj): void {
    if (o.metadata.resourceVersion) this.rv = o.metadata.resourceVersion;
    if (type === 'BOOKMARK') return;
    this.events++;
    if (type === 'DELETED') return void this.objects.delete(o.metadata.name);
    const prev = this.objects.get(o.metadata.name);
    const ready = o.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    const now = Date.now() - this.t0();
    const trueAt = { ...prev?.trueAt };
    for (const c of o.status?.conditions ?? []) if (c.status === 'True') trueAt[c.type] ??= now;
    this.objects.set(o.metadata.name, {
      obj: o,
      ready,
      trueAt,
      readyAt: prev?.readyAt ?? (ready ? now : undefined),
      ingestion: o.status?.ingestion?.lastStatus,
    });
    this.mentions.push(...throttleMentions(this.kind, o));
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }
}
