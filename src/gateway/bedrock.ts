/**
 * The gateway's Bedrock calls. Retrieval takes only a `ScopedRetrieval` (scope.ts), so the
 * knowledge base, the filter and the identity come from the one function that scopes them.
 * Identities: a tenant's own role through sts:AssumeRole with session tags naming the tenant
 * (bridge and silo retrievals, every model call, so the operator's quota Deny on the tenant role
 * stays a backstop), and the retrieval role for pool retrievals (or the gateway's own
 * credentials when no retrieval role is set). Sessions are cached until shortly before they
 * expire; one SDK client and one signed-request target per identity, each bounded.
 */
import {
  BedrockAgentRuntimeClient,
  type KnowledgeBaseRetrievalConfiguration,
  RetrieveAndGenerateCommand,
  type RetrieveAndGenerateCommandOutput,
  type RetrieveCommandOutput,
} from '@aws-sdk/client-bedrock-agent-runtime';
import {
  BedrockRuntimeClient,
  type ConverseCommand,
  type ConverseCommandOutput,
  type ConverseStreamOutput,
  ConverseStreamCommand,
  type Message,
  type SystemContentBlock,
} from '@aws-sdk/client-bedrock-runtime';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { StandardRetryStrategy } from '@smithy/core/retry';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { generatesFrom, retrievalConfiguration, type ScopedRetrieval } from './scope.js';
import { ModelCallRetryStrategy, notSent } from './call-outcome.js';
import { label, postJson, type SignedJsonTarget, signedTarget } from './signed-json.js';

/** A Converse request as the gateway builds it. */
export interface ConverseInput {
  messages: Message[];
  system?: SystemContentBlock[];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
}

/** The Bedrock calls the HTTP handlers make. */
export interface BedrockPort {
  retrieve(s: ScopedRetrieval, query: string, numberOfResults: number, signal?: AbortSignal): Promise<RetrieveCommandOutput>;
  /** `maxTokens` caps the generated answer (what its quota reservation holds for it). */
  retrieveAndGenerate(
    s: ScopedRetrieval,
    query: string,
    modelArn: string,
    numberOfResults: number,
    maxTokens: number,
    signal?: AbortSignal,
  ): Promise<RetrieveAndGenerateCommandOutput>;
  converse(
    tenant: string,
    roleArn: string | undefined,
    modelArn: string,
    input: ConverseInput,
    signal?: AbortSignal,
  ): Promise<ConverseCommandOutput>;
  converseStream(
    tenant: string,
    roleArn: string | undefined,
    modelArn: string,
    input: ConverseInput,
    signal?: AbortSignal,
  ): Promise<AsyncIterable<ConverseStreamOutput>>;
}

/** Settings of the Bedrock side. */
export interface BedrockOptions {
  region: string;
  /** Role pool retrievals are made as; unset: the gateway's own credentials. */
  retrievalRoleArn?: string;
  /** Session name prefix on every AssumeRole (shows in CloudTrail). */
  sessionPrefix: string;
  /** Most identities with a client kept at once. */
  maxClients?: number;
  maxAttempts?: number;
}

const SESSION_SECONDS = 900;
const REFRESH_BEFORE_MS = 120_000;

/** Temporary credentials per (role, tenant), refreshed two minutes before they expire. */
class RoleSessions {
  private readonly sessions = new Map<string, Promise<AwsCredentialIdentity>>();
  constructor(
    private readonly sts: STSClient,
    private readonly prefix: string,
  ) {}

  /** The role's session for the tenant; without one, the call it was for is never sent. */
  provider(roleArn: string, tenant: string): AwsCredentialIdentityProvider {
    return () =>
      this.get(roleArn, tenant).catch((e: unknown) => {
        throw notSent(e);
      });
  }

  private get(roleArn: string, tenant: string): Promise<AwsCredentialIdentity> {
    const key = `${roleArn}|${tenant}`;
    const cur = this.sessions.get(key);
    if (cur) {
      return cur.then((c) =>
        c.expiration && c.expiration.getTime() - Date.now() > REFRESH_BEFORE_MS ? c : this.assume(key, roleArn, tenant),
      );
    }
    return this.assume(key, roleArn, tenant);
  }

