/** Binding a driver to the desired spec of one owner, for stacks and vector stores alike. */
import type { BoundResource } from '../managed-resource.js';
import type { Outputs } from './store.js';

type Spec<S> = S | undefined | ((o: Outputs) => S | undefined);

/** Binds a driver to its spec (or a function of earlier outputs) and the ids status recorded. */
export function bind<S>(driver: { kind: string }, spec: Spec<S>, ids: Record<string, string | undefined> = {}): BoundResource {
  const known = Object.fromEntries(Object.entries(ids).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return { driver: driver as BoundResource['driver'], spec, ids: known };
}
