/**
 * A guard at the head of every owner's stack: when the names its status records were made by an
 * earlier version under another name prefix (a `clusterName` with hyphens maps to a hyphen-free
 * segment since the security scope was introduced), the new names would find nothing and create
 * a second, empty stack, orphaning the first. The guard fails instead, naming what it found, so
 * nothing is created, changed or deleted (a deletion is refused too) until an operator decides;
 * docs/operations.md (Upgrading) says how.
 */
import { CONDITION, REASON } from '../../api/v1alpha1/constants.js';
import { TerminalError } from '../../core/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation } from '../managed-resource.js';

/** The names status records and the prefix this version gives every name. */
export interface NamingGuardSpec {
  /** Bucket and role names recorded on status. */
  recorded: string[];
  prefix: string;
}

/** Names recorded under another prefix. */
type Stale = string[];

function staleMessage(stale: Stale, prefix: string): string {
  return (
    `status records AWS resources named by an earlier version (${stale.join(', ')}); this version names them ${prefix || 'otherwise'}…, ` +
    'so it would not find them. Nothing was created, changed or deleted: see docs/operations.md, "Upgrading", for the ways on'
  );
}

/** The naming guard (no AWS calls). */
export class NamingGuard implements ManagedResource<NamingGuardSpec, Stale> {
  readonly kind = 'ResourceNames';
  readonly conditionType = CONDITION.StorageReady;
  /** Nothing to create: absent (all names current) is the good state. */
  readonly implicit = true;
  readonly check = true;

  observe(_ctx: DriverContext, spec: NamingGuardSpec): Promise<Observation<Stale>> {
    const stale = spec.recorded.filter((n) => n !== '' && !n.startsWith(spec.prefix));
    if (stale.length === 0) return Promise.resolve({ state: 'absent' });
    return Promise.resolve({
      state: 'failed',
      observed: stale,
      reason: REASON.ResourceNamesChanged,
      message: staleMessage(stale, spec.prefix),
    });
  }

  compare(): string[] {
    return [];
  }

  create(): Promise<ExternalIds> {
    return Promise.resolve({});
  }

  update(): Promise<void> {
    return Promise.resolve();
  }

  /** A deletion must not release the owner while its old-named resources are unaccounted for. */
  delete(_ctx: DriverContext, stale: Stale): Promise<void> {
    return Promise.reject(new TerminalError(REASON.ResourceNamesChanged, staleMessage(stale, '')));
  }
}

/** The bucket and role names recorded among `resources` (role ARNs reduced to their names). */
export function recordedNames(resources: Record<string, unknown> | undefined): string[] {
  const r = resources ?? {};
  const name = (v: unknown): string => (typeof v === 'string' ? (v.split('/').pop() ?? '') : '');
  return [name(r.bucket), name(r.roleArn), name(r.knowledgeBaseRoleArn)].filter((n) => n !== '');
}
