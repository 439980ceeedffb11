import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { statusOf } from './errors.js';
import { KubeApiError, KubeHttp } from './http.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server | undefined;

/** A plain HTTP API server answering with `handler`; returns a client of it. */
async function serve(handler: Handler, token = 't0ken'): Promise<KubeHttp> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return new KubeHttp({ server: `http://127.0.0.1:${port}`, insecureSkipTlsVerify: false, auth: { kind: 'token', token } });
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

const json = (res: ServerResponse, code: number, body: unknown): void => {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

describe('KubeHttp.request', () => {
  it('sends the method, path, query, token, content type and JSON body, and parses the answer', async () => {
    const seen: { method?: string; url?: string; auth?: string; type?: string; body?: unknown }[] = [];
    const http = await serve((req, body, res) => {
      seen.push({
        method: req.method,
        url: req.url,
        auth: req.headers.authorization,
        type: req.headers['content-type'],
        body: JSON.parse(body),
      });
      json(res, 200, { kind: 'Tenant', metadata: { name: 'a' } });
    });
    const answer = await http.request({
      method: 'PATCH',
      path: '/apis/rag.tenancy.dev/v1alpha1/tenants/a/status',
      query: { fieldManager: 'tro', dryRun: undefined },
      body: [{ op: 'add', path: '/status', value: {} }],
      contentType: 'application/json-patch+json',
    });
    expect(answer).toEqual({ kind: 'Tenant', metadata: { name: 'a' } });
    expect(seen).toEqual([
      {
        method: 'PATCH',
        url: '/apis/rag.tenancy.dev/v1alpha1/tenants/a/status?fieldManager=tro',
        auth: 'Bearer t0ken',
        type: 'application/json-patch+json',
        body: [{ op: 'add', path: '/status', value: {} }],
      },
    ]);
  });

  it('throws a KubeApiError with the status and the Status body, which statusOf reads', async () => {
    const http = await serve((_req, _body, res) => json(res, 409, { kind: 'Status', message: 'the object has been modified' }));
    const err = await http.request({ method: 'PUT', path: '/api/v1/namespaces/n/configmaps/c', body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(statusOf(err)).toBe(409);
    expect((err as KubeApiError).body).toContain('the object has been modified');
  });

  it('gives up on an answer that does not come within the timeout', async () => {
    const http = await serve(() => undefined);
    await expect(http.request({ method: 'GET', path: '/api/v1/namespaces/n/configmaps/c', timeoutMs: 100 })).rejects.toThrow();
  });
});

describe('KubeHttp.watch', () => {
  it('delivers each event, also when a line arrives in pieces, then ends once without an error', async () => {
    const http = await serve((req, _body, res) => {
      expect(req.url).toBe('/apis/g/v1/things?resourceVersion=5&allowWatchBookmarks=true&watch=true');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const added = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '6' } } });
      res.write(`${added.slice(0, 10)}`);
      setTimeout(() => {
        res.write(`${added.slice(10)}\n{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}\n`);
        res.end();
      }, 20);
    });
    const events: [string, unknown][] = [];
    const ended = new Promise<unknown>((resolve) => {
      void http.watch(
        '/apis/g/v1/things',
        { resourceVersion: '5', allowWatchBookmarks: true },
        (type, obj) => events.push([type, obj]),
        resolve,
      );
    });
    expect(await ended).toBeNull();
    expect(events).toEqual([
      ['ADDED', { metadata: { name: 'a', resourceVersion: '6' } }],
      ['BOOKMARK', { metadata: { resourceVersion: '7' } }],
    ]);
  });

  it('ends with the status of a refused watch (410: the version is too old)', async () => {
    const http = await serve((_req, _body, res) => json(res, 410, { kind: 'Status', code: 410 }));
    const err = await new Promise<unknown>((resolve) => void http.watch('/apis/g/v1/things', {}, () => undefined, resolve));
    expect(statusOf(err)).toBe(410);
  });

  it('stops when its controller aborts, and reports the end once', async () => {
    const http = await serve((_req, _body, res) => {
      res.writeHead(200);
      res.write('\n');
    });
    const ends: unknown[] = [];
    const controller = await http.watch(
      '/apis/g/v1/things',
      {},
      () => undefined,
      (e) => ends.push(e),
    );
    controller.abort();
    await new Promise((r) => setTimeout(r, 50));
    expect(ends).toHaveLength(1);
  });
});
