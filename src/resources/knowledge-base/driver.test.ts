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
import { TerminalError } from '../../core/errors.js';
import { ownerTags } from '../../core/tags.js';
import { wantedFieldMapping } from './compare.js';
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

  it("the first spot check's one GetKnowledgeBase sees the role, model and storage; the second the tags", async () => {
    const { agent, sent } = stubAgent(found({ roleArn: 'arn:aws:iam::111122223333:role/other' }));
    const d = new KnowledgeBaseDriver(agent);
    const last = await d.observe(ctx, spec, { knowledgeBaseId: 'KB12345678' });
    if (last.state !== 'ready') throw new Error(last.state);
    const checks = d.spotChecks(spec, { ...last.observed, roleArn: spec.roleArn });
    expect(checks).toHaveLength(2);
    sent.length = 0;
    const checked = await checks[0]?.(ctx);
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
