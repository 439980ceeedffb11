import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BedrockAgentClient, GetKnowledgeBaseCommand } from '@aws-sdk/client-bedrock-agent';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../runtime/clock.js';
import { createMetrics } from '../../runtime/metrics.js';
import { RateBudgets, attachBudgets } from './budgets.js';

/** A REST-JSON server that answers with the statuses given, one per request, then 404. */
async function serve(answers: { status: number; type: string }[]): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const a = answers.shift() ?? { status: 404, type: 'ResourceNotFoundException' };
      res.writeHead(a.status, { 'content-type': 'application/json', 'x-amzn-errortype': a.type });
      res.end(JSON.stringify({ message: a.type }));
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function count(budgets: RateBudgets, answers: { status: number; type: string }[]): Promise<{ calls: number; throttled: number }> {
  const metrics = createMetrics(false);
  budgets.observe({ calls: metrics.awsCalls, throttled: metrics.awsThrottled });
  const { server, endpoint } = await serve(answers);
  servers.push(server);
  const client = new BedrockAgentClient({
    region: 'us-east-1',
    endpoint,
    maxAttempts: 3,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  attachBudgets(client as never, 'bedrockAgent', budgets);
  await client.send(new GetKnowledgeBaseCommand({ knowledgeBaseId: 'KB12345678' })).catch(() => undefined);
  client.destroy();
  const value = async (c: typeof metrics.awsCalls): Promise<number> =>
    (await c.get()).values.find((v) => v.labels.service === 'bedrockAgent' && v.labels.operation === 'GetKnowledgeBase')?.value ?? 0;
  return { calls: await value(metrics.awsCalls), throttled: await value(metrics.awsThrottled) };
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe('RateBudgets call accounting', () => {
  it.each([
    {
      name: 'every attempt counts, and each throttled one is counted as such (the SDK retried twice)',
      answers: [
        { status: 429, type: 'ThrottlingException' },
        { status: 429, type: 'ThrottlingException' },
      ],
      want: { calls: 3, throttled: 2 },
    },
    { name: 'a not-found answer is a call, not a throttle', answers: [], want: { calls: 1, throttled: 0 } },
    {
      name: 'a 5xx is retried and counted, but is no throttle',
      answers: [{ status: 500, type: 'InternalServerException' }],
      want: { calls: 2, throttled: 0 },
    },
  ])('$name', async ({ answers, want }) => {
    expect(await count(new RateBudgets(systemClock), answers)).toEqual(want);
  });

  it('counts calls that take a token directly (the data plane) by service and operation', async () => {
    const metrics = createMetrics(false);
    const budgets = new RateBudgets(systemClock);
    budgets.observe({ calls: metrics.awsCalls, throttled: metrics.awsThrottled });
    await budgets.take('aossData', 'PUT');
    await budgets.take('aossData', 'PUT');
    const v = (await metrics.awsCalls.get()).values.find((x) => x.labels.service === 'aossData' && x.labels.operation === 'PUT');
    expect(v?.value).toBe(2);
  });
});
