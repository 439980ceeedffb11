/**
 * A customer managed KMS key with an alias, rotation on, and ownership tags. The key is created
 * with a key policy naming the operator (core/policies/kms.ts says why it is not tagged by
 * CreateKey) and tagged right after. KMS keys have no unique name and CreateKey takes no
 * idempotency token, so the key's description carries its owner's UID, its id is persisted on
 * status the moment CreateKey returns, and before creating a key the driver looks for one of this
 * owner (tagged, or untagged with the owner's mark: a create that crashed before its tags, alias
 * or status write), so a crash at any point never leaves two keys. Deleting removes the alias and
 * schedules the key's deletion (7-30 days, during which it can be cancelled).
 */
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  GetKeyRotationStatusCommand,
  type KMSClient,
  type KeyMetadata,
  ListKeysCommand,
  ListResourceTagsCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
} from '@aws-sdk/client-kms';
import { CONDITION, REASON } from '../../api/v1alpha1/constants.js';
import { type OwnerRef, TAG, ownedBy, ownerTags, retainedBy, tagDrift } from '../../core/tags.js';
import { isNotFound, deletedOrGone } from '../../adapters/aws/errors.js';
import type { DriverContext, ExternalIds, ManagedResource, Observation, SpotCheck } from '../managed-resource.js';
import { spotCheck } from '../spot-check.js';
import { TerminalError } from '../../core/errors.js';
import type { PolicyDocument } from '../../core/policies/document.js';
import { readyIfOwned } from '../ownership.js';

/** The key as wanted. */
export interface KeySpec {
  alias: string;
  description: string;
  owner: OwnerRef;
  /** Days between ScheduleKeyDeletion and the key's deletion (7-30). */
  pendingWindowDays: number;
  /** The key policy written at creation (keyPolicy in core/policies/kms.ts). */
  policy: PolicyDocument;
}

/** The mark in a key's description that names its owner until its tags are on. */
export function ownerMark(owner: OwnerRef): string {
  return `[${TAG.uid}=${owner.uid}]`;
}

/** The key as found. */
export interface KeyObserved {
  keyId: string;
  alias: string;
  pendingWindowDays: number;
  arn: string;
  aliased: boolean;
  rotation: boolean;
  tags: Record<string, string>;
}

const kmsTagList = (owner: OwnerRef): { TagKey: string; TagValue: string }[] =>
  Object.entries(ownerTags(owner)).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));

