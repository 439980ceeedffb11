/**
 * In-memory ports for controller tests: an informer cache that is also the status and finalizer
 * writer, behaving as the API server does (resourceVersion checks, deletion held by finalizers),
 * and an Event recorder that keeps what it was given.
 */
import { FINALIZER } from '../../src/api/v1alpha1/constants.js';
import type { AnyResource } from '../../src/api/v1alpha1/types.js';
import { ConflictError } from '../../src/core/errors.js';
import type { EventRecorder, ObjectStore, ObjectWriter } from '../../src/ports/kube.js';

/** Objects as an informer cache holds them, written as the API server would. */
export class MemoryKind<T extends AnyResource> implements ObjectStore<T>, ObjectWriter<T> {
  readonly items = new Map<string, T>();
  /** Status writes made through the writer. */
  statusWrites = 0;
  private rv = 0;

  put(obj: T): void {
    this.items.set(obj.metadata.name, structuredClone({ ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } }));
  }

  get(name: string): T | undefined {
    const o = this.items.get(name);
    return o && structuredClone(o);
  }

  list(): T[] {
    return [...this.items.values()].map((o) => structuredClone(o));
  }

  private current(obj: T): T {
    const cur = this.items.get(obj.metadata.name);
    if (!cur || cur.metadata.resourceVersion !== obj.metadata.resourceVersion) throw new ConflictError(`${obj.metadata.name} changed`);
    return cur;
  }

  writeStatus(obj: T, status: NonNullable<T['status']>): Promise<T> {
    this.statusWrites++;
    // As the API server stores it: JSON, so undefined fields are gone.
    this.put({ ...this.current(obj), status: JSON.parse(JSON.stringify(status)) as NonNullable<T['status']> });
    return Promise.resolve(this.get(obj.metadata.name) as T);
  }

  addFinalizer(obj: T): Promise<T> {
    const cur = this.current(obj);
    if (cur.metadata.finalizers?.includes(FINALIZER)) return Promise.resolve(structuredClone(cur));
    this.put({ ...cur, metadata: { ...cur.metadata, finalizers: [...(cur.metadata.finalizers ?? []), FINALIZER] } });
    return Promise.resolve(this.get(obj.metadata.name) as T);
  }

  removeFinalizer(obj: T): Promise<void> {
    const cur = this.current(obj);
    const finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
    if (cur.metadata.deletionTimestamp && finalizers.length === 0) this.items.delete(obj.metadata.name);
    else this.put({ ...cur, metadata: { ...cur.metadata, finalizers } });
    return Promise.resolve();
  }

  /** kubectl delete: the object stays, marked, while it has finalizers. */
  markDeleted(name: string): void {
    const cur = this.items.get(name);
    if (!cur) return;
    if (!cur.metadata.finalizers?.length) this.items.delete(name);
    else this.put({ ...cur, metadata: { ...cur.metadata, deletionTimestamp: new Date() } });
  }
}

/** One recorded Event. */
export interface RecordedEvent {
  name: string;
  type: string;
  reason: string;
  message: string;
}

/** An Event recorder that keeps every Event. */
export class MemoryEvents implements EventRecorder {
  readonly events: RecordedEvent[] = [];

  emit(obj: AnyResource, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    this.events.push({ name: obj.metadata.name, type, reason, message });
    return Promise.resolve();
  }

  /** The reasons recorded for `name`, in order. */
  reasons(name: string): string[] {
    return this.events.filter((e) => e.name === name).map((e) => e.reason);
  }
}
