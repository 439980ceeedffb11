/**
 * Per-API rate budgets shared by all tenants, sized under AWS's quotas, so one tenant's burst
 * cannot starve the rest and the operator never causes a throttling storm. Attached to each SDK
 * client as middleware after the retry step, so every attempt (retries too) takes a token.
 */
import type { Clock } from '../../runtime/clock.js';
import { TokenBucket } from '../../runtime/ratelimit.js';

/** A rate: requests per second and burst. */
export interface Rate {
  ratePerSec: number;
  burst: number;
}

/** Budgets from AWS's documented quotas (see docs/performance.md); `service:Operation` keys. */
export const DEFAULT_BUDGETS: Record<string, Rate> = {
  'bedrockAgent:CreateKnowledgeBase': { ratePerSec: 2, burst: 2 },
  'bedrockAgent:DeleteKnowledgeBase': { ratePerSec: 2, burst: 2 },
  'bedrockAgent:CreateDataSource': { ratePerSec: 2, burst: 2 },
  'bedrockAgent:DeleteDataSource': { ratePerSec: 2, burst: 2 },
  'bedrockAgent:StartIngestionJob': { ratePerSec: 0.1, burst: 1 },
  'bedrockAgent:GetIngestionJob': { ratePerSec: 10, burst: 10 },
};

/** The budget of operations not listed: well under the control-plane limits of IAM, S3, KMS. */
export const DEFAULT_RATE: Rate = { ratePerSec: 10, burst: 20 };

/** The shared budgets. */
export class RateBudgets {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly waits = new Map<string, number>();
  constructor(
    private readonly clock: Clock,
    private readonly budgets: Record<string, Rate> = DEFAULT_BUDGETS,
    private readonly fallback: Rate = DEFAULT_RATE,
  ) {}

  private bucket(key: string): TokenBucket {
    let b = this.buckets.get(key);
    if (!b) {
      const rate = this.budgets[key] ?? this.fallback;
      b = new TokenBucket(rate.ratePerSec, rate.burst, this.clock);
      this.buckets.set(key, b);
    }
    return b;
  }

  /** Waits for a token of `service:operation`. */
  async take(service: string, operation: string, signal?: AbortSignal): Promise<void> {
    const key = `${service}:${operation}`;
    const bucket = this.bucket(key);
    const wait = bucket.reserve();
    if (wait > 0) {
      this.waits.set(key, (this.waits.get(key) ?? 0) + 1);
      await this.clock.sleep(wait, signal);
    }
  }

  /** How often each budget made a caller wait (for metrics and the benchmark). */
  waitCounts(): ReadonlyMap<string, number> {
    return this.waits;
  }
}

/** The part of an SDK v3 client the middleware needs. */
interface MiddlewareClient {
  middlewareStack: {
    addRelativeTo(
      middleware: (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>,
      options: { relation: 'after'; toMiddleware: string; name: string },
    ): void;
  };
}

/** Makes every attempt of every command of `client` take a token of its budget. */
export function attachBudgets(client: MiddlewareClient, service: string, budgets: RateBudgets): void {
  client.middlewareStack.addRelativeTo(
    (next, context) => async (args) => {
      await budgets.take(service, (context.commandName ?? 'Unknown').replace(/Command$/, ''));
      return next(args);
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'tenantRagRateBudget' },
  );
}
