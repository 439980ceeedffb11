/**
 * Runs bound resources in dependency order (reversed when deleting): observe, plan one step,
 * execute at most one action, record the component's condition, and stop at the first resource
 * that is not ready yet. AWS-assigned ids are handed to `onCreated` the moment a create returns,
 * so the caller persists them before anything else can fail. Any other error is thrown as a
 * ResourceError naming the resource it happened on.
 */
import { REASON } from '../api/v1alpha1/constants.js';
import type { ConditionInput } from '../core/conditions.js';
import { ConflictError, TerminalError, WaitError } from '../core/errors.js';
import { type Action, planStep } from '../core/plan.js';
import type { BoundResource, DriverContext, ExternalIds, ManagedResource, Observation } from '../resources/managed-resource.js';
import { assumeInSync, specDigest, specEntry } from './in-sync.js';
import { FRESH_MS, type SpotPass } from './spot-checks.js';

/** What a run of the engine found and did. */
export interface EngineResult {
  /** One condition per component type touched, in order. */
  components: ConditionInput[];
  /** Set when a resource is in transition or was just changed. */
  requeueAfterMs?: number;
  /** True when every resource reached its desired state (or is gone, when deleting). */
  complete: boolean;
  /** Identifiers published by the resources observed ready on this pass. */
  outputs: Record<string, string>;
  /** Set when a resource failed in a way only a spec change can fix; its condition says why. */
  terminal?: { reason: string; message: string };
  /** The component the run stopped at, when it did not complete (what is being created or removed). */
  current?: ConditionInput;
  /** When complete (not deleting): the digest of every resource's spec, for status.inSync (in-sync.ts). */
  digest?: string;
}

/** How a run goes. */
export interface EngineOptions {
  /** Take the resources down, in reverse order, instead of building them. */
  deleting?: boolean;
  /** Persists the ids a create returned, before anything else can fail. */
  onCreated?: (kind: string, ids: ExternalIds) => Promise<void>;
  /** The ids status records, so a deletion (run in reverse) knows those of resources it has not reached. */
  known?: Record<string, string>;
  /** What is remembered of the resources, for fewer reads (see spot-checks.ts). */
  spot?: SpotPass;
}

