/**
 * The CloudWatch side of metering, pure: which GetMetricData queries read the token counts of a
 * set of inference profiles in as few calls as the API allows, and how the answers fold into one
 * reading per profile. Two queries per profile (input and output tokens), one datapoint per UTC
 * day from the start of the month, so the month is the sum and the day is today's datapoint.
 */
import type { MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { dayKey, monthKey, startOfDay } from './windows.js';

/** Where Bedrock publishes runtime metrics. */
export const BEDROCK_NAMESPACE = 'AWS/Bedrock';
/** GetMetricData accepts at most this many queries per call. */
export const MAX_QUERIES_PER_CALL = 500;
/** Input and output token counts. */
export const QUERIES_PER_PROFILE = 2;
/** One datapoint per UTC day. */
export const PERIOD_SECONDS = 86_400;

const METRICS = { input: 'InputTokenCount', output: 'OutputTokenCount' } as const;

/**
 * The value of the `ModelId` dimension under which Bedrock publishes an application inference
 * profile's metrics: taken to be the profile id (the last ARN segment). UNVERIFIED (AWS reference
 * §6.3): confirm with `aws cloudwatch list-metrics --namespace AWS/Bedrock` against a real profile;
 * if it turns out to be the full ARN, this function is the one place to change.
 */
export function modelIdDimension(profileArn: string): string {
  return profileArn.slice(profileArn.lastIndexOf('/') + 1);
}

/** What one query id stands for. */
export interface QueryRef {
  profileArn: string;
  metric: keyof typeof METRICS;
}

/** The queries of one GetMetricData call and what each id means. */
export interface QueryBatch {
  queries: MetricDataQuery[];
  refs: Map<string, QueryRef>;
}

/** Splits the profiles into calls of at most `maxQueries` queries (250 profiles per call). */
export function planBatches(profileArns: Iterable<string>, maxQueries = MAX_QUERIES_PER_CALL): QueryBatch[] {
  const unique = [...new Set(profileArns)].sort();
  const perCall = Math.max(1, Math.floor(maxQueries / QUERIES_PER_PROFILE));
  const batches: QueryBatch[] = [];
  for (let start = 0; start < unique.length; start += perCall) {
    const batch: QueryBatch = { queries: [], refs: new Map() };
    unique.slice(start, start + perCall).forEach((profileArn, i) => {
      for (const metric of ['input', 'output'] as const) {
        // Ids must start with a lowercase letter and be unique within the call.
        const Id = `${metric[0] ?? 'q'}${i}`;
        batch.refs.set(Id, { profileArn, metric });
        batch.queries.push({
          Id,
          ReturnData: true,
          MetricStat: {
            Metric: {
              Namespace: BEDROCK_NAMESPACE,
              MetricName: METRICS[metric],
              Dimensions: [{ Name: 'ModelId', Value: modelIdDimension(profileArn) }],
            },
            Period: PERIOD_SECONDS,
            Stat: 'Sum',
          },
        });
      }
    });
    batches.push(batch);
  }
  return batches;
}

/** Token counts of one profile in the current UTC month and day. */
export interface ProfileReading {
  month: string;
  day: string;
  monthInput: number;
  monthOutput: number;
  dayInput: number;
  dayOutput: number;
}

/**
 * Folds the results of one batch (all pages) into readings. A profile whose query CloudWatch
 * answered with an error status gets no reading, so the previous one stays rather than a zero.
 */
export function foldResults(batch: QueryBatch, results: readonly MetricDataResult[], now: Date): Map<string, ProfileReading> {
  const today = startOfDay(now).getTime();
  const out = new Map<string, ProfileReading>();
  const failed = new Set<string>();
  for (const ref of batch.refs.values()) {
    out.set(ref.profileArn, { month: monthKey(now), day: dayKey(now), monthInput: 0, monthOutput: 0, dayInput: 0, dayOutput: 0 });
  }
  for (const r of results) {
    const ref = batch.refs.get(r.Id ?? '');
    const reading = ref && out.get(ref.profileArn);
    if (!ref || !reading) continue;
    if (r.StatusCode === 'InternalError' || r.StatusCode === 'Forbidden') failed.add(ref.profileArn);
    const values = r.Values ?? [];
    (r.Timestamps ?? []).forEach((t, i) => {
      const v = values[i] ?? 0;
      if (ref.metric === 'input') reading.monthInput += v;
      else reading.monthOutput += v;
      if (new Date(t).getTime() === today) {
        if (ref.metric === 'input') reading.dayInput += v;
        else reading.dayOutput += v;
      }
    });
  }
  for (const arn of failed) out.delete(arn);
  return out;
}
