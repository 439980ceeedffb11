/** HTTP endpoints: /healthz and /readyz on the health port, /metrics on the metrics port. */
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** Running HTTP servers and the ports they took. */
export interface Endpoints {
  healthPort: number;
  metricsPort: number;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Starts the servers; `ready` decides /readyz (caches synced). */
export async function startEndpoints(opts: {
  host: string;
  healthPort: number;
  metricsPort: number;
  registry: Registry;
  ready: () => boolean;
}): Promise<Endpoints> {
  const health = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.writeHead(200).end('ok');
    } else if (req.url === '/readyz') {
      const ok = opts.ready();
      res.writeHead(ok ? 200 : 503).end(ok ? 'ok' : 'caches not synced');
    } else {
      res.writeHead(404).end();
    }
  });
  const metrics = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    opts.registry.metrics().then(
      (body) => res.writeHead(200, { 'Content-Type': opts.registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  const [healthPort, metricsPort] = [await listen(health, opts.healthPort, opts.host), await listen(metrics, opts.metricsPort, opts.host)];
  const close = (s: Server): Promise<void> =>
    new Promise((r) => {
      s.closeAllConnections();
      s.close(() => r());
    });
  return {
    healthPort,
    metricsPort,
    close: async () => {
      await Promise.all([close(health), close(metrics)]);
    },
  };
}
