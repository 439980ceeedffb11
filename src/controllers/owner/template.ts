/**
 * One life cycle for every kind the operator owns: get → deletion → admission → finalizer →
 * engine → status. A kind supplies only its steps (what admits it, what a pass builds, what a
 * deletion removes); the template adds the finalizer before the first AWS call and removes it
 * only when a step says everything is gone, writes status once per pass only when it changed,
 * keeps `Ready=False, Deleting` on a deleting object, sets `Synced` from how the pass ended,
 * and turns a terminal outcome into a TerminalError after its condition is written.
 */
import { CONDITION, FINALIZER, type KindName } from '../../api/v1alpha1/constants.js';
import type { AnyResource } from '../../api/v1alpha1/types.js';
import type { ConditionInput } from '../../core/conditions.js';
import { ConflictError, NotFoundError, TerminalError } from '../../core/errors.js';
import type { DescribeFailure } from '../../ports/failures.js';
import type { EventRecorder, ObjectStore, ObjectWriter } from '../../ports/kube.js';
import type { ReconcileContext, Reconciler, Result } from '../../runtime/controller.js';
import { applyConditions, commitStatus } from '../status.js';
import { FailureStreaks, SYNCED, deleting, notSynced, resourceOf, signatureOf } from './synced.js';

/** The status of a kind. */
export type StatusOf<T extends AnyResource> = NonNullable<T['status']>;

/** What one step of a pass leaves: the conditions and status it computed, and what comes next. */
export interface Step<S> {
  /** Conditions to set, in order; Ready among them except while deleting (the template says Deleting). */
  conditions: ConditionInput[];
  /** Condition types that no longer apply. */
  dropped?: string[];
  /** Status fields besides conditions and observedGeneration (an undefined value removes the field). */
  fields?: Partial<S>;
  /** The pass evaluated the whole spec at this generation: observedGeneration moves. */
  evaluated: boolean;
  requeueAfterMs?: number;
  /** A failure only a spec change can fix; its condition is among `conditions`. Not retried. */
  terminal?: { reason: string; message: string };
  /** While deleting: what is being removed now, for `Ready=False, Deleting`. */
  removing?: string;
  /** Let go of the object: the finalizer comes off after this pass's status. */
  release?: boolean;
  /** A last look at the computed status before it is written (ModelAccess rate-limits usage writes). */
  settle?: (next: S, stored: S | undefined) => { status: S; requeueAfterMs?: number };
}

/** One pass of one object: the object as last written, and the pass's context and time. */
export class Pass<T extends AnyResource> {
  constructor(
    /** The object as last written this pass (it moves with the finalizer and persisted ids). */
    public latest: T,
    readonly ctx: ReconcileContext,
    readonly now: Date,
    private readonly writer: ObjectWriter<T>,
  ) {}

  /** Writes status at once, outside the one write per pass: AWS-assigned ids, before anything else can fail. */
  async persist(next: (status: StatusOf<T> | undefined) => StatusOf<T>): Promise<void> {
    this.latest = await this.writer.writeStatus(this.latest, next(this.latest.status));
  }
}

/** The steps a kind supplies. */
export interface OwnerSteps<T extends AnyResource> {
  /** Deletion: one pass of taking down what the object owns; `release` once everything is gone. */
  finalize(obj: T, pass: Pass<T>): Promise<Step<StatusOf<T>>>;
  /** Admission: a step that ends the pass before the finalizer (refused, suspended, waiting), or undefined. */
  admit(obj: T, pass: Pass<T>): Promise<Step<StatusOf<T>> | undefined>;
  /** Everything after the finalizer: the engine and what follows it. */
  sync(obj: T, pass: Pass<T>): Promise<Step<StatusOf<T>>>;
  /** What every status write carries besides the step's (a tenant's usage from its model accesses). */
  common?(obj: T): Pick<Step<StatusOf<T>>, 'conditions' | 'fields' | 'dropped'>;
  /** After each status write: the kind's own Events (ModelAccess quota and lifecycle transitions). */
  written?(before: T, next: StatusOf<T>): Promise<void>;
  /** After the finalizer came off: forget what is remembered of the object. */
  released?(obj: T): void;
}

/** What the template is built from. */
export interface OwnerOptions<T extends AnyResource> {
  kind: KindName;
  store: ObjectStore<T>;
  writer: ObjectWriter<T>;
  events: EventRecorder;
  now: () => Date;
  /** Says what an error that ended a pass was (class, call, resource, what to check). */
  describeFailure: DescribeFailure;
  steps: OwnerSteps<T>;
}

/** What every kind's reconciler is built from besides its own dependencies. */
export type KindDeps<T extends AnyResource> = Omit<OwnerOptions<T>, 'kind' | 'steps'>;

/** The reconciler every kind runs; see the module comment. */
export class OwnerReconciler<T extends AnyResource> implements Reconciler {
  private readonly streaks = new FailureStreaks();

  constructor(private readonly o: OwnerOptions<T>) {}

  async reconcile(name: string, ctx: ReconcileContext): Promise<Result> {
    const obj = this.o.store.get(name);
    if (!obj) {
      this.streaks.forget(name);
      return {};
    }
    const isDeleting = obj.metadata.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
    // Deleted before the operator ever acted on it (refused objects carry no finalizer): nothing to do.
    if (isDeleting && !obj.metadata.finalizers?.includes(FINALIZER)) return {};
    const pass = new Pass(obj, ctx, this.o.now(), this.o.writer);
    try {
      const step = await this.run(obj, pass, isDeleting);
      const result = await this.finish(obj, pass, step, isDeleting);
      this.streaks.forget(name);
      return result;
    } catch (e) {
      return this.failed(e, pass, isDeleting);
    }
  }

