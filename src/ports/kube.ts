/** What controllers need from Kubernetes, as narrow interfaces. */
import type { AnyResource } from '../api/v1alpha1/types.js';

/** Read access to an informer's cache. */
export interface ObjectStore<T> {
  get(name: string): T | undefined;
  list(): T[];
}

/** Writes the operator makes on its own kinds: status and its finalizer, never spec. */
export interface ObjectWriter<T extends AnyResource> {
  /** Replaces status through the /status subresource and returns the updated object. */
  writeStatus(obj: T, status: NonNullable<T['status']>): Promise<T>;
  /** Adds the operator's finalizer and returns the updated object; conflicts if it changed meanwhile. */
  addFinalizer(obj: T): Promise<T>;
  /** Removes the operator's finalizer; fails with a conflict if the object changed meanwhile. */
  removeFinalizer(obj: T): Promise<void>;
}

/** Records Kubernetes Events about an object. */
export interface EventRecorder {
  emit(obj: AnyResource, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/** A Lease as leader election sees it. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date;
  renewTime?: Date;
  leaseTransitions?: number;
  resourceVersion?: string;
}

/** Storage for the leader-election lease (coordination.k8s.io/v1 Lease). */
export interface LeaseStore {
  get(): Promise<LeaseRecord | undefined>;
  /** Creates the lease; throws ConflictError if it exists. */
  create(record: LeaseRecord): Promise<LeaseRecord>;
  /** Updates the lease guarded by `record.resourceVersion`; throws ConflictError on a race. */
  update(record: LeaseRecord): Promise<LeaseRecord>;
}
