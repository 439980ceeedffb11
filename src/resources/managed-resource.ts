/**
 * The seam every AWS resource kind plugs into: one driver per kind with observe / create /
 * update / delete. `observe` never mutates; every call is idempotent and returns promptly.
 */
import type { Logger } from 'pino';
import type { Diff, Observation } from '../core/observation.js';

// Defined in core, where planStep reads them; drivers import them from here.
export type { Diff, Observation };

/** Identifiers AWS assigned, persisted on status the moment a create returns. */
export type ExternalIds = Record<string, string>;

/** Context a driver runs in. */
export interface DriverContext {
  signal: AbortSignal;
  logger: Logger;
}

/**
 * One read that checks one aspect of a resource last observed in sync (`last`): it returns `last`
 * with that aspect read afresh (the engine compares it with the spec), or undefined when the
 * resource is gone or in a state a check cannot judge; either way a full observation follows.
 */
export type SpotCheck<Observed> = (ctx: DriverContext) => Promise<Observed | undefined>;

/** One AWS resource kind. */
export interface ManagedResource<Spec, Observed> {
  readonly kind: string;
  /** The condition type this resource contributes to. */
  readonly conditionType: string;
  /**
   * True for resources that exist by use (an S3 prefix): absent is as good as present, nothing is
   * ever created for them, and only deletion acts.
   */
  readonly implicit?: boolean;
  /**
   * True when observing serves only a deletion (an S3 prefix: what is in it is what a deletion
   * empties): a pass that is not deleting takes it as found without reading it.
   */
  readonly observedForDeletionOnly?: boolean;
  /** True for a check that guards a stack rather than an AWS resource: never named as in place. */
  readonly check?: boolean;
  /** Finds the resource by deterministic name, or by the ids persisted on status. */
  observe(ctx: DriverContext, spec: Spec, ids: ExternalIds): Promise<Observation<Observed>>;
  compare(spec: Spec, observed: Observed): Diff;
  /** Creates; `ids` are those status recorded (of a predecessor that vanished, if any). */
  create(ctx: DriverContext, spec: Spec, ids?: ExternalIds): Promise<ExternalIds>;
  update(ctx: DriverContext, spec: Spec, observed: Observed, diff: Diff): Promise<void>;
  /** Deletes; NotFound counts as success. A delete may take several passes (observe decides). */
  delete(ctx: DriverContext, observed: Observed): Promise<void>;
  /**
   * For kinds whose observation takes several reads: one-read checks that together cover every
   * aspect `compare` looks at. An owner in a steady state runs one of them per pass, in turn,
   * instead of the full observation (docs/performance.md: steady-state reads).
   */
  spotChecks?(spec: Spec, last: Observed): SpotCheck<Observed>[];
  /**
   * What the create that just returned left, for kinds whose create calls set every aspect
   * `compare` looks at and whose AWS is read-after-write eventually consistent (IAM): the engine
   * takes it instead of reading the resource back. Undefined when the create adopted something
   * that already existed, which must be read.
   */
  createdAs?(spec: Spec, ids: ExternalIds): Observed | undefined;
  /**
   * What a resource in sync with `spec` looks like, for a restart's first pass to run the first
   * spot check on instead of a full observation (src/controllers/in-sync.ts). That check must read
   * what this cannot know (a role's ARN), and find the resource gone or not the owner's.
   */
  inSyncAs?(spec: Spec, ids: ExternalIds): Observed;
  /** Identifiers to publish on status (bucket name, role ARN, ...), from what was observed. */
  outputs?(observed: Observed): Record<string, string>;
}

/**
 * A driver bound to the desired spec of one object (undefined: must not exist). The spec may be a
 * function of what resources earlier in the order published (a bucket's spec needs its key's
 * ARN); the engine only reaches a resource once those before it are ready.
 */
export interface BoundResource<Spec = unknown, Observed = unknown> {
  driver: ManagedResource<Spec, Observed>;
  spec: Spec | undefined | ((outputs: Record<string, string>) => Spec | undefined);
  ids: ExternalIds;
}
