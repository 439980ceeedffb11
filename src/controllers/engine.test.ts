import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { BoundResource, ManagedResource, Observation } from '../resources/managed-resource.js';
import { TerminalError, WaitError } from '../core/errors.js';
import { ResourceError, runResources } from './engine.js';

/** A resource kept in memory: created pending, ready on the next observe. */
function memoryResource(
  kind: string,
  world: Map<string, { state: 'pending' | 'ready'; value: string }>,
  log: string[],
): ManagedResource<string, string> {
  return {
    kind,
    conditionType: `${kind}Ready`,
    observe(_ctx, _spec): Promise<Observation<string>> {
      const entry = world.get(kind);
      if (!entry) return Promise.resolve({ state: 'absent' });
      if (entry.state === 'pending') {
        entry.state = 'ready';
        return Promise.resolve({
          state: 'pending',
          observed: entry.value,
          reason: 'Creating',
          message: `${kind} creating`,
          retryAfterMs: 5_000,
        });
      }
      return Promise.resolve({ state: 'ready', observed: entry.value });
    },
    compare: (spec, observed) => (spec === observed ? [] : ['value']),
    create(_ctx, spec) {
      log.push(`create ${kind}`);
      world.set(kind, { state: 'pending', value: spec });
      return Promise.resolve({ id: `${kind}-1` });
    },
    update(_ctx, spec) {
      log.push(`update ${kind}`);
      world.set(kind, { state: 'ready', value: spec });
      return Promise.resolve();
    },
    delete() {
      log.push(`delete ${kind}`);
      world.delete(kind);
      return Promise.resolve();
    },
  };
}

const ctx = { signal: new AbortController().signal, logger: pino({ level: 'silent' }) };

