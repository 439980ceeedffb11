import {
  type BedrockAgentClient,
  GetKnowledgeBaseCommand,
  type KnowledgeBase,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UpdateKnowledgeBaseCommand,
} from '@aws-sdk/client-bedrock-agent';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { runResources } from '../../controllers/engine.js';
import { nextInSync } from '../../controllers/in-sync.js';
import { FRESH_MS, SpotChecks } from '../../controllers/spot-checks.js';
import { TerminalError } from '../../core/errors.js';
import { FOREIGN_REASON } from '../../core/plan.js';
import { TAG, ownerTags } from '../../core/tags.js';
import type { BoundResource } from '../managed-resource.js';
import { type KnowledgeBaseStorage, wantedFieldMapping } from './compare.js';
import { KB_IMMUTABLE_CHANGED, KnowledgeBaseDriver, type KnowledgeBaseSpec } from './driver.js';

const owner = { cluster: 'prod', kind: 'Tenant' as const, name: 'acme', uid: 'uid-1', tier: 'premium' };
const spec: KnowledgeBaseSpec = {
  name: 'rag-prod-t-acme',
  description: 'knowledge base of Tenant acme',
  owner,
  roleArn: 'arn:aws:iam::111122223333:role/rag-tenant/rag-prod-t-acme-kb',
  embeddingModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0',
  dimensions: 1024,
  storage: {
    type: 'OPENSEARCH_SERVERLESS',
    collectionArn: 'arn:aws:aoss:us-east-1:111122223333:collection/abc123',
    indexName: 'rag-prod-t-acme',
  },
};
const aoss = spec.storage.type === 'OPENSEARCH_SERVERLESS' ? spec.storage : undefined;
const ctx = { signal: new AbortController().signal, logger: pino({ level: 'silent' }) };

/** A knowledge base as GetKnowledgeBase returns it, with AWS's extra fields in the configuration. */
function found(over: Partial<KnowledgeBase> = {}, collectionArn = aoss?.collectionArn): KnowledgeBase {
  return {
    knowledgeBaseId: 'KB12345678',
    knowledgeBaseArn: 'arn:aws:bedrock:us-east-1:111122223333:knowledge-base/KB12345678',
    name: spec.name,
    description: spec.description,
    roleArn: spec.roleArn,
    status: 'ACTIVE',
    createdAt: new Date(),
    updatedAt: new Date(),
    knowledgeBaseConfiguration: {
      type: 'VECTOR',
      vectorKnowledgeBaseConfiguration: {
        embeddingModelArn: spec.embeddingModelArn,
        embeddingModelConfiguration: { bedrockEmbeddingModelConfiguration: { dimensions: 1024, embeddingDataType: 'FLOAT32' } },
      },
    },
    storageConfiguration: {
      type: 'OPENSEARCH_SERVERLESS',
      opensearchServerlessConfiguration: { collectionArn, vectorIndexName: aoss?.indexName, fieldMapping: wantedFieldMapping() },
    },
    ...over,
  };
}

/** A bedrock-agent client that answers from `kb` and records what it was sent. */
function stubAgent(kb: KnowledgeBase): { agent: BedrockAgentClient; sent: unknown[] } {
  const sent: unknown[] = [];
  const send = (cmd: unknown): Promise<unknown> => {
    sent.push(cmd);
    if (cmd instanceof GetKnowledgeBaseCommand) return Promise.resolve({ knowledgeBase: kb });
    if (cmd instanceof ListTagsForResourceCommand) return Promise.resolve({ tags: ownerTags(owner) });
    return Promise.resolve({ knowledgeBase: kb });
  };
  return { agent: { send } as unknown as BedrockAgentClient, sent };
}

