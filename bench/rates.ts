/**
 * AWS-like request rates the benchmark enforces on the emulators, with where each value comes
 * from. bedrock-agent's are enforced by the in-process fake (test/support/fakes); the others by the
 * HTTP proxy in front of moto and ministack (test/support/aws-proxy.ts). A request over a
 * rate is refused with the service's own throttling error, as AWS does, never delayed.
 */
import type { RateRule } from '../test/support/aws-proxy.js';

export type { RateRule } from '../test/support/aws-proxy.js';

/** True for operations that change something (IAM, S3, KMS, AOSS naming). */
export function isWrite(operation: string): boolean {
  return /^(Create|Put|Update|Delete|Tag|Untag|Attach|Detach|Start|Stop|Schedule|Enable|Disable|Cancel|Upload|Copy|Abort|Complete|POST|PUT|DELETE)/.test(
    operation,
  );
}

const writes = (op: string): boolean => isWrite(op);
const reads = (op: string): boolean => !isWrite(op);
const bedrockReadNote = 'not in the quota table; taken equal to the List* rate';

/** The rates, in the order they are printed. */
export const AWS_RATES: readonly RateRule[] = [
  // bedrock-agent: the Amazon Bedrock quotas page (aws-facts.md section 2.4).
  ...(
    [
      ['CreateKnowledgeBase', 2, 'documented', 'Bedrock quotas page, not adjustable'],
      ['DeleteKnowledgeBase', 2, 'documented', 'Bedrock quotas page'],
      ['CreateDataSource', 2, 'documented', 'Bedrock quotas page'],
      ['DeleteDataSource', 2, 'documented', 'Bedrock quotas page'],
      ['StartIngestionJob', 0.1, 'documented', 'Bedrock quotas page, not adjustable'],
      ['GetIngestionJob', 10, 'documented', 'archived Bedrock quotas page (second-hand)'],
      ['ListKnowledgeBases', 10, 'documented', 'Bedrock quotas page'],
      ['ListDataSources', 10, 'documented', 'Bedrock quotas page'],
      ['ListIngestionJobs', 10, 'documented', 'Bedrock quotas page'],
      ['GetKnowledgeBase', 10, 'assumption', bedrockReadNote],
      ['GetDataSource', 10, 'assumption', bedrockReadNote],
      ['UpdateKnowledgeBase', 2, 'assumption', 'taken equal to the create rate'],
      ['UpdateDataSource', 2, 'assumption', 'taken equal to the create rate'],
      ['StopIngestionJob', 2, 'assumption', 'not published'],
      ['TagResource', 10, 'assumption', 'not published'],
      ['UntagResource', 10, 'assumption', 'not published'],
      ['ListTagsForResource', 10, 'assumption', 'not published'],
    ] as const
  ).map(([op, rate, source, note]): RateRule => ({
    service: 'bedrockAgent',
    operations: [op],
    scope: 'per-operation',
    ratePerSec: rate,
    burst: Math.max(1, rate),
    label: `bedrock-agent ${op}`,
    source,
    note,
  })),
  // IAM publishes no rates ("a number of token buckets might apply" to each API: AWS Security
  // Blog, "How to monitor and query IAM resources at scale, part 2"); both values are assumptions.
  {
    service: 'iam',
    operations: writes,
    scope: 'aggregate',
    ratePerSec: 15,
    label: 'IAM writes, all together',
    source: 'assumption',
    note: 'IAM publishes no rates; 15/s for all mutating calls of the account together',
  },
  {
    service: 'iam',
    operations: reads,
    scope: 'per-operation',
    ratePerSec: 20,
    label: 'IAM reads, each operation',
    source: 'assumption',
    note: 'IAM publishes no rates; 20/s for each Get*/List* operation',
  },
  // S3: 3,500 PUT/COPY/POST/DELETE and 5,500 GET/HEAD requests per second per prefix (S3 user
  // guide, "Best practices design patterns: optimizing Amazon S3 performance"); applied per bucket,
  // which is stricter. Bucket-configuration calls have no published rate of their own.
  {
    service: 's3',
    operations: writes,
    scope: 'aggregate',
    perBucket: true,
    ratePerSec: 3500,
    label: 'S3 writes per bucket',
    source: 'documented',
    note: '3,500/s per prefix, applied per bucket',
  },
  {
    service: 's3',
    operations: reads,
    scope: 'aggregate',
    perBucket: true,
    ratePerSec: 5500,
    label: 'S3 reads per bucket',
    source: 'documented',
    note: '5,500/s per prefix, applied per bucket',
  },
  // KMS: the request quotas of the KMS developer guide for the control-plane calls the operator
  // makes (adjustable in Service Quotas). The default mix creates no keys.
  ...(
    [
      ['CreateKey', 5],
      ['CreateAlias', 5],
      ['DeleteAlias', 5],
      ['EnableKeyRotation', 5],
      ['ScheduleKeyDeletion', 5],
      ['TagResource', 10],
      ['DescribeKey', 2000],
      ['GetKeyRotationStatus', 1000],
      ['ListKeys', 100],
      ['ListAliases', 100],
      ['ListResourceTags', 100],
    ] as const
  ).map(([op, rate]): RateRule => ({
    service: 'kms',
    operations: [op],
    scope: 'per-operation',
    ratePerSec: rate,
    label: `KMS ${op}`,
    source: 'documented',
    note: 'KMS request-quota table, values not re-checked here; the default mix creates no keys',
  })),
  // EKS publishes no rates for its Pod Identity API.
  {
    service: 'eks',
    operations: () => true,
    scope: 'per-operation',
    ratePerSec: 10,
    label: 'EKS, each operation',
    source: 'assumption',
    note: 'no published rate for the Pod Identity API; 10/s per operation',
  },
  // OpenSearch Serverless publishes no control-plane API rates.
  {
    service: 'aoss',
    operations: () => true,
    scope: 'per-operation',
    ratePerSec: 10,
    label: 'OpenSearch Serverless, each operation',
    source: 'assumption',
    note: 'no published rate; 10/s per operation',
  },
];
