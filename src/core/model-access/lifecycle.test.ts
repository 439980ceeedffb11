import { describe, expect, it } from 'vitest';
import { type ModelLifecycle, lifecycleVerdict } from './lifecycle.js';

const now = new Date('2026-11-05T12:00:00Z');

describe('lifecycleVerdict', () => {
  it.each<{ name: string; l: ModelLifecycle; status: string; reason: string; eol: boolean; msg?: RegExp }>([
    { name: 'active: fine', l: { state: 'Active' }, status: 'True', reason: 'Active', eol: false },
    {
      name: 'legacy with a future end of life: warning with the date',
      l: { state: 'Legacy', endOfLife: new Date('2027-01-15T00:00:00Z') },
      status: 'False',
      reason: 'Legacy',
      eol: false,
      msg: /2027-01-15/,
    },
    {
      name: 'legacy without a date yet',
      l: { state: 'Legacy' },
      status: 'False',
      reason: 'Legacy',
      eol: false,
      msg: /no end-of-life date/,
    },
    {
      name: 'legacy past its end of life: access goes',
      l: { state: 'Legacy', endOfLife: new Date('2026-11-01T00:00:00Z') },
      status: 'False',
      reason: 'ModelEndOfLife',
      eol: true,
    },
    {
      name: 'a model Bedrock no longer offers: access goes',
      l: { state: 'NotFound' },
      status: 'False',
      reason: 'ModelEndOfLife',
      eol: true,
    },
    {
      name: 'a failed read decides nothing',
      l: { state: 'Unknown', error: 'AccessDeniedException' },
      status: 'Unknown',
      reason: 'LifecycleUnknown',
      eol: false,
    },
  ])('$name', ({ l, status, reason, eol, msg }) => {
    const v = lifecycleVerdict(l, 'm', now);
    expect(v.condition).toMatchObject({ type: 'ModelLifecycle', status, reason });
    expect(v.endOfLife).toBe(eol);
    if (msg) expect(v.condition.message).toMatch(msg);
  });

  it('asks to look again at the end of life', () => {
    expect(lifecycleVerdict({ state: 'Legacy', endOfLife: new Date('2027-01-15T00:00:00Z') }, 'm', now).recheckAt?.toISOString()).toBe(
      '2027-01-15T00:00:00.000Z',
    );
  });
});
