/** The fakes' opt-in AWS-like request rates: over its rate, a request gets AWS's throttling answer. */
import { describe, expect, it } from 'vitest';
import { AwsError, Faults, THROTTLED, awsErrorResponse, startFakeServer } from '../support/fakes/http.js';

describe('Faults.limit', () => {
  it('admits the burst, refuses the next request with a throttle, and admits again once a token refills', async () => {
    const f = new Faults();
    f.limit('CreateKnowledgeBase', { ratePerSec: 2, burst: 2 });
    expect([f.take('CreateKnowledgeBase'), f.take('CreateKnowledgeBase'), f.take('CreateKnowledgeBase')]).toEqual([
      undefined,
      undefined,
      THROTTLED,
    ]);
    expect(f.throttled.get('CreateKnowledgeBase')).toBe(1);
    await new Promise((r) => setTimeout(r, 550));
    expect(f.take('CreateKnowledgeBase')).toBeUndefined();
  });

  it('leaves operations without a limit alone, serves injected faults first, and forgets limits on clear', () => {
    const f = new Faults();
    f.limit('StartIngestionJob', { ratePerSec: 0.1 });
    expect(f.take('GetIngestionJob')).toBeUndefined();
    f.failNext('StartIngestionJob', { status: 500 });
    expect(f.take('StartIngestionJob')).toEqual({ status: 500 });
    expect(f.take('StartIngestionJob')).toBeUndefined();
    expect(f.take('StartIngestionJob')).toBe(THROTTLED);
    f.clear();
    expect(f.take('StartIngestionJob')).toBeUndefined();
    expect(f.throttled.size).toBe(0);
  });

  it('answers a throttled request over HTTP the way the fake shapes a 429', async () => {
    const faults = new Faults();
    faults.limit('Op', { ratePerSec: 1 });
    const server = await startFakeServer(() => Promise.resolve({ status: 200, body: { ok: true } }), {
      faults,
      operationOf: () => 'Op',
      faultResponse: (x) => awsErrorResponse(new AwsError(x.status ?? 500, x.name ?? 'InternalServerException', x.message ?? '')),
    });
    try {
      const first = await fetch(server.endpoint);
      const second = await fetch(server.endpoint);
      expect(first.status).toBe(200);
      expect(second.status).toBe(429);
      expect(second.headers.get('x-amzn-errortype')).toBe('ThrottlingException');
    } finally {
      await server.stop();
    }
  });
});
