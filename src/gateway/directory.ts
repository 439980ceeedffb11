/**
 * What the gateway knows of tenants and grants, read from the informers' caches (read-only):
 * which Tenant a ServiceAccount belongs to (the one whose spec.access.podIdentity names it), the
 * tenant's knowledge base, role and vector store from its status, and which ModelAccess grants it
 * a model. Pure over the lists it is given. {@link forgetDeleted} tells of Tenants and grants
 * that are gone, so what the gateway keeps per tenant (its metric series) goes with them.
 */
import type { ModelAccess, Tenant, TenantTier } from '../api/v1alpha1/types.js';
import { storeOf, VECTOR_STORE_TYPES, type VectorStoreType } from '../core/vector-stores.js';
import type { ServiceAccountIdentity } from './identity.js';
import { type QuotaLimits, quotaFor } from './quota.js';
import type { Isolation, TenantTarget } from './scope.js';

/** A read-only cache of one kind. */
export interface Cache<T> {
  get(name: string): T | undefined;
  list(): T[];
}

/** The change events of one kind (an informer's); a relist reports what vanished as deleted. */
export interface Changes<T> {
  onEvent(handler: (type: 'add' | 'update' | 'delete', obj: T) => void): void;
}

/** What to let go of when a Tenant or a tenant's model is gone (the metrics' series of it), and take back when it returns. */
export interface Forget {
  tenant(name: string): void;
  model(tenant: string, model: string): void;
  tenantAdded(name: string): void;
  modelAdded(tenant: string, model: string): void;
}

/**
 * Calls `forget.tenant` for every Tenant deleted, and `forget.model` for every ModelAccess deleted
 * unless another ModelAccess still grants its tenant the same model (whose series are still in use);
 * `tenantAdded` and `modelAdded` for every one added (created again after a deletion).
 */
export function forgetDeleted(tenants: Changes<Tenant>, accesses: Changes<ModelAccess> & Cache<ModelAccess>, forget: Forget): void {
  tenants.onEvent((type, t) => {
    if (type === 'delete') forget.tenant(t.metadata.name);
    else if (type === 'add') forget.tenantAdded(t.metadata.name);
  });
  accesses.onEvent((type, a) => {
    const { tenantRef, model } = a.spec;
    if (type === 'add') forget.modelAdded(tenantRef.name, model);
    if (type !== 'delete') return;
    // The deleted object is already out of the cache; a second grant of the same model keeps the series.
    const granted = accesses
      .list()
      .some((o) => o.metadata.name !== a.metadata.name && o.spec.tenantRef.name === tenantRef.name && o.spec.model === model);
    if (!granted) forget.model(tenantRef.name, model);
  });
}

/** A model granted to a tenant. */
export interface Grant {
  access: ModelAccess;
  /** The tenant's application inference profile for the model. */
  profileArn: string;
  limits: QuotaLimits;
}

/** Why a caller or a request cannot be served (status and message for the caller). */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const ready = (t: Tenant): boolean => t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const isIsolation = (s: unknown): s is Isolation => s === 'pool' || s === 'bridge' || s === 'silo';
const isStore = (s: unknown): s is VectorStoreType => (VECTOR_STORE_TYPES as readonly unknown[]).includes(s);

/** Lookups over the Tenant, TenantTier and ModelAccess caches. */
export class Directory {
  constructor(
    private readonly tenants: Cache<Tenant>,
    private readonly tiers: Cache<TenantTier>,
    private readonly accesses: Cache<ModelAccess>,
    private readonly requestsPerMinute?: number,
  ) {}

  /** The Tenant whose podIdentity names this ServiceAccount; 401 when none or several do. */
  tenantOf(sa: ServiceAccountIdentity): Tenant {
    const found = this.tenants
      .list()
      .filter(
        (t) =>
          !t.metadata.deletionTimestamp &&
          t.spec.access?.podIdentity?.namespace === sa.namespace &&
          t.spec.access.podIdentity.serviceAccount === sa.serviceAccount,
      );
    if (found.length === 1 && found[0]) return found[0];
    const who = `system:serviceaccount:${sa.namespace}:${sa.serviceAccount}`;
    if (found.length === 0) throw new Refusal(401, 'unauthorized', `${who} is not the podIdentity of any Tenant`);
    throw new Refusal(401, 'unauthorized', `${who} is the podIdentity of several Tenants; the gateway serves none of them`);
  }

