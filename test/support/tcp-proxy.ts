/**
 * A TCP proxy in front of the API server for fault injection: `cut()` resets every open
 * connection (a watch cut mid-stream); `silence()` keeps connections open but stops passing
 * bytes (a watch that goes quiet without an error), while new connections work normally. With
 * `latencyMs`, every answer reaches the client that much later (a server far away), in order.
 */
import { type Server, type Socket, connect, createServer } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  port: number;
  cut(): void;
  /** Open connections stop passing bytes; new ones work. */
  silence(): void;
  /** Every connection, open or new, stops passing bytes until `resume`. */
  silenceAll(): void;
  resume(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port forwarding to `target`. */
export async function startTcpProxy(targetHost: string, targetPort: number, opts: { latencyMs?: number } = {}): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket; silent: boolean }>();
  let allSilent = false;
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    const pair = { client, upstream, silent: allSilent };
    pairs.add(pair);
    client.on('data', (d: Buffer) => {
      if (!pair.silent) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (pair.silent) return;
      if (opts.latencyMs) setTimeout(() => client.write(d), opts.latencyMs);
      else client.write(d);
    });
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    // What the server sent before it closed still reaches the client, as late as the rest.
    const endLate = (): void => void setTimeout(end, opts.latencyMs ?? 0);
    upstream.on('close', endLate).on('error', endLate);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    cut() {
      for (const p of pairs) {
        p.client.resetAndDestroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    silence() {
      for (const p of pairs) p.silent = true;
    },
    silenceAll() {
      allSilent = true;
      for (const p of pairs) p.silent = true;
    },
    resume() {
      // Connections silenced so far stay hung, as on a real dead path; only new ones flow again.
      allSilent = false;
    },
    close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      return new Promise((r) => server.close(() => r()));
    },
  };
}
