/** Shared by the knowledge base and data source drivers: find by name, and read a status. */
import type { Observation } from '../managed-resource.js';

/** One page of a List call, reduced to ids and names. */
export interface NamePage {
  items: { id?: string; name?: string }[];
  nextToken?: string;
}

/** Walks the pages of a List call for the id of the item called `name`. */
export async function findByName(name: string, page: (nextToken?: string) => Promise<NamePage>): Promise<string | undefined> {
  let token: string | undefined;
  do {
    const p = await page(token);
    const hit = p.items.find((i) => i.name === name);
    if (hit?.id) return hit.id;
    token = p.nextToken;
  } while (token);
  return undefined;
}

/**
 * Turns a bedrock-agent status into an observation: the ready statuses are ready, FAILED and
 * *_UNSUCCESSFUL fail with Bedrock's reasons, anything else (CREATING, UPDATING, DELETING) waits.
 */
export function transitionObservation<O>(
  observed: O,
  status: string,
  readyStatuses: readonly string[],
  failureReasons: readonly string[] | undefined,
  what: string,
  /** Look again after this long while in transition (see core/poll.ts). */
  pollMs: number,
): Observation<O> {
  if (readyStatuses.includes(status)) return { state: 'ready', observed };
  if (status === 'FAILED' || status.endsWith('_UNSUCCESSFUL')) {
    const why = (failureReasons ?? []).join('; ') || 'no reason given';
    return {
      state: 'failed',
      observed,
      reason: status === 'FAILED' ? 'BedrockFailed' : 'BedrockUnsuccessful',
      message: `${what} is ${status}: ${why}`,
    };
  }
  return {
    state: 'pending',
    observed,
    reason: status === 'DELETING' ? 'Deleting' : status === 'UPDATING' ? 'Updating' : 'Provisioning',
    message: `${what} is ${status}`,
    retryAfterMs: pollMs,
  };
}
