/**
 * The Argo CD health check (config/argocd/health.lua) on sample objects, run by a real Lua 5.4
 * (wasmoon) with only the base and table libraries open, as Argo CD opens them.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LuaFactory, LuaLibraries } from 'wasmoon';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../config/argocd/health.lua', import.meta.url));

async function health(obj: unknown): Promise<{ status: string; message: string }> {
  const engine = await new LuaFactory().createEngine({ openStandardLibs: false });
  try {
    engine.global.loadLibrary(LuaLibraries.Base);
    engine.global.loadLibrary(LuaLibraries.Table);
    engine.global.set('obj', obj);
    return (await engine.doString(await readFile(script, 'utf8'))) as { status: string; message: string };
  } finally {
    engine.global.close();
  }
}

const cond = (type: string, status: string, reason: string, message = 'm'): Record<string, string> => ({ type, status, reason, message });
const obj = (
  conditions?: Record<string, string>[],
  extra: { spec?: object; generation?: number; observedGeneration?: number } = {},
): unknown => ({
  metadata: { name: 'acme', generation: extra.generation ?? 1 },
  spec: extra.spec ?? {},
  ...(conditions ? { status: { observedGeneration: extra.observedGeneration ?? 1, conditions } } : {}),
});

describe('Argo CD health check', () => {
  it.each([
    { name: 'no status yet', o: obj(), want: 'Progressing' },
    { name: 'Ready', o: obj([cond('Ready', 'True', 'Reconciled', 'tenant is ready')]), want: 'Healthy' },
    {
      name: 'creating in AWS',
      o: obj([cond('StorageReady', 'False', 'Creating'), cond('Ready', 'False', 'Creating')]),
      want: 'Progressing',
    },
    { name: 'waiting for its tier', o: obj([cond('Ready', 'False', 'TierNotReady')]), want: 'Progressing' },
    { name: 'an unknown tier', o: obj([cond('Ready', 'False', 'TierNotFound', 'TenantTier "gold" does not exist')]), want: 'Degraded' },
    {
      name: 'a model that is not approved',
      o: obj([cond('ModelApproved', 'False', 'ModelNotApproved'), cond('Ready', 'False', 'ModelNotApproved')]),
      want: 'Degraded',
    },
    { name: 'a name conflict in AWS', o: obj([cond('Ready', 'False', 'NameConflict')]), want: 'Degraded' },
    {
      name: 'throttled over quota',
      o: obj([cond('Ready', 'True', 'Reconciled'), cond('Throttled', 'True', 'QuotaExceeded', 'until 2026-11-23T00:00:00Z')]),
      want: 'Degraded',
    },
    { name: 'suspended', o: obj([cond('Ready', 'True', 'Reconciled')], { spec: { suspend: true } }), want: 'Suspended' },
    {
      name: 'ready and synced',
      o: obj([cond('Ready', 'True', 'Reconciled'), cond('Synced', 'True', 'ReconcileSuccess')]),
      want: 'Healthy',
    },
    {
      name: 'AWS denied a call of the last pass',
      o: obj([cond('Ready', 'True', 'Reconciled'), cond('Synced', 'False', 'AccessDenied', 'iam:CreateRole on TenantRole "r" failed')]),
      want: 'Degraded',
    },
    {
      name: 'a failing pass on a new generation (observedGeneration does not move)',
      o: obj([cond('Ready', 'True', 'Reconciled'), cond('Synced', 'False', 'InvalidRequest')], { generation: 3, observedGeneration: 2 }),
      want: 'Degraded',
    },
    {
      name: 'being deleted',
      o: obj([cond('Ready', 'False', 'Deleting'), cond('Synced', 'True', 'ReconcileSuccess')]),
      want: 'Progressing',
    },
    {
      name: 'a deletion AWS refuses',
      o: obj([cond('Ready', 'False', 'Deleting'), cond('Synced', 'False', 'AccessDenied', 'iam:DeleteRole ...')]),
      want: 'Degraded',
    },
    {
      name: 'its tier is being deleted: the tenant still works',
      o: obj([cond('Ready', 'True', 'Reconciled'), cond('TierDeleting', 'True', 'TierDeleting')]),
      want: 'Healthy',
    },
    {
      name: 'status from an older generation',
      o: obj([cond('Ready', 'True', 'Reconciled')], { generation: 3, observedGeneration: 2 }),
      want: 'Progressing',
    },
  ])('$name -> $want', async ({ o, want }) => {
    expect((await health(o)).status).toBe(want);
  });

  it('carries the reason and message of Ready', async () => {
    expect((await health(obj([cond('Ready', 'False', 'TierFull', 'tier "basic" admits at most 500 tenants')]))).message).toBe(
      'TierFull: tier "basic" admits at most 500 tenants',
    );
  });

  it('carries the reason and message of Synced=False', async () => {
    const o = obj([cond('Ready', 'False', 'Creating'), cond('Synced', 'False', 'AccessDenied', 'iam:CreateRole on TenantRole "r" failed')]);
    expect((await health(o)).message).toBe('Synced=False AccessDenied: iam:CreateRole on TenantRole "r" failed');
  });

  it('runs without the string and math libraries', async () => {
    const engine = await new LuaFactory().createEngine({ openStandardLibs: false });
    engine.global.loadLibrary(LuaLibraries.Base);
    expect(await engine.doString('return string == nil and math == nil')).toBe(true);
    engine.global.close();
  });
});
