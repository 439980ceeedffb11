import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, EventsV1Api, KubeConfig, microTime } from './client.js';
import { leanObject } from './informer.js';

const calls: { method?: string; url?: string; type?: string; body?: unknown }[] = [];
let server: Server;
const kc = new KubeConfig();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls.push({ method: req.method, url: req.url, type: req.headers['content-type'], body: body ? JSON.parse(body) : undefined });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  kc.use({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, insecureSkipTlsVerify: false, auth: { kind: 'none' } });
});
afterAll(() => server.close());

/** The one call `f` makes. */
async function callOf(f: () => Promise<unknown>): Promise<(typeof calls)[number] | undefined> {
  calls.length = 0;
  await f();
  return calls[0];
}

describe('the API clients', () => {
  it('patch custom objects and their status with JSON patches, as the field manager', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const p = { group: 'rag.tenancy.dev', version: 'v1alpha1', plural: 'tenants', name: 'a', body: [], fieldManager: 'tro' };
    expect(await callOf(() => custom.patchClusterCustomObjectStatus(p))).toEqual({
      method: 'PATCH',
      url: '/apis/rag.tenancy.dev/v1alpha1/tenants/a/status?fieldManager=tro',
      type: 'application/json-patch+json',
      body: [],
    });
    expect((await callOf(() => custom.patchClusterCustomObject(p)))?.url).toBe('/apis/rag.tenancy.dev/v1alpha1/tenants/a?fieldManager=tro');
    expect((await callOf(() => custom.listClusterCustomObject(p)))?.url).toBe('/apis/rag.tenancy.dev/v1alpha1/tenants');
  });

  it('write ConfigMaps, and delete one with preconditions', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const body = { metadata: { name: 'c' }, data: { a: 'b' } };
    expect(await callOf(() => core.createNamespacedConfigMap({ namespace: 'n', body, fieldManager: 'tro' }))).toMatchObject({
      method: 'POST',
      url: '/api/v1/namespaces/n/configmaps?fieldManager=tro',
      body,
    });
    expect(await callOf(() => core.replaceNamespacedConfigMap({ namespace: 'n', name: 'c', body }))).toMatchObject({
      method: 'PUT',
      url: '/api/v1/namespaces/n/configmaps/c',
    });
    const preconditions = { uid: 'u', resourceVersion: '7' };
    expect(await callOf(() => core.deleteNamespacedConfigMap({ namespace: 'n', name: 'c', body: { preconditions } }))).toEqual({
      method: 'DELETE',
      url: '/api/v1/namespaces/n/configmaps/c',
      type: 'application/json',
      body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions },
    });
  });

  it("refuse '.', '..' and empty names and namespaces before any request (the collection or another path would be hit)", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const leases = kc.makeApiClient(CoordinationV1Api);
    const precondition = { body: { preconditions: { uid: 'u' } } };
    const refused = (f: () => Promise<unknown>) => expect(Promise.resolve().then(f)).rejects.toThrow(/not a Kubernetes object name/);
    for (const bad of ['.', '..', '']) {
      calls.length = 0;
      // `configmaps/.` is the namespace's ConfigMaps, `configmaps/..` the namespace itself.
      await refused(() => core.deleteNamespacedConfigMap({ namespace: 'n', name: bad, ...precondition }));
      await refused(() => core.readNamespacedConfigMap({ namespace: bad, name: 'c' }));
      await refused(() =>
        custom.patchClusterCustomObject({ group: 'rag.tenancy.dev', version: 'v1alpha1', plural: 'tenants', name: bad, body: [] }),
      );
      await refused(() => leases.readNamespacedLease({ namespace: 'n', name: bad }));
      expect(calls).toEqual([]);
    }
    // Names with dots that are names stay names, encoded.
    expect((await callOf(() => core.readNamespacedConfigMap({ namespace: 'n', name: 'a..b' })))?.url).toBe(
      '/api/v1/namespaces/n/configmaps/a..b',
    );
  });

  it('write Leases and Events with their kinds', async () => {
    const leases = kc.makeApiClient(CoordinationV1Api);
    expect(await callOf(() => leases.createNamespacedLease({ namespace: 'n', body: { metadata: { name: 'l' } } }))).toMatchObject({
      url: '/apis/coordination.k8s.io/v1/namespaces/n/leases',
      body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' } },
    });
    const events = kc.makeApiClient(EventsV1Api);
    const event = { metadata: { name: 'e' }, eventTime: microTime(new Date(0)), reason: 'R' };
    expect(await callOf(() => events.createNamespacedEvent({ namespace: 'default', body: event }))).toMatchObject({
      url: '/apis/events.k8s.io/v1/namespaces/default/events',
      body: { apiVersion: 'events.k8s.io/v1', kind: 'Event', ...event },
    });
  });
});

describe('microTime', () => {
  it('has exactly six fractional digits, as the API server parses MicroTime', () => {
    expect(microTime(new Date(Date.UTC(2026, 11, 5, 2, 3, 4, 56)))).toBe('2026-12-05T02:03:04.056000Z');
  });
});

describe('leanObject', () => {
  it('drops managedFields and kubectl’s last-applied copy, and keeps everything else', () => {
    const obj = {
      metadata: {
        name: 'a',
        resourceVersion: '3',
        managedFields: [{ manager: 'kubectl' }],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'rag.tenancy.dev/reconcile-requested-at': 'now' },
      },
      spec: { tier: 't' },
      status: { conditions: [] },
    };
    expect(leanObject(obj)).toEqual({
      metadata: { name: 'a', resourceVersion: '3', annotations: { 'rag.tenancy.dev/reconcile-requested-at': 'now' } },
      spec: { tier: 't' },
      status: { conditions: [] },
    });
  });
});
