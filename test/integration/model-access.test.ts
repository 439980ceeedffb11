/**
 * Model access over the wire: the ModelAccess reconciler and the usage poller, built by the
 * composition root's own builder (buildModelAccess in src/operator.ts), against moto (IAM, CloudWatch) and the Bedrock models fake, with an
 * in-memory Kubernetes and a manual clock. Grants a profile and a role policy, meters usage and
 * cost from seeded metrics, throttles mid-day and lifts it at the next UTC day, revokes when the
 * approval goes or the model retires, warns on a legacy model, and leaves nothing when deleted.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateInferenceProfileCommand } from '@aws-sdk/client-bedrock';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetRolePolicyCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Condition, ModelAccess, Tenant, TenantTier } from '../../src/api/v1alpha1/types.js';
import type { AwsClients } from '../../src/adapters/aws/clients.js';
import type { Config } from '../../src/config.js';
import { runResources } from '../../src/controllers/engine.js';
import { type ModelAccessParts, buildModelAccess } from '../../src/operator.js';
import { modelPolicyName } from '../../src/core/model-access/names.js';
import { ROLE_PATH, roleName } from '../../src/core/naming.js';
import { parsePolicy, policy } from '../../src/core/policies/document.js';
import type { EventRecorder } from '../../src/ports/kube.js';
import { IamRoleDriver, type RoleSpec } from '../../src/resources/iam-role/driver.js';
import { ManualClock } from '../../src/runtime/clock.js';
import type { Result } from '../../src/runtime/controller.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { modelIdDimension } from '../../src/usage/queries.js';
import { clientsFor } from '../support/aws.js';
import { type BedrockModelsFake, startBedrockModelsFake } from '../support/fakes/bedrock-models.js';
import { MemoryKind } from '../support/memory-kube.js';
import { type Moto, startMoto } from '../support/moto.js';
import { withModelCheck } from '../support/cluster.js';

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const naming = { prefix: 'rag', cluster: 'test', accountId: '123456789012', region: 'us-east-1' };
const start = Date.parse('2026-11-05T10:00:00Z');

let moto: Moto;
let bedrock: BedrockModelsFake;
let aws: AwsClients;
let clock: ManualClock;
let accesses: MemoryKind<ModelAccess>;
let tenants: MemoryKind<Tenant>;
let tiers: MemoryKind<TenantTier>;
let events: { name: string; type: string; reason: string; message: string }[];
let config: { -readonly [K in 'approvedModels' | 'usage']: Config[K] };
let parts: ModelAccessParts;
const enqueued: string[] = [];
const ctx = { signal: new AbortController().signal, logger: pino({ level: 'silent' }), reconcileId: 't' };

const tenant = (name: string): Tenant => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name, uid: `uid-${name}`, creationTimestamp: new Date(start) },
  spec: { tier: 'basic' },
  status: {
    conditions: [{ type: 'Ready', status: 'True', reason: 'Reconciled', message: 'ready', lastTransitionTime: '2026-11-01T00:00:00Z' }],
  },
});
const access = (name: string, tenantName: string, quota?: ModelAccess['spec']['quota']): ModelAccess => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'ModelAccess',
  metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: new Date(start) },
  spec: { tenantRef: { name: tenantName }, model: MODEL, ...(quota ? { quota } : {}) },
});
const roleSpec = (tenantName: string): RoleSpec => ({
  name: roleName(naming, { kind: 'Tenant', name: tenantName }, 'app'),
  path: ROLE_PATH,
  description: `tenant ${tenantName}`,
  owner: { cluster: 'test', kind: 'Tenant', name: tenantName, uid: `uid-${tenantName}`, tier: 'basic' },
  trust: policy({ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }),
  inline: { 'tenant-access': policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::b/tenants/${tenantName}/*` }) },
});
const tenantRole = (tenantName: string) => ({ driver: new IamRoleDriver(aws.iam, 'TenantRole'), spec: roleSpec(tenantName), ids: {} });

/** Runs passes until the reconciler stops asking to come back soon; returns the last result. */
async function settled(name: string): Promise<Result> {
  for (let i = 0; i < 10; i++) {
    const r = await parts.reconciler.reconcile(name, ctx);
    if (r.requeueAfterMs === undefined || r.requeueAfterMs > 10_000) return r;
  }
  throw new Error(`${name} did not settle`);
}
async function settle(name: string): Promise<ModelAccess | undefined> {
  await settled(name);
  return accesses.get(name);
}
const cond = (a: ModelAccess | undefined, type: string): Condition | undefined => a?.status?.conditions?.find((c) => c.type === type);
const inlineNames = async (tenantName: string): Promise<string[]> =>
  (await aws.iam.send(new ListRolePoliciesCommand({ RoleName: roleSpec(tenantName).name }))).PolicyNames ?? [];
