/** The leader-election Lease in coordination.k8s.io/v1. */
import type { LeaseRecord, LeaseStore } from '../../ports/kube.js';
import { type CoordinationV1Api, type LeaseBody, microTime } from './client.js';
import { classifyKubeError, statusOf } from './errors.js';

function asDate(v: string | undefined): Date | undefined {
  return v === undefined ? undefined : new Date(v);
}

function toRecord(l: LeaseBody): LeaseRecord {
  return {
    holderIdentity: l.spec?.holderIdentity,
    leaseDurationSeconds: l.spec?.leaseDurationSeconds,
    acquireTime: asDate(l.spec?.acquireTime),
    renewTime: asDate(l.spec?.renewTime),
    leaseTransitions: l.spec?.leaseTransitions,
    resourceVersion: l.metadata?.resourceVersion,
  };
}

const micro = (d: Date | undefined): string | undefined => (d ? microTime(d) : undefined);

/** A Lease in one namespace. */
export class KubeLeaseStore implements LeaseStore {
  constructor(
    private readonly api: CoordinationV1Api,
    private readonly namespace: string,
    private readonly name: string,
    /** Each call is cut off after this; the leader elector also bounds whole attempts. */
    private readonly timeoutMs = 5_000,
  ) {}

  private body(r: LeaseRecord): LeaseBody {
    return {
      metadata: { name: this.name, namespace: this.namespace, resourceVersion: r.resourceVersion },
      spec: {
        holderIdentity: r.holderIdentity,
        leaseDurationSeconds: r.leaseDurationSeconds,
        acquireTime: micro(r.acquireTime),
        renewTime: micro(r.renewTime),
        leaseTransitions: r.leaseTransitions,
      },
    };
  }

  async get(): Promise<LeaseRecord | undefined> {
    try {
      return toRecord(await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }, { timeoutMs: this.timeoutMs }));
    } catch (e) {
      if (statusOf(e) === 404) return undefined;
      throw classifyKubeError(e, `lease ${this.namespace}/${this.name}`);
    }
  }

  async create(r: LeaseRecord): Promise<LeaseRecord> {
    try {
      return toRecord(
        await this.api.createNamespacedLease(
          { namespace: this.namespace, body: this.body({ ...r, resourceVersion: undefined }) },
          { timeoutMs: this.timeoutMs },
        ),
      );
    } catch (e) {
      throw classifyKubeError(e, `lease ${this.namespace}/${this.name}`);
    }
  }

  async update(r: LeaseRecord): Promise<LeaseRecord> {
    try {
      return toRecord(
        await this.api.replaceNamespacedLease(
          { name: this.name, namespace: this.namespace, body: this.body(r) },
          { timeoutMs: this.timeoutMs },
        ),
      );
    } catch (e) {
      throw classifyKubeError(e, `lease ${this.namespace}/${this.name}`);
    }
  }
}
