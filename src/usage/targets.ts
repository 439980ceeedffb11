/** What the usage pollers meter: the granted ModelAccess objects, grouped by inference profile. */
import type { CounterOwner } from './gateway-counters.js';

/** A ModelAccess to meter: its key, its profile, and who the gateway counts its tokens under. */
export interface UsageTarget extends CounterOwner {
  key: string;
  profileArn: string;
}

/** The targets by profile ARN: the ModelAccess keys to requeue and whose counters to read. */
export interface ProfileTargets {
  keys: Map<string, string[]>;
  owners: Map<string, CounterOwner>;
}

/** Groups targets by profile (a profile belongs to one ModelAccess; a stale cache may briefly show two). */
export function byProfile(targets: readonly UsageTarget[]): ProfileTargets {
  const keys = new Map<string, string[]>();
  const owners = new Map<string, CounterOwner>();
  for (const t of targets) {
    keys.set(t.profileArn, [...(keys.get(t.profileArn) ?? []), t.key]);
    if (!owners.has(t.profileArn)) owners.set(t.profileArn, { tenant: t.tenant, model: t.model });
  }
  return { keys, owners };
}
