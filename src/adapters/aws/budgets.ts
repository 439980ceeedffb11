/**
 * Per-API rate budgets shared by all tenants, sized under AWS's quotas, so one tenant's burst
 * cannot starve the rest and the operator never causes a throttling storm. Attached to each SDK
 * client as middleware after the retry step, so every attempt (retries too) takes a token.
 *
 * Each budget serves its waiting calls by the priority the reconcile pass set for them
 * (runtime/call-priority.ts): a dedicated tenant's role writes, which its chain of access policy,
 * index, knowledge base and data source waits for, go ahead of pool tenants' role writes, which
 * start nothing else; pool calls keep at least a quarter of the rate (runtime/priority-bucket.ts).
 */
import { callPriority } from '../../runtime/call-priority.js';
import type { Clock } from '../../runtime/clock.js';
import { PriorityTokenBucket } from '../../runtime/priority-bucket.js';
import { classifyAwsError } from './errors.js';

/** A rate: requests per second and burst. */
export interface Rate {
  ratePerSec: number;
  burst: number;
}

/**
 * Budgets sit this far under AWS's published rates. At exactly AWS's rate two calls that leave a
 * full interval apart can arrive a few milliseconds closer (network and scheduling jitter) and be
 * throttled; the benchmark saw that for about one StartIngestionJob in three, and each throttled
 * start pauses the ingestion scheduler for 30 s.
 */
export const HEADROOM = 0.9;

const under = (ratePerSec: number, burst: number): Rate => ({ ratePerSec: ratePerSec * HEADROOM, burst });

/**
 * IAM throttles its mutating calls together, account-wide, and publishes no rate ("a number of
 * token buckets might apply"): all of them share the `iam:writes` budget, an assumption of 15/s.
 */
const IAM_WRITE = /^(Create|Put|Update|Delete|Tag|Untag|Attach|Detach|Add|Remove)/;

/** The budget a call takes its token from: a group (`iam:writes`) or its own `service:Operation`. */
export function budgetKey(service: string, operation: string): string {
  return service === 'iam' && IAM_WRITE.test(operation) ? 'iam:writes' : `${service}:${operation}`;
}

/** Budgets from AWS's documented quotas (see docs/performance.md); keys from `budgetKey`. */
export const DEFAULT_BUDGETS: Record<string, Rate> = {
  'iam:writes': under(15, 15),
  // IAM reads: no published rate either; 20/s for each Get*/List* operation, an assumption.
  'iam:GetRole': under(20, 20),
  'iam:GetRolePolicy': under(20, 20),
  'iam:ListRolePolicies': under(20, 20),
  'iam:ListAttachedRolePolicies': under(20, 20),
  // S3 object calls: 3,500 writes and 5,500 reads per second per prefix (S3 user guide); every
  // tenant has its own prefix, so an account-wide 100/s each stays far under.
  's3:ListObjectVersions': under(100, 100),
  's3:ListObjectsV2': under(100, 100),
  's3:PutObject': under(100, 100),
  's3:DeleteObjects': under(100, 100),
  'bedrockAgent:CreateKnowledgeBase': under(2, 2),
  'bedrockAgent:DeleteKnowledgeBase': under(2, 2),
  'bedrockAgent:CreateDataSource': under(2, 2),
  'bedrockAgent:DeleteDataSource': under(2, 2),
  'bedrockAgent:StartIngestionJob': under(0.1, 1),
  'bedrockAgent:GetIngestionJob': under(10, 10),
};

/** The budget of operations not listed: well under the control-plane limits of IAM, S3, KMS. */
export const DEFAULT_RATE: Rate = under(10, 10);

/** A counter by service and operation (a prom-client Counter fits). */
export interface AwsCallCounter {
  inc(labels: { service: string; operation: string }): void;
}

/** Where the budgets report AWS calls: every attempt, and the attempts AWS throttled. */
export interface AwsCallObserver {
  calls: AwsCallCounter;
  throttled: AwsCallCounter;
}

/** The shared budgets. */
export class RateBudgets {
  private readonly buckets = new Map<string, PriorityTokenBucket>();
  private readonly waits = new Map<string, number>();
  private observer: AwsCallObserver | undefined;
  constructor(
    private readonly clock: Clock,
    private readonly budgets: Record<string, Rate> = DEFAULT_BUDGETS,
    private readonly fallback: Rate = DEFAULT_RATE,
  ) {}

  private bucket(key: string): PriorityTokenBucket {
    let b = this.buckets.get(key);
    if (!b) {
      const rate = this.budgets[key] ?? this.fallback;
      b = new PriorityTokenBucket(rate.ratePerSec, rate.burst, this.clock);
      this.buckets.set(key, b);
    }
    return b;
  }

  /** Reports every call that takes a token (and, through the middleware, every throttled one) to `o`. */
  observe(o: AwsCallObserver): void {
    this.observer = o;
  }

  /**
   * Waits for a token of `service:operation` at the priority of the work making the call; every
   * attempt of every AWS call comes through here once.
   */
  async take(service: string, operation: string, signal?: AbortSignal): Promise<void> {
    this.observer?.calls.inc({ service, operation });
    const key = budgetKey(service, operation);
    if (await this.bucket(key).take(callPriority(), signal)) this.waits.set(key, (this.waits.get(key) ?? 0) + 1);
  }

  /** How often each budget made a caller wait (for metrics and the benchmark). */
  waitCounts(): ReadonlyMap<string, number> {
    return this.waits;
  }

  /** Records that AWS answered one attempt with a throttling error (the SDK may still retry it). */
  throttled(service: string, operation: string): void {
    this.observer?.throttled.inc({ service, operation });
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

/**
 * Makes every attempt of every command of `client` take a token of its budget, and reports the
 * attempts AWS throttled. Placed inside the retry step, it sees each attempt's deserialized error.
 */
export function attachBudgets(client: MiddlewareClient, service: string, budgets: RateBudgets): void {
  client.middlewareStack.addRelativeTo(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      await budgets.take(service, operation);
      try {
        return await next(args);
      } catch (e) {
        if (classifyAwsError(e) === 'Throttled') budgets.throttled(service, operation);
        throw e;
      }
    },
    { relation: 'after', toMiddleware: 'retryMiddleware', name: 'tenantRagRateBudget' },
  );
}