  /** Where the tenant's retrievals go; 409 while it is not Ready, 403 while suspended. */
  target(t: Tenant): TenantTarget {
    const name = t.metadata.name;
    if (t.spec.suspend) throw new Refusal(403, 'tenant_suspended', `Tenant ${name} is suspended`);
    const r = t.status?.resources;
    const isolation = t.status?.isolation;
    if (!ready(t) || !r?.knowledgeBaseId || !isIsolation(isolation)) {
      throw new Refusal(409, 'tenant_not_ready', `Tenant ${name} is not Ready (no knowledge base on its status yet)`);
    }
    if (isolation === 'pool') {
      // The pool knowledge base is the tier's; a tenant status that disagrees with its tier is refused.
      const shared = this.tiers.get(t.spec.tier)?.status?.shared?.knowledgeBaseId;
      if (shared !== r.knowledgeBaseId)
        throw new Refusal(409, 'tenant_not_ready', `Tenant ${name}'s tier does not share its knowledge base`);
    }
    return {
      tenant: name,
      isolation,
      knowledgeBaseId: r.knowledgeBaseId,
      ...(r.roleArn ? { roleArn: r.roleArn } : {}),
      vectorStore: this.storeOf(t),
    };
  }

  /**
   * The tenant's vector store, from its status (the operator writes the tier's there); from the
   * tier's spec when an older operator left the status without it. 409 when it names a store the
   * gateway does not know: sending the wrong search settings would only fail at Bedrock.
   */
  private storeOf(t: Tenant): VectorStoreType {
    const tier = this.tiers.get(t.spec.tier);
    const store = t.status?.vectorStore ?? (tier ? storeOf(tier) : undefined);
    if (!isStore(store))
      throw new Refusal(
        409,
        'tenant_not_ready',
        `Tenant ${t.metadata.name}'s vector store ${JSON.stringify(store ?? null)} is not one the gateway serves (${VECTOR_STORE_TYPES.join(', ')})`,
      );
    return store;
  }

  /**
   * The tenant role (chat completions are made as it, so the operator's Deny stays a backstop);
   * undefined for a tenant of a Shared pool tier, whose calls the gateway makes as itself (the
   * shared role is narrowed per tenant only by its Pod Identity association, which the gateway is
   * not). The profile is still the tenant's own, from its ModelAccess.
   */
  roleOf(t: Tenant): string | undefined {
    if (t.status?.tenantRoles === 'Shared') return undefined;
    const role = t.status?.resources?.roleArn;
    if (!role) throw new Refusal(409, 'tenant_not_ready', `Tenant ${t.metadata.name} has no role on its status yet`);
    return role;
  }

  /** The ModelAccess granting `model` (its spec.model or its name) to the tenant; 403 naming it when none. */
  grant(t: Tenant, model: string): Grant {
    const name = t.metadata.name;
    if (t.spec.suspend) throw new Refusal(403, 'tenant_suspended', `Tenant ${name} is suspended`);
    const access = this.accesses
      .list()
      .find(
        (a) =>
          !a.metadata.deletionTimestamp &&
          a.spec.tenantRef.name === name &&
          (a.spec.model === model || a.metadata.name === model || a.status?.inferenceProfileArn === model),
      );
    if (!access) {
      throw new Refusal(
        403,
        'model_not_granted',
        `Tenant ${name} has no ModelAccess for model ${JSON.stringify(model)}; create a ModelAccess with spec.tenantRef.name: ${name} and spec.model: ${model}`,
      );
    }
    const profileArn = access.status?.inferenceProfileArn;
    if (!profileArn) {
      throw new Refusal(409, 'model_not_ready', `ModelAccess ${access.metadata.name} has no inference profile yet`);
    }
    return { access, profileArn, limits: quotaFor(access, this.tiers.get(t.spec.tier), this.requestsPerMinute) };
  }
}