  /** Deletion, or admission → finalizer → sync. */
  private async run(obj: T, pass: Pass<T>, isDeleting: boolean): Promise<Step<StatusOf<T>>> {
    if (isDeleting) return this.o.steps.finalize(obj, pass);
    const ended = await this.o.steps.admit(obj, pass);
    if (ended) return ended;
    // The finalizer goes on before the first AWS call; the pass goes on with the updated object
    // so its status write is not refused as stale.
    pass.latest = await this.o.writer.addFinalizer(obj);
    return this.o.steps.sync(pass.latest, pass);
  }

  /** Writes the pass's status, lets go of the object when asked, and says when to come back. */
  private async finish(obj: T, pass: Pass<T>, step: Step<StatusOf<T>>, isDeleting: boolean): Promise<Result> {
    let requeueAfterMs = step.requeueAfterMs;
    // An object about to go needs no last status: it is gone a moment later.
    if (!(isDeleting && step.release)) {
      const common = this.o.steps.common?.(pass.latest);
      const ready = isDeleting ? this.deletionReady(step) : undefined;
      const conditions = [...step.conditions, ...(ready ? [ready] : []), ...(common?.conditions ?? []), SYNCED];
      const dropped = [...(step.dropped ?? []), ...(common?.dropped ?? [])];
      let next = this.next(pass, conditions, { ...common?.fields, ...step.fields }, { dropped, evaluated: step.evaluated });
      if (step.settle) {
        const settled = step.settle(next, pass.latest.status);
        next = settled.status;
        requeueAfterMs = soonest(requeueAfterMs, settled.requeueAfterMs);
      }
      await this.commit(pass, next);
    }
    if (step.terminal) throw new TerminalError(step.terminal.reason, step.terminal.message);
    if (step.release) {
      await this.o.writer.removeFinalizer(pass.latest);
      this.o.steps.released?.(obj);
      pass.ctx.logger.info(`${this.o.kind} released: finalizer removed`);
    }
    return requeueAfterMs !== undefined ? { requeueAfterMs } : {};
  }

  /** Ready while deleting: what the step says (a deletion held by tenants), its terminal refusal, or Deleting. */
  private deletionReady(step: Step<StatusOf<T>>): ConditionInput | undefined {
    if (step.conditions.some((c) => c.type === CONDITION.Ready)) return undefined;
    if (step.terminal) return { type: CONDITION.Ready, status: 'False', ...step.terminal };
    return deleting(this.o.kind, step.removing ?? 'removing');
  }

  /** The status computed from the stored one: fields, conditions, and observedGeneration if evaluated. */
  private next(
    pass: Pass<T>,
    conditions: readonly ConditionInput[],
    fields: Partial<StatusOf<T>>,
    step: Pick<Step<StatusOf<T>>, 'dropped' | 'evaluated'>,
  ): StatusOf<T> {
    const stored = pass.latest.status;
    const generation = pass.latest.metadata.generation ?? 0;
    const kept = (stored?.conditions ?? []).filter((c) => !step.dropped?.includes(c.type));
    return {
      ...stored,
      ...fields,
      conditions: applyConditions(kept, conditions, generation, pass.now),
      ...(step.evaluated ? { observedGeneration: generation } : {}),
    };
  }

  /** Writes `next` if it changed, then the kind's own Events. */
  private async commit(pass: Pass<T>, next: StatusOf<T>): Promise<void> {
    const before = pass.latest;
    pass.latest = await commitStatus(before, next, { writer: this.o.writer, events: this.o.events, now: this.o.now });
    await this.o.steps.written?.(before, next);
  }

  /**
   * A pass that threw: reports the error on `Synced` (a retryable one only once it persisted),
   * keeps saying `Deleting` on a deleting object, and rethrows for the work queue's backoff.
   */
  private async failed(e: unknown, pass: Pass<T>, isDeleting: boolean): Promise<never> {
    // A lost write race, an object deleted meanwhile or an aborted pass says nothing about the
    // object; a terminal error (from a step, after its condition) is the queue's business as it is.
    if (e instanceof ConflictError || e instanceof NotFoundError || e instanceof TerminalError || pass.ctx.signal.aborted) throw e;
    const name = pass.latest.metadata.name;
    const failure = this.o.describeFailure(e);
    const where = resourceOf(e);
    const streak = failure?.transient ? this.streaks.record(name, signatureOf(failure, where), pass.now.getTime()) : undefined;
    if (!failure?.transient) this.streaks.forget(name);
    const conditions: ConditionInput[] = [];
    if (!failure?.transient || streak) conditions.push(notSynced(e, failure, streak));
    if (isDeleting) conditions.push(deleting(this.o.kind, where ? `${where.kind} is being deleted` : 'removing'));
    if (conditions.length > 0) {
      try {
        await this.commit(pass, this.next(pass, conditions, {}, { evaluated: false }));
      } catch (w) {
        pass.ctx.logger.warn({ err: w }, 'could not write the failed pass to status');
      }
    }
    throw e;
  }
}

/** The sooner of two optional delays. */
function soonest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  return b === undefined ? a : Math.min(a, b);
}
