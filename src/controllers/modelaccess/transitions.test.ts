import { describe, expect, it } from 'vitest';
import type { Condition } from '../../api/v1alpha1/types.js';
import { transitionEvents } from './transitions.js';

const c = (type: string, status: Condition['status'], reason: string): Condition => ({
  type,
  status,
  reason,
  message: `${type} ${reason}`,
  lastTransitionTime: '2026-11-05T00:00:00Z',
});

describe('transitionEvents', () => {
  it.each([
    {
      name: 'nothing changed: no events',
      before: [c('Throttled', 'False', 'NotThrottled')],
      after: [c('Throttled', 'False', 'NotThrottled')],
      want: [],
    },
    {
      name: 'over quota and throttled',
      before: [c('QuotaExceeded', 'False', 'WithinQuota'), c('Throttled', 'False', 'NotThrottled')],
      after: [c('QuotaExceeded', 'True', 'DailyQuotaExceeded'), c('Throttled', 'True', 'DailyQuotaExceeded')],
      want: ['Warning QuotaExceeded', 'Warning Throttled'],
    },
    {
      name: 'window reset',
      before: [c('QuotaExceeded', 'True', 'DailyQuotaExceeded'), c('Throttled', 'True', 'DailyQuotaExceeded')],
      after: [c('QuotaExceeded', 'False', 'WithinQuota'), c('Throttled', 'False', 'NotThrottled')],
      want: ['Normal QuotaRestored', 'Normal Unthrottled'],
    },
    {
      name: 'model turned legacy',
      before: [c('ModelLifecycle', 'True', 'Active')],
      after: [c('ModelLifecycle', 'False', 'Legacy')],
      want: ['Warning ModelLegacy'],
    },
    {
      name: 'end of life and revoked',
      before: [c('ModelLifecycle', 'False', 'Legacy'), c('AccessGranted', 'True', 'Ready')],
      after: [c('ModelLifecycle', 'False', 'ModelEndOfLife'), c('AccessGranted', 'False', 'AccessRevoked')],
      want: ['Warning ModelEndOfLife', 'Warning AccessRevoked'],
    },
  ])('$name', ({ before, after, want }) => {
    expect(transitionEvents(before, after).map((e) => `${e.type} ${e.reason}`)).toEqual(want);
  });

  it('marks throttle transitions for the metric', () => {
    const [e] = transitionEvents([], [c('Throttled', 'True', 'MonthlyQuotaExceeded')]);
    expect(e?.throttle).toBe('throttled');
  });
});
