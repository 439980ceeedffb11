import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ManagedResource } from '../resources/managed-resource.js';
import { runResources } from './engine.js';
import { FRESH_MS, SpotChecks, steadyBasis } from './spot-checks.js';

interface Thing {
  tags: string;
  size: string;
}

/** A resource with two aspects, each one read, and a full observe that reads both. */
function twoAspects(world: { thing?: Thing }, reads: string[]): ManagedResource<Thing, Thing> {
  return {
    kind: 'Thing',
    conditionType: 'ThingReady',
    observe: () => {
      reads.push('observe:tags', 'observe:size');
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
    compare: (spec, o) => (['tags', 'size'] as const).filter((k) => spec[k] !== o[k]),
    create: (_ctx, spec) => {
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
const ready = (generation: number, observedGeneration = generation) => ({
  metadata: { generation },
  status: {
    observedGeneration,
    conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Reconciled', message: '', lastTransitionTime: '' }],
  },
});

describe('spot checks', () => {
  it('observe in full first, then one read per pass in turn, and in full again when a check finds drift', async () => {
    const world: { thing?: Thing } = { thing: { tags: 'owner', size: 'small' } };
    const reads: string[] = [];
    const spots = new SpotChecks();
    const spec = { tags: 'owner', size: 'small' };
    let now = 0;
    const pass = async (): Promise<string[]> => {
      reads.length = 0;
      // A resync interval apart: longer than an observation is trusted without a read.
      now += FRESH_MS * 2;
      const r = await runResources(ctx, [{ driver: twoAspects(world, reads), spec, ids: {} }], { spot: spots.pass('t', 'g1', now) });
      return [...reads, r.complete ? 'complete' : 'requeue'];
    };
    expect(await pass()).toEqual(['observe:tags', 'observe:size', 'complete']);
    expect(await pass()).toEqual(['check:tags', 'complete']);
    expect(await pass()).toEqual(['check:size', 'complete']);
    // Drift behind its back in the aspect not checked this turn: found on the next.
    world.thing = { tags: 'owner', size: 'huge' };
    expect(await pass()).toEqual(['check:tags', 'complete']);
    expect(await pass()).toEqual(['check:size', 'observe:tags', 'observe:size', 'update', 'requeue']);
    // After a repair the resource is observed in full before checks resume.
    expect(await pass()).toEqual(['observe:tags', 'observe:size', 'complete']);
    // The resource gone: the check says so and the full observation decides (create).
    world.thing = undefined;
    expect((await pass()).slice(0, 3)).toEqual(['check:size', 'observe:tags', 'observe:size']);
    expect(world.thing).toEqual(spec);
  });

  it('trust an observation in sync for FRESH_MS without a read, unless the spec changed or a reconcile was asked for', async () => {
    const world: { thing?: Thing } = { thing: { tags: 'owner', size: 'small' } };
    const reads: string[] = [];
    const spots = new SpotChecks();
    const run = async (spec: Thing, now: number, requested?: string): Promise<string[]> => {
      reads.length = 0;
      const spot = spots.pass('t', undefined, now, requested);
      await runResources(ctx, [{ driver: twoAspects(world, reads), spec, ids: {} }], { spot });
      return [...reads];
    };
    const spec = { tags: 'owner', size: 'small' };
    expect(await run(spec, 0)).toEqual(['observe:tags', 'observe:size']);
    expect(await run(spec, 10_000)).toEqual([]);
    // Trusted passes do not extend the trust: read again once FRESH_MS has passed since the read.
    expect(await run(spec, FRESH_MS)).toEqual(['observe:tags', 'observe:size']);
    expect(await run({ ...spec, size: 'large' }, FRESH_MS + 1_000)).toEqual(['observe:tags', 'observe:size', 'update']);
    expect(await run({ ...spec, size: 'large' }, FRESH_MS + 2_000, 'asked')).toEqual(['observe:tags', 'observe:size']);
  });

  it('start over with full observations when the basis changes or the owner is not steady', () => {
    const spots = new SpotChecks();
    expect(spots.pass('t', 'g1', 0).turn).toBeUndefined();
    expect(spots.pass('t', 'g1', 0).turn).toBe(0);
    expect(spots.pass('t', 'g1', 0).turn).toBe(1);
    expect(spots.pass('t', 'g2', 0).turn).toBeUndefined();
    expect(spots.pass('t', undefined, 0).turn).toBeUndefined();
    expect(spots.pass('t', undefined, 0).turn).toBeUndefined();
    spots.forget('t');
    expect(spots.size()).toBe(0);
  });

  it('call an owner steady only when Ready at the generation it last reconciled', () => {
    expect(steadyBasis(ready(3), 7)).toBe('3/7');
    expect(steadyBasis(ready(4, 3))).toBeUndefined();
    expect(steadyBasis({ metadata: { generation: 1 }, status: { observedGeneration: 1, conditions: [] } })).toBeUndefined();
  });
});
