import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { BoundResource, ManagedResource } from '../resources/managed-resource.js';
import { runResources } from './engine.js';
import { FULL_OBSERVATION_MS, type InSync, nextInSync } from './in-sync.js';
import { FRESH_MS, SpotChecks } from './spot-checks.js';

interface Thing {
  tags: string;
  size: string;
}

/** A resource with two aspects, each one read by a spot check, a full observe that reads both, and its in-sync shape. */
function twoAspects(world: { thing?: Thing }, reads: string[]): ManagedResource<Thing, Thing> {
  return {
    kind: 'Thing',
    conditionType: 'ThingReady',
    observe: () => {
      reads.push('observe');
      return Promise.resolve(world.thing ? { state: 'ready', observed: { ...world.thing } } : { state: 'absent' });
    },
    spotChecks: (_spec, last) => [
      () => {
        reads.push('check:tags');
        return Promise.resolve(world.thing ? { ...last, tags: world.thing.tags } : undefined);
      },
      () => {
        reads.push('check:size');
        return Promise.resolve(world.thing ? { ...last, size: world.thing.size } : undefined);
      },
    ],
    inSyncAs: (spec) => ({ ...spec }),
    compare: (spec, o) => (['tags', 'size'] as const).filter((k) => spec[k] !== o[k]),
    create: (_ctx, spec) => {
      reads.push('create');
      world.thing = { ...spec };
      return Promise.resolve({});
    },
    update: (_ctx, spec) => {
      reads.push('update');
      world.thing = { ...spec };
      return Promise.resolve();
    },
    delete: () => Promise.resolve(),
  };
}

const ctx = { signal: new AbortController().signal, logger: pino({ level: 'silent' }) };
const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-05T00:00:00Z');

/**
 * A world with one resource in sync, the record a first operator process left on status after
 * its full pass, and a way to run passes of a restarted process.
 */
async function afterRestart(spec: Thing = { tags: 'owner', size: 'small' }) {
  const world: { thing?: Thing } = { thing: { ...spec } };
  const reads: string[] = [];
  const resources = (s: Thing): BoundResource[] => [{ driver: twoAspects(world, reads), spec: s, ids: {} }];
  const first = await runResources(ctx, resources(spec), { spot: new SpotChecks().pass('t', 'g1', T0) });
  const record = nextInSync(undefined, first.digest, new Date(T0));
  if (!record) throw new Error('a complete pass records what it found in sync');
  const restarted = new SpotChecks();
  let now = T0 + HOUR;
  /** One pass of the restarted process: what it read and did, and what status records after it. */
  const pass = async (
    o: { spec?: Thing; inSync?: InSync; basis?: string | undefined; requested?: string } = {},
  ): Promise<{ reads: string[]; inSync: InSync | undefined }> => {
    reads.length = 0;
    now += FRESH_MS * 2;
    const inSync = 'inSync' in o ? o.inSync : record;
    const spot = restarted.pass('t', 'basis' in o ? o.basis : 'g1', now, o.requested, inSync);
    const r = await runResources(ctx, resources(o.spec ?? spec), { spot });
    return { reads: [...reads, r.complete ? 'complete' : 'requeue'], inSync: nextInSync(inSync, r.digest, new Date(now)) };
  };
  return { world, record, pass };
}

