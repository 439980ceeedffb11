/**
 * A real Redis (Debian's redis-server, installed by scripts/redis.sh) per test file: a free
 * loopback port, no RDB snapshots, no AOF, no config file, so nothing outlives the test. It can
 * be stopped and started again on the same port to test a store that goes away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Socket } from 'node:net';
import { eventually, freePort, type Proc, startProcess, stopProcess } from './processes.js';

/** A running redis-server. */
export interface TestRedis {
  /** `redis://127.0.0.1:PORT`. */
  url: string;
  port: number;
  /** Stops the server (the port stays reserved for {@link TestRedis.start}). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/** Sends one inline command and resolves with the first reply line, or undefined on failure. */
function ping(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (v: string | undefined): void => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(1000, () => done(undefined));
    s.once('error', () => done(undefined));
    s.once('data', (b) => done(b.toString('utf8').trim()));
    s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
  });
}

/** Starts redis-server on a free port; `logFile` defaults to a file in its temp directory. */
export async function startRedis(logFile?: string): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'tro-redis-'));
  const port = await freePort();
  const log = logFile ?? join(dir, 'redis.log');
  let proc: Proc | undefined;
  const start = async (): Promise<void> => {
    proc = startProcess(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'],
      log,
    );
    await eventually(async () => ((await ping(port)) === '+PONG' ? true : undefined), 15_000, `redis-server on ${port} (log: ${log})`, 50);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    async stop() {
      if (proc) await stopProcess(proc);
      proc = undefined;
    },
    async close() {
      if (proc) await stopProcess(proc);
      proc = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