const modelPolicy = async (tenantName: string, accessName: string): Promise<unknown> =>
  parsePolicy(
    (await aws.iam.send(new GetRolePolicyCommand({ RoleName: roleSpec(tenantName).name, PolicyName: modelPolicyName(accessName) })))
      .PolicyDocument,
  );
async function seed(profileArn: string, metric: 'InputTokenCount' | 'OutputTokenCount', at: string, value: number): Promise<void> {
  await aws.cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: 'AWS/Bedrock',
      MetricData: [
        {
          MetricName: metric,
          Dimensions: [{ Name: 'ModelId', Value: modelIdDimension(profileArn) }],
          Timestamp: new Date(at),
          Value: value,
        },
      ],
    }),
  );
}
async function allows(doc: unknown, resource: string, context: Record<string, string> = {}): Promise<string> {
  const r = await runSimulation(
    {
      request: {
        principal: 'arn:aws:iam::123456789012:role/x',
        action: 'bedrock:InvokeModel',
        resource: { resource, accountId: '123456789012' },
        contextVariables: context,
      },
      identityPolicies: [{ name: 'p', policy: doc as never }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (r.resultType === 'error') throw new Error(JSON.stringify(r.errors));
  return r.overallResult;
}

beforeAll(async () => {
  moto = await withModelCheck(await startMoto(join(await mkdtemp(join(tmpdir(), 'tro-moto-')), 'moto.log')), 'moto');
  bedrock = await startBedrockModelsFake();
  aws = clientsFor(moto, bedrock);
});
afterAll(async () => {
  await bedrock?.stop();
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  bedrock.reset();
  clock = new ManualClock(start);
  accesses = new MemoryKind();
  tenants = new MemoryKind();
  tiers = new MemoryKind();
  events = [];
  enqueued.length = 0;
  config = {
    approvedModels: [{ id: MODEL, inputPricePer1k: 0.00025, outputPricePer1k: 0.00125 }],
    usage: { pollSeconds: 300, minStatusWriteSeconds: 60 },
  };
  const recorder: EventRecorder = {
    emit: (obj, type, reason, message) => {
      events.push({ name: obj.metadata.name, type, reason, message });
      return Promise.resolve();
    },
  };
  parts = buildModelAccess({
    config,
    aws,
    clock,
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(false),
    kube: { store: accesses, writer: accesses, events: recorder },
    tenants,
    tiers,
    naming: () => Promise.resolve(naming),
    enqueue: (name) => enqueued.push(name),
  });
  tiers.put({ apiVersion: 'rag.tenancy.dev/v1alpha1', kind: 'TenantTier', metadata: { name: 'basic' }, spec: { isolation: 'pool' } });
  for (const t of ['acme', 'beta']) {
    tenants.put(tenant(t));
    expect((await runResources(ctx, [tenantRole(t)])).complete).toBe(true);
  }
});

describe('ModelAccess over the wire', () => {
  it("grants a tagged profile and a role policy that reaches only the tenant's own profile; the role driver leaves it alone", async () => {
    accesses.put(access('acme-haiku', 'acme'));
    accesses.put(access('beta-haiku', 'beta'));
    const a = await settle('acme-haiku');
    const b = await settle('beta-haiku');
    expect(cond(a, 'Ready')).toMatchObject({ status: 'True', reason: 'Reconciled' });
    expect(cond(a, 'AccessGranted')).toMatchObject({ status: 'True' });
    expect(cond(a, 'ModelLifecycle')).toMatchObject({ status: 'True', reason: 'Active' });
    const arnA = a?.status?.inferenceProfileArn ?? '';
    const arnB = b?.status?.inferenceProfileArn ?? '';
    expect(arnA).toMatch(/^arn:aws:bedrock:us-east-1:123456789012:application-inference-profile\/[a-z0-9]{12}$/);
    const profile = [...bedrock.profiles.values()].find((p) => p.arn === arnA);
    expect(profile?.name).toBe('rag-test-t-acme-anthropic-claude-3-haiku-20240307-v1-0');
    expect(profile?.copyFrom).toBe(`arn:aws:bedrock:us-east-1::foundation-model/${MODEL}`);
    expect(bedrock.tags.get(arnA)).toMatchObject({
      'rag.tenancy.dev/cluster': 'test',
      'rag.tenancy.dev/tenant': 'acme',
      'rag.tenancy.dev/model-access': 'acme-haiku',
      'managed-by': 'tenant-rag-operator',
    });
    const doc = await modelPolicy('acme', 'acme-haiku');
    const fm = `arn:aws:bedrock:us-east-1::foundation-model/${MODEL}`;
    expect(await allows(doc, arnA)).toBe('Allowed');
    expect(await allows(doc, fm, { 'bedrock:InferenceProfileArn': arnA })).toBe('Allowed');
    expect(await allows(doc, arnB)).not.toBe('Allowed');
    expect(await allows(doc, fm)).not.toBe('Allowed');
    expect(await allows(doc, fm, { 'bedrock:InferenceProfileArn': arnB })).not.toBe('Allowed');
    // The tenant role's own driver converges without touching the grant.
    const again = await runResources(ctx, [tenantRole('acme')]);
    expect(again.complete).toBe(true);
    expect((await inlineNames('acme')).sort()).toEqual(['model-acme-haiku', 'tenant-access']);
    // A second pass changes nothing.
    const writes = accesses.get('acme-haiku')?.metadata.resourceVersion;
    await settle('acme-haiku');
    expect(accesses.get('acme-haiku')?.metadata.resourceVersion).toBe(writes);
  });

  it('adopts a profile a crashed pass created before recording it, instead of creating a second', async () => {
    accesses.put(access('acme-haiku', 'acme'));
    await aws.bedrock.send(
      new CreateInferenceProfileCommand({
        inferenceProfileName: 'rag-test-t-acme-anthropic-claude-3-haiku-20240307-v1-0',
        modelSource: { copyFrom: `arn:aws:bedrock:us-east-1::foundation-model/${MODEL}` },
        // A crashed pass's create carried the ownership tags (profiles are tagged at create).
        tags: Object.entries({
          'rag.tenancy.dev/cluster': 'test',
          'rag.tenancy.dev/kind': 'Tenant',
          'rag.tenancy.dev/name': 'acme',
          'rag.tenancy.dev/uid': 'uid-acme',
          'rag.tenancy.dev/tier': 'basic',
          'managed-by': 'tenant-rag-operator',
          'rag.tenancy.dev/tenant': 'acme',
          'rag.tenancy.dev/model-access': 'acme-haiku',
        }).map(([key, value]) => ({ key, value })),
      }),
    );
    const a = await settle('acme-haiku');
    expect(bedrock.profiles.size).toBe(1);
    expect(a?.status?.inferenceProfileArn).toBe([...bedrock.profiles.values()][0]?.arn);
    expect(bedrock.tags.get(a?.status?.inferenceProfileArn ?? '')).toMatchObject({ 'rag.tenancy.dev/model-access': 'acme-haiku' });
  });

  it('meters usage and cost from CloudWatch; a quota crossed mid-day throttles and the next UTC day lifts it', async () => {
    accesses.put(access('acme-haiku', 'acme', { tokensPerDay: 5000, onExceeded: 'Throttle' }));
    const arn = (await settle('acme-haiku'))?.status?.inferenceProfileArn ?? '';
    await seed(arn, 'InputTokenCount', '2026-11-02T08:00:00Z', 10_000);
    await seed(arn, 'OutputTokenCount', '2026-11-02T08:00:00Z', 2_000);
    await seed(arn, 'InputTokenCount', '2026-11-05T09:00:00Z', 2_000);
    await seed(arn, 'OutputTokenCount', '2026-11-05T09:30:00Z', 100);
    const first = await parts.poller.pollOnce();
    expect(first).toMatchObject({ profiles: 1, calls: 1, changed: ['acme-haiku'] });
    let a = await settle('acme-haiku');
    expect(a?.status?.usage).toEqual({
      window: '2026-11',
      inputTokens: 12_000,
      outputTokens: 2_100,
      totalTokens: 14_100,
      // 12,000 x 0.00025/1k + 2,100 x 0.00125/1k = 0.003 + 0.002625
      costUSD: '0.005625',
      day: '2026-11-05',
      dayTokens: 2_100,
      percentOfQuota: 42,
      updatedAt: '2026-11-05T10:00:00Z',
    });
    expect(cond(a, 'QuotaExceeded')).toMatchObject({ status: 'False', reason: 'WithinQuota' });

    // Usage-only changes are written at most once a minute per ModelAccess.
    await seed(arn, 'InputTokenCount', '2026-11-05T10:00:10Z', 100);
    clock.advance(30_000);
    expect((await parts.poller.pollOnce()).changed).toEqual(['acme-haiku']);
    const before = accesses.get('acme-haiku')?.metadata.resourceVersion;
    expect(await settled('acme-haiku')).toEqual({ requeueAfterMs: 30_000 });
    expect(accesses.get('acme-haiku')?.metadata.resourceVersion).toBe(before);
    clock.advance(30_000);
    await settled('acme-haiku');
    expect(accesses.get('acme-haiku')?.status?.usage).toMatchObject({
      inputTokens: 12_100,
      dayTokens: 2_200,
      updatedAt: '2026-11-05T10:00:30Z',
    });

    // Mid-day the tenant uses 4,000 more tokens: over the daily 5,000.
    await seed(arn, 'InputTokenCount', '2026-11-05T12:00:00Z', 4_000);
    clock.advance(2 * 3_600_000 - 60_000);
    expect((await parts.poller.pollOnce()).changed).toEqual(['acme-haiku']);
    // One pass swaps the policy; the next sees it in place and reports Throttled.
    const throttledPass = await settled('acme-haiku');
    a = accesses.get('acme-haiku');
    expect(cond(a, 'QuotaExceeded')).toMatchObject({ status: 'True', reason: 'DailyQuotaExceeded' });
    expect(cond(a, 'Throttled')).toMatchObject({ status: 'True', reason: 'DailyQuotaExceeded' });
    expect(a?.status?.usage).toMatchObject({ dayTokens: 6_200, percentOfQuota: 124 });
    expect(await modelPolicy('acme', 'acme-haiku')).toEqual(
      policy({
        Sid: 'QuotaExhaustedDeny',
        Effect: 'Deny',
        Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        Resource: arn,
      }),
    );
    // It comes back just after midnight UTC, when the window resets.
    expect(throttledPass.requeueAfterMs).toBe(Date.parse('2026-11-06T00:00:00Z') - clock.now() + 1_000);
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['QuotaExceeded', 'Throttled']));
    expect((await parts.modelMetrics.throttled.get()).values[0]?.value).toBe(1);

    clock.advance(Date.parse('2026-11-06T00:00:01Z') - clock.now());
    a = await settle('acme-haiku');
    expect(cond(a, 'Throttled')).toMatchObject({ status: 'False', reason: 'NotThrottled' });
    expect(cond(a, 'QuotaExceeded')).toMatchObject({ status: 'False' });
    expect(await allows(await modelPolicy('acme', 'acme-haiku'), arn)).toBe('Allowed');
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['QuotaRestored', 'Unthrottled']));
    const transitions = (await parts.modelMetrics.throttleTransitions.get()).values.map((v) => `${v.labels.direction}=${v.value}`);
    expect(transitions.sort()).toEqual(['throttled=1', 'unthrottled=1']);
    expect((await parts.modelMetrics.throttled.get()).values[0]?.value).toBe(0);
  });

  it('removing the model from the approved list revokes the profile and the policy on the next pass', async () => {
    accesses.put(access('acme-haiku', 'acme'));
    await settle('acme-haiku');
    config.approvedModels = [];
    const a = await settle('acme-haiku');
    expect(cond(a, 'Ready')).toMatchObject({ status: 'False', reason: 'ModelNotApproved' });
    expect(cond(a, 'AccessGranted')).toMatchObject({ status: 'False', reason: 'AccessRevoked' });
    expect(a?.status?.inferenceProfileArn).toBeUndefined();
    expect(a?.metadata.finalizers ?? []).toEqual([]);
    expect(bedrock.profiles.size).toBe(0);
    expect(await inlineNames('acme')).toEqual(['tenant-access']);
    expect(events.map((e) => e.reason)).toContain('AccessRevoked');
    // Refused and revoked: further passes make no AWS calls.
    bedrock.faults.clear();
    await settle('acme-haiku');
    expect(bedrock.faults.seen).toEqual([]);
  });

  it('a legacy model warns with its end-of-life date, read once per model per poll interval; past end of life, access goes', async () => {
    accesses.put(access('acme-haiku', 'acme'));
    accesses.put(access('beta-haiku', 'beta'));
    await settle('acme-haiku');
    await settle('beta-haiku');
    expect(bedrock.faults.seen.filter((o) => o === 'GetFoundationModel')).toHaveLength(1);
    bedrock.setLifecycle(MODEL, {
      status: 'LEGACY',
      legacyTime: new Date('2026-10-01T00:00:00Z'),
      endOfLifeTime: new Date('2027-01-15T00:00:00Z'),
    });
    clock.advance(300_000);
    let a = await settle('acme-haiku');
    await settle('beta-haiku');
    expect(bedrock.faults.seen.filter((o) => o === 'GetFoundationModel')).toHaveLength(2);
    expect(cond(a, 'ModelLifecycle')).toMatchObject({ status: 'False', reason: 'Legacy' });
    expect(cond(a, 'ModelLifecycle')?.message).toMatch(/2027-01-15/);
    expect(cond(a, 'Ready')).toMatchObject({ status: 'True' });
    expect(
      events
        .filter((e) => e.reason === 'ModelLegacy')
        .map((e) => e.name)
        .sort(),
    ).toEqual(['acme-haiku', 'beta-haiku']);

    bedrock.setLifecycle(MODEL, { status: 'LEGACY', endOfLifeTime: new Date('2026-11-05T10:04:00Z') });
    clock.advance(300_000);
    a = await settle('acme-haiku');
    expect(cond(a, 'Ready')).toMatchObject({ status: 'False', reason: 'ModelEndOfLife' });
    expect(cond(a, 'ModelLifecycle')).toMatchObject({ reason: 'ModelEndOfLife' });
    expect(await inlineNames('acme')).toEqual(['tenant-access']);
    expect([...bedrock.profiles.values()].map((p) => p.name)).toEqual(['rag-test-t-beta-anthropic-claude-3-haiku-20240307-v1-0']);
  });

  it('a deleted ModelAccess leaves nothing behind', async () => {
    accesses.put(access('acme-haiku', 'acme'));
    const arn = (await settle('acme-haiku'))?.status?.inferenceProfileArn ?? '';
    await parts.poller.pollOnce();
    accesses.markDeleted('acme-haiku');
    await settle('acme-haiku');
    expect(accesses.get('acme-haiku')).toBeUndefined();
    expect(bedrock.profiles.size).toBe(0);
    expect(bedrock.tags.has(arn)).toBe(false);
    expect(await inlineNames('acme')).toEqual(['tenant-access']);
    expect((await parts.modelMetrics.costUSD.get()).values).toEqual([]);
  });

  it('a second ModelAccess for the same tenant and model is refused without any AWS call', async () => {
    accesses.put(access('acme-haiku', 'acme'));
    await settle('acme-haiku');
    accesses.put({
      ...access('acme-haiku-2', 'acme'),
      metadata: { ...access('acme-haiku-2', 'acme').metadata, creationTimestamp: new Date(start + 1000) },
    });
    bedrock.faults.clear();
    const dup = await settle('acme-haiku-2');
    expect(cond(dup, 'Ready')).toMatchObject({ status: 'False', reason: 'DuplicateGrant' });
    expect(bedrock.faults.seen).toEqual([]);
    expect(bedrock.profiles.size).toBe(1);
  });
  it("refuses with a specific reason when the account's profile quota is reached or the model cannot be copied", async () => {
    bedrock.options.maxProfiles = 1;
    accesses.put(access('acme-haiku', 'acme'));
    accesses.put(access('beta-haiku', 'beta'));
    await settle('acme-haiku');
    await expect(parts.reconciler.reconcile('beta-haiku', ctx)).rejects.toMatchObject({
      name: 'TerminalError',
      reason: 'InferenceProfileQuotaReached',
    });
    expect(cond(accesses.get('beta-haiku'), 'Ready')).toMatchObject({ status: 'False', reason: 'InferenceProfileQuotaReached' });
    bedrock.options.maxProfiles = 1000;
    // A system profile this Region does not have (the model itself is known, so its lifecycle reads).
    const source = `arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.${MODEL}`;
    config.approvedModels = [{ id: MODEL, inputPricePer1k: 0, outputPricePer1k: 0, copyFrom: source }];
    tenants.put(tenant('gamma'));
    accesses.put({ ...access('gamma-haiku', 'gamma') });
    await expect(parts.reconciler.reconcile('gamma-haiku', ctx)).rejects.toMatchObject({ reason: 'InvalidModelSource' });
    expect(cond(accesses.get('gamma-haiku'), 'AccessGranted')?.message).toContain(`cannot copy ${source}`);
  });

  it('a suspended tenant is denied, and allowed again when it resumes', async () => {
    accesses.put(access('acme-haiku', 'acme'));
    const arn = (await settle('acme-haiku'))?.status?.inferenceProfileArn ?? '';
    tenants.put({ ...tenant('acme'), spec: { tier: 'basic', suspend: true }, status: { conditions: [] } });
    let a = await settle('acme-haiku');
    expect(cond(a, 'Throttled')).toMatchObject({ status: 'True', reason: 'TenantSuspended' });
    expect(await allows(await modelPolicy('acme', 'acme-haiku'), arn)).toBe('ExplicitlyDenied');
    tenants.put(tenant('acme'));
    a = await settle('acme-haiku');
    expect(cond(a, 'Throttled')).toMatchObject({ status: 'False' });
    expect(await allows(await modelPolicy('acme', 'acme-haiku'), arn)).toBe('Allowed');
  });
  it('refuses a profile of its name that another ModelAccess owns, and leaves it alone when deleted', async () => {
    await aws.bedrock.send(
      new CreateInferenceProfileCommand({
        inferenceProfileName: 'rag-test-t-acme-anthropic-claude-3-haiku-20240307-v1-0',
        modelSource: { copyFrom: `arn:aws:bedrock:us-east-1::foundation-model/${MODEL}` },
        tags: [{ key: 'rag.tenancy.dev/model-access', value: 'someone-else' }],
      }),
    );
    accesses.put(access('acme-haiku', 'acme'));
    await expect(parts.reconciler.reconcile('acme-haiku', ctx)).rejects.toMatchObject({ reason: 'NameConflict' });
    expect(cond(accesses.get('acme-haiku'), 'AccessGranted')?.message).toMatch(/belongs to ModelAccess "someone-else"/);
    accesses.markDeleted('acme-haiku');
    await settle('acme-haiku');
    expect(accesses.get('acme-haiku')).toBeUndefined();
    expect(bedrock.profiles.size).toBe(1);
  });
});
