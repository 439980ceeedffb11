/**
 * The signed path behaves as the SDK client it replaced where that matters in an incident: each
 * case runs the same exchange through the SDK's Bedrock runtime client and through postJson.
 */
import { createServer, Agent as HttpAgent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ModelCallRetryStrategy } from './call-outcome.js';
import { postJson, signedTarget } from './signed-json.js';

const CONVERSE_OK = JSON.stringify({
  output: { message: { role: 'assistant', content: [{ text: 'hi' }] } },
  stopReason: 'end_turn',
  usage: { inputTokens: 1, outputTokens: 1, totalTokens: 2 },
  metrics: { latencyMs: 1 },
});
const body = { messages: [{ role: 'user', content: [{ text: 'hello' }] }] };

describe('signed-json vs the SDK client it replaced', () => {
  let server: Server;
  let handle: (req: IncomingMessage, res: ServerResponse) => void = () => {};
  let attempts = 0;
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent() };
  const credentials = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
  let url: URL;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        attempts++;
        handle(req, res);
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    agents.http.destroy();
    await new Promise<void>((ok) => server.close(() => ok()));
  });
  beforeEach(() => {
    attempts = 0;
  });

  const sdk = () =>
    new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: url.href,
      credentials,
      maxAttempts: 3,
      requestHandler: new NodeHttpHandler({ httpAgent: agents.http }),
    });
  // As the gateway makes Converse: the standard strategy, not retrying once a model may have run.
  const target = () => signedTarget(url, 'us-east-1', () => Promise.resolve(credentials), agents, new ModelCallRetryStrategy(3));

  it('signs with a clock corrected from the service Date header after "Signature expired", as the SDK does', async () => {
    // The pod's clock is 10 minutes behind AWS (a node whose NTP broke): AWS refuses signatures
    // more than 5 minutes off and answers with its own time in Date.
    const skew = 10 * 60_000;
    handle = (req, res) => {
      const d = String(req.headers['x-amz-date']);
      const signed = Date.parse(
        `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
      );
      const now = Date.now() + skew;
      if (Math.abs(now - signed) > 5 * 60_000) {
        res
          .writeHead(403, {
            'x-amzn-errortype': 'InvalidSignatureException',
            date: new Date(now).toUTCString(),
            'content-type': 'application/json',
          })
          .end(JSON.stringify({ message: `Signature expired: ${d} is now earlier than ${new Date(now - 5 * 60_000).toISOString()}` }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', date: new Date(now).toUTCString() }).end(CONVERSE_OK);
    };
    // The SDK: one refusal, then a corrected, successful retry.
    const old = await sdk().send(new ConverseCommand({ modelId: 'm', ...body } as never));
    expect(old.stopReason).toBe('end_turn');
    expect(attempts).toBe(2);
    attempts = 0;
    // The signed path: the same (without the correction every call failed until the clock was fixed).
    await expect(postJson(target(), '/model/m/converse', body)).resolves.toMatchObject({ stopReason: 'end_turn' });
  });

  it('stops retrying when most calls fail (the SDK client keeps a retry budget)', async () => {
    // Bedrock's front end answering 503 to everything for a while (a regional incident).
    handle = (_req, res) => res.writeHead(503, { 'x-amzn-errortype': 'ServiceUnavailableException' }).end('{"message":"unavailable"}');
    const calls = 60;
    // No backoff delays on either side (both draw full jitter from Math.random), to keep the test short.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    const client = sdk();
    for (let i = 0; i < calls; i++) await client.send(new ConverseCommand({ modelId: 'm', ...body } as never)).catch(() => undefined);
    const sdkAttempts = attempts;
    attempts = 0;
    const t = target();
    for (let i = 0; i < calls; i++) await postJson(t, '/model/m/converse', body).catch(() => undefined);
    random.mockRestore();
    // The SDK's budget (500 tokens, 14 per transient retry) ends retries after ~35 of them; the
    // signed path keeps the same budget (without one it sent every call 3 times).
    expect(sdkAttempts).toBeLessThan(calls * 2);
    expect(attempts).toBeLessThanOrEqual(sdkAttempts);
  });
});
