/**
 * What the gateway's Bedrock port puts on the wire for each vector store, read from the requests a
 * local HTTP server receives from the real SDK client: `vectorSearchConfiguration` for OpenSearch
 * Serverless and S3 Vectors, `managedSearchConfiguration` for a managed knowledge base, the pool
 * filter in either, and no RetrieveAndGenerate request at all for a managed knowledge base.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { VectorStoreType } from '../core/vector-stores.js';
import { mayHaveRun } from './call-outcome.js';
import { SdkBedrock } from './bedrock.js';
import { scopeRetrieval } from './scope.js';

interface Seen {
  path: string;
  body: Record<string, unknown>;
  authorization?: string;
}

let server: Server;
let bedrock: SdkBedrock;
const seen: Seen[] = [];
/** Answers for the next Bedrock calls, in order, instead of the default. */
const next: ((res: ServerResponse) => void)[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      if (text.startsWith('Action=AssumeRole')) {
        // STS: a session whose key names the role and the session name (prefix-tenant) it was asked for.
        const q = new URLSearchParams(text);
        // A role named `unreachable`: STS's connection goes before it answers.
        if (q.get('RoleArn')?.endsWith('/unreachable')) return void res.socket?.destroy();
        const key = `${q.get('RoleArn')?.split('/').pop()}~${q.get('RoleSessionName')}`;
        res
          .writeHead(200, { 'content-type': 'text/xml' })
          .end(
            `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>`,
          );
        return;
      }
      seen.push({
        path: req.url ?? '',
        body: JSON.parse(text || '{}') as Record<string, unknown>,
        authorization: req.headers.authorization,
      });
      const scripted = next.shift();
      if (scripted) return scripted(res);
      const body = req.url?.endsWith('/retrieve')
        ? { retrievalResults: [] }
        : { sessionId: 's', output: { text: 'answer' }, citations: [] };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  // The gateway's own credentials (no retrieval role), sent to the local server.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_ENDPOINT_URL_STS: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    // A Bedrock API key in the gateway's environment: the SDK's runtime client would send it
    // instead of signing as the tenant's role (bypassing the role and its quota Deny).
    AWS_BEARER_TOKEN_BEDROCK: 'gateway-api-key',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  bedrock = new SdkBedrock({ region: 'us-east-1', sessionPrefix: 'test', maxAttempts: 1 });
});

afterAll(async () => {
  bedrock.destroy();
  await new Promise<void>((ok) => server.close(() => ok()));
  process.env = saved;
});

beforeEach(() => {
  seen.length = 0;
  next.length = 0;
});

const pool = (vectorStore: VectorStoreType) =>
  scopeRetrieval(
    { tenant: 'acme', isolation: 'pool', knowledgeBaseId: 'POOLKB0001', vectorStore },
    { equals: { key: 'dept', value: 'a' } },
  );
const scoped = { andAll: [{ equals: { key: 'tenantId', value: 'acme' } }, { equals: { key: 'dept', value: 'a' } }] };