describe('a restart that trusts what status records (status.inSync)', () => {
  it('checks each resource with one read when the record matches, then goes on in turn, without a status write', async () => {
    const { record, pass } = await afterRestart();
    const first = await pass();
    expect(first.reads).toEqual(['check:tags', 'complete']);
    // Unchanged: nothing to write to status.
    expect(first.inSync).toBe(record);
    expect((await pass()).reads).toEqual(['check:size', 'complete']);
  });

  it('finds a resource deleted while the operator was down, and makes it again in that pass', async () => {
    const { world, pass } = await afterRestart();
    world.thing = undefined;
    // The fake has no createdAs: it is read back after its create.
    expect((await pass()).reads).toEqual(['check:tags', 'observe', 'create', 'observe', 'complete']);
    expect(world.thing).toEqual({ tags: 'owner', size: 'small' });
  });

  it('repairs drift in the aspect the first check reads, in that pass', async () => {
    const { world, pass } = await afterRestart();
    world.thing = { tags: 'someone-else', size: 'small' };
    expect((await pass()).reads).toEqual(['check:tags', 'observe', 'update', 'requeue']);
    expect(world.thing.tags).toBe('owner');
  });

  it('observes in full, and repairs at once, with a forged digest', async () => {
    const { world, record, pass } = await afterRestart();
    // Drift in the aspect the first check does not read: only a full observation finds it now.
    world.thing = { tags: 'owner', size: 'huge' };
    const forged = { ...record, digest: 'f'.repeat(64) };
    expect((await pass({ inSync: forged })).reads).toEqual(['observe', 'update', 'requeue']);
    expect(world.thing.size).toBe('small');
  });

  it('observes in full with a stale digest (recorded for another spec), and records the new one', async () => {
    const { world, record, pass } = await afterRestart({ tags: 'owner', size: 'small' });
    const next = await pass({ spec: { tags: 'owner', size: 'large' } });
    expect(next.reads).toEqual(['observe', 'update', 'requeue']);
    expect(world.thing?.size).toBe('large');
    const after = await pass({ spec: { tags: 'owner', size: 'large' } });
    expect(after.reads).toEqual(['observe', 'complete']);
    expect(after.inSync?.digest).not.toBe(record.digest);
  });

  it.each([
    ['recorded longer ago than FULL_OBSERVATION_MS', (r: InSync) => ({ ...r, at: new Date(T0 - FULL_OBSERVATION_MS).toISOString() })],
    ['recorded in the future (forged, or a clock off)', (r: InSync) => ({ ...r, at: new Date(T0 + 48 * HOUR).toISOString() })],
    ['not a time', (r: InSync) => ({ ...r, at: 'yesterday' })],
    ['absent', () => undefined],
  ])('observes in full when the record is %s', async (_reason, record) => {
    const { world, record: r, pass } = await afterRestart();
    world.thing = { tags: 'owner', size: 'huge' };
    expect((await pass({ inSync: record(r) })).reads).toEqual(['observe', 'update', 'requeue']);
  });

  it('observes in full when the owner is not Ready at its generation, or a reconcile was asked for while down', async () => {
    const notReady = await afterRestart();
    notReady.world.thing = { tags: 'owner', size: 'huge' };
    expect((await notReady.pass({ basis: undefined })).reads).toEqual(['observe', 'update', 'requeue']);
    const asked = await afterRestart();
    asked.world.thing = { tags: 'owner', size: 'huge' };
    expect((await asked.pass({ requested: '2026-12-05T01:00:00Z' })).reads).toEqual(['observe', 'update', 'requeue']);
  });

  it('observes a steady owner in full once its record is older than FULL_OBSERVATION_MS, and records it afresh', async () => {
    const spots = new SpotChecks();
    const world: { thing?: Thing } = { thing: { tags: 'owner', size: 'small' } };
    const reads: string[] = [];
    const spec = { tags: 'owner', size: 'small' };
    let inSync: InSync | undefined;
    const pass = async (now: number): Promise<string[]> => {
      reads.length = 0;
      const r = await runResources(ctx, [{ driver: twoAspects(world, reads), spec, ids: {} }], {
        spot: spots.pass('t', 'g1', now, undefined, inSync),
      });
      inSync = nextInSync(inSync, r.digest, new Date(now));
      return [...reads];
    };
    expect(await pass(T0)).toEqual(['observe']);
    const recorded = inSync;
    expect(await pass(T0 + HOUR)).toEqual(['check:tags']);
    expect(inSync).toBe(recorded);
    expect(await pass(T0 + FULL_OBSERVATION_MS)).toEqual(['observe']);
    expect(inSync?.at).toBe('2026-12-05T12:00:00Z');
    expect(await pass(T0 + FULL_OBSERVATION_MS + HOUR)).toEqual(['check:tags']);
  });

  it('compares specs resolved from the ids status records: one that would differ is observed in full', async () => {
    const world: { thing?: Thing } = { thing: { tags: 'owner', size: 'small' } };
    const reads: string[] = [];
    const bound = (): BoundResource[] => [
      { driver: twoAspects(world, reads), spec: (o: Record<string, string>) => ({ tags: 'owner', size: o.size ?? 'none' }), ids: {} },
    ];
    const first = await runResources(ctx, bound(), { spot: new SpotChecks().pass('t', 'g1', T0), known: { size: 'small' } });
    const inSync = nextInSync(undefined, first.digest, new Date(T0));
    const restart = async (known: Record<string, string>): Promise<string[]> => {
      reads.length = 0;
      await runResources(ctx, bound(), { spot: new SpotChecks().pass('t', 'g1', T0 + HOUR, undefined, inSync), known });
      return [...reads];
    };
    expect(await restart({ size: 'small' })).toEqual(['check:tags']);
    // Status forged or stale: the ids it records make other specs than those found in sync.
    expect(await restart({ size: 'large' })).toEqual(['observe', 'update']);
  });

  it('leaves out of the digest the specs of checks, which are made from what status recorded before the pass', async () => {
    const world: { thing?: Thing } = { thing: { tags: 'owner', size: 'small' } };
    const reads: string[] = [];
    // Like the naming guard: no AWS resource, a spec of the names status recorded.
    const guard: ManagedResource<string[], never> = {
      kind: 'Guard',
      conditionType: 'ThingReady',
      implicit: true,
      check: true,
      observe: () => Promise.resolve({ state: 'absent' }),
      compare: () => [],
      create: () => Promise.resolve({}),
      update: () => Promise.resolve(),
      delete: () => Promise.resolve(),
    };
    const bound = (): BoundResource[] => [
      { driver: guard, spec: (o: Record<string, string>) => Object.values(o), ids: {} },
      { driver: twoAspects(world, reads), spec: { tags: 'owner', size: 'small' }, ids: {} },
    ];
    // The pass that made the thing recorded nothing yet; the restart's status records its name.
    const first = await runResources(ctx, bound(), { spot: new SpotChecks().pass('t', 'g1', T0), known: {} });
    const inSync = nextInSync(undefined, first.digest, new Date(T0));
    reads.length = 0;
    const spot = new SpotChecks().pass('t', 'g1', T0 + HOUR, undefined, inSync);
    await runResources(ctx, bound(), { spot, known: { thing: 'thing-1' } });
    expect(reads).toEqual(['check:tags']);
  });
});

describe('nextInSync', () => {
  const now = new Date(T0);
  const stored = { digest: 'a', at: '2026-12-04T23:00:00Z' };
  it.each([
    ['a pass that did not complete keeps the record', stored, undefined, stored],
    ['an unchanged digest, recorded lately, keeps it (no status write)', stored, 'a', stored],
    ['a new digest is recorded now', stored, 'b', { digest: 'b', at: '2026-12-05T00:00:00Z' }],
    ['a record too old is recorded afresh', { digest: 'a', at: '2026-12-04T11:00:00Z' }, 'a', { digest: 'a', at: '2026-12-05T00:00:00Z' }],
    ['a first record', undefined, 'a', { digest: 'a', at: '2026-12-05T00:00:00Z' }],
  ])('%s', (_reason, before, digest, after) => {
    expect(nextInSync(before, digest, now)).toEqual(after);
  });
});
