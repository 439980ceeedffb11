/**
 * Runs bound resources in dependency order (reversed when deleting): observe, plan one step,
 * execute at most one action, record the component's condition, and stop at the first resource
 * that is not ready yet. AWS-assigned ids are handed to `onCreated` the moment a create returns,
 * so the caller persists them before anything else can fail.
 */
import { REASON } from '../api/v1alpha1/constants.js';
import type { ConditionInput } from '../core/conditions.js';
import { TerminalError, WaitError } from '../core/errors.js';
import { planStep } from '../core/plan.js';
import type { BoundResource, DriverContext, ExternalIds, ManagedResource, Observation } from '../resources/managed-resource.js';
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
}

/** How soon to look again after a create, update or delete was sent. */
export const AFTER_MUTATION_MS = 2_000;

/** Runs the resources; see the module comment. */
export async function runResources(
  ctx: DriverContext,
  resources: readonly BoundResource[],
  deleting: boolean,
  onCreated: (kind: string, ids: ExternalIds) => Promise<void>,
  known: Record<string, string> = {},
  spot?: SpotPass,
): Promise<EngineResult> {
  const ordered = deleting ? [...resources].reverse() : resources;
  const components = new Map<string, ConditionInput>();
  // Starts from what status already records, so a deletion (run in reverse) still knows the ids
  // of the resources it has not reached; a ready resource overwrites its entries.
  const outputs: Record<string, string> = { ...known };
  const settled = new Map<string, string[]>();
  const result = (extra: Omit<EngineResult, 'components' | 'outputs'>): EngineResult => ({
    components: [...components.values()],
    outputs,
    ...extra,
  });
  const set = (type: string, status: ConditionInput['status'], reason: string, message: string): void => {
    components.set(type, { type, status, reason, message });
  };
  // A resource in place: its component names it (a component may be several resources).
  const settle = (type: string, kind: string): void => {
    const done = (settled.get(type) ?? []).concat(kind);
    settled.set(type, done);
    if (!components.has(type) || components.get(type)?.status === 'True') {
      set(type, 'True', deleting ? REASON.Deleted : REASON.ResourceReady, `${done.join(', ')} ${deleting ? 'gone' : 'in place'}`);
    }
  };
  for (const [index, r] of ordered.entries()) {
    const { driver } = r;
    const type = driver.conditionType;
    const spec = typeof r.spec === 'function' ? (r.spec as (o: Record<string, string>) => unknown)(outputs) : r.spec;
    const slot = `${index}:${driver.kind}`;
    const remembered = !deleting && spec !== undefined ? await fromMemory(ctx, driver, spec, spot, slot) : undefined;
    const observation =
      spec === undefined && !deleting
        ? { state: 'absent' as const }
        : (remembered?.observation ?? (await driver.observe(ctx, spec, r.ids)));
    const diff = observation.state === 'ready' && spec !== undefined ? driver.compare(spec, observation.observed) : [];
    if (spot && !deleting) {
      // Trusted without a read, it keeps the time it was last read.
      if (observation.state === 'ready' && diff.length === 0)
        spot.memory.set(slot, { observed: observation.observed, spec: JSON.stringify(spec), at: remembered?.at ?? spot.now });
      else spot.memory.delete(slot);
    }
    const planned = planStep(spec !== undefined, observation, diff, deleting);
    const action = planned.type === 'create' && driver.implicit ? { type: 'none' as const } : planned;
    if (observation.state === 'ready' && !deleting) Object.assign(outputs, driver.outputs?.(observation.observed));
    try {
      switch (action.type) {
        case 'none':
          if (!driver.check) settle(type, driver.kind);
          continue;
        case 'create': {
          const ids = await driver.create(ctx, spec, r.ids);
          // Only AWS-assigned ids need persisting before anything else can fail.
          if (Object.keys(ids).length > 0) await onCreated(driver.kind, ids);
          ctx.logger.info({ kind: driver.kind, ids }, 'created');
          // Most resources are usable the moment their create returns (roles, buckets,
          // policies): look once more and go on if so, rather than spend a requeue on it.
          const made = driver.createdAs?.(spec, ids);
          const after =
            made !== undefined ? { state: 'ready' as const, observed: made } : await driver.observe(ctx, spec, { ...r.ids, ...ids });
          if (after.state === 'ready' && driver.compare(spec, after.observed).length === 0) {
            Object.assign(outputs, driver.outputs?.(after.observed));
            spot?.memory.set(slot, { observed: after.observed, spec: JSON.stringify(spec), at: spot.now });
            settle(type, driver.kind);
            continue;
          }
          if (after.state === 'pending') {
            set(type, 'False', after.reason, after.message);
            return result({ requeueAfterMs: after.retryAfterMs, complete: false });
          }
          set(type, 'False', REASON.Creating, `${driver.kind} was created; waiting for it to be ready`);
          return result({ requeueAfterMs: AFTER_MUTATION_MS, complete: false });
        }
        case 'update':
          if (observation.state !== 'ready') break;
          await driver.update(ctx, spec, observation.observed, action.diff);
          ctx.logger.info({ kind: driver.kind, diff: action.diff }, 'updated');
          set(type, 'False', REASON.Updating, `${driver.kind} differed in ${action.diff.join(', ')}; updated`);
          return result({ requeueAfterMs: AFTER_MUTATION_MS, complete: false });
        case 'delete':
          if (observation.state === 'absent') break;
          await driver.delete(ctx, observation.observed);
          ctx.logger.info({ kind: driver.kind }, 'deleted');
          set(type, 'False', REASON.Deleting, `${driver.kind} is being deleted`);
          return result({ requeueAfterMs: AFTER_MUTATION_MS, complete: false });
        case 'wait':
          set(type, 'False', action.reason, action.message);
          return result({ requeueAfterMs: action.afterMs, complete: false });
        case 'fail':
          // Returned, not thrown, so the caller writes the condition before giving up on the key.
          set(type, 'False', action.reason, action.message);
          return result({ complete: false, terminal: { reason: action.reason, message: action.message } });
      }
    } catch (e) {
      // Refusals that name their own outcome are recorded on the component's condition.
      if (e instanceof WaitError) {
        set(type, 'False', e.reason, e.message);
        return result({ requeueAfterMs: e.retryAfterMs, complete: false });
      }
      if (e instanceof TerminalError) {
        set(type, 'False', e.reason, e.message);
        return result({ complete: false, terminal: { reason: e.reason, message: e.message } });
      }
      throw e;
    }
  }
  return result({ complete: true });
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
