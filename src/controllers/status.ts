/**
 * Status discipline shared by the controllers: status is computed in memory, written once per
 * pass through /status only when it differs from what is stored, and an Event is recorded only
 * when `Ready` changes.
 */
import { isDeepStrictEqual } from 'node:util';
import { CONDITION, EVENT_REASON, REASON } from '../api/v1alpha1/constants.js';
import type { AnyResource, Condition } from '../api/v1alpha1/types.js';
import { type ConditionInput, findCondition, setCondition } from '../core/conditions.js';
import type { EventRecorder, ObjectWriter } from '../ports/kube.js';
import { escalateStuckWait } from '../core/stuck-waits.js';

/** What the controllers share. */
export interface StatusDeps<T extends AnyResource> {
  writer: ObjectWriter<T>;
  events: EventRecorder;
  now: () => Date;
}

/** Applies condition inputs to existing conditions with the transition-time rule. */
export function applyConditions(
  existing: Condition[] | undefined,
  inputs: readonly ConditionInput[],
  generation: number,
  now: Date,
): Condition[] {
  let list = existing ?? [];
  for (const c of inputs) list = setCondition(list, escalateStuckWait(c, findCondition(list, c.type), now), generation, now);
  return list;
}

/** Writes `next` if it differs from the stored status; returns the object as stored afterwards. */
export async function commitStatus<T extends AnyResource>(obj: T, next: NonNullable<T['status']>, deps: StatusDeps<T>): Promise<T> {
  if (isDeepStrictEqual(stripUndefined(obj.status ?? {}), stripUndefined(next))) return obj;
  const updated = await deps.writer.writeStatus(obj, next);
  const before = findCondition(obj.status?.conditions, CONDITION.Ready);
  const after = findCondition((next as { conditions?: Condition[] }).conditions, CONDITION.Ready);
  if (after && (before?.status !== after.status || (after.status !== 'True' && before?.reason !== after.reason))) {
    const ready = after.status === 'True';
    // A deletion someone asked for is not a problem: Normal, like the Deleted Event that ends it.
    const expected = ready || after.reason === REASON.Deleting;
    await deps.events.emit(
      obj,
      expected ? 'Normal' : 'Warning',
      ready ? EVENT_REASON.Ready : EVENT_REASON.NotReady,
      `${after.reason}: ${after.message}`,
    );
  }
  return updated;
}

/** JSON round-trip drops undefined fields so a computed status compares equal to the stored one. */
function stripUndefined(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v)) as unknown;
}