/** An error a driver threw, with the resource and the step it happened on (the cause is the original). */
export class ResourceError extends Error {
  override readonly name = 'ResourceError';
  constructor(
    /** The driver's kind (`TenantRole`). */
    readonly kind: string,
    /** The condition type the resource contributes to. */
    readonly conditionType: string,
    /** What the engine was doing: observe, create, update or delete. */
    readonly step: string,
    cause: unknown,
  ) {
    super(`${kind}: ${step} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** How soon to look again after a create, update or delete was sent. */
export const AFTER_MUTATION_MS = 2_000;

/** The state of one run: the conditions and outputs so far. */
class Run {
  readonly components = new Map<string, ConditionInput>();
  readonly outputs: Record<string, string>;
  /** Each resource's spec as resolved this run (for the digest). */
  readonly specs: string[] = [];
  private readonly settled = new Map<string, string[]>();
  constructor(
    readonly ctx: DriverContext,
    readonly options: EngineOptions,
  ) {
    // Starts from what status already records, so a deletion (run in reverse) still knows the
    // ids of the resources it has not reached; a ready resource overwrites its entries.
    this.outputs = { ...options.known };
  }

  get deleting(): boolean {
    return this.options.deleting === true;
  }

  set(type: string, status: ConditionInput['status'], reason: string, message: string): void {
    this.components.set(type, { type, status, reason, message });
  }

  /** A resource in place (or gone): its component names it (a component may be several resources). */
  settle(type: string, kind: string): void {
    const done = (this.settled.get(type) ?? []).concat(kind);
    this.settled.set(type, done);
    if (!this.components.has(type) || this.components.get(type)?.status === 'True') {
      const [reason, state] = this.deleting ? [REASON.Deleted, 'gone'] : [REASON.ResourceReady, 'in place'];
      this.set(type, 'True', reason, `${done.join(', ')} ${state}`);
    }
  }

  /** The result, stopping at component `type` unless complete. */
  result(extra: Omit<EngineResult, 'components' | 'outputs' | 'current'>, type?: string): EngineResult {
    const current = type !== undefined ? this.components.get(type) : undefined;
    return { components: [...this.components.values()], outputs: this.outputs, ...extra, ...(current ? { current } : {}) };
  }
}

/** Runs the resources; see the module comment. */
export async function runResources(
  ctx: DriverContext,
  resources: readonly BoundResource[],
  options: EngineOptions = {},
): Promise<EngineResult> {
  const run = new Run(ctx, options);
  // A restart's first pass may trust what status records of the last pass in sync.
  if (options.spot?.trusted !== undefined && !run.deleting && !assumeInSync(resources, options.known ?? {}, options.spot))
    ctx.logger.debug('status.inSync does not match the specs wanted now: observing in full');
  const ordered = run.deleting ? [...resources].reverse() : resources;
  for (const [index, r] of ordered.entries()) {
    const stop = await runOne(run, r, `${index}:${r.driver.kind}`);
    if (stop) return stop;
  }
  return run.result({ complete: true, ...(run.deleting ? {} : { digest: specDigest(run.specs, options.spot?.requested) }) });
}

/** One resource: observe, plan, act; a result when the run stops here. */
async function runOne(run: Run, r: BoundResource, slot: string): Promise<EngineResult | undefined> {
  const { driver } = r;
  const type = driver.conditionType;
  let step = 'observe';
  try {
    // A spec built from earlier outputs may refuse them (a TerminalError naming what to change).
    const spec = typeof r.spec === 'function' ? (r.spec as (o: Record<string, string>) => unknown)(run.outputs) : r.spec;
    if (!driver.check) run.specs.push(specEntry(slot, spec));
    const { observation, diff } = await observeOne(run, r, spec, slot);
    const planned = planStep(spec !== undefined, observation, diff, run.deleting);
    const action: Action = planned.type === 'create' && driver.implicit ? { type: 'none' } : planned;
    if (observation.state === 'ready' && !run.deleting) Object.assign(run.outputs, driver.outputs?.(observation.observed));
    step = action.type;
    return await act(run, r, spec, observation, action, slot);
  } catch (e) {
    // Refusals that name their own outcome are recorded on the component's condition.
    if (e instanceof WaitError) {
      run.set(type, 'False', e.reason, e.message);
      return run.result({ requeueAfterMs: e.retryAfterMs, complete: false }, type);
    }
    if (e instanceof TerminalError) {
      run.set(type, 'False', e.reason, e.message);
      return run.result({ complete: false, terminal: { reason: e.reason, message: e.message } }, type);
    }
    // A lost write race (persisting ids) is the work queue's business, as it is.
    if (e instanceof ConflictError) throw e;
    throw new ResourceError(driver.kind, type, step, e);
  }
}

/** The resource's observation (from memory when it can stand in) and its differences from the spec. */
async function observeOne(
  run: Run,
  r: BoundResource,
  spec: unknown,
  slot: string,
): Promise<{ observation: Observation<unknown>; diff: string[] }> {
  const { driver } = r;
  const { spot } = run.options;
  const remembered = !run.deleting && spec !== undefined ? await fromMemory(run.ctx, driver, spec, spot, slot) : undefined;
  // Nothing to find out outside a deletion: a spec gone (nothing to make), or a resource whose
  // observation serves only its deletion.
  const unread = !run.deleting && (spec === undefined || driver.observedForDeletionOnly === true);
  const observation: Observation<unknown> = unread
    ? { state: 'absent' }
    : (remembered?.observation ?? (await driver.observe(run.ctx, spec, r.ids)));
  const diff = observation.state === 'ready' && spec !== undefined ? driver.compare(spec, observation.observed) : [];
  if (spot && !run.deleting) {
    // Trusted without a read, it keeps the time it was last read.
    if (observation.state === 'ready' && diff.length === 0)
      spot.memory.set(slot, { observed: observation.observed, spec: JSON.stringify(spec), at: remembered?.at ?? spot.now });
    else spot.memory.delete(slot);
  }
  return { observation, diff };
}

/** Carries out the planned action; a result when the run stops here. */
async function act(
  run: Run,
  r: BoundResource,
  spec: unknown,
  observation: Observation<unknown>,
  action: Action,
  slot: string,
): Promise<EngineResult | undefined> {
  const { driver } = r;
  const type = driver.conditionType;
  const stop = (status: ConditionInput['status'], reason: string, message: string, requeueAfterMs?: number): EngineResult => {
    run.set(type, status, reason, message);
    return run.result({ requeueAfterMs, complete: false }, type);
  };
  switch (action.type) {
    case 'none':
      if (!driver.check) run.settle(type, driver.kind);
      return undefined;
    case 'create':
      return created(run, r, spec, slot, await driver.create(run.ctx, spec, r.ids));
    case 'update':
      if (observation.state !== 'ready') return undefined;
      await driver.update(run.ctx, spec, observation.observed, action.diff);
      run.ctx.logger.info({ kind: driver.kind, diff: action.diff }, 'updated');
      return stop('False', REASON.Updating, `${driver.kind} differed in ${action.diff.join(', ')}; updated`, AFTER_MUTATION_MS);
    case 'delete':
      if (observation.state === 'absent') return undefined;
      await driver.delete(run.ctx, observation.observed);
      run.ctx.logger.info({ kind: driver.kind }, 'deleted');
      return stop('False', REASON.Deleting, `${driver.kind} is being deleted`, AFTER_MUTATION_MS);
    case 'wait':
      return stop('False', action.reason, action.message, action.afterMs);
    case 'fail':
      // Returned, not thrown, so the caller writes the condition before giving up on the key.
      run.set(type, 'False', action.reason, action.message);
      return run.result({ complete: false, terminal: { reason: action.reason, message: action.message } }, type);
  }
}

/** After a create returned `ids`: persist them, then go on at once if the resource is already usable. */
async function created(run: Run, r: BoundResource, spec: unknown, slot: string, ids: ExternalIds): Promise<EngineResult | undefined> {
  const { driver } = r;
  const type = driver.conditionType;
  // Only AWS-assigned ids need persisting before anything else can fail.
  if (Object.keys(ids).length > 0) await run.options.onCreated?.(driver.kind, ids);
  run.ctx.logger.info({ kind: driver.kind, ids }, 'created');
  // Most resources are usable the moment their create returns (roles, buckets, policies): look
  // once more and go on if so, rather than spend a requeue on it.
  const made = driver.createdAs?.(spec, ids);
  const after: Observation<unknown> =
    made !== undefined ? { state: 'ready', observed: made } : await driver.observe(run.ctx, spec, { ...r.ids, ...ids });
  if (after.state === 'ready' && driver.compare(spec, after.observed).length === 0) {
    Object.assign(run.outputs, driver.outputs?.(after.observed));
    const { spot } = run.options;
    spot?.memory.set(slot, { observed: after.observed, spec: JSON.stringify(spec), at: spot.now });
    run.settle(type, driver.kind);
    return undefined;
  }
  if (after.state === 'pending') {
    run.set(type, 'False', after.reason, after.message);
    return run.result({ requeueAfterMs: after.retryAfterMs, complete: false }, type);
  }
  run.set(type, 'False', REASON.Creating, `${driver.kind} was created; waiting for it to be ready`);
  return run.result({ requeueAfterMs: AFTER_MUTATION_MS, complete: false }, type);
}

/**
 * What is remembered of the resource, when it can stand in for a full observation: the last
 * observation found in sync if read less than FRESH_MS ago (no read), else in a steady pass that
 * observation with this turn's aspect read afresh (one read). Either must still match the spec.
 */
async function fromMemory(
  ctx: DriverContext,
  driver: ManagedResource<unknown, unknown>,
  spec: unknown,
  spot: SpotPass | undefined,
  slot: string,
): Promise<{ observation: Observation<unknown>; at: number } | undefined> {
  const last = spot?.memory.get(slot);
  // Remembered for another spec (the stack changed shape, a tier setting changed): read.
  if (!spot || !last || last.spec !== JSON.stringify(spec)) return undefined;
  const inSync = (observed: unknown): boolean => driver.compare(spec, observed).length === 0;
  if (spot.now - last.at < FRESH_MS)
    return inSync(last.observed) ? { observation: { state: 'ready', observed: last.observed }, at: last.at } : undefined;
  const checks = spot.turn !== undefined ? (driver.spotChecks?.(spec, last.observed) ?? []) : [];
  const check = checks[(spot.turn ?? 0) % Math.max(1, checks.length)];
  if (!check) return undefined;
  const observed = await check(ctx);
  return observed !== undefined && inSync(observed) ? { observation: { state: 'ready', observed }, at: spot.now } : undefined;
}