describe('KnowledgeBaseDriver drift', () => {
  it('a role changed behind its back is observed ready with roleArn in the diff, and repaired with UpdateKnowledgeBase sending back the configurations as found', async () => {
    const kb = found({ roleArn: 'arn:aws:iam::111122223333:role/someone-elses' });
    const { agent, sent } = stubAgent(kb);
    const d = new KnowledgeBaseDriver(agent);
    const o = await d.observe(ctx, spec, { knowledgeBaseId: 'KB12345678' });
    expect(o.state).toBe('ready');
    if (o.state !== 'ready') return;
    const diff = d.compare(spec, o.observed);
    expect(diff).toEqual(['roleArn']);
    await d.update(ctx, spec, o.observed, diff);
    const update = sent.find((c): c is UpdateKnowledgeBaseCommand => c instanceof UpdateKnowledgeBaseCommand);
    expect(update?.input).toEqual({
      knowledgeBaseId: 'KB12345678',
      name: spec.name,
      description: spec.description,
      roleArn: spec.roleArn,
      knowledgeBaseConfiguration: kb.knowledgeBaseConfiguration,
      storageConfiguration: kb.storageConfiguration,
    });
    expect(sent.some((c) => c instanceof TagResourceCommand)).toBe(false);
  });

  it('another collection (fixed at creation) is a failure that says what differs and what to do, never an update', async () => {
    const { agent } = stubAgent(found({}, 'arn:aws:aoss:us-east-1:111122223333:collection/zzz999'));
    const d = new KnowledgeBaseDriver(agent);
    const o = await d.observe(ctx, spec, { knowledgeBaseId: 'KB12345678' });
    expect(o).toMatchObject({ state: 'failed', reason: KB_IMMUTABLE_CHANGED });
    if (o.state !== 'failed') return;
    expect(o.message).toContain('collection is "arn:aws:aoss:us-east-1:111122223333:collection/zzz999", wanted');
    expect(o.message).toContain('delete knowledge base KB12345678');
    await expect(d.update(ctx, spec, o.observed, d.compare(spec, o.observed))).rejects.toBeInstanceOf(TerminalError);
  });

  it('a knowledge base still UPDATING waits rather than judging its fields', async () => {
    const { agent } = stubAgent(found({ status: 'UPDATING', roleArn: 'arn:aws:iam::111122223333:role/other' }));
    const o = await new KnowledgeBaseDriver(agent).observe(ctx, spec, { knowledgeBaseId: 'KB12345678' });
    expect(o).toMatchObject({ state: 'pending', reason: 'Updating' });
  });

  it("the first spot check reads the tags; the second's one GetKnowledgeBase sees the role, model and storage", async () => {
    const { agent, sent } = stubAgent(found({ roleArn: 'arn:aws:iam::111122223333:role/other' }));
    const d = new KnowledgeBaseDriver(agent);
    const last = await d.observe(ctx, spec, { knowledgeBaseId: 'KB12345678' });
    if (last.state !== 'ready') throw new Error(last.state);
    const checks = d.spotChecks(spec, { ...last.observed, roleArn: spec.roleArn });
    expect(checks).toHaveLength(2);
    sent.length = 0;
    expect(await checks[0]?.(ctx)).toEqual({ ...last.observed, roleArn: spec.roleArn });
    expect(sent).toEqual([expect.any(ListTagsForResourceCommand)]);
    sent.length = 0;
    const checked = await checks[1]?.(ctx);
    expect(sent).toHaveLength(1);
    expect(checked && d.compare(spec, checked)).toEqual(['roleArn']);
  });

  it('a managed knowledge base is created MANAGED with no storage configuration, read back, and repaired sending back what was found', async () => {
    const key = 'arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555';
    const managed: KnowledgeBaseSpec = { ...spec, storage: { type: 'MANAGED', kmsKeyArn: key } };
    const config = {
      type: 'MANAGED' as const,
      managedKnowledgeBaseConfiguration: { embeddingModelType: 'MANAGED' as const, serverSideEncryptionConfiguration: { kmsKeyArn: key } },
    };
    const { agent, sent } = stubAgent(
      found({ knowledgeBaseConfiguration: config, storageConfiguration: undefined, roleArn: 'arn:aws:iam::111122223333:role/other' }),
    );
    const driver = new KnowledgeBaseDriver(agent);
    await driver.create(ctx, managed);
    const create = (sent[0] as { input: Record<string, unknown> }).input;
    expect(create.knowledgeBaseConfiguration).toEqual(config);
    expect(create.storageConfiguration).toBeUndefined();
    const obs = await driver.observe(ctx, managed, { knowledgeBaseId: 'KB12345678' });
    expect(obs.state).toBe('ready');
    if (obs.state !== 'ready') return;
    expect(obs.observed).toMatchObject({ storageType: 'MANAGED', embeddingModelType: 'MANAGED', managedKmsKeyArn: key });
    const diff = driver.compare(managed, obs.observed);
    expect(diff).toEqual(['roleArn']);
    await driver.update(ctx, managed, obs.observed, diff);
    const update = sent.find((c): c is UpdateKnowledgeBaseCommand => c instanceof UpdateKnowledgeBaseCommand);
    expect(update?.input).toMatchObject({ roleArn: managed.roleArn, knowledgeBaseConfiguration: config });
    expect(update?.input.storageConfiguration).toBeUndefined();
    // Another key than the spec's is fixed at creation: a failure naming it, never an update.
    const other = await driver.observe(ctx, { ...managed, storage: { type: 'MANAGED' } }, { knowledgeBaseId: 'KB12345678' });
    expect(other).toMatchObject({ state: 'failed', reason: KB_IMMUTABLE_CHANGED });
    expect(other.state === 'failed' ? other.message : '').toContain("managed knowledge base's key");
  });
});

