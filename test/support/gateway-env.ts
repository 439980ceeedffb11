/**
 * What the tenant gateway needs around a TestCluster: the bedrock-agent-runtime fake (Retrieve,
 * RetrieveAndGenerate over the vectors ingestion indexed) and the bedrock-runtime fake (Converse,
 * ConverseStream on the inference profiles the Bedrock fake holds), both authorizing callers from
 * their role policies in the cluster's moto.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import type { TestCluster } from './cluster.js';
import { type BedrockAgentRuntimeFake, startBedrockAgentRuntimeFake } from './fakes/bedrock-agent-runtime.js';
import { type BedrockRuntimeFake, startBedrockRuntimeFake } from './fakes/bedrock-runtime.js';
import { RuntimeAuth } from './fakes/bedrock-runtime-auth.js';
import type { InferenceProfiles } from './fakes/bedrock-runtime-converse.js';
import { Faults } from './fakes/http.js';

/** The running runtime fakes. */
export interface GatewayFakes {
  agentRuntime: BedrockAgentRuntimeFake;
  runtime: BedrockRuntimeFake;
  /** Fault injection for both (`Retrieve`, `RetrieveAndGenerate`, `Converse`, `ConverseStream`). */
  faults: Faults;
  /** Environment for a gateway process: the runtime endpoints, and moto for STS. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts the bedrock-agent-runtime and bedrock-runtime fakes over `c`'s emulators. */
export async function startGatewayFakes(c: Pick<TestCluster, 'moto' | 'fakes' | 'bedrock'>): Promise<GatewayFakes> {
  const iam = new IAMClient({
    region: 'us-east-1',
    endpoint: c.moto.endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 2,
  });
  const auth = new RuntimeAuth(c.moto.endpoint, iam);
  const faults = new Faults();
  const profiles: InferenceProfiles = {
    has: (x) => c.bedrock.profiles.has(x) || [...c.bedrock.profiles.values()].some((p) => p.arn === x),
  };
  const [agentRuntime, runtime] = await Promise.all([
    startBedrockAgentRuntimeFake({ fakes: c.fakes, profiles, auth, faults }),
    startBedrockRuntimeFake({ profiles, auth, faults }),
  ]);
  return {
    agentRuntime,
    runtime,
    faults,
    env: {
      ...c.moto.env,
      AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME: agentRuntime.endpoint,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: runtime.endpoint,
    },
    async stop() {
      await Promise.all([agentRuntime.stop(), runtime.stop()]);
      iam.destroy();
    },
  };
}
