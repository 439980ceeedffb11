/**
 * The quota step of a model call: reserve the worst case before the call, settle to real usage
 * after. A refusal is a 429 with Retry-After and a body naming the quota, window, used, limit and
 * reset; a store that cannot be reached is a 503 unless the gateway is set to fail open.
 */
import type { Logger } from 'pino';
import type { Grant } from './directory.js';
import { Refusal } from './directory.js';
import type { GatewayMetrics } from './metrics.js';
import { retryAfterSeconds, windowsAt } from './quota.js';
import { QuotaStoreUnavailable, type QuotaStore, type Reservation } from './quota-store.js';

/** A 429 carrying the refusal's details. */
export class QuotaExceeded extends Refusal {
  constructor(
    message: string,
    readonly retryAfter: number,
    readonly details: { quota: string; window: string; used: number; limit: number; reset: string },
  ) {
    super(429, 'quota_exceeded', message);
  }
}

/** What a held reservation offers the handler. */
export interface Held {
  /** Settles to the real usage (0 gives the reservation back); safe to call once. */
  settle(actualTokens: number): Promise<void>;
}

/** Settings of the gate. */
export interface QuotaGateOptions {
  prefix: string;
  failOpen: boolean;
  now: () => Date;
}

/** Reserves and settles tokens of one tenant and model. */
export class QuotaGate {
  constructor(
    private readonly store: QuotaStore,
    private readonly metrics: GatewayMetrics,
    private readonly logger: Logger,
    private readonly o: QuotaGateOptions,
  ) {}

  /** Reserves `tokens` for `tenant` on `grant`; throws QuotaExceeded or a 503 Refusal. */
  async reserve(tenant: string, grant: Grant, tokens: number): Promise<Held> {
    const model = grant.access.spec.model;
    const now = this.o.now();
    const windows = windowsAt(this.o.prefix, tenant, model, now);
    let reservation: Reservation;
    try {
      const r = await this.store.reserve(windows, grant.limits, tokens);
      if (!r.ok) {
        const f = r.refusal;
        this.metrics.quotaRefusals.inc({ tenant, model, quota: f.quota });
        const what = f.quota === 'requestsPerMinute' ? 'requests' : 'tokens';
        throw new QuotaExceeded(
          `${f.quota} of ModelAccess ${grant.access.metadata.name} exceeded: ${f.used} ${what} used of ${f.limit} in ${f.window}` +
            (what === 'tokens' ? `, this request needs up to ${tokens}` : '') +
            `; resets at ${f.reset.toISOString()}`,
          retryAfterSeconds(f.reset, now),
          { quota: f.quota, window: f.window, used: f.used, limit: f.limit, reset: f.reset.toISOString() },
        );
      }
      reservation = r.reservation;
    } catch (e) {
      if (!(e instanceof QuotaStoreUnavailable)) throw e;
      this.metrics.quotaStoreErrors.inc({ action: 'reserve' });
      if (!this.o.failOpen) {
        throw new Refusal(
          503,
          'quota_store_unavailable',
          'the quota store cannot be reached; the gateway refuses model calls until it is back',
        );
      }
      this.logger.warn({ err: e.message, tenant, model }, 'quota store unreachable; failing open');
      return { settle: () => Promise.resolve() };
    }
    for (const quota of reservation.alerts) this.metrics.quotaAlerts.inc({ tenant, model, quota });
    let done = false;
    return {
      settle: async (actual: number) => {
        if (done) return;
        done = true;
        if (actual > reservation.reserved) this.metrics.quotaOvershootTokens.inc({ tenant, model }, actual - reservation.reserved);
        try {
          await this.store.settle(reservation, actual);
        } catch (e) {
          // The reservation stays counted: the counters err towards the caller having used more.
          this.metrics.quotaStoreErrors.inc({ action: 'settle' });
          this.logger.warn({ err: e instanceof Error ? e.message : String(e), tenant, model }, 'could not settle a reservation');
        }
      },
    };
  }
}
