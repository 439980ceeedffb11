/**
 * The one account-wide usage poller (not a timer per object): every interval it reads the token
 * counts of every granted inference profile from CloudWatch in as few GetMetricData calls as the
 * API allows (500 queries, so 250 profiles, per call; pages followed by NextToken), stores them in
 * the UsageBook and hands the ModelAccess keys whose numbers changed to `onChanged` (the work
 * queue), so the reconciler writes status and enforces quotas. Run it on the leader only.
 */
import { type CloudWatchClient, GetMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../runtime/clock.js';
import type { ModelMetrics } from '../runtime/metrics.js';
import type { UsageBook } from './book.js';
import { type QueryBatch, foldResults, planBatches } from './queries.js';
import { nextDay, startOfMonth } from './windows.js';

/** A ModelAccess to meter: its key and its profile. */
export interface UsageTarget {
  key: string;
  profileArn: string;
}

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
  private timer: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private abort = new AbortController();
  private stopped = true;

  constructor(private readonly o: UsagePollerOptions) {}

  /** Polls now and then every interval after the previous poll finished (polls never overlap). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.abort = new AbortController();
    this.schedule(0);
  }

  /** Stops the schedule and waits for a poll in flight (aborted) to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.abort.abort();
    await this.running;
  }

  private schedule(ms: number): void {
    this.timer = this.o.clock.setTimer(ms, () => {
      this.running = this.pollOnce(this.abort.signal)
        .then(() => undefined)
        .catch((e: unknown) => this.o.logger.warn({ err: e }, 'usage poll failed'))
        .finally(() => {
          if (!this.stopped) this.schedule(this.o.intervalMs);
        });
    });
  }

  /** Reads every target once. */
  async pollOnce(signal?: AbortSignal): Promise<PollReport> {
    const now = new Date(this.o.clock.now());
    const targets = this.o.targets();
    const keysOf = new Map<string, string[]>();
    for (const t of targets) keysOf.set(t.profileArn, [...(keysOf.get(t.profileArn) ?? []), t.key]);
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
      for (const [arn, reading] of foldResults(batch, results, now)) {
        if (this.o.book.set(arn, reading, now)) report.changed.push(...(keysOf.get(arn) ?? []));
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
