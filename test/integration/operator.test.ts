/**
 * The real operator process against the real API server: finalizers, status discipline,
 * conditions and Events, references to other objects, deletion, and recreation.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINALIZER } from '../../src/api/v1alpha1/constants.js';
import type { ModelAccess, Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { uniq } from '../support/kube.js';
import { type OperatorProcess, startOperatorProcess } from '../support/operator-process.js';
import { eventually } from '../support/processes.js';

let c: TestCluster;
let op: OperatorProcess;

beforeAll(async () => {
  c = await startTestCluster();
  // A long resync: every reaction below must come from a watch event, not from polling.
  op = await startOperatorProcess(c.cp.kubeconfig, { cluster: c, settings: { resyncSeconds: 3600 } });
});
afterAll(async () => {
  await op?.stop();
  await c?.stop();
});

const tierYaml = (name: string, isolation: string, extra = ''): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: TenantTier\nmetadata: { name: ${name} }\nspec: { isolation: ${isolation} ${extra} }\n`;
const tenantYaml = (name: string, tier: string, extra = ''): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${name} }\nspec: { tier: ${tier} ${extra} }\n`;
const accessYaml = (name: string, tenant: string, model: string): string =>
  `apiVersion: rag.tenancy.dev/v1alpha1\nkind: ModelAccess\nmetadata: { name: ${name} }\nspec: { tenantRef: { name: ${tenant} }, model: "${model}" }\n`;

async function eventsFor(name: string): Promise<{ reason: string; note: string; type: string }[]> {
  const out = JSON.parse(await c.kube.kubectl('get', 'events.events.k8s.io', '-n', 'default', '-o', 'json')) as {
    items: { reason: string; note: string; type: string; regarding: { name: string } }[];
  };
  return out.items.filter((e) => e.regarding.name === name);
}

describe('onboarding', () => {
  it('adds the finalizer, reports Ready with the isolation, counts tenants and records an Event', async () => {
    const tier = uniq('pool');
    const tenant = uniq('acme');
    await c.kube.apply(tierYaml(tier, 'pool') + '---\n' + tenantYaml(tenant, tier));
    const t = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True', reason: 'Reconciled' });
    expect(t.metadata.finalizers).toContain(FINALIZER);
    expect(t.status?.isolation).toBe('pool');
    expect(t.status?.observedGeneration).toBe(t.metadata.generation);
    const tr = await c.kube.waitForCondition<TenantTier>('TenantTier', tier, 'Ready', { status: 'True' });
    await eventually(async () => ((await c.kube.get<TenantTier>('TenantTier', tier))?.status?.tenantCount === 1 ? true : undefined));
    expect(tr.metadata.finalizers).toContain(FINALIZER);
    await eventually(
      async () => ((await eventsFor(tenant)).some((e) => e.reason === 'Ready' && e.type === 'Normal') ? true : undefined),
      10_000,
      'Ready event',
    );
    // One transition, one Event: not one per pass.
    expect((await eventsFor(tenant)).filter((e) => e.reason === 'Ready')).toHaveLength(1);
  });

  it('does not rewrite status when nothing changed, across many passes', async () => {
    const tier = uniq('quiet');
    const tenant = uniq('steady');
    // A keyed silo tenant publishes every kind of id (key, bucket, roles): none may be pruned by
    // the schema and so differ on every pass.
    await c.kube.apply(tierYaml(tier, 'silo', ', storage: { encryption: TenantKey }') + '---\n' + tenantYaml(tenant, tier));
    await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' }, 60_000);
    // The first sync runs right after onboarding and is recorded when it ends: a real change.
    const ready = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'IngestionReady', { reason: 'Synced' }, 60_000);
    expect(ready.status?.resources?.kmsKeyArn).toBeTruthy();
    await new Promise((r) => setTimeout(r, 1000));
    const writes = await op.metric('tenant_rag_operator_status_writes_total', { kind: 'Tenant' });
    const passes = await op.metric('tenant_rag_operator_reconcile_total', { controller: 'tenants' });
    // Each annotation change is an update event and so a pass with nothing to change (an
    // annotation of the user's own: a reconcile-requested-at value is recorded on status when
    // handled, status.inSync, so that one is a change). One at a time: annotations sent together
    // would collapse into fewer passes.
    for (let i = 0; i < 5; i++) {
      await c.kube.kubectl('annotate', '--overwrite', 'tenant', tenant, `example.com/touched=${i}`);
      await eventually(
        async () =>
          (await op.metric('tenant_rag_operator_reconcile_total', { controller: 'tenants' })) >= passes + i + 1 ? true : undefined,
        30_000,
        `pass ${i + 1} of 5`,
      );
    }
    expect(await op.metric('tenant_rag_operator_status_writes_total', { kind: 'Tenant' })).toBe(writes);
    const after = await c.kube.get<Tenant>('Tenant', tenant);
    expect(after?.status).toEqual(ready.status);
    expect((await eventsFor(tenant)).filter((e) => e.reason === 'Ready')).toHaveLength(1);
  });
});

describe('bad references become Ready=False with a reason and what to change', () => {
  it('an unknown tier, then an override the tier does not allow, keeping lastTransitionTime until the status flips', async () => {
    const tier = uniq('later');
    const tenant = uniq('early');
    await c.kube.apply(tenantYaml(tenant, tier, ', knowledgeBase: { dimensions: 512 }'));
    const first = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'False', reason: 'TierNotFound' });
    const msg = first.status?.conditions?.find((x) => x.type === 'Ready')?.message;
    expect(msg).toContain(`TenantTier "${tier}" does not exist: create it or set spec.tier to an existing tier`);
    expect(first.metadata.finalizers ?? []).not.toContain(FINALIZER);
    await new Promise((r) => setTimeout(r, 1100));
    await c.kube.apply(tierYaml(tier, 'pool'));
    const second = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'False', reason: 'OverrideNotAllowed' });
    const before = first.status?.conditions?.find((x) => x.type === 'Ready');
    const after = second.status?.conditions?.find((x) => x.type === 'Ready');
    expect(after?.lastTransitionTime).toBe(before?.lastTransitionTime);
    expect(after?.message).toMatch(/remove it or use a bridge or silo tier/);
    expect(second.metadata.finalizers ?? []).not.toContain(FINALIZER);
    // Overrides cannot be removed once set (CEL), so the fix is to recreate without them.
    await c.kube.delete('Tenant', tenant);
    await c.kube.waitForGone('Tenant', tenant);
    await c.kube.apply(tenantYaml(tenant, tier));
    const third = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' });
    expect(third.status?.conditions?.find((x) => x.type === 'Ready')?.lastTransitionTime).not.toBe(before?.lastTransitionTime);
  });

  it('a full tier refuses the newest tenant and admits it when a place frees up', async () => {
    const tier = uniq('tiny');
    const [a, b] = [uniq('first'), uniq('second')];
    await c.kube.apply(tierYaml(tier, 'silo', ', maxTenants: 1') + '---\n' + tenantYaml(a, tier));
    await c.kube.waitForCondition('Tenant', a, 'Ready', { status: 'True' });
    await c.kube.apply(tenantYaml(b, tier));
    const refused = await c.kube.waitForCondition<Tenant>('Tenant', b, 'Ready', { status: 'False', reason: 'TierFull' });
    expect(refused.status?.conditions?.find((x) => x.type === 'Ready')?.message).toMatch(
      /admits at most 1 tenants and is full: raise spec.maxTenants/,
    );
    await c.kube.delete('Tenant', a);
    await c.kube.waitForGone('Tenant', a);
    await c.kube.waitForCondition('Tenant', b, 'Ready', { status: 'True' });
  });

  it('a model that is not approved, and one that is', async () => {
    const tier = uniq('models');
    const tenant = uniq('buyer');
    await c.kube.apply(tierYaml(tier, 'pool') + '---\n' + tenantYaml(tenant, tier));
    const [bad, good] = [uniq('bad'), uniq('good')];
    await c.kube.apply(
      accessYaml(bad, tenant, 'meta.llama3-70b-instruct-v1:0') + '---\n' + accessYaml(good, tenant, 'amazon.nova-lite-v1:0'),
    );
    const refused = await c.kube.waitForCondition<ModelAccess>('ModelAccess', bad, 'Ready', {
      status: 'False',
      reason: 'ModelNotApproved',
    });
    expect(refused.status?.conditions?.find((x) => x.type === 'ModelApproved')).toMatchObject({
      status: 'False',
      reason: 'ModelNotApproved',
    });
    expect(refused.status?.conditions?.find((x) => x.type === 'Ready')?.message).toMatch(
      /not on the operator's approved list \(anthropic.claude-3-5-sonnet-20241022-v2:0, amazon.nova-lite-v1:0\)/,
    );
    expect(refused.metadata.finalizers ?? []).not.toContain(FINALIZER);
    const granted = await c.kube.waitForCondition<ModelAccess>('ModelAccess', good, 'Ready', { status: 'True' });
    expect(granted.status?.conditions?.find((x) => x.type === 'ModelApproved')?.status).toBe('True');
  });

  it('a model access for a tenant that does not exist', async () => {
    const name = uniq('orphan');
    await c.kube.apply(accessYaml(name, 'nobody', 'amazon.nova-lite-v1:0'));
    const r = await c.kube.waitForCondition<ModelAccess>('ModelAccess', name, 'Ready', { status: 'False', reason: 'TenantNotFound' });
    expect(r.status?.conditions?.find((x) => x.type === 'Ready')?.message).toContain(
      'Tenant "nobody" does not exist: create it or fix spec.tenantRef.name',
    );
  });
});

describe('deletion', () => {
  it('removes the finalizer and says what happened in AWS, for both policies', async () => {
    const tier = uniq('del');
    const [gone, kept] = [uniq('gone'), uniq('kept')];
    await c.kube.apply(
      tierYaml(tier, 'bridge') +
        '---\n' +
        tenantYaml(gone, tier, ', deletionPolicy: Delete') +
        '---\n' +
        tenantYaml(kept, tier, ', deletionPolicy: Retain'),
    );
    await c.kube.waitForCondition('Tenant', gone, 'Ready', { status: 'True' });
    await c.kube.waitForCondition('Tenant', kept, 'Ready', { status: 'True' });
    await c.kube.delete('Tenant', gone);
    await c.kube.delete('Tenant', kept);
    await c.kube.waitForGone('Tenant', gone);
    await c.kube.waitForGone('Tenant', kept);
    await eventually(async () => ((await eventsFor(gone)).some((e) => e.reason === 'Deleted') ? true : undefined), 10_000, 'Deleted event');
    await eventually(
      async () => ((await eventsFor(kept)).some((e) => e.reason === 'RetainedInAWS') ? true : undefined),
      10_000,
      'RetainedInAWS event',
    );
  });

  it('a tier in use is not deleted until its last tenant goes, and says why', async () => {
    const tier = uniq('busy');
    const tenant = uniq('member');
    await c.kube.apply(tierYaml(tier, 'pool') + '---\n' + tenantYaml(tenant, tier));
    await c.kube.waitForCondition('Tenant', tenant, 'Ready', { status: 'True' });
    await c.kube.waitForCondition('TenantTier', tier, 'Ready', { status: 'True' });
    await c.kube.delete('TenantTier', tier);
    const blocked = await c.kube.waitForCondition<TenantTier>('TenantTier', tier, 'Ready', { status: 'False', reason: 'TierInUse' });
    expect(blocked.status?.conditions?.find((x) => x.type === 'Ready')?.message).toContain(
      `1 tenant(s) still use this tier (${tenant}): delete them`,
    );
    // New tenants cannot join a tier that is being deleted.
    const late = uniq('late');
    await c.kube.apply(tenantYaml(late, tier));
    await c.kube.waitForCondition('Tenant', late, 'Ready', { status: 'False', reason: 'TierDeleting' });
    await c.kube.delete('Tenant', late);
    await c.kube.delete('Tenant', tenant);
    await c.kube.waitForGone('TenantTier', tier);
  });

  it('a deleted and recreated tenant starts with a fresh status, and takes the retained resources only when asked', async () => {
    const tier = uniq('again');
    const tenant = uniq('phoenix');
    await c.kube.apply(tierYaml(tier, 'silo') + '---\n' + tenantYaml(tenant, tier, ', displayName: first'));
    const first = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' });
    await c.kube.delete('Tenant', tenant);
    await c.kube.waitForGone('Tenant', tenant);
    // Retain (the default) left its bucket: a new object of the same name does not inherit it.
    await c.kube.apply(tenantYaml(tenant, tier, ', displayName: second'));
    await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'False', reason: 'RetainedResourcesFound' });
    await c.kube.kubectl('annotate', 'tenant', tenant, 'rag.tenancy.dev/adopt-retained=true');
    const second = await c.kube.waitForCondition<Tenant>('Tenant', tenant, 'Ready', { status: 'True' });
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
    expect(second.metadata.finalizers).toContain(FINALIZER);
    expect(second.status?.observedGeneration).toBe(1);
  });
});

describe('GitOps', () => {
  it('the applier alone owns spec: the operator only ever manages status and its finalizer', async () => {
    const tier = uniq('gitops');
    const tenant = uniq('argo');
    const access = uniq('grant');
    const manifest =
      tierYaml(tier, 'pool') + '---\n' + tenantYaml(tenant, tier) + '---\n' + accessYaml(access, tenant, 'amazon.nova-lite-v1:0');
    const dir = await mkdtemp(join(tmpdir(), 'tro-gitops-'));
    await writeFile(join(dir, 'app.yaml'), manifest);
    const apply = (): Promise<string> =>
      c.kube.kubectl('apply', '--server-side', '--field-manager=argocd-controller', '-f', join(dir, 'app.yaml'));
    await apply();
    await c.kube.waitForCondition('ModelAccess', access, 'Ready', { status: 'True' }, 60_000);
    for (const [kind, name] of [
      ['TenantTier', tier],
      ['Tenant', tenant],
      ['ModelAccess', access],
    ] as const) {
      const o = await c.kube.get(kind, name);
      const fields = (o?.metadata.managedFields ?? []) as { manager?: string; subresource?: string; fieldsV1?: Record<string, unknown> }[];
      const ours = fields.filter((f) => f.manager === 'tenant-rag-operator');
      expect(ours.length, `${kind} has operator entries`).toBeGreaterThan(0);
      for (const f of ours) {
        expect(Object.keys(f.fieldsV1 ?? {}), `${kind} operator entry`).not.toContain('f:spec');
        if (f.subresource !== 'status') expect(Object.keys((f.fieldsV1?.['f:metadata'] as object) ?? {})).toEqual(['f:finalizers']);
      }
      const applier = fields.find((f) => f.manager === 'argocd-controller');
      expect(Object.keys(applier?.fieldsV1 ?? {})).toContain('f:spec');
    }
    // Applying the same manifests again is clean: no conflicts with fields the operator manages.
    expect(await apply()).toMatch(/serverside-applied|unchanged/);
  });
});
