/**
 * The priority of the AWS calls a piece of work makes, carried by the async context
 * (AsyncLocalStorage) from the reconcile pass that sets it to the rate budgets that the SDK
 * middleware takes tokens from, so no driver, client or call in between has to pass it along.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * `high`: the call unblocks work that waits on it, such as a dedicated (bridge or silo) tenant's
 * roles, which its access policy, index, knowledge base and data source wait for.
 * `low`: the call starts new work that nothing else waits on, such as a pool tenant's role.
 */
export type CallPriority = 'high' | 'low';

const current = new AsyncLocalStorage<CallPriority>();

/** Runs `fn`, making every call it makes (through any number of awaits) at `priority`. */
export function withCallPriority<T>(priority: CallPriority, fn: () => Promise<T>): Promise<T> {
  return current.run(priority, fn);
}

/**
 * The priority of a call made here. Work that set none (tiers, whose shared resources all their
 * tenants wait for; deletions; ingestion) is `high`: only work known to start nothing others wait
 * on gives way.
 */
export function callPriority(): CallPriority {
  return current.getStore() ?? 'high';
}
