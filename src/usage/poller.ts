/**
 * The one account-wide usage poller (not a timer per object): every interval it reads the token
 * counts of every granted inference profile from CloudWatch in as few GetMetricData calls as the
 * API allows (500 queries, so 250 profiles, per call; pages followed by NextToken), stores them in
 * the UsageBook and hands the ModelAccess keys whose numbers changed to `onChanged` (the work
 * queue), so the reconciler writes status and enforces quotas. Run it on the leader only.
 *
 * With the tenant gateway's counters configured it also runs the gateway counter poller (seconds
 * apart), and reads the gateway's counters right after each GetMetricData call answers: the pair
 * is what lets status count each token once (counted.ts).
 */
import { type CloudWatchClient, GetMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.js';
import type { ModelMetrics } from '../runtime/metrics.js';
import type { UsageBook } from './book.js';
import { type CounterOwner, type GatewayReading, readGatewayTokens } from './gateway-counters.js';
import { GatewayCounterPoller, type GatewayCounterSource } from './gateway-poller.js';
import { type QueryBatch, foldResults, planBatches } from './queries.js';
import { Repeating } from './repeat.js';
import { type UsageTarget, byProfile } from './targets.js';
import { nextDay, startOfMonth } from './windows.js';

export type { UsageTarget } from './targets.js';

/** Options of the poller. */
export interface UsagePollerOptions {
  cloudwatch: CloudWatchClient;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  /** The granted profiles right now (from the ModelAccess informer cache). */
  targets: () => UsageTarget[];
  book: UsageBook;
  /** Receives the keys whose readings changed. */
  onChanged: (keys: string[]) => void;
  metrics?: ModelMetrics;
  maxQueriesPerCall?: number;
  /** The tenant gateway's counters, when the gateway runs (the operator's gatewayRedis setting). */
  gateway?: GatewayCounterSource;
}

/** What one poll did. */
export interface PollReport {
  profiles: number;
  calls: number;
  failedBatches: number;
  changed: string[];
}

/** The poller; see the module comment. */
export class UsagePoller {
  private readonly repeat: Repeating;
  /** Reads the gateway's counters on their own, shorter interval. */
  readonly gateway: GatewayCounterPoller | undefined;

  constructor(private readonly o: UsagePollerOptions) {
    this.repeat = new Repeating(o.clock, o.intervalMs, (signal) => this.pollOnce(signal), o.logger, 'usage poll');
    this.gateway = o.gateway
      ? new GatewayCounterPoller({
          ...o.gateway,
          clock: o.clock,
          logger: o.logger.child({ source: 'gateway' }),
          targets: o.targets,
          book: o.book,
          onChanged: o.onChanged,
        })
      : undefined;
  }

  /** Polls now and then every interval after the previous poll finished (polls never overlap). */
  start(): void {
    this.repeat.start();
    this.gateway?.start();
  }

  /** Stops the schedules and waits for a poll in flight (aborted) to end. */
  async stop(): Promise<void> {
    await Promise.all([this.repeat.stop(), this.gateway?.stop()]);
  }

  /** Reads every target once. */
  async pollOnce(signal?: AbortSignal): Promise<PollReport> {
    const now = new Date(this.o.clock.now());
    const { keys: keysOf, owners } = byProfile(this.o.targets());
    this.o.book.retain(new Set(keysOf.keys()));
    const report: PollReport = { profiles: keysOf.size, calls: 0, failedBatches: 0, changed: [] };
    for (const batch of planBatches(keysOf.keys(), this.o.maxQueriesPerCall)) {
      let results: MetricDataResult[];
      try {
        results = await this.read(batch, now, report, signal);
      } catch (e) {
        // One failed call leaves its profiles' previous readings in place; the others still count.
        if (signal?.aborted) throw e;
        report.failedBatches++;
        this.o.logger.warn({ err: e, profiles: batch.refs.size / 2 }, 'GetMetricData failed; keeping previous readings');
        continue;
      }
      const readings = foldResults(batch, results, now);
      const seen = await this.gatewayAfter(readings.keys(), owners, now);
      for (const [arn, reading] of readings) {
        const atRead = seen.get(arn);
        if (atRead) this.o.book.setGateway(arn, atRead);
        if (this.o.book.set(arn, reading, now, atRead)) report.changed.push(...(keysOf.get(arn) ?? []));
      }
    }
    const m = this.o.metrics;
    m?.usageProfiles.set(report.profiles);
    m?.usagePolls.inc({ result: report.failedBatches === 0 ? 'success' : report.failedBatches < report.calls ? 'partial' : 'error' });
    if (report.failedBatches === 0) m?.usageLastSuccess.set(Math.floor(now.getTime() / 1000));
    this.o.logger.debug({ profiles: report.profiles, calls: report.calls, changed: report.changed.length }, 'usage polled');
    if (report.changed.length > 0) this.o.onChanged(report.changed);
    return report;
  }

  /**
   * The gateway's counters of `arns`, read after CloudWatch answered for them (so they hold at
   * least every gateway call CloudWatch can have seen); empty without the gateway or when Redis
   * cannot be read (the CloudWatch readings are stored anyway, counted.ts copes).
   */
  private async gatewayAfter(
    arns: Iterable<string>,
    owners: ReadonlyMap<string, CounterOwner>,
    now: Date,
  ): Promise<Map<string, GatewayReading>> {
    const g = this.o.gateway;
    if (!g) return new Map();
    const mine = new Map(
      [...arns].flatMap((arn): [string, CounterOwner][] => {
        const o = owners.get(arn);
        return o ? [[arn, o]] : [];
      }),
    );
    try {
      return await readGatewayTokens(g.counters, g.prefix, mine, now, () => new Date(this.o.clock.now()));
    } catch (e) {
      this.o.logger.warn({ err: e }, "could not read the gateway's counters after CloudWatch; counting without them");
      return new Map();
    }
  }

  /** One batch: the call plus its NextToken pages. */
  private async read(batch: QueryBatch, now: Date, report: PollReport, signal?: AbortSignal): Promise<MetricDataResult[]> {
    const results: MetricDataResult[] = [];
    let NextToken: string | undefined;
    do {
      report.calls++;
      this.o.metrics?.usageCalls.inc();
      const out = await this.o.cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: batch.queries,
          // Whole UTC days from the first of the month, so each datapoint is one day's sum.
          StartTime: startOfMonth(now),
          EndTime: nextDay(now),
          ScanBy: 'TimestampAscending',
          NextToken,
        }),
        { abortSignal: signal },
      );
      results.push(...(out.MetricDataResults ?? []));
      NextToken = out.NextToken;
    } while (NextToken);
    return results;
  }
}
