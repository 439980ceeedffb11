/**
 * What a model's Bedrock lifecycle means for a grant, pure: ACTIVE is fine; LEGACY warns with its
 * end-of-life date; past end of life, or a model Bedrock no longer knows, loses access.
 */
import { CONDITION, REASON } from '../../api/v1alpha1/constants.js';
import type { ConditionInput } from '../conditions.js';

/** A model's lifecycle as read from Bedrock (GetFoundationModel modelDetails.modelLifecycle). */
export type ModelLifecycle =
  | { state: 'Active' }
  | { state: 'Legacy'; endOfLife?: Date; extendedAccessFrom?: Date }
  | { state: 'NotFound' }
  /** The read failed (permissions, throttling): nothing is decided on it. */
  | { state: 'Unknown'; error: string };

/** The verdict on a grant. */
export interface LifecycleVerdict {
  condition: ConditionInput;
  /** Access must be removed. */
  endOfLife: boolean;
  /** When to look again (the end-of-life date of a legacy model). */
  recheckAt?: Date;
}

const day = (d: Date): string => d.toISOString().slice(0, 10);

/** Decides; see the module comment. */
export function lifecycleVerdict(l: ModelLifecycle, model: string, now: Date): LifecycleVerdict {
  const type = CONDITION.ModelLifecycle;
  switch (l.state) {
    case 'Active':
      return { endOfLife: false, condition: { type, status: 'True', reason: REASON.ModelActive, message: `model "${model}" is active` } };
    case 'Legacy': {
      if (l.endOfLife && l.endOfLife.getTime() <= now.getTime()) {
        const message = `model "${model}" reached its end of life on ${day(l.endOfLife)}: access was removed; grant an active model instead`;
        return { endOfLife: true, condition: { type, status: 'False', reason: REASON.ModelEndOfLife, message } };
      }
      const when = l.endOfLife ? `reaches its end of life on ${day(l.endOfLife)}` : 'has no end-of-life date yet';
      const extended = l.extendedAccessFrom ? ` (extended access, at higher prices, from ${day(l.extendedAccessFrom)})` : '';
      return {
        endOfLife: false,
        recheckAt: l.endOfLife,
        condition: {
          type,
          status: 'False',
          reason: REASON.ModelLegacy,
          message: `model "${model}" is legacy and ${when}${extended}: move to an active model before then`,
        },
      };
    }
    case 'NotFound':
      return {
        endOfLife: true,
        condition: {
          type,
          status: 'False',
          reason: REASON.ModelEndOfLife,
          message: `Bedrock does not offer model "${model}" in this Region (retired or unknown): access was removed; grant an available model`,
        },
      };
    case 'Unknown':
      return {
        endOfLife: false,
        condition: {
          type,
          status: 'Unknown',
          reason: REASON.LifecycleUnknown,
          message: `could not read the lifecycle of model "${model}" (${l.error}); access is unchanged`,
        },
      };
  }
}
