import { describe, expect, it } from 'vitest';
import { mayHaveRun, notSent } from './call-outcome.js';

const answer = (status: number, name: string): Error => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('mayHaveRun', () => {
  it('is false for an error answer of Bedrock (the call was not carried out) but the two a model gives', () => {
    for (const [status, name] of [
      [400, 'ValidationException'],
      [403, 'AccessDeniedException'],
      [404, 'ResourceNotFoundException'],
      [429, 'ThrottlingException'],
      [500, 'InternalServerException'],
      [503, 'ServiceUnavailableException'],
    ] as const)
      expect(mayHaveRun(answer(status, name)), name).toBe(false);
    expect(mayHaveRun(answer(408, 'ModelTimeoutException'))).toBe(true);
    expect(mayHaveRun(answer(424, 'ModelErrorException'))).toBe(true);
  });

  it('is false for a failure before the request was sent (marked, or a connection never made)', () => {
    expect(mayHaveRun(notSent(new Error('AssumeRole: AccessDenied')))).toBe(false);
    expect(mayHaveRun(notSent(Object.assign(new Error('aborted'), { name: 'AbortError' })))).toBe(false);
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'])
      expect(mayHaveRun(Object.assign(new Error(code), { code })), code).toBe(false);
  });

  it('is true when the request was sent and no answer came, or a success answer was cut short', () => {
    expect(mayHaveRun(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe(true);
    expect(mayHaveRun(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(mayHaveRun(answer(200, 'IncompleteAnswer'))).toBe(true);
    expect(mayHaveRun(undefined)).toBe(true);
    expect(mayHaveRun('a string')).toBe(true);
  });

  it('marks without changing the error otherwise (name, message, properties the SDK classifies by)', () => {
    const e = Object.assign(new Error('x'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
    const keys = Object.keys(e);
    expect(notSent(e)).toBe(e);
    expect([e.name, e.message, e.$metadata.httpStatusCode, Object.keys(e), JSON.stringify(e)]).toEqual([
      'ThrottlingException',
      'x',
      429,
      keys,
      '{"name":"ThrottlingException","$metadata":{"httpStatusCode":429}}',
    ]);
    expect(() => notSent(e)).not.toThrow();
  });
});
