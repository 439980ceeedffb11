/** Test helpers over the real API server: typed CRUD on the custom resources and kubectl. */
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { GROUP, KINDS, type KindName, VERSION } from '../../src/api/v1alpha1/constants.js';
import type { AnyResource, Condition } from '../../src/api/v1alpha1/types.js';
import { eventually, run } from './processes.js';

/** A thin client for tests. */
export class TestKube {
  readonly api: CustomObjectsApi;
  constructor(readonly kubeconfig: string) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  private p(kind: KindName): { group: string; version: string; plural: string } {
    return { group: GROUP, version: VERSION, plural: KINDS[kind].plural };
  }

  /** Runs kubectl against this cluster; resolves stdout, rejects with stderr in the message. */
  async kubectl(...args: string[]): Promise<string> {
    try {
      return await run('kubectl', ['--kubeconfig', this.kubeconfig, ...args]);
    } catch (e) {
      const err = e as { stderr?: string };
      throw new Error(err.stderr ?? String(e), { cause: e });
    }
  }

  /** Applies a manifest given as YAML text through kubectl (stdin-free: via a temp file). */
  async apply(yaml: string, ...extra: string[]): Promise<string> {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/tro-manifest-`);
    await writeFile(`${dir}/m.yaml`, yaml);
    return this.kubectl('apply', '-f', `${dir}/m.yaml`, ...extra);
  }

  async get<T extends AnyResource>(kind: KindName, name: string): Promise<T | undefined> {
    try {
      return (await this.api.getClusterCustomObject({ ...this.p(kind), name })) as T;
    } catch (e) {
      if ((e as { code?: number }).code === 404) return undefined;
      throw e;
    }
  }

  async delete(kind: KindName, name: string): Promise<void> {
    try {
      await this.api.deleteClusterCustomObject({ ...this.p(kind), name });
    } catch (e) {
      if ((e as { code?: number }).code !== 404) throw e;
    }
  }

  /** Waits until the object's condition `type` matches. */
  async waitForCondition<T extends AnyResource>(
    kind: KindName,
    name: string,
    type: string,
    match: Partial<Condition>,
    timeoutMs = 30_000,
  ): Promise<T> {
    return eventually(
      async () => {
        const obj = await this.get<T>(kind, name);
        const c = obj?.status?.conditions?.find((x) => x.type === type);
        if (!c) return undefined;
        return Object.entries(match).every(([k, v]) => (c as unknown as Record<string, unknown>)[k] === v) ? obj : undefined;
      },
      timeoutMs,
      `${kind} ${name} ${type} ${JSON.stringify(match)}`,
    );
  }

  /** Waits until the object is gone. */
  async waitForGone(kind: KindName, name: string, timeoutMs = 30_000): Promise<void> {
    await eventually(async () => ((await this.get(kind, name)) ? undefined : true), timeoutMs, `${kind} ${name} to be deleted`);
  }

  /**
   * Deletes `tenant` (deletionPolicy Retain) and then its `tier`, and returns the tier once it says
   * `RetainedTenantData` naming the tenant: the tier is held, not deleted.
   */
  async deleteRetainedTenantThenTier(tenant: string, tier: string): Promise<AnyResource> {
    await this.delete('Tenant', tenant);
    await this.waitForGone('Tenant', tenant, 60_000);
    await this.delete('TenantTier', tier);
    const held = await this.waitForCondition<AnyResource>(
      'TenantTier',
      tier,
      'Ready',
      { status: 'False', reason: 'RetainedTenantData' },
      60_000,
    );
    const message = held.status?.conditions?.find((x) => x.type === 'Ready')?.message ?? '';
    if (!message.includes(tenant)) throw new Error(`TenantTier ${tier} is held but does not name ${tenant}: ${message}`);
    return held;
  }
}

/** A unique suffix for object names in one test. */
export function uniq(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
}