  private assume(key: string, roleArn: string, tenant: string): Promise<AwsCredentialIdentity> {
    const p = this.sts
      .send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          // Session names allow [\w+=,.@-]{2,64}; tenant names are DNS labels.
          RoleSessionName: `${this.prefix}-${tenant}`.slice(0, 64),
          DurationSeconds: SESSION_SECONDS,
          // Tags name the tenant in CloudTrail and let the role's trust require them.
          Tags: [
            { Key: 'tenant', Value: tenant },
            { Key: 'rag.tenancy.dev/via', Value: 'gateway' },
          ],
        }),
      )
      .then((r) => {
        const c = r.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole ${roleArn} returned no credentials`);
        return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
      });
    this.sessions.set(key, p);
    p.catch(() => this.sessions.delete(key));
    return p;
  }
}

/**
 * A bounded map of clients, least recently used evicted first. An evicted client is dropped, not
 * destroyed: its HTTP handler is shared by all clients and is destroyed once, at shutdown.
 */
class ClientCache<C> {
  private readonly m = new Map<string, C>();
  constructor(private readonly max: number) {}
  get(key: string, make: () => C): C {
    let c = this.m.get(key);
    if (c) this.m.delete(key);
    else c = make();
    this.m.set(key, c);
    while (this.m.size > this.max) {
      const [k] = this.m.entries().next().value as [string, C];
      this.m.delete(k);
    }
    return c;
  }
  clear(): void {
    this.m.clear();
  }
}

/** Who a retrieval is made as: the key of its session and, unless the gateway's own, its role. */
function retrievalIdentity(s: ScopedRetrieval, retrievalRoleArn: string | undefined): { key: string; roleArn?: string } {
  const id = s.identity;
  if (id.kind === 'tenant-role') return { key: `t|${id.roleArn}|${id.tenant}`, roleArn: id.roleArn };
  // Pool sessions are per tenant too, so CloudTrail names the tenant of every pool query.
  if (retrievalRoleArn) return { key: `r|${retrievalRoleArn}|${id.tenant}`, roleArn: retrievalRoleArn };
  return { key: 'self' };
}

/** Who a model call is made as: the tenant's session of its role, or the gateway's own. */
function runtimeKey(roleArn: string | undefined, tenant: string): string {
  return roleArn ? `${roleArn}|${tenant}` : 'self';
}

type Service = 'runtime' | 'agent';

/**
 * The Bedrock port: Converse and Retrieve, the calls of nearly every request, as one signed HTTP
 * request each (signed-json.ts); ConverseStream and RetrieveAndGenerate over the AWS SDK.
 */
export class SdkBedrock implements BedrockPort {
  private readonly sts: STSClient;
  private readonly sessions: RoleSessions;
  private readonly agents: ClientCache<BedrockAgentRuntimeClient>;
  private readonly runtimes: ClientCache<BedrockRuntimeClient>;
  private readonly targets: ClientCache<SignedJsonTarget>;
  private readonly endpoints = new Map<Service, Promise<URL>>();

  /**
   * HTTP/1.1 with keep-alive for every Bedrock call: the runtime clients' default is HTTP/2, which
   * only the bidirectional streams need; Retrieve, Converse and ConverseStream are served over both.
   */
  private readonly sockets = {
    http: new HttpAgent({ keepAlive: true, maxSockets: 256 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 256 }),
  };
  private readonly handler = new NodeHttpHandler({ httpAgent: this.sockets.http, httpsAgent: this.sockets.https });

  constructor(private readonly o: BedrockOptions) {
    this.sts = new STSClient({ region: o.region, maxAttempts: o.maxAttempts ?? 3 });
    this.sessions = new RoleSessions(this.sts, o.sessionPrefix);
    this.agents = new ClientCache(o.maxClients ?? 1000);
    this.runtimes = new ClientCache(o.maxClients ?? 1000);
    this.targets = new ClientCache(2 * (o.maxClients ?? 1000));
  }

  /**
   * SigV4 only: with AWS_BEARER_TOKEN_BEDROCK in the environment the SDK's runtime client would
   * send that API key instead of signing as the tenant's role, bypassing the role and its Deny.
   */
  private attempts(): number {
    return this.o.maxAttempts ?? 3;
  }

  /**
   * The SDK clients' settings. Their calls (ConverseStream, RetrieveAndGenerate) run a model, so
   * none is made again once it may have run; each client keeps its own retry budget.
   */
  private base(): {
    region: string;
    maxAttempts: number;
    retryStrategy: ModelCallRetryStrategy;
    requestHandler: NodeHttpHandler;
    authSchemePreference: string[];
  } {
    return {
      region: this.o.region,
      maxAttempts: this.attempts(),
      retryStrategy: new ModelCallRetryStrategy(this.attempts()),
      requestHandler: this.handler,
      authSchemePreference: ['sigv4'],
    };
  }

  private agentFor(s: ScopedRetrieval): BedrockAgentRuntimeClient {
    const { key, roleArn } = retrievalIdentity(s, this.o.retrievalRoleArn);
    const credentials = roleArn ? { credentials: this.sessions.provider(roleArn, s.identity.tenant) } : {};
    return this.agents.get(key, () => new BedrockAgentRuntimeClient({ ...this.base(), ...credentials }));
  }

  /**
   * The runtime client of a tenant's model calls: as its own role, or, for a tenant of a Shared
   * pool tier (no role of its own), as the gateway, which may invoke this cluster's profiles only.
   */
  private runtimeFor(roleArn: string | undefined, tenant: string): BedrockRuntimeClient {
    const credentials = roleArn ? { credentials: this.sessions.provider(roleArn, tenant) } : {};
    return this.runtimes.get(runtimeKey(roleArn, tenant), () => new BedrockRuntimeClient({ ...this.base(), ...credentials }));
  }

  /**
   * The signed-request target of an identity (`key`): its role's session, or the gateway's own
   * credentials, at the endpoint the SDK's configuration resolves to (once per service).
   */
  private async target(service: Service, key: string, roleArn: string | undefined, tenant: string): Promise<SignedJsonTarget> {
    // The SDK client of the gateway's own identity, only where its configuration is needed (the
    // endpoint once per service, the default credentials once per target): not on every call.
    const self = (): BedrockRuntimeClient | BedrockAgentRuntimeClient =>
      service === 'runtime'
        ? this.runtimeFor(undefined, tenant)
        : this.agents.get('self', () => new BedrockAgentRuntimeClient(this.base()));
    let endpoint = this.endpoints.get(service);
    if (!endpoint) {
      endpoint = resolveEndpoint(self().config);
      this.endpoints.set(service, endpoint);
      endpoint.catch(() => this.endpoints.delete(service));
    }
    // No endpoint: nothing was sent.
    const url = await endpoint.catch((e: unknown) => {
      throw notSent(e);
    });
    return this.targets.get(`${service}|${key}`, () =>
      signedTarget(
        url,
        this.o.region,
        roleArn ? this.sessions.provider(roleArn, tenant) : self().config.credentials,
        this.sockets,
        // Converse runs a model: not made again once it may have run. Retrieve may be.
        service === 'runtime' ? new ModelCallRetryStrategy(this.attempts()) : new StandardRetryStrategy(this.attempts()),
      ),
    );
  }

  async retrieve(s: ScopedRetrieval, query: string, numberOfResults: number, signal?: AbortSignal): Promise<RetrieveCommandOutput> {
    const { key, roleArn } = retrievalIdentity(s, this.o.retrievalRoleArn);
    const t = await this.target('agent', key, roleArn, s.identity.tenant);
    const out = await postJson<Omit<RetrieveCommandOutput, '$metadata'>>(
      t,
      `/knowledgebases/${label(s.knowledgeBaseId)}/retrieve`,
      { retrievalQuery: { text: query }, retrievalConfiguration: searchConfig(s, numberOfResults) },
      signal,
    );
    return { ...out, $metadata: {} };
  }

  retrieveAndGenerate(
    s: ScopedRetrieval,
    query: string,
    modelArn: string,
    numberOfResults: number,
    maxTokens: number,
    signal?: AbortSignal,
  ): Promise<RetrieveAndGenerateCommandOutput> {
    // The route refuses this first; here it guards any other caller of the port.
    if (!generatesFrom(s.vectorStore))
      return Promise.reject(new Error(`RetrieveAndGenerate does not take ${s.tenant}'s ${s.vectorStore} knowledge base`));
    return this.agentFor(s).send(
      new RetrieveAndGenerateCommand({
        input: { text: query },
        retrieveAndGenerateConfiguration: {
          type: 'KNOWLEDGE_BASE',
          knowledgeBaseConfiguration: {
            knowledgeBaseId: s.knowledgeBaseId,
            modelArn,
            retrievalConfiguration: searchConfig(s, numberOfResults),
            generationConfiguration: { inferenceConfig: { textInferenceConfig: { maxTokens } } },
          },
        },
      }),
      { abortSignal: signal },
    );
  }

  async converse(
    tenant: string,
    roleArn: string | undefined,
    modelArn: string,
    i: ConverseInput,
    signal?: AbortSignal,
  ): Promise<ConverseCommandOutput> {
    const { modelId, ...body } = converseRequest(tenant, modelArn, i);
    const t = await this.target('runtime', runtimeKey(roleArn, tenant), roleArn, tenant);
    const out = await postJson<Omit<ConverseCommandOutput, '$metadata'>>(t, `/model/${label(modelId ?? modelArn)}/converse`, body, signal);
    return { ...out, $metadata: {} };
  }

  async converseStream(
    tenant: string,
    roleArn: string | undefined,
    modelArn: string,
    i: ConverseInput,
    signal?: AbortSignal,
  ): Promise<AsyncIterable<ConverseStreamOutput>> {
    const out = await this.runtimeFor(roleArn, tenant).send(new ConverseStreamCommand(converseRequest(tenant, modelArn, i)), {
      abortSignal: signal,
    });
    if (!out.stream) throw new Error('ConverseStream returned no stream');
    return out.stream;
  }

  destroy(): void {
    this.agents.clear();
    this.runtimes.clear();
    this.targets.clear();
    this.handler.destroy();
    this.sts.destroy();
  }
}

