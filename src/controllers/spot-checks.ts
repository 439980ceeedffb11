/**
 * Fewer reads per resource, for owners whose resources were lately found as their spec wants.
 *
 * - Steady state: an owner Ready at its current generation has had every resource observed in
 *   full; from then on each pass runs one spot check per resource (the driver's checks in turn,
 *   one aspect each), so every aspect is read again within as many passes as the resource has
 *   checks.
 * - Within a series of passes (onboarding waits on a collection, a knowledge base): a resource
 *   found in sync less than FRESH_MS ago, and still as the spec wants, is not read again.
 *
 * - After a restart: what status records (in-sync.ts) stands in for memory, for one first spot
 *   check per resource.
 *
 * A failed check, a changed spec, a reconcile asked for, a restart that cannot trust its status,
 * and a record older than FULL_OBSERVATION_MS fall back to full observations.
 */

import { CONDITION } from '../api/v1alpha1/constants.js';
import type { Condition } from '../api/v1alpha1/types.js';
import { isTrue } from '../core/conditions.js';
import { type InSync, recent } from './in-sync.js';

/** How long an observation found in sync is trusted without a read. */
export const FRESH_MS = 30_000;

/** An observation found in sync, the spec it was found in sync with, and when it was read. */
export interface Remembered {
  observed: unknown;
  /** The spec, serialized: what is remembered stands only for this very spec. */
  spec: string;
  at: number;
}

/** What the engine needs of one owner's pass. */
export interface SpotPass {
  /** Which check each resource runs this pass; undefined: observe everything in full. */
  turn: number | undefined;
  /** The last observation found in sync, by resource (kind and position). */
  memory: Map<string, Remembered>;
  /** Now, in ms. */
  now: number;
  /** The reconcile asked for (the reconcile-requested-at annotation), part of the spec digest. */
  requested: string | undefined;
  /** A restart's first pass: the digest status records, which the engine may trust (in-sync.ts). */
  trusted?: string;
}

interface OwnerState extends SpotPass {
  basis: string | undefined;
}

/** An owner's object as far as steadiness goes. */
interface Owned {
  metadata: { generation?: number };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}

/**
 * What a steady owner's pass rests on (its generation, and whatever else shapes its resources'
 * specs, such as its tier's generation), or undefined when the owner is not Ready at its
 * current generation.
 */
export function steadyBasis(owner: Owned, ...alsoOn: (number | string | undefined)[]): string | undefined {
  const generation = owner.metadata.generation ?? 0;
  if (owner.status?.observedGeneration !== generation || !isTrue(owner.status.conditions, CONDITION.Ready)) return undefined;
  return [generation, ...alsoOn].join('/');
}

/** The spot-check state of every owner of one controller, in memory only. */
export class SpotChecks {
  private readonly owners = new Map<string, OwnerState>();

  /**
   * The pass of `owner`: checks in turn when it is steady on the same basis as its last pass,
   * full observations otherwise (a changed spec, a pass not steady, a reconcile asked for, a
   * status record `inSync` older than FULL_OBSERVATION_MS). The first pass in this process checks
   * in turn too when steady with a recent record, trusting it (see in-sync.ts).
   */
  pass(owner: string, basis: string | undefined, now: number, requested?: string, inSync?: InSync): SpotPass {
    let p = this.owners.get(owner);
    const steady = basis !== undefined && (inSync === undefined || recent(inSync, now));
    if (!p || p.requested !== requested) {
      // A reconcile asked for (the reconcile-requested-at annotation) reads all.
      const restart = !p && steady && inSync !== undefined;
      p = { turn: restart ? 0 : undefined, memory: new Map(), basis, requested, now, trusted: restart ? inSync?.digest : undefined };
      this.owners.set(owner, p);
      return p;
    }
    p.trusted = undefined;
    p.turn = steady && basis === p.basis ? (p.turn ?? -1) + 1 : undefined;
    p.basis = basis;
    p.now = now;
    return p;
  }

  /** Drops what is remembered of a deleted owner. */
  forget(owner: string): void {
    this.owners.delete(owner);
  }

  /** Owners remembered (for tests and metrics). */
  size(): number {
    return this.owners.size;
  }
}