const kmsTags = (list: { TagKey?: string; TagValue?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((list ?? []).flatMap((t) => (t.TagKey ? [[t.TagKey, t.TagValue ?? '']] : [])));

/** The KMS key driver. */
export class KmsKeyDriver implements ManagedResource<KeySpec, KeyObserved> {
  readonly kind = 'KmsKey';
  readonly conditionType = CONDITION.StorageReady;
  constructor(private readonly kms: KMSClient) {}

  private async describe(ctx: DriverContext, keyId: string): Promise<KeyMetadata | undefined> {
    try {
      return (await this.kms.send(new DescribeKeyCommand({ KeyId: keyId }), { abortSignal: ctx.signal })).KeyMetadata;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async observe(ctx: DriverContext, spec: KeySpec, ids: ExternalIds): Promise<Observation<KeyObserved>> {
    const byAlias = await this.describe(ctx, spec.alias);
    // No alias yet (or any more): the id persisted on status still finds the key.
    const meta = byAlias ?? (ids.kmsKeyArn ? await this.describe(ctx, ids.kmsKeyArn) : undefined);
    if (!meta?.KeyId || !meta.Arn || meta.KeyState === 'PendingDeletion' || meta.KeyState === 'PendingReplicaDeletion')
      return { state: 'absent' };
    const opts = { abortSignal: ctx.signal };
    const [tags, rotation] = await Promise.all([
      this.kms.send(new ListResourceTagsCommand({ KeyId: meta.KeyId }), opts),
      this.kms.send(new GetKeyRotationStatusCommand({ KeyId: meta.KeyId }), opts),
    ]);
    const observed: KeyObserved = {
      keyId: meta.KeyId,
      alias: spec.alias,
      pendingWindowDays: spec.pendingWindowDays,
      arn: meta.Arn,
      aliased: !!byAlias,
      rotation: !!rotation.KeyRotationEnabled,
      tags: kmsTags(tags.Tags),
    };
    // The driver tags a key before it makes its alias, so a key found by the alias and untagged
    // is someone else's (a crash before tagging leaves no alias: findOrphan covers that).
    const owned = readyIfOwned(observed, observed.tags, spec.owner, `KMS alias ${spec.alias}'s key`, { taggedAtCreate: !!byAlias });
    if (owned.state === 'ready' && (meta.KeyState === 'Creating' || meta.KeyState === 'Updating')) {
      return {
        state: 'pending',
        observed,
        reason: 'KeyCreating',
        message: `KMS key ${meta.KeyId} is ${meta.KeyState}`,
        retryAfterMs: 5_000,
      };
    }
    return owned;
  }

  /**
   * The key behind the alias (still this key, usable, aliased), its rotation and its tags: one read
   * each. A key gone, scheduled for deletion or replaced behind the alias observes in full.
   *
   * No `inSyncAs`: no one read finds the key and its owner. DescribeKey (by alias: which key, its
   * state) returns no tags; ListResourceTags takes the key's id, which only status records (and
   * anyone who may write status can forge), and still answers for a key scheduled for deletion.
   * A restart observes keys in full.
   */
  spotChecks(spec: KeySpec, last: KeyObserved): SpotCheck<KeyObserved>[] {
    return [
      spotCheck(async (_opts, ctx) => {
        const meta = await this.describe(ctx, spec.alias);
        return meta?.KeyId === last.keyId && meta.KeyState === 'Enabled' ? { ...last, aliased: true } : undefined;
      }),
      spotCheck(async (opts) => ({
        ...last,
        rotation: !!(await this.kms.send(new GetKeyRotationStatusCommand({ KeyId: last.keyId }), opts)).KeyRotationEnabled,
      })),
      spotCheck(async (opts) => ({
        ...last,
        tags: kmsTags((await this.kms.send(new ListResourceTagsCommand({ KeyId: last.keyId }), opts)).Tags),
      })),
    ];
  }

  compare(spec: KeySpec, o: KeyObserved): string[] {
    const diff: string[] = [];
    if (!o.aliased) diff.push('alias');
    if (!o.rotation) diff.push('rotation');
    if (tagDrift(o.tags, ownerTags(spec.owner)).length) diff.push('tags');
    return diff;
  }

  /**
   * A key of this owner left by a create that crashed before its alias was made: tagged for the
   * owner, or untagged (a crash before the tags) with the owner's mark in its description.
   */
  private async findOrphan(ctx: DriverContext, owner: OwnerRef): Promise<string | undefined> {
    const opts = { abortSignal: ctx.signal };
    let marker: string | undefined;
    do {
      const page = await this.kms.send(new ListKeysCommand({ Marker: marker, Limit: 1000 }), opts);
      for (const k of page.Keys ?? []) {
        if (!k.KeyId) continue;
        const tags = kmsTags((await this.kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId }), opts)).Tags);
        const untagged = Object.keys(tags).length === 0;
        if (!ownedBy(tags, owner) && !untagged) continue;
        const meta = await this.describe(ctx, k.KeyId);
        if (!meta || meta.KeyState === 'PendingDeletion') continue;
        if (!untagged || (owner.uid && meta.Description?.includes(ownerMark(owner)))) return k.KeyId;
      }
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    return undefined;
  }

  async create(ctx: DriverContext, spec: KeySpec): Promise<ExternalIds> {
    const opts = { abortSignal: ctx.signal };
    let keyId = await this.findOrphan(ctx, spec.owner);
    let arn: string | undefined;
    if (!keyId) {
      const out = await this.kms.send(
        new CreateKeyCommand({
          Description: `${spec.description.slice(0, 8000)} ${ownerMark(spec.owner)}`,
          KeyUsage: 'ENCRYPT_DECRYPT',
          KeySpec: 'SYMMETRIC_DEFAULT',
          Origin: 'AWS_KMS',
          MultiRegion: false,
          Policy: JSON.stringify(spec.policy),
        }),
        opts,
      );
      keyId = out.KeyMetadata?.KeyId;
      arn = out.KeyMetadata?.Arn;
    }
    if (!keyId) throw new Error('KMS CreateKey returned no key id');
    // The key policy lets the operator tag the key it just created (and only its own keys).
    await this.kms.send(new TagResourceCommand({ KeyId: keyId, Tags: kmsTagList(spec.owner) }), opts);
    await this.kms.send(new CreateAliasCommand({ AliasName: spec.alias, TargetKeyId: keyId }), opts);
    await this.kms.send(new EnableKeyRotationCommand({ KeyId: keyId }), opts);
    // KMS accepts the ARN wherever it takes a key id; only the ARN is a status field.
    return arn ? { kmsKeyArn: arn } : {};
  }

  async update(ctx: DriverContext, spec: KeySpec, o: KeyObserved, diff: string[]): Promise<void> {
    const opts = { abortSignal: ctx.signal };
    if (diff.includes('alias')) await this.kms.send(new CreateAliasCommand({ AliasName: spec.alias, TargetKeyId: o.keyId }), opts);
    if (diff.includes('rotation')) await this.kms.send(new EnableKeyRotationCommand({ KeyId: o.keyId }), opts);
    if (diff.includes('tags')) await this.kms.send(new TagResourceCommand({ KeyId: o.keyId, Tags: kmsTagList(spec.owner) }), opts);
  }

  async delete(ctx: DriverContext, o: KeyObserved): Promise<void> {
    const opts = { abortSignal: ctx.signal };
    const retained = retainedBy(o.tags);
    if (retained.length > 0)
      throw new TerminalError(
        REASON.RetainedTenantData,
        `KMS key ${o.keyId} still encrypts the buckets of tenants deleted with deletionPolicy Retain (${retained.slice(0, 5).join(', ')}${retained.length > 5 ? ', ...' : ''}); scheduling its deletion would make their documents unreadable: move or delete those buckets, then remove the key's ${TAG.retainedPrefix}<tenant> tags`,
      );
    if (o.aliased) {
      await deletedOrGone(this.kms.send(new DeleteAliasCommand({ AliasName: o.alias }), opts));
    }
    await this.kms.send(new ScheduleKeyDeletionCommand({ KeyId: o.keyId, PendingWindowInDays: o.pendingWindowDays }), opts);
  }

  outputs(o: KeyObserved): Record<string, string> {
    return { kmsKeyArn: o.arn };
  }
}
