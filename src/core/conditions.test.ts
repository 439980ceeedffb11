import { describe, expect, it } from 'vitest';
import type { Condition } from '../api/v1alpha1/types.js';
import { findCondition, rfc3339, setCondition, summarize } from './conditions.js';

const t0 = new Date('2026-11-01T10:00:00.123Z');
const t1 = new Date('2026-11-01T11:00:00Z');
const ready = (status: 'True' | 'False', reason = 'R', message = 'm'): Condition => ({
  type: 'Ready',
  status,
  reason,
  message,
  lastTransitionTime: rfc3339(t0),
  observedGeneration: 1,
});

describe('setCondition', () => {
  const cases: {
    name: string;
    before: Condition[] | undefined;
    status: 'True' | 'False';
    reason: string;
    wantTime: string;
    wantLength: number;
  }[] = [
    {
      name: 'adds a new condition with the current time',
      before: undefined,
      status: 'True',
      reason: 'R',
      wantTime: rfc3339(t1),
      wantLength: 1,
    },
    {
      name: 'keeps the transition time when only the reason changes',
      before: [ready('True', 'A')],
      status: 'True',
      reason: 'B',
      wantTime: rfc3339(t0),
      wantLength: 1,
    },
    {
      name: 'moves the transition time when the status flips',
      before: [ready('True')],
      status: 'False',
      reason: 'R',
      wantTime: rfc3339(t1),
      wantLength: 1,
    },
    {
      name: 'leaves other types alone',
      before: [{ ...ready('True'), type: 'StorageReady' }],
      status: 'False',
      reason: 'R',
      wantTime: rfc3339(t1),
      wantLength: 2,
    },
  ];
  it.each(cases)('$name', ({ before, status, reason, wantTime, wantLength }) => {
    const after = setCondition(before, { type: 'Ready', status, reason, message: 'x' }, 2, t1);
    const c = findCondition(after, 'Ready');
    expect(c?.lastTransitionTime).toBe(wantTime);
    expect(c?.observedGeneration).toBe(2);
    expect(c?.reason).toBe(reason);
    expect(after).toHaveLength(wantLength);
  });

  it('does not mutate its input', () => {
    const before = [ready('True')];
    setCondition(before, { type: 'Ready', status: 'False', reason: 'X', message: 'y' }, 3, t1);
    expect(before[0]?.status).toBe('True');
  });
});

describe('summarize', () => {
  const ok = (type: string) => ({ type, status: 'True' as const, reason: 'Ok', message: `${type} ok` });
  it.each([
    { name: 'all true gives Ready', components: [ok('A'), ok('B')], want: ['True', 'AllGood'] },
    {
      name: 'the first blocking component decides',
      components: [
        ok('A'),
        { type: 'B', status: 'False' as const, reason: 'BrokenB', message: 'b' },
        { type: 'C', status: 'Unknown' as const, reason: 'C?', message: 'c' },
      ],
      want: ['False', 'BrokenB'],
    },
    {
      name: 'unknown propagates as unknown',
      components: [{ type: 'A', status: 'Unknown' as const, reason: 'Wait', message: 'w' }],
      want: ['Unknown', 'Wait'],
    },
    { name: 'no components is ready', components: [], want: ['True', 'AllGood'] },
  ])('$name', ({ components, want }) => {
    const r = summarize(components, 'AllGood', 'fine');
    expect([r.status, r.reason]).toEqual(want);
  });
});