/**
 * The scoped retrieval configuration in the SDK's type (`vectorSearchConfiguration`, or
 * `managedSearchConfiguration` for a managed knowledge base): scope.ts checked the filter's shape
 * as JSON, and the SDK's union type (with its `$unknown` member) describes the same JSON.
 */
function searchConfig(s: ScopedRetrieval, numberOfResults: number): KnowledgeBaseRetrievalConfiguration {
  return retrievalConfiguration(s, numberOfResults) as KnowledgeBaseRetrievalConfiguration;
}

/** The Converse request: the output cap is always the one the quota reserved for. */
function converseRequest(tenant: string, modelArn: string, i: ConverseInput): ConstructorParameters<typeof ConverseCommand>[0] {
  return {
    modelId: modelArn,
    messages: i.messages,
    ...(i.system?.length ? { system: i.system } : {}),
    inferenceConfig: {
      maxTokens: i.maxTokens,
      ...(i.temperature !== undefined ? { temperature: i.temperature } : {}),
      ...(i.topP !== undefined ? { topP: i.topP } : {}),
      ...(i.stopSequences?.length ? { stopSequences: i.stopSequences } : {}),
    },
    // Invocation logs can then be filtered by tenant.
    requestMetadata: { tenant, via: 'tenant-rag-gateway' },
  };
}

/** Where an SDK client's calls go: its configured endpoint (AWS_ENDPOINT_URL_*), else AWS's rules. */
async function resolveEndpoint(config: BedrockRuntimeClient['config'] | BedrockAgentRuntimeClient['config']): Promise<URL> {
  const configured = await config.serviceConfiguredEndpoint?.();
  const resolved = config.endpointProvider({
    Region: await config.region(),
    UseFIPS: await config.useFipsEndpoint(),
    UseDualStack: await config.useDualstackEndpoint(),
    ...(configured ? { Endpoint: configured } : {}),
  });
  return new URL(resolved.url.href);
}
