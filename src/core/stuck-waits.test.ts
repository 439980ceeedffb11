import { describe, expect, it } from 'vitest';
import type { Condition } from '../api/v1alpha1/types.js';
import { STUCK_AFTER_MS, escalateStuckWait } from './stuck-waits.js';

const wait = {
  type: 'KnowledgeBaseReady',
  status: 'False' as const,
  reason: 'PermissionsPropagating',
  message: 'Bedrock cannot use the role yet',
};
const since = (ms: number): Condition => ({ ...wait, lastTransitionTime: new Date(Date.parse('2026-11-23T10:00:00Z') - ms).toISOString() });
const now = new Date('2026-11-23T10:00:00Z');

describe('escalateStuckWait', () => {
  it('leaves a propagation wait alone while it could still be propagation', () => {
    expect(escalateStuckWait(wait, since(STUCK_AFTER_MS - 1000), now)).toEqual(wait);
    expect(escalateStuckWait(wait, undefined, now)).toEqual(wait);
  });

  it('calls it what it is after ten minutes, and says what to check', () => {
    const out = escalateStuckWait(wait, since(STUCK_AFTER_MS + 60_000), now);
    expect(out.reason).toBe('PermissionsNotEffective');
    expect(out.message).toContain('still refused after 11 minutes');
    expect(out.message).toContain('permissions boundary');
    // Stays escalated on later passes (the condition kept its transition time).
    expect(escalateStuckWait(wait, { ...since(STUCK_AFTER_MS * 2), reason: out.reason }, now).reason).toBe('PermissionsNotEffective');
  });

  it('never touches other reasons', () => {
    const other = { ...wait, reason: 'Creating' };
    expect(escalateStuckWait(other, since(STUCK_AFTER_MS * 3), now)).toEqual(other);
  });
});
