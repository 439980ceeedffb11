import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BedrockAgentClient, GetKnowledgeBaseCommand } from '@aws-sdk/client-bedrock-agent';
import { afterEach, describe, expect, it } from 'vitest';
import { type CallPriority, callPriority, withCallPriority } from '../../runtime/call-priority.js';
import { ManualClock, systemClock } from '../../runtime/clock.js';
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

/** The budgets middleware as attachBudgets installs it, for a command of `service`. */
function middlewareOf(budgets: RateBudgets, service: string, commandName: string, next: () => Promise<unknown>) {
  let installed: ((n: (args: unknown) => Promise<unknown>, c: { commandName?: string }) => (args: unknown) => Promise<unknown>) | undefined;
  attachBudgets({ middlewareStack: { addRelativeTo: (m) => void (installed = m) } }, service, budgets);
  if (!installed) throw new Error('attachBudgets installed no middleware');
  return installed(next, { commandName });
}

describe('RateBudgets priority', () => {
  it('an IAM write made under high priority goes ahead of pool writes already waiting in the saturated iam:writes budget', async () => {
    const clock = new ManualClock();
    const budgets = new RateBudgets(clock, { 'iam:writes': { ratePerSec: 1, burst: 1 } });
    const sent: string[] = [];
    const call = (name: string, priority: CallPriority, operation: string): Promise<unknown> =>
      withCallPriority(priority, () => middlewareOf(budgets, 'iam', operation, () => Promise.resolve(sent.push(name)))({}));
    const calls = [call('pool-a', 'low', 'CreateRoleCommand')];
    for (const name of ['pool-b', 'pool-c', 'pool-d']) calls.push(call(name, 'low', 'PutRolePolicyCommand'));
    await Promise.resolve();
    calls.push(call('silo-kb-role', 'high', 'CreateRoleCommand'));
    for (let i = 0; i < 4; i++) {
      clock.advance(1000);
      for (let j = 0; j < 5; j++) await Promise.resolve();
    }
    await Promise.all(calls);
    expect(sent).toEqual(['pool-a', 'silo-kb-role', 'pool-b', 'pool-c', 'pool-d']);
  });

  it('reads outside the IAM write budget are not held by it', async () => {
    const clock = new ManualClock();
    const budgets = new RateBudgets(clock, { 'iam:writes': { ratePerSec: 1, burst: 1 } }, { ratePerSec: 10, burst: 10 });
    await withCallPriority('low', () => budgets.take('iam', 'CreateRole'));
    const waiting = withCallPriority('high', () => budgets.take('iam', 'PutRolePolicy'));
    await withCallPriority('low', () => budgets.take('iam', 'GetRole'));
    expect(budgets.waitCounts().get('iam:GetRole')).toBeUndefined();
    clock.advance(1000);
    await waiting;
    expect(budgets.waitCounts().get('iam:writes')).toBe(1);
  });

  it('the priority set around a real SDK call is the one its budget middleware sees', async () => {
    const { server, endpoint } = await serve([]);
    servers.push(server);
    const client = new BedrockAgentClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    attachBudgets(client as never, 'bedrockAgent', new RateBudgets(systemClock));
    const seen: CallPriority[] = [];
    /** Runs right after the budget middleware and notes the priority it ran under. */
    const probe =
      (next: (args: unknown) => Promise<unknown>) =>
      (args: unknown): Promise<unknown> => {
        seen.push(callPriority());
        return next(args);
      };
    client.middlewareStack.addRelativeTo(probe as never, { relation: 'after', toMiddleware: 'tenantRagRateBudget', name: 'probe' });
    const get = (): Promise<unknown> => client.send(new GetKnowledgeBaseCommand({ knowledgeBaseId: 'KB12345678' })).catch(() => undefined);
    await withCallPriority('low', get);
    await get();
    client.destroy();
    expect(seen).toEqual(['low', 'high']);
  });
});
