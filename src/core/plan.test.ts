import { describe, expect, it } from 'vitest';
import type { Observation } from '../resources/managed-resource.js';
import { planStep } from './plan.js';

const absent: Observation<string> = { state: 'absent' };
const ready: Observation<string> = { state: 'ready', observed: 'x' };
const pending: Observation<string> = {
  state: 'pending',
  observed: 'x',
  reason: 'Creating',
  message: 'collection is CREATING',
  retryAfterMs: 10_000,
};
const failed: Observation<string> = { state: 'failed', observed: 'x', reason: 'CollectionFailed', message: 'boom' };
const notOurs = (reason: string): Observation<string> => ({ state: 'failed', observed: 'x', reason, message: 'not ours' });

describe('planStep', () => {
  it.each([
    { name: 'absent and wanted: create', want: true, obs: absent, diff: [], deleting: false, type: 'create' },
    { name: 'ready and equal: nothing', want: true, obs: ready, diff: [], deleting: false, type: 'none' },
    { name: 'ready with drift: update', want: true, obs: ready, diff: ['tags'], deleting: false, type: 'update' },
    { name: 'still creating: wait, never sleep', want: true, obs: pending, diff: [], deleting: false, type: 'wait' },
    { name: 'failed in AWS: fail with its reason', want: true, obs: failed, diff: [], deleting: false, type: 'fail' },
    { name: 'deleting and present: delete', want: true, obs: ready, diff: [], deleting: true, type: 'delete' },
    { name: 'deleting a failed one: delete', want: true, obs: failed, diff: [], deleting: true, type: 'delete' },
    { name: 'deleting and gone: nothing (NotFound counts as gone)', want: true, obs: absent, diff: [], deleting: true, type: 'none' },
    { name: 'deleting while in transition: wait', want: true, obs: pending, diff: [], deleting: true, type: 'wait' },
    { name: 'no longer wanted: delete', want: false, obs: ready, diff: [], deleting: false, type: 'delete' },
    { name: 'not wanted and absent: nothing', want: false, obs: absent, diff: [], deleting: false, type: 'none' },
    // What carries our name but is not ours is never deleted.
    { name: "deleting another owner's: nothing", want: true, obs: notOurs('NameConflict'), diff: [], deleting: true, type: 'none' },
    {
      name: "deleting another account's bucket: nothing",
      want: true,
      obs: notOurs('BucketOwnedElsewhere'),
      diff: [],
      deleting: true,
      type: 'none',
    },
    {
      // The rest of the stack (an untagged prefix, an index) holds the predecessor's data too.
      name: "deleting meets a retained predecessor's: the deletion stops",
      want: true,
      obs: notOurs('RetainedResourcesFound'),
      diff: [],
      deleting: true,
      type: 'fail',
    },
  ])('$name', ({ want, obs, diff, deleting, type }) => {
    expect(planStep(want, obs, diff, deleting).type).toBe(type);
  });

  it('a wait carries the observed delay and reason', () => {
    expect(planStep(true, pending, [], false)).toEqual({
      type: 'wait',
      afterMs: 10_000,
      reason: 'Creating',
      message: 'collection is CREATING',
    });
  });
});
