/**
 * A behavioural fake of the AWS resources a controller's drivers manage, for reconciler unit
 * tests: resources are created (ready at once or after some looks), drift, are deleted (gone at
 * once or after some looks), fail in AWS, and calls can be refused with an error once or many
 * times, the way AWS would answer them. Every driver is a real ManagedResource over it.
 */
import type { Failure } from '../../src/ports/failures.js';
import type { ExternalIds, ManagedResource, Observation } from '../../src/resources/managed-resource.js';

/** A resource as the fake holds it. */
interface Held {
  spec: string;
  id: string;
  /** Looks left before a create is done (CREATING) or a delete is (DELETING). */
  creating: number;
  deleting?: number;
  /** Set: AWS reports the resource FAILED with this reason. */
  failed?: string;
}

/** How a kind behaves. */
export interface FakeKindOptions {
  /** Looks before a created resource is ready (0: ready the moment its create returns). */
  createLooks?: number;
  /** Looks before a deleted resource is gone (0: gone at once). */
  deleteLooks?: number;
  /** What the resource publishes on its owner's status. */
  outputs?: (id: string, spec: string) => Record<string, string>;
  /** The ids a create returns (default `{<kind>Id: id}`). */
  ids?: (id: string) => ExternalIds;
}

/** An error as an adapter describes it (see FakeCloud.describe). */
export class FakeAwsError extends Error {
  override readonly name = 'FakeAwsError';
  constructor(readonly failure: Failure) {
    super(failure.detail);
  }
}

/** AWS's AccessDenied for `action` on `target`. */
export function accessDenied(action: string, target: string): FakeAwsError {
  return new FakeAwsError({
    class: 'AccessDenied',
    transient: false,
    action,
    target,
    detail: `AccessDenied: not authorized to perform: ${action}`,
    check: `check that the operator's IAM policy allows ${action} on ${target}`,
  });
}

/** AWS's throttle for `action` on `target`. */
export function throttled(action: string, target: string): FakeAwsError {
  return new FakeAwsError({
    class: 'AWSError',
    transient: true,
    action,
    target,
    detail: 'ThrottlingException: Rate exceeded',
    check: 'check the request quotas',
  });
}

/** The fake cloud; see the module comment. */
export class FakeCloud {
  readonly held = new Map<string, Held>();
  /** Every mutating call, as `verb kind`. */
  readonly calls: string[] = [];
  private readonly faults: { key: string; error: Error; times: number }[] = [];
  private next = 1;

  /** Refuses the next `times` calls of `verb` (observe, create, update, delete) on `kind` with `error`. */
  failNext(kind: string, verb: string, error: Error, times = 1): void {
    this.faults.push({ key: `${verb} ${kind}`, error, times });
  }

  /** Makes AWS report the resource of `kind` FAILED. */
  fail(kind: string, reason: string): void {
    const h = this.held.get(kind);
    if (h) h.failed = reason;
  }

  /** Changes the resource behind the operator's back. */
  drift(kind: string, spec: string): void {
    const h = this.held.get(kind);
    if (h) h.spec = spec;
  }

  /** The describeFailure port for the errors this fake throws. */
  readonly describe = (e: unknown): Failure | undefined => {
    for (let x: unknown = e, depth = 0; depth < 8 && x instanceof Error; depth++, x = x.cause)
      if (x instanceof FakeAwsError) return x.failure;
    return undefined;
  };

  private refuse(verb: string, kind: string): void {
    const f = this.faults.find((x) => x.key === `${verb} ${kind}` && x.times > 0);
    if (!f) return;
    f.times--;
    throw f.error;
  }

  /** A driver of `kind` contributing to condition `conditionType`. */
  driver<S>(kind: string, conditionType: string, o: FakeKindOptions = {}): ManagedResource<S, S> {
    // The driver's methods are plain functions over this cloud's state, as a real driver's are over AWS.
    const held = this.held;
    const calls = this.calls;
    const refuse = (verb: string): void => this.refuse(verb, kind);
    const nextId = (): string => `${kind}-${this.next++}`;
    const asSpec = (s: string): S => JSON.parse(s) as S;
    return {
      kind,
      conditionType,
      observe(): Promise<Observation<S>> {
        refuse('observe');
        const h = held.get(kind);
        if (!h) return Promise.resolve({ state: 'absent' });
        const observed = asSpec(h.spec);
        if (h.failed) return Promise.resolve({ state: 'failed', observed, reason: h.failed, message: `AWS reports ${kind} FAILED` });
        if (h.deleting !== undefined) {
          if (h.deleting-- <= 0) {
            held.delete(kind);
            return Promise.resolve({ state: 'absent' });
          }
          return Promise.resolve({ state: 'pending', observed, reason: 'Deleting', message: `${kind} is DELETING`, retryAfterMs: 1_000 });
        }
        if (h.creating-- > 0)
          return Promise.resolve({
            state: 'pending',
            observed,
            reason: 'Provisioning',
            message: `${kind} is CREATING`,
            retryAfterMs: 1_000,
          });
        return Promise.resolve({ state: 'ready', observed });
      },
      compare: (spec, observed) => (JSON.stringify(spec) === JSON.stringify(observed) ? [] : ['spec']),
      create(_ctx, spec): Promise<ExternalIds> {
        refuse('create');
        calls.push(`create ${kind}`);
        const id = nextId();
        held.set(kind, { spec: JSON.stringify(spec), id, creating: o.createLooks ?? 0 });
        return Promise.resolve(o.ids ? o.ids(id) : { [`${kind}Id`]: id });
      },
      update(_ctx, spec): Promise<void> {
        refuse('update');
        calls.push(`update ${kind}`);
        const h = held.get(kind);
        if (h) h.spec = JSON.stringify(spec);
        return Promise.resolve();
      },
      delete(): Promise<void> {
        refuse('delete');
        calls.push(`delete ${kind}`);
        const h = held.get(kind);
        if (h) h.deleting = o.deleteLooks ?? 0;
        return Promise.resolve();
      },
      outputs: (observed) => {
        const h = held.get(kind);
        return h && o.outputs ? o.outputs(h.id, JSON.stringify(observed)) : {};
      },
    };
  }
}
