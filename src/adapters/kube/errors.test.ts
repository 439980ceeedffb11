import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { describeKubeFailure } from './errors.js';

const api = (code: number, message: string): ApiException<string> =>
  new ApiException(code, 'Unknown API Status Code!', JSON.stringify({ kind: 'Status', message }), {});

describe('describeKubeFailure', () => {
  it.each([
    {
      name: 'RBAC refusing a write is not transient and points at the ClusterRole',
      err: api(403, 'tenants.rag.tenancy.dev "a" is forbidden'),
      want: { transient: false, detail: 'HTTP 403: tenants.rag.tenancy.dev "a" is forbidden' },
      check: /ClusterRole/,
    },
    { name: 'an invalid write is a bug', err: api(422, 'invalid'), want: { transient: false }, check: /a bug in the operator/ },
    { name: 'a 5xx is transient', err: api(503, 'unavailable'), want: { transient: true }, check: /API server is healthy/ },
    { name: 'a throttle is transient', err: api(429, 'slow down'), want: { transient: true }, check: /API server/ },
    {
      name: 'a connection refused, wrapped, is transient',
      err: new Error('write failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }),
      want: { transient: true, detail: 'ECONNREFUSED' },
      check: /reachable/,
    },
  ])('$name', ({ err, want, check }) => {
    const f = describeKubeFailure(err);
    expect(f).toMatchObject({ class: 'KubernetesError', ...want });
    expect(f?.check).toMatch(check);
  });

  it('knows nothing of other errors', () => {
    expect(describeKubeFailure(new TypeError('x is undefined'))).toBeUndefined();
  });
});
