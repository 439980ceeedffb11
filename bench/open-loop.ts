/**
 * The gateway benchmark's load generator, in a process of its own: `rate` requests a second for
 * `seconds`, sent on schedule whatever the answers' pace (open loop), request k being
 * `requests[k % requests.length]`. Run by bench/gateway.ts with Node's own TypeScript support
 * (no imports, erasable syntax only).
 *
 * It is kept lean on purpose. In the benchmark's own process (fetch, a promise kept per request,
 * the API server's client alongside) the load generator paused for 15-25 ms every 1.5 s for its
 * own garbage collection; every request in flight then looked that much slower, in both phases,
 * and that noise was most of the p99 either way. Here each request is one `http.request` on a
 * keep-alive agent with its body serialized once, and the latencies go into typed arrays.
 *
 * The first `warmupSeconds` of load open its connections (and the server's onward ones) and are
 * not recorded: a server that has seen no traffic for a while starts with cold sockets, which a
 * gateway under steady load does not have.
 *
 * Input (JSON, stdin): { rate, seconds, warmupSeconds, origin, requests: [{ path, headers, body }] }.
 * Output (JSON, stdout): { wall, loadSeconds, maxLagMs, offset, sent: [ms since the recorded part began],
 * ms: [latency], status: [code] }, for the recorded part, which begins with request `offset` of
 * the sequence; `loadSeconds` from the first request sent (warm-up included) to the last answer,
 * `maxLagMs` how far behind its schedule the generator sent a recorded request at worst. A
 * request that failed or whose answer was cut has status 0.
 */
import { Agent, request } from 'node:http';

interface Template {
  path: string;
  headers: Record<string, string>;
  body: unknown;
}
interface Input {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  origin: string;
  requests: Template[];
}

async function readInput(): Promise<Input> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Input;
}

async function main(): Promise<void> {
  const input = await readInput();
  const { hostname, port } = new URL(input.origin);
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity, scheduling: 'lifo' });
  const prepared = input.requests.map((t) => {
    const body = Buffer.from(JSON.stringify(t.body));
    return {
      path: t.path,
      body,
      headers: { ...t.headers, 'content-type': 'application/json', 'content-length': String(body.length) },
    };
  });
  const total = input.rate * input.seconds;
  const warmup = Math.round(input.rate * input.warmupSeconds);
  const sent = new Float64Array(total);
  const ms = new Float64Array(total);
  const status = new Uint16Array(total);
  let done = 0;
  let finish: () => void = () => undefined;
  const all = new Promise<void>((ok) => (finish = ok));
  let warm: () => void = () => undefined;
  const warmed = new Promise<void>((ok) => (warm = ok));
  let warmLeft = warmup;
  const complete = (k: number, t0: number, code: number): void => {
    if (k < 0) {
      if (--warmLeft === 0) warm();
      return;
    }
    ms[k] = performance.now() - t0;
    status[k] = code;
    if (++done === total) finish();
  };
  /** Sends request k of the sequence, recorded under index k - warmup (negative: not recorded). */
  const send = (seq: number): void => {
    const k = seq - warmup;
    const p = prepared[seq % prepared.length];
    if (!p) throw new Error('no requests given');
    const t0 = performance.now();
    let done = false;
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      complete(k, t0, code);
    };
    const req = request({ agent, host: hostname, port, method: 'POST', path: p.path, headers: p.headers }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => finish(res.complete ? (res.statusCode ?? 0) : 0));
      res.on('error', () => finish(0));
      res.on('aborted', () => finish(0));
    });
    req.on('error', () => finish(0));
    req.end(p.body);
  };
  if (warmup === 0) warm();
  const first = performance.now();
  let start = first;
  for (let seq = 0; seq < warmup + total; seq++) {
    const wait = first + (seq * 1000) / input.rate - performance.now();
    if (wait > 1) await new Promise((ok) => setTimeout(ok, wait));
    if (seq === warmup) start = performance.now();
    if (seq >= warmup) sent[seq - warmup] = performance.now() - start;
    send(seq);
  }
  await Promise.all([warmed, all]);
  const end = performance.now();
  const wall = (end - start) / 1000;
  const loadSeconds = (end - first) / 1000;
  let maxLagMs = 0;
  for (let k = 0; k < total; k++) maxLagMs = Math.max(maxLagMs, (sent[k] ?? 0) - (k * 1000) / input.rate);
  agent.destroy();
  process.stdout.write(JSON.stringify({ wall, loadSeconds, maxLagMs, offset: warmup, sent: [...sent], ms: [...ms], status: [...status] }));
}

await main();
