/**
 * The AWS fakes for what neither moto nor ministack serve: the OpenSearch Serverless data plane
 * and bedrock-agent knowledge bases, data sources and ingestion jobs, with shared fault injection.
 */
import { AossControlPlane } from './aoss-access.js';
import { type AossDataPlaneFake, IndexStore, startAossDataPlane } from './aoss-data-plane.js';
import { type BedrockAgentFake, startBedrockAgentFake } from './bedrock-agent.js';
import type { BedrockAgentOptions } from './bedrock-state.js';
import { Faults } from './http.js';
import { DEFAULT_CREDENTIALS, type FakeCredential } from './sigv4.js';

export { Faults, type Fault } from './http.js';
export { DEFAULT_CREDENTIALS, type FakeCredential } from './sigv4.js';
export type { FakeVector } from './bedrock-ingestion.js';
export type { AossDataPlaneFake, IndexStore } from './aoss-data-plane.js';
export type { BedrockAgentFake } from './bedrock-agent.js';

/** The running fakes. */
export interface AwsFakes {
  dataPlane: AossDataPlaneFake;
  bedrockAgent: BedrockAgentFake;
  /** Fault injection for both fakes, by operation name (`CreateIndex`, `CreateKnowledgeBase`, ...). */
  faults: Faults;
  /** Indexes and their documents, per collection id. */
  indexes: IndexStore;
  /** Value for the operator setting `aws.openSearchDataPlaneUrl`. */
  dataPlaneUrl: string;
  /** Environment for the AWS SDK: AWS_ENDPOINT_URL_BEDROCK_AGENT. */
  env: Record<string, string>;
  /** Forgets indexes, knowledge bases, jobs and pending faults. */
  reset(): void;
  stop(): Promise<void>;
}

/** Options of {@link startAwsFakes}. */
export interface AwsFakesOptions {
  /** moto's endpoint (IAM, S3). */
  motoEndpoint: string;
  /** ministack's endpoint (OpenSearch Serverless control plane). */
  ministackEndpoint: string;
  /** Access key id -> secret and principal ARN; defaults to `testing` as the operator role. */
  credentials?: Record<string, FakeCredential>;
  bedrock?: Partial<BedrockAgentOptions>;
  /** Refuse data-plane requests to collections no network policy covers (default true). */
  requireNetworkPolicy?: boolean;
}

/** Starts the data-plane and bedrock-agent fakes. */
export async function startAwsFakes(o: AwsFakesOptions): Promise<AwsFakes> {
  const faults = new Faults();
  const credentials = o.credentials ?? DEFAULT_CREDENTIALS;
  const control = new AossControlPlane(o.ministackEndpoint);
  const indexes = new IndexStore();
  const dataPlane = await startAossDataPlane({
    control,
    faults,
    credentials,
    store: indexes,
    requireNetworkPolicy: o.requireNetworkPolicy,
  });
  const bedrockAgent = await startBedrockAgentFake({
    motoEndpoint: o.motoEndpoint,
    control,
    store: indexes,
    faults,
    credentials,
    options: o.bedrock,
  });
  return {
    dataPlane,
    bedrockAgent,
    faults,
    indexes,
    dataPlaneUrl: dataPlane.urlTemplate,
    env: { AWS_ENDPOINT_URL_BEDROCK_AGENT: bedrockAgent.endpoint },
    reset() {
      faults.clear();
      indexes.clear();
      bedrockAgent.reset();
    },
    async stop() {
      await bedrockAgent.stop();
      await dataPlane.stop();
      control.client.destroy();
    },
  };
}
