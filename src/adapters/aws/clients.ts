/** The AWS SDK v3 clients, built once with the standard retry mode and the shared rate budgets. */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { BedrockAgentClient } from '@aws-sdk/client-bedrock-agent';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { OpenSearchServerlessClient } from '@aws-sdk/client-opensearchserverless';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Logger } from 'pino';
import { attachBudgets, type RateBudgets } from './budgets.js';
import { attachCallNaming } from './errors.js';

/** Every client the drivers use. Endpoints follow the SDK's AWS_ENDPOINT_URL_<SERVICE> settings. */
export interface AwsClients {
  s3: S3Client;
  iam: IAMClient;
  sts: STSClient;
  kms: KMSClient;
  /** OpenSearch Serverless control plane (collections, security and access policies). */
  aoss: OpenSearchServerlessClient;
  /** Knowledge bases, data sources, ingestion jobs. */
  bedrockAgent: BedrockAgentClient;
  /** Foundation models and application inference profiles. */
  bedrock: BedrockClient;
  /** Token usage metrics. */
  cloudwatch: CloudWatchClient;
  /** EKS Pod Identity associations of tenants' service accounts. */
  eks: EKSClient;
  /** Amazon S3 Vectors: vector buckets and indexes (AWS_ENDPOINT_URL_S3VECTORS). */
  s3vectors: S3VectorsClient;
}

/** Options for building the clients. */
export interface AwsClientOptions {
  region: string;
  /** Path-style S3 addressing, for S3-compatible endpoints and emulators. */
  s3ForcePathStyle: boolean;
  maxAttempts: number;
  budgets: RateBudgets;
}

/** Builds the clients and attaches the rate budgets and the naming of failed calls to each. */
export function createAwsClients(o: AwsClientOptions): AwsClients {
  const common = { region: o.region, maxAttempts: o.maxAttempts, retryMode: 'standard' as const };
  const clients: AwsClients = {
    s3: new S3Client({ ...common, forcePathStyle: o.s3ForcePathStyle }),
    iam: new IAMClient(common),
    sts: new STSClient(common),
    kms: new KMSClient(common),
    aoss: new OpenSearchServerlessClient(common),
    bedrockAgent: new BedrockAgentClient(common),
    bedrock: new BedrockClient(common),
    cloudwatch: new CloudWatchClient(common),
    eks: new EKSClient(common),
    s3vectors: new S3VectorsClient(common),
  };
  for (const [service, client] of Object.entries(clients)) {
    attachBudgets(client as never, service, o.budgets);
    attachCallNaming(client as never, service);
  }
  return clients;
}

/** Who the operator is in AWS: its account and its IAM principal. */
export interface CallerIdentity {
  accountId: string;
  /** The IAM role (or user) ARN; an assumed-role session is mapped back to its role. */
  principalArn: string;
}

/**
 * Asks STS who the operator is. An assumed-role ARN names the role without its path, so where the
 * role has a path the configured operatorRoleArn must be used instead (see docs/configuration.md).
 */
export async function callerIdentity(sts: STSClient): Promise<CallerIdentity> {
  const id = await sts.send(new GetCallerIdentityCommand({}));
  if (!id.Account || !id.Arn) throw new Error('STS GetCallerIdentity returned no account');
  const assumed = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(id.Arn);
  const principalArn = assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : id.Arn;
  return { accountId: id.Account, principalArn };
}

/**
 * Who the operator is in AWS, resolved on first use: asked of STS once and cached, and asked
 * again on the next call if it failed, so the operator starts (and reports healthy) while AWS is
 * briefly unreachable.
 */
export function identityOnce(sts: STSClient, logger: Logger): () => Promise<CallerIdentity> {
  let pending: Promise<CallerIdentity> | undefined;
  return () => {
    pending ??= callerIdentity(sts).then(
      (id) => {
        logger.info(id, 'AWS identity resolved');
        return id;
      },
      (e: unknown) => {
        pending = undefined;
        throw e;
      },
    );
    return pending;
  };
}
