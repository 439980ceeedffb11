/**
 * The gateway's signed Bedrock requests: the signature AWS's documented example gives, errors
 * named as the SDK names them, the SDK's retries (throttling, 5xx and lost connections, within a
 * budget), its clock-skew correction, and a cancelled call or a success answer cut short never
 * retried.
 */
import { createServer, type IncomingMessage, Agent as HttpAgent, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { StandardRetryStrategy } from '@smithy/core/retry';
import type { RetryStrategyV2 } from '@smithy/types';
import { mayHaveRun, ModelCallRetryStrategy } from './call-outcome.js';
import { AwsServiceError, label, NodeSha256, postJson, serviceError, signedTarget } from './signed-json.js';

/** How each kind of call is retried: Converse (a model runs) and Retrieve. */
const MODEL_CALL = (n: number): RetryStrategyV2 => new ModelCallRetryStrategy(n);
const RETRIEVE = (n: number): RetryStrategyV2 => new StandardRetryStrategy(n);

describe('signing', () => {
  // docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html's example (IAM ListUsers).
  const request = {
    method: 'GET',
    protocol: 'https:',
    hostname: 'iam.amazonaws.com',
    path: '/',
    query: { Action: 'ListUsers', Version: '2010-05-08' },
    headers: { host: 'iam.amazonaws.com', 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
  };
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const sign = (sha256: typeof Sha256 | typeof NodeSha256) =>
    new SignatureV4({ service: 'iam', region: 'us-east-1', credentials, sha256, applyChecksum: false }).sign(request, {
      signingDate: new Date('2015-08-30T12:36:00Z'),
    });

  it("node:crypto's SHA-256 and HMAC give the documented signature, as the SDK's own hash does", async () => {
    const [ours, sdk] = await Promise.all([sign(NodeSha256), sign(Sha256)]);
    expect(ours.headers.authorization).toContain('Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7');
    expect(ours.headers).toEqual(sdk.headers);
  });

  it('encodes a path label as the SDK does: an inference profile ARN is one segment', () => {
    expect(label('arn:aws:bedrock:us-east-1:1:application-inference-profile/p')).toBe(
      'arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapplication-inference-profile%2Fp',
    );
    expect(label("a!b'c(d)e*f")).toBe('a%21b%27c%28d%29e%2Af');
  });
});

describe('errors', () => {
  it('names the error by x-amzn-errortype, else the body, and keeps the message and request id', () => {
    const header = serviceError(
      403,
      { 'x-amzn-errortype': 'AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/', 'x-amzn-requestid': 'r-1' },
      '{"message":"no"}',
    );
    expect([header.name, header.message, header.status, header.$metadata.requestId]).toEqual(['AccessDeniedException', 'no', 403, 'r-1']);
    expect(serviceError(400, {}, '{"__type":"com.amazon#ValidationException","Message":"bad"}').name).toBe('ValidationException');
    expect(serviceError(400, {}, '{"code":"ValidationException","__type":"Other"}').name).toBe('ValidationException');
    expect(serviceError(502, {}, '<html>bad gateway</html>')).toMatchObject({ name: 'Unknown', message: 'HTTP 502', status: 502 });
  });
});

describe('postJson', () => {
  let server: Server;
  let answers: ((res: ServerResponse, req: IncomingMessage) => void)[] = [];
  const seen: { path: string; auth: string; body: string }[] = [];
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent() };
  const credentials = () => Promise.resolve({ accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'session' });
  let url: URL;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ path: req.url ?? '', auth: req.headers.authorization ?? '', body: Buffer.concat(chunks).toString() });
        const answer = answers.shift() ?? ((r) => r.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
        answer(res, req);
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/base/`);
  });
  afterAll(async () => {
    agents.http.destroy();
    await new Promise<void>((ok) => server.close(() => ok()));
  });
  beforeEach(() => {
    seen.length = 0;
    answers = [];
  });

  const target = (maxAttempts: number, retry = MODEL_CALL) => signedTarget(url, 'us-east-1', credentials, agents, retry(maxAttempts));
  const error = (status: number, type: string) => (res: ServerResponse) =>
    res.writeHead(status, { 'x-amzn-errortype': type }).end(JSON.stringify({ message: `${type} from the test` }));

  it('posts the JSON signed for bedrock, under the endpoint path, with the session token', async () => {
    await expect(postJson(target(1), '/model/m/converse', { a: 1 })).resolves.toEqual({ ok: true });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.path).toBe('/base/model/m/converse');
    expect(seen[0]?.body).toBe('{"a":1}');
    expect(seen[0]?.auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=.*x-amz-security-token/,
    );
  });

  it('sends its user agent', async () => {
    let agent: string | undefined;
    answers = [(res, req) => ((agent = req.headers['user-agent']), res.writeHead(200).end('{}'))];
    await postJson(target(1), '/x', {});
    expect(agent).toBe('tenant-rag-gateway');
  });

  it('retries throttling and 5xx, then answers', async () => {
    answers = [error(429, 'ThrottlingException'), error(503, 'ServiceUnavailableException')];
    await expect(postJson(target(3), '/x', {})).resolves.toEqual({ ok: true });
    expect(seen).toHaveLength(3);
  });

  it('gives up after maxAttempts with the last error, named', async () => {
    answers = [error(429, 'ThrottlingException'), error(429, 'ThrottlingException')];
    const e = await postJson(target(2), '/x', {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AwsServiceError);
    expect(e).toMatchObject({ name: 'ThrottlingException', status: 429, message: 'ThrottlingException from the test' });
    expect(seen).toHaveLength(2);
  });

  it.each([
    [400, 'ValidationException'],
    [403, 'AccessDeniedException'],
    [404, 'ResourceNotFoundException'],
  ])('does not retry %i %s', async (status, type) => {
    answers = [error(status, type)];
    await expect(postJson(target(3), '/x', {})).rejects.toMatchObject({
      name: type,
      message: `${type} from the test`,
    });
    expect(seen).toHaveLength(1);
  });

  it("signs at AWS's time once an answer shows the clocks 10 minutes apart, and retries the refused call", async () => {
    const ahead = 10 * 60_000;
    const serverNow = (): Date => new Date(Date.now() + ahead);
    const stamp = (d: string): number =>
      Date.parse(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`);
    const skewed = (res: ServerResponse, req: IncomingMessage): void => {
      const signedAt = stamp(String(req.headers['x-amz-date']));
      res.setHeader('date', serverNow().toUTCString());
      if (Math.abs(signedAt - serverNow().getTime()) > 300_000)
        res
          .writeHead(403, { 'x-amzn-errortype': 'InvalidSignatureException' })
          .end('{"message":"Signature expired: 20261205T000000Z is now earlier than ..."}');
      else res.writeHead(200).end('{"ok":true}');
    };
    answers = [skewed, skewed, skewed];
    const t = target(3);
    await expect(postJson(t, '/x', {})).resolves.toEqual({ ok: true });
    expect(seen).toHaveLength(2);
    await expect(postJson(t, '/x', {})).resolves.toEqual({ ok: true });
    expect(seen).toHaveLength(3);
  });

  /** The connection goes once the request has arrived whole, before any answer. */
  const hangUp = (res: ServerResponse): void => void res.socket?.destroy();
  /** A target whose every call opens a new connection (no kept-alive socket to blame). */
  const fresh = (maxAttempts: number, retry = MODEL_CALL) =>
    signedTarget(url, 'us-east-1', credentials, { http: new HttpAgent({ keepAlive: false }), https: new HttpsAgent() }, retry(maxAttempts));

  it('sends a retrieval again after the connection went with no answer, but not a model call, which may have run', async () => {
    answers = [hangUp];
    await expect(postJson(fresh(3, RETRIEVE), '/x', {})).resolves.toEqual({ ok: true });
    expect(seen).toHaveLength(2);

    seen.length = 0;
    answers = [hangUp, hangUp, hangUp];
    const e = await postJson(fresh(3), '/x', {}).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ECONNRESET' });
    expect(mayHaveRun(e)).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it('does not send a model call again after a reset on a kept-alive socket once it was written (the server may have read it)', async () => {
    const t = target(3);
    await postJson(t, '/x', {});
    seen.length = 0;
    answers = [hangUp];
    const e = await postJson(t, '/x', {}).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ECONNRESET' });
    expect(mayHaveRun(e)).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it('a network error after the request was written may have run, whatever its code says', async () => {
    answers = [hangUp];
    const e = await postJson(fresh(3), '/x', {}).catch((x: unknown) => x);
    // EHOSTUNREACH on an open connection (retransmissions timed out) is no proof nothing arrived:
    // the same failure under that code still may have run.
    (e as { code?: string }).code = 'EHOSTUNREACH';
    expect(mayHaveRun(e)).toBe(true);
    // Unmarked (an SDK call's), the code alone says the connection was never made.
    expect(mayHaveRun(Object.assign(new Error('x'), { code: 'EHOSTUNREACH' }))).toBe(false);
  });

  it('does not retry a success answer cut short (the call was carried out), and says it may have run', async () => {
    // The 200 head and part of the body, then the connection goes.
    const cut = (res: ServerResponse): void => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"output":', () => res.socket?.destroy());
    };
    for (const o of [MODEL_CALL, RETRIEVE]) {
      seen.length = 0;
      answers = [cut, cut, cut];
      const e = await postJson(target(3, o), '/x', {}).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AwsServiceError);
      expect(e).toMatchObject({ name: 'IncompleteAnswer', status: 200 });
      expect((e as Error).message).toMatch(/cut short after its 200 head .*not retried/);
      expect(mayHaveRun(e)).toBe(true);
      expect(seen).toHaveLength(1);
    }
  });

  it('names an error answer cut short by its head, and retries it as that error', async () => {
    const cut = (res: ServerResponse): void => {
      res.writeHead(429, { 'x-amzn-errortype': 'ThrottlingException', 'content-length': '1000' });
      res.write('{"mess', () => res.socket?.destroy());
    };
    answers = [cut, cut];
    const e = await postJson(target(2), '/x', {}).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'ThrottlingException', status: 429 });
    expect(mayHaveRun(e)).toBe(false);
    expect(seen).toHaveLength(2);
  });

  it('a call that could not be signed (no session) or connected was never sent, and may not have run', async () => {
    const noSession = signedTarget(url, 'us-east-1', () => Promise.reject(new Error('AssumeRole: AccessDenied')), agents, MODEL_CALL(3));
    const e1 = await postJson(noSession, '/x', {}).catch((x: unknown) => x);
    expect((e1 as Error).message).toBe('AssumeRole: AccessDenied');
    expect(mayHaveRun(e1)).toBe(false);
    expect(seen).toEqual([]);

    // A port nobody listens on: the connection is refused, retried (never sent), then given up.
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, '127.0.0.1', ok));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const nowhere = signedTarget(new URL(`http://127.0.0.1:${port}/`), 'us-east-1', credentials, agents, MODEL_CALL(2));
    const e2 = await postJson(nowhere, '/x', {}).catch((x: unknown) => x);
    expect(e2).toMatchObject({ code: 'ECONNREFUSED' });
    expect(mayHaveRun(e2)).toBe(false);
  });

  it('a caller that leaves while the answer is read gets AbortError, and the call may have run', async () => {
    const abort = new AbortController();
    answers = [
      (res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"output":', () => abort.abort());
      },
    ];
    const e = await postJson(target(3), '/x', {}, abort.signal).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'AbortError' });
    expect(mayHaveRun(e)).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it('a caller leaving while a retry waits sends nothing more: the call did not run', async () => {
    const abort = new AbortController();
    // The longest backoff (full jitter at its top: 500 ms for throttling), and the caller leaves 20 ms in.
    const random = vi.spyOn(Math, 'random').mockReturnValue(1);
    answers = [(res) => (error(429, 'ThrottlingException')(res), setTimeout(() => abort.abort(), 20))];
    const e = await postJson(target(3), '/x', {}, abort.signal)
      .catch((x: unknown) => x)
      .finally(() => random.mockRestore());
    expect(e).toMatchObject({ name: 'AbortError' });
    expect(mayHaveRun(e)).toBe(false);
    expect(seen).toHaveLength(1);
  });

  it('a cancelled call fails at once and is not retried', async () => {
    const abort = new AbortController();
    answers = [() => abort.abort()];
    const e = await postJson(target(3), '/x', {}, abort.signal).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'AbortError' });
    // Cancelled after the request arrived whole: the model may have run.
    expect(mayHaveRun(e)).toBe(true);
    expect(seen).toHaveLength(1);
  });
});
