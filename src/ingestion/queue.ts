/**
 * The ordering of the ingestion queue, as pure functions. Each key is queued at most once. The
 * order is FIFO by enqueue time, except that an on-demand request counts as if it had been made
 * `onDemandBoostMs` earlier: it goes ahead of scheduled work queued less than that long before
 * it, but a steady stream of on-demand requests can never starve scheduled work for longer.
 * And a key never ranks before the time its previous job started, so a key that asks again as
 * soon as its job ends goes behind every key that was already waiting: round-robin under load.
 */
import { createHash } from 'node:crypto';
import type { AwsErrorKind } from '../adapters/aws/errors.js';
import type { IngestionReason, IngestionTarget } from './types.js';

/** One queued request. */
export interface QueueEntry {
  target: IngestionTarget;
  reason: IngestionReason;
  /** Clock time of the first request for this key since it last ran. */
  enqueuedAt: number;
  /** Tie-breaker: order of arrival. */
  seq: number;
  /** Idempotency token of this request's start; the same on every retry of the start. */
  clientToken: string;
  /**
   * The rank never goes below this: the clock time the key's previous job started. So a key that
   * asks again (even on-demand) goes behind every key that was already waiting when it last ran.
   */
  rankFloor: number;
  /** Not started before this clock time (after a failed start). */
  notBefore: number;
  /** Why the last start attempt did not start a job, if one failed. */
  lastError?: string;
}

/** The sort rank of an entry: lower goes first. */
export function rank(e: QueueEntry, onDemandBoostMs: number): number {
  return Math.max(e.rankFloor, e.enqueuedAt - (e.reason === 'on-demand' ? onDemandBoostMs : 0));
}

/** The entries in the order they will be served. */
export function ordered(entries: Iterable<QueueEntry>, onDemandBoostMs: number): QueueEntry[] {
  return [...entries].sort((a, b) => rank(a, onDemandBoostMs) - rank(b, onDemandBoostMs) || a.seq - b.seq);
}

/** The first entry that may start now: not backing off and whose data source is not busy. */
export function pickNext(
  entries: Iterable<QueueEntry>,
  now: number,
  onDemandBoostMs: number,
  busy: (t: IngestionTarget) => boolean,
): QueueEntry | undefined {
  return ordered(entries, onDemandBoostMs).find((e) => e.notBefore <= now && !busy(e.target));
}

/**
 * The clientToken of one request: bedrock-agent wants 33-256 characters. It is derived from the
 * key, a per-process nonce and the request's sequence number, so a retried start of the same
 * request is idempotent while a later request (in this or a restarted process) starts a new job.
 */
export function ingestionClientToken(key: string, nonce: string, seq: number): string {
  const digest = createHash('sha256').update(`${key}\n${nonce}\n${seq}`).digest('hex');
  return `tro-ingest-${digest}`;
}

/** What the scheduler does when StartIngestionJob fails. */
export type StartFailureAction = 'adopt' | 'pause-starts' | 'retry-key' | 'drop';

/**
 * The start-failure policy. Conflict: a job already runs on the data source (one started before
 * a restart, or by someone else), so track it instead of starting another. Quota and throttling
 * are account-wide, so every start pauses. NotFound, AccessDenied and invalid input cannot be
 * fixed by retrying, so the request is dropped and reported. Anything else is retried for that key.
 */
export function startFailureAction(kind: AwsErrorKind): StartFailureAction {
  switch (kind) {
    case 'Conflict':
      return 'adopt';
    case 'QuotaExceeded':
    case 'Throttled':
      return 'pause-starts';
    case 'NotFound':
    case 'AccessDenied':
    case 'InvalidInput':
    case 'NameTaken':
      return 'drop';
    case 'Transient':
    case 'Unknown':
      return 'retry-key';
  }
}