describe('SdkBedrock on each vector store', () => {
  it.each(['OpenSearchServerless', 'S3Vectors'] as const)(
    '%s: Retrieve and RetrieveAndGenerate with vectorSearchConfiguration',
    async (store) => {
      await bedrock.retrieve(pool(store), 'numbers', 3);
      await bedrock.retrieveAndGenerate(pool(store), 'numbers', 'arn:aws:bedrock:us-east-1:1:application-inference-profile/p', 3, 64);
      expect(seen.map((s) => s.path)).toEqual(['/knowledgebases/POOLKB0001/retrieve', '/retrieveAndGenerate']);
      expect(seen[0]?.body.retrievalConfiguration).toEqual({ vectorSearchConfiguration: { numberOfResults: 3, filter: scoped } });
      const kb = (seen[1]?.body.retrieveAndGenerateConfiguration as { knowledgeBaseConfiguration: Record<string, unknown> })
        .knowledgeBaseConfiguration;
      expect(kb.retrievalConfiguration).toEqual({ vectorSearchConfiguration: { numberOfResults: 3, filter: scoped } });
      // The answer is capped at what its reservation holds for it.
      expect(kb.generationConfiguration).toEqual({ inferenceConfig: { textInferenceConfig: { maxTokens: 64 } } });
    },
  );

  it('Managed: Retrieve with managedSearchConfiguration and the pool filter; RetrieveAndGenerate never leaves', async () => {
    await bedrock.retrieve(pool('Managed'), 'numbers', 4);
    expect(seen.map(({ path, body }) => ({ path, body }))).toEqual([
      {
        path: '/knowledgebases/POOLKB0001/retrieve',
        body: {
          retrievalQuery: { text: 'numbers' },
          retrievalConfiguration: { managedSearchConfiguration: { numberOfResults: 4, filter: scoped } },
        },
      },
    ]);
    await expect(
      bedrock.retrieveAndGenerate(pool('Managed'), 'numbers', 'arn:aws:bedrock:us-east-1:1:application-inference-profile/p', 4, 64),
    ).rejects.toThrow(/RetrieveAndGenerate does not take acme's Managed knowledge base/);
    expect(seen).toHaveLength(1);
  });

  it('signs every call with SigV4, never with a Bedrock API key from the environment', async () => {
    await bedrock.retrieve(pool('OpenSearchServerless'), 'numbers', 3);
    await bedrock.retrieveAndGenerate(
      pool('OpenSearchServerless'),
      'numbers',
      'arn:aws:bedrock:us-east-1:1:application-inference-profile/p',
      3,
      64,
    );
    await bedrock.converse('acme', undefined, 'arn:aws:bedrock:us-east-1:1:application-inference-profile/p', {
      messages: [{ role: 'user', content: [{ text: 'hi' }] }],
      maxTokens: 10,
    });
    // The local server answers no event stream; only the request's signature matters here.
    await bedrock
      .converseStream('acme', undefined, 'arn:aws:bedrock:us-east-1:1:application-inference-profile/p', {
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        maxTokens: 10,
      })
      .catch(() => undefined);
    expect(seen.map((s) => s.path)).toEqual([
      '/knowledgebases/POOLKB0001/retrieve',
      '/retrieveAndGenerate',
      '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapplication-inference-profile%2Fp/converse',
      '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapplication-inference-profile%2Fp/converse-stream',
    ]);
    for (const s of seen) expect(s.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=testing\//);
  });

  it('a model call whose role session could not be had was never sent: it may not have run (signed and SDK paths)', async () => {
    const profile = 'arn:aws:bedrock:us-east-1:1:application-inference-profile/p';
    const input = { messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }], maxTokens: 10 };
    const role = 'arn:aws:iam::1:role/unreachable';
    for (const call of [() => bedrock.converse('acme', role, profile, input), () => bedrock.converseStream('acme', role, profile, input)]) {
      const e = await call().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(Error);
      // A network error (no status) would otherwise count as a call that may have run.
      expect((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBeUndefined();
      expect(mayHaveRun(e)).toBe(false);
    }
    expect(seen).toEqual([]);
  });

  it("the SDK's model calls (ConverseStream, RetrieveAndGenerate) are not made again once they may have run; refusals are", async () => {
    const retrying = new SdkBedrock({ region: 'us-east-1', sessionPrefix: 'test', maxAttempts: 3 });
    const profile = 'arn:aws:bedrock:us-east-1:1:application-inference-profile/p';
    const input = { messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }], maxTokens: 10 };
    const hangUp = (res: ServerResponse): void => void res.socket?.destroy();
    const unavailable = (res: ServerResponse): void =>
      void res.writeHead(503, { 'x-amzn-errortype': 'ServiceUnavailableException' }).end('{"message":"try again"}');
    const calls = [
      () => retrying.converseStream('acme', undefined, profile, input),
      () => retrying.retrieveAndGenerate(pool('OpenSearchServerless'), 'q', profile, 3, 64),
    ];
    try {
      for (const call of calls) {
        // The request arrived whole and the connection went: one attempt only.
        seen.length = 0;
        next.push(hangUp, hangUp, hangUp);
        const e = await call().catch((x: unknown) => x);
        expect(mayHaveRun(e)).toBe(true);
        expect(seen).toHaveLength(1);
        // Refused by Bedrock (503): made again, as the SDK does, until it fails for good.
        seen.length = 0;
        next.length = 0;
        next.push(unavailable, unavailable, unavailable);
        const refused = await call().catch((x: unknown) => x);
        expect(mayHaveRun(refused)).toBe(false);
        expect(seen).toHaveLength(3);
        next.length = 0;
      }
    } finally {
      retrying.destroy();
    }
  });

  it("never signs one tenant's call with another's session, whatever the names share (cached per role and tenant)", async () => {
    const shared = new SdkBedrock({
      region: 'us-east-1',
      sessionPrefix: 'gw',
      maxAttempts: 1,
      retrievalRoleArn: 'arn:aws:iam::1:role/retrieval',
    });
    const keyOf = (auth: string | undefined): string | undefined => /Credential=([^/]+)\//.exec(auth ?? '')?.[1];
    const profile = 'arn:aws:bedrock:us-east-1:1:application-inference-profile/p';
    const input = { messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }], maxTokens: 10 };
    const silo = (tenant: string, role: string) =>
      scopeRetrieval(
        { tenant, isolation: 'silo', knowledgeBaseId: 'KB0001', vectorStore: 'OpenSearchServerless', roleArn: role },
        undefined,
      );
    const poolOf = (tenant: string) =>
      scopeRetrieval({ tenant, isolation: 'pool', knowledgeBaseId: 'POOLKB0001', vectorStore: 'OpenSearchServerless' }, undefined);
    try {
      // Overlapping names, one role named for both (a misconfiguration), interleaved so each is a cache hit the second time.
      const calls: [() => Promise<unknown>, string][] = [];
      for (let round = 0; round < 2; round++)
        for (const t of ['a', 'a-b', 'ab']) {
          calls.push([() => shared.converse(t, 'arn:aws:iam::1:role/app', profile, input), `app~gw-${t}`]);
          calls.push([() => shared.retrieve(silo(t, 'arn:aws:iam::1:role/app'), 'q', 1), `app~gw-${t}`]);
          calls.push([() => shared.retrieve(poolOf(t), 'q', 1), `retrieval~gw-${t}`]);
        }
      for (const [call, want] of calls) {
        seen.length = 0;
        await call();
        expect(keyOf(seen[0]?.authorization)).toBe(want);
      }
    } finally {
      shared.destroy();
    }
  });
});