describe('runResources', () => {
  it('builds in order, one action per pass, waiting by requeue, and persists ids at once', async () => {
    const world = new Map<string, { state: 'pending' | 'ready'; value: string }>();
    const log: string[] = [];
    const saved: string[] = [];
    const resources: BoundResource[] = ['A', 'B'].map((k) => ({ driver: memoryResource(k, world, log), spec: 'v1', ids: {} }));
    const passes = [];
    for (let i = 0; i < 10; i++) {
      const r = await runResources(ctx, resources, {
        onCreated: (kind, ids) => {
          saved.push(`${kind}:${ids.id ?? ''}`);
          return Promise.resolve();
        },
      });
      passes.push(r);
      if (r.complete) break;
    }
    expect(log).toEqual(['create A', 'create B']);
    expect(saved).toEqual(['A:A-1', 'B:B-1']);
    // Each create is looked at again at once; still pending, the pass waits out its retry delay.
    expect(passes.map((p) => p.requeueAfterMs)).toEqual([5000, 5000, undefined]);
    expect(passes.at(-1)?.components.map((c) => [c.type, c.status])).toEqual([
      ['AReady', 'True'],
      ['BReady', 'True'],
    ]);
  });

  it('reads a resource observed for its deletion only when deleting', async () => {
    const world = new Map<string, { state: 'pending' | 'ready'; value: string }>([['P', { state: 'ready', value: 'v1' }]]);
    const log: string[] = [];
    let reads = 0;
    const base = memoryResource('P', world, log);
    const prefix: ManagedResource<string, string> = {
      ...base,
      implicit: true,
      observedForDeletionOnly: true,
      observe: (c, spec, ids) => {
        reads += 1;
        return base.observe(c, spec, ids);
      },
    };
    const resources: BoundResource[] = [{ driver: prefix, spec: 'v1', ids: {} }];
    const pass = await runResources(ctx, resources);
    expect(pass.complete).toBe(true);
    expect(reads).toBe(0);
    expect(log).toEqual([]);
    await runResources(ctx, resources, { deleting: true });
    expect(reads).toBe(1);
    expect(log).toEqual(['delete P']);
  });

  it('takes what a create left from the driver when it knows, without reading it back', async () => {
    const reads: string[] = [];
    const world = new Set<string>();
    const role: ManagedResource<string, string> = {
      kind: 'Role',
      conditionType: 'Ready',
      observe: () => {
        reads.push('observe');
        return Promise.resolve(world.has('Role') ? { state: 'ready', observed: 'v' } : { state: 'absent' });
      },
      compare: (spec, o) => (spec === o ? [] : ['value']),
      create: () => {
        world.add('Role');
        return Promise.resolve({});
      },
      createdAs: (spec) => spec,
      update: () => Promise.resolve(),
      delete: () => Promise.resolve(),
      outputs: (o) => ({ roleArn: `arn:${o}` }),
    };
    const r = await runResources(ctx, [{ driver: role, spec: 'v', ids: {} }]);
    expect(r.complete).toBe(true);
    expect(reads).toEqual(['observe']);
    expect(r.outputs).toEqual({ roleArn: 'arn:v' });
  });

  it('goes on in the same pass when a created resource is ready at once', async () => {
    const instant = (kind: string, world: Set<string>): ManagedResource<string, string> => ({
      kind,
      conditionType: 'Ready',
      observe: () => Promise.resolve(world.has(kind) ? { state: 'ready', observed: 'v' } : { state: 'absent' }),
      compare: () => [],
      create: () => {
        world.add(kind);
        return Promise.resolve({});
      },
      update: () => Promise.resolve(),
      delete: () => Promise.resolve(),
      outputs: () => ({ [`${kind}Arn`]: `arn:${kind}` }),
    });
    const world = new Set<string>();
    const r = await runResources(
      ctx,
      ['Role', 'Bucket'].map((k) => ({ driver: instant(k, world), spec: 'v', ids: {} })),
    );
    expect(r.complete).toBe(true);
    expect(r.outputs).toEqual({ RoleArn: 'arn:Role', BucketArn: 'arn:Bucket' });
    expect(r.components).toEqual([{ type: 'Ready', status: 'True', reason: 'Ready', message: 'Role, Bucket in place' }]);
  });

  it('repairs drift with an update', async () => {
    const world = new Map([['A', { state: 'ready' as const, value: 'old' }]]);
    const log: string[] = [];
    const r = await runResources(ctx, [{ driver: memoryResource('A', world, log), spec: 'new', ids: {} }]);
    expect(log).toEqual(['update A']);
    expect(r.components[0]).toMatchObject({ status: 'False', reason: 'Updating' });
  });

  it('deletes in reverse order and completes once everything is gone', async () => {
    const world = new Map([
      ['A', { state: 'ready' as const, value: 'v' }],
      ['B', { state: 'ready' as const, value: 'v' }],
    ]);
    const log: string[] = [];
    const resources: BoundResource[] = ['A', 'B'].map((k) => ({ driver: memoryResource(k, world, log), spec: 'v', ids: {} }));
    let r;
    for (let i = 0; i < 5; i++) {
      r = await runResources(ctx, resources, { deleting: true });
      if (r.complete) break;
    }
    expect(log).toEqual(['delete B', 'delete A']);
    expect(r?.complete).toBe(true);
    expect(world.size).toBe(0);
  });

  it('with no resources is complete at once', async () => {
    expect((await runResources(ctx, [])).complete).toBe(true);
  });

  it('a resource failed in AWS is reported as a terminal outcome with its condition, not thrown', async () => {
    const failing: ManagedResource<string, string> = {
      ...memoryResource('A', new Map(), []),
      observe: () =>
        Promise.resolve({ state: 'failed', observed: 'x', reason: 'CollectionFailed', message: 'AWS says FAILED: fix the key policy' }),
    };
    const r = await runResources(ctx, [{ driver: failing, spec: 'v', ids: {} }]);
    expect(r.terminal).toEqual({ reason: 'CollectionFailed', message: 'AWS says FAILED: fix the key policy' });
    expect(r.components).toEqual([
      { type: 'AReady', status: 'False', reason: 'CollectionFailed', message: 'AWS says FAILED: fix the key policy' },
    ]);
    expect(r.complete).toBe(false);
  });

  it('an implicit resource is never created, and deleting it runs until it is empty', async () => {
    const world = new Map<string, { state: 'pending' | 'ready'; value: string }>();
    const log: string[] = [];
    const prefix: ManagedResource<string, string> = { ...memoryResource('P', world, log), implicit: true };
    const bound = [{ driver: prefix as ManagedResource<unknown, unknown>, spec: 'v', ids: {} }];
    const first = await runResources(ctx, bound);
    expect(first.complete).toBe(true);
    expect(log).toEqual([]);
    world.set('P', { state: 'ready', value: 'docs' });
    for (let i = 0; i < 3 && !(await runResources(ctx, bound, { deleting: true })).complete; i++);
    expect(log).toEqual(['delete P']);
  });

  it('a component made of several resources names all of them once they are in place', async () => {
    const world = new Map([
      ['Key', { state: 'ready' as const, value: 'v' }],
      ['Bucket', { state: 'ready' as const, value: 'v' }],
    ]);
    const same = (kind: string): ManagedResource<string, string> => ({ ...memoryResource(kind, world, []), conditionType: 'StorageReady' });
    const r = await runResources(
      ctx,
      ['Key', 'Bucket'].map((k) => ({ driver: same(k), spec: 'v', ids: {} })),
    );
    expect(r.components).toEqual([{ type: 'StorageReady', status: 'True', reason: 'Ready', message: 'Key, Bucket in place' }]);
  });

  it.each([
    {
      name: 'a wait discovered by acting (propagation) is a condition and a requeue, not an error',
      error: new WaitError('PermissionsPropagating', 'role not usable yet', 7_000),
      want: { requeueAfterMs: 7_000, terminal: undefined, reason: 'PermissionsPropagating' },
    },
    {
      name: 'a refusal only a spec change can fix is a condition and a terminal result',
      error: new TerminalError('KnowledgeBaseRejected', 'bad engine'),
      want: {
        requeueAfterMs: undefined,
        terminal: { reason: 'KnowledgeBaseRejected', message: 'bad engine' },
        reason: 'KnowledgeBaseRejected',
      },
    },
  ])('$name', async ({ error, want }) => {
    const failing: ManagedResource<string, string> = {
      kind: 'X',
      conditionType: 'XReady',
      observe: () => Promise.resolve({ state: 'absent' }),
      compare: () => [],
      create: () => Promise.reject(error),
      update: () => Promise.resolve(),
      delete: () => Promise.resolve(),
    };
    const r = await runResources(ctx, [{ driver: failing, spec: 'v', ids: {} }]);
    expect(r.complete).toBe(false);
    expect(r.requeueAfterMs).toBe(want.requeueAfterMs);
    expect(r.terminal).toEqual(want.terminal);
    expect(r.components).toEqual([{ type: 'XReady', status: 'False', reason: want.reason, message: error.message }]);
  });

  it('a transient failure propagates to the work queue', async () => {
    const failing: ManagedResource<string, string> = {
      kind: 'X',
      conditionType: 'XReady',
      observe: () => Promise.resolve({ state: 'absent' }),
      compare: () => [],
      create: () => Promise.reject(new Error('ECONNRESET')),
      update: () => Promise.resolve(),
      delete: () => Promise.resolve(),
    };
    const err = await runResources(ctx, [{ driver: failing, spec: 'v', ids: {} }]).catch((e: unknown) => e);
    // Named with the resource and the step, the original kept as the cause.
    expect(err).toBeInstanceOf(ResourceError);
    expect(err).toMatchObject({ kind: 'X', conditionType: 'XReady', step: 'create', message: 'X: create failed: ECONNRESET' });
    expect((err as Error).cause).toEqual(new Error('ECONNRESET'));
  });

  it('says which component a deletion is at', async () => {
    const world = new Map([['A', { state: 'ready' as const, value: 'v' }]]);
    const r = await runResources(ctx, [{ driver: memoryResource('A', world, []), spec: 'v', ids: {} }], { deleting: true });
    expect(r.current).toEqual({ type: 'AReady', status: 'False', reason: 'Deleting', message: 'A is being deleted' });
  });

  it('a deletion knows ids recorded on status before it reaches the resource that published them', async () => {
    const seen: (string | undefined)[] = [];
    const child: ManagedResource<string, string> = {
      kind: 'Child',
      conditionType: 'C',
      observe: (_c, spec) => {
        seen.push(spec);
        return Promise.resolve({ state: 'absent' });
      },
      compare: () => [],
      create: () => Promise.resolve({}),
      update: () => Promise.resolve(),
      delete: () => Promise.resolve(),
    };
    const parent = memoryResource('Parent', new Map(), []);
    const resources: BoundResource[] = [
      { driver: parent, spec: 'p', ids: {} },
      { driver: child, spec: (o: Record<string, string>) => `under ${o.parentId ?? 'unknown'}`, ids: {} },
    ];
    await runResources(ctx, resources, { deleting: true, known: { parentId: 'P-1' } });
    expect(seen).toEqual(['under P-1']);
  });
});
