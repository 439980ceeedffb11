/** Builds spot checks (see managed-resource.ts) whose NotFound answers mean "observe fully". */
import { isNotFound } from '../adapters/aws/errors.js';
import type { DriverContext, SpotCheck } from './managed-resource.js';

/** A spot check from one read; a resource (or the aspect's sub-resource) gone yields undefined. */
export function spotCheck<O>(read: (opts: { abortSignal: AbortSignal }, ctx: DriverContext) => Promise<O | undefined>): SpotCheck<O> {
  return async (ctx) => {
    try {
      return await read({ abortSignal: ctx.signal }, ctx);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
}