/** Knowledge bases by id, with their tags, and the operations sent (by name, then what they named). */
function account(kbs: { kb: KnowledgeBase; tags: Record<string, string> }[]) {
  const world = new Map(kbs.map((k) => [k.kb.knowledgeBaseId ?? '', k]));
  const ops: string[] = [];
  const named: unknown[] = [];
  const byArn = (arn: unknown) => [...world.values()].find((k) => k.kb.knowledgeBaseArn === arn);
  const gone = () => Promise.reject(Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' }));
  const send = (cmd: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> => {
    const op = cmd.constructor.name.replace(/Command$/, '');
    ops.push(op);
    named.push(cmd.input.knowledgeBaseId ?? cmd.input.resourceArn);
    const k = world.get(String(cmd.input.knowledgeBaseId)) ?? byArn(cmd.input.resourceArn);
    switch (op) {
      case 'GetKnowledgeBase':
        return k ? Promise.resolve({ knowledgeBase: k.kb }) : gone();
      case 'ListTagsForResource':
        return k ? Promise.resolve({ tags: { ...k.tags } }) : gone();
      case 'TagResource':
        if (!k) return gone();
        Object.assign(k.tags, cmd.input.tags);
        return Promise.resolve({});
      case 'UpdateKnowledgeBase':
        if (!k) return gone();
        k.kb = { ...k.kb, roleArn: cmd.input.roleArn as string };
        return Promise.resolve({ knowledgeBase: k.kb });
      case 'CreateKnowledgeBase': {
        const kb = found({
          knowledgeBaseId: 'KBNEW00001',
          knowledgeBaseArn: 'arn:aws:bedrock:us-east-1:111122223333:knowledge-base/KBNEW00001',
        });
        world.set('KBNEW00001', { kb, tags: { ...(cmd.input.tags as Record<string, string>) } });
        return Promise.resolve({ knowledgeBase: kb });
      }
    }
    return Promise.reject(new Error(`unexpected ${op}`));
  };
  return { world, ops, named, agent: { send } as unknown as BedrockAgentClient };
}

const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-05T00:00:00Z');
const globex = { ...owner, name: 'globex', uid: 'uid-2' };

/**
 * An account whose knowledge base a first operator process found in sync (recording status.inSync
 * and its id), and passes of a restarted process; `down` changes AWS while it was down.
 */
async function restarted(down: (a: ReturnType<typeof account>) => void = () => undefined, ids = { knowledgeBaseId: 'KB12345678' }) {
  const a = account([
    { kb: found(), tags: ownerTags(owner) },
    {
      kb: found({ knowledgeBaseId: 'KBGLOBEX01', knowledgeBaseArn: 'arn:aws:bedrock:us-east-1:111122223333:knowledge-base/KBGLOBEX01' }),
      tags: ownerTags(globex),
    },
  ]);
  const driver = new KnowledgeBaseDriver(a.agent);
  const recorded = { knowledgeBaseId: 'KB12345678' };
  const bound = (at: Record<string, string>): BoundResource[] => [{ driver, spec, ids: at }];
  const first = await runResources(ctx, bound(recorded), { spot: new SpotChecks().pass('t', 'g1', T0), known: recorded });
  expect(first.complete).toBe(true);
  const inSync = nextInSync(undefined, first.digest, new Date(T0));
  down(a);
  // Status as the restarted process reads it: what the first one recorded, unless forged.
  const status: Record<string, string> = { ...ids };
  const spots = new SpotChecks();
  let now = T0 + HOUR;
  const pass = async () => {
    a.ops.length = 0;
    a.named.length = 0;
    now += FRESH_MS * 2;
    const r = await runResources(ctx, bound(status), {
      spot: spots.pass('t', 'g1', now, undefined, inSync),
      known: status,
      onCreated: (_kind, made) => Promise.resolve(void Object.assign(status, made)),
    });
    return { ops: [...a.ops], named: [...a.named], r };
  };
  return { a, status, pass };
}

describe('KnowledgeBaseDriver after a restart that trusts status.inSync', () => {
  it('reads it once, its tags at the ARN its id gives, and publishes it; the next pass reads the rest', async () => {
    const { pass } = await restarted();
    const first = await pass();
    expect(first.ops).toEqual(['ListTagsForResource']);
    expect(first.named).toEqual([found().knowledgeBaseArn]);
    expect(first.r).toMatchObject({ complete: true, outputs: { knowledgeBaseId: 'KB12345678' } });
    expect((await pass()).ops).toEqual(['GetKnowledgeBase']);
  });

  it('finds it deleted while the operator was down with that read, and makes it again in that pass', async () => {
    const { status, pass } = await restarted((a) => a.world.delete('KB12345678'));
    const { ops, r } = await pass();
    expect(ops.slice(0, 3)).toEqual(['ListTagsForResource', 'GetKnowledgeBase', 'CreateKnowledgeBase']);
    expect(status.knowledgeBaseId).toBe('KBNEW00001');
    expect(r).toMatchObject({ complete: true, outputs: { knowledgeBaseId: 'KBNEW00001' } });
  });

  it('finds it re-tagged to another owner with that read, observes it in full and refuses it', async () => {
    const { a, pass } = await restarted((w) => Object.assign(w.world.get('KB12345678')?.tags ?? {}, ownerTags(globex)));
    const { ops, r } = await pass();
    expect(ops).toEqual(['ListTagsForResource', 'GetKnowledgeBase', 'ListTagsForResource']);
    expect(r.complete).toBe(false);
    expect(r.terminal?.reason).toBe(FOREIGN_REASON);
    expect(a.world.get('KB12345678')?.tags).toEqual(ownerTags(globex));
  });

  it('refuses a knowledge base of another owner that a forged status names, found by that read', async () => {
    const { a, pass } = await restarted(undefined, { knowledgeBaseId: 'KBGLOBEX01' });
    const { ops, named, r } = await pass();
    expect(ops).toEqual(['ListTagsForResource', 'GetKnowledgeBase', 'ListTagsForResource']);
    expect(named[0]).toBe('arn:aws:bedrock:us-east-1:111122223333:knowledge-base/KBGLOBEX01');
    expect(r.terminal?.reason).toBe(FOREIGN_REASON);
    expect(a.world.get('KBGLOBEX01')?.tags).toEqual(ownerTags(globex));
  });

  it('repairs tags drifted while the operator was down in that pass', async () => {
    const { a, pass } = await restarted((w) => delete w.world.get('KB12345678')?.tags[TAG.tier]);
    const { ops } = await pass();
    expect(ops).toEqual(['ListTagsForResource', 'GetKnowledgeBase', 'ListTagsForResource', 'TagResource']);
    expect(a.world.get('KB12345678')?.tags).toEqual(ownerTags(owner));
  });

  it('repairs a role changed while the operator was down at the next check, which reads it', async () => {
    const other = 'arn:aws:iam::111122223333:role/other';
    const { a, pass } = await restarted((w) => Object.assign(w.world.get('KB12345678')?.kb ?? {}, { roleArn: other }));
    expect((await pass()).ops).toEqual(['ListTagsForResource']);
    const next = await pass();
    expect(next.ops).toEqual(['GetKnowledgeBase', 'GetKnowledgeBase', 'ListTagsForResource', 'UpdateKnowledgeBase']);
    expect(a.world.get('KB12345678')?.kb.roleArn).toBe(spec.roleArn);
  });

  it.each<[string, KnowledgeBaseStorage]>([
    ['OpenSearch Serverless', spec.storage],
    ['S3 Vectors', { type: 'S3_VECTORS', indexArn: 'arn:aws:s3vectors:us-east-1:111122223333:bucket/b/index/i' }],
    ['managed', { type: 'MANAGED', kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k' }],
    ['managed without a key', { type: 'MANAGED' }],
  ])('its in-sync shape on %s is in sync with the spec', (_store, storage) => {
    const d = new KnowledgeBaseDriver(account([]).agent);
    const s = { ...spec, storage };
    expect(d.compare(s, d.inSyncAs(s, { knowledgeBaseId: 'KB12345678' }))).toEqual([]);
  });

  it('without an id on status, its in-sync shape has no ARN and the first check reads nothing (a full observation follows)', async () => {
    const a = account([]);
    const d = new KnowledgeBaseDriver(a.agent);
    const shape = d.inSyncAs(spec, {});
    expect(shape.arn).toBe('');
    expect(await d.spotChecks(spec, shape)[0]?.(ctx)).toBeUndefined();
    expect(a.ops).toEqual([]);
  });
});
