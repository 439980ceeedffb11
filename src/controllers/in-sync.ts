/**
 * What an owner's status keeps of its last pass that found every AWS resource in sync
 * (`status.inSync`): one digest of the resources' specs and when it was recorded. It lets the
 * first pass after a restart spot-check each resource with one read instead of observing it in
 * full, where in-process memory (spot-checks.ts) is gone:
 *
 * - The owner must be Ready at its generation, the record younger than FULL_OBSERVATION_MS and
 *   not in the future, and the digest must match the specs the owner wants now (resolved from
 *   the ids its status records). Anything else observes in full.
 * - Each resource whose driver can say what "in sync with this spec" looks like (`inSyncAs`) then
 *   runs its first spot check on that, one read that finds it gone, foreign or drifted (and then
 *   observes it in full). Every resource is still read at least once.
 *
 * Status is written by the operator alone, but whoever may write it can forge the record: at
 * worst the resources are spot-checked instead of observed in full for one pass (docs/api.md).
 */
import { createHash } from 'node:crypto';
import { rfc3339 } from '../core/conditions.js';
import type { BoundResource } from '../resources/managed-resource.js';
import type { SpotPass } from './spot-checks.js';

/** The record on status. */
export interface InSync {
  /** SHA-256 (hex) of the resources' specs, in order, and the reconcile asked for (if any). */
  digest: string;
  /** When it was recorded (RFC 3339). */
  at: string;
}

/**
 * How long a record is trusted: an owner is observed in full at least this often, restarts or not
 * (a steady owner whose record is older gets a full pass, which records it afresh).
 */
export const FULL_OBSERVATION_MS = 12 * 3_600_000;

/** Whether `record` was made less than FULL_OBSERVATION_MS before `now` (ms), and not after it. */
export function recent(record: InSync | undefined, now: number): boolean {
  const age = record ? now - Date.parse(record.at) : NaN;
  return age >= 0 && age < FULL_OBSERVATION_MS;
}

/**
 * The digest of the specs of a run's AWS resources (each `slot=json`, in order; not those of
 * checks, such as the naming guard, whose spec is what status recorded before the pass) and the
 * reconcile asked for.
 */
export function specDigest(specs: readonly string[], requested: string | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify([requested ?? null, ...specs]))
    .digest('hex');
}

/** One resource's entry in the digest. */
export function specEntry(slot: string, spec: unknown): string {
  return `${slot}=${JSON.stringify(spec) ?? 'undefined'}`;
}

/**
 * For a pass that may trust `spot.trusted` (a restart's first pass): when the specs the resources
 * want, resolved from the ids status records (`known`), digest to it, remembers each resource
 * whose driver knows its in-sync shape as in sync with that spec, read long ago, so the engine
 * runs its first spot check on it. Returns whether the digest matched.
 */
export function assumeInSync(resources: readonly BoundResource[], known: Record<string, string>, spot: SpotPass): boolean {
  if (spot.trusted === undefined) return false;
  const resolved: { slot: string; r: BoundResource; spec: unknown }[] = [];
  try {
    for (const [index, r] of resources.entries()) {
      const spec = typeof r.spec === 'function' ? (r.spec as (o: Record<string, string>) => unknown)({ ...known }) : r.spec;
      resolved.push({ slot: `${index}:${r.driver.kind}`, r, spec });
    }
  } catch {
    // A spec that refuses what status records: not what was found in sync; the run says why.
    return false;
  }
  const digest = specDigest(
    resolved.filter((x) => !x.r.driver.check).map((x) => specEntry(x.slot, x.spec)),
    spot.requested,
  );
  if (digest !== spot.trusted) return false;
  for (const { slot, r, spec } of resolved) {
    const observed = spec !== undefined ? r.driver.inSyncAs?.(spec, r.ids) : undefined;
    // Read "long ago": never trusted without a read (the engine's FRESH_MS rule).
    if (observed !== undefined) spot.memory.set(slot, { observed, spec: JSON.stringify(spec), at: -Infinity });
  }
  return true;
}

/**
 * The record a pass leaves on status: after a complete pass a new one when the digest changed or
 * the stored one is not recent (a full pass), else the stored one, unchanged (no status write).
 */
export function nextInSync(stored: InSync | undefined, digest: string | undefined, now: Date): InSync | undefined {
  if (digest === undefined) return stored;
  if (stored?.digest === digest && recent(stored, now.getTime())) return stored;
  return { digest, at: rfc3339(now) };
}
