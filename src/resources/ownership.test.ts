import { describe, expect, it } from 'vitest';
import { MANAGED_BY, TAG, ownedBy, ownerTags } from '../core/tags.js';
import { readyIfOwned } from './ownership.js';

const owner = { cluster: 'prod', kind: 'Tenant' as const, name: 'acme', uid: 'uid-new', tier: 'basic' };
const tagsOf = (uid: string, extra: Record<string, string> = {}): Record<string, string> => ({ ...ownerTags({ ...owner, uid }), ...extra });

describe('readyIfOwned: adoption is bound to the owning object, not its name', () => {
  it.each([
    { name: 'our own resource (same UID): ready', tags: tagsOf('uid-new'), adopt: false, want: 'ready' },
    { name: 'untagged (our create crashed before tagging): ready, tags repaired', tags: {}, adopt: false, want: 'ready' },
    { name: "a deleted predecessor's (another UID): refused", tags: tagsOf('uid-old'), adopt: false, want: 'RetainedResourcesFound' },
    { name: "a deleted predecessor's, with adopt-retained: ready", tags: tagsOf('uid-old'), adopt: true, want: 'ready' },
    {
      name: "another cluster's, even with adopt-retained: NameConflict",
      tags: { ...tagsOf('uid-old'), [TAG.cluster]: 'prod-eu-1' },
      adopt: true,
      want: 'NameConflict',
    },
    { name: "another manager's: NameConflict", tags: { [TAG.managedBy]: 'terraform' }, adopt: true, want: 'NameConflict' },
  ])('$name', ({ tags, adopt, want }) => {
    const o = readyIfOwned({}, tags, { ...owner, adoptRetained: adopt }, 'IAM role rag-prod-t-acme-app');
    expect(o.state === 'failed' ? o.reason : o.state).toBe(want);
    if (want === 'RetainedResourcesFound' && o.state === 'failed') {
      expect(o.message).toContain('uid-old');
      expect(o.message).toContain('rag.tenancy.dev/adopt-retained');
    }
  });

  it("ownedBy (crash recovery's search) never takes a predecessor's resource for this owner's", () => {
    expect(ownedBy(tagsOf('uid-new'), owner)).toBe(true);
    expect(ownedBy(tagsOf('uid-old'), owner)).toBe(false);
    expect(ownedBy({ ...tagsOf('uid-new'), [TAG.managedBy]: `${MANAGED_BY}x` }, owner)).toBe(false);
  });
});
