import { describe, expect, it } from 'vitest';
import { foundationModelId, inferenceProfileDescription, inferenceProfileName, modelPolicyName, modelSourceArn } from './names.js';

const ctx = { prefix: 'rag', cluster: 'prod', accountId: '111122223333', region: 'us-east-1' };
const NAME = /^([0-9a-zA-Z][ _-]?)+$/;
const DESCRIPTION = /^([0-9a-zA-Z:.][ _-]?)+$/;

describe('inference profile names', () => {
  it.each([
    {
      name: 'short names stay readable',
      tenant: 'acme',
      model: 'anthropic.claude-3-haiku-20240307-v1:0',
      want: 'rag-prod-t-acme-anthropic-claude-3-haiku-20240307-v1-0',
    },
    {
      name: 'a tenant name with double dashes is collapsed to the pattern',
      tenant: 'a--b',
      model: 'amazon.nova-lite-v1:0',
      want: 'rag-prod-t-a-b-amazon-nova-lite-v1-0',
    },
  ])('$name', ({ tenant, model, want }) => {
    expect(inferenceProfileName(ctx, tenant, model)).toBe(want);
  });

  it('long names are cut to 64 with a hash, stay valid, and differ per model', () => {
    const tenant = 'a'.repeat(63);
    const a = inferenceProfileName(ctx, tenant, 'anthropic.claude-3-5-sonnet-20241022-v2:0');
    const b = inferenceProfileName(ctx, tenant, 'us.anthropic.claude-3-5-sonnet-20241022-v2:0');
    for (const n of [a, b]) {
      expect(n.length).toBeLessThanOrEqual(64);
      expect(n).toMatch(NAME);
    }
    expect(a).not.toBe(b);
  });

  it("descriptions fit Bedrock's pattern", () => {
    expect(inferenceProfileDescription('a--b', 'anthropic.claude-3-5-sonnet-20241022-v2:0')).toMatch(DESCRIPTION);
  });
});

describe('model policy names', () => {
  it('are model-<name>, at most 128 characters', () => {
    expect(modelPolicyName('acme-claude')).toBe('model-acme-claude');
    const long = modelPolicyName('x'.repeat(253));
    expect(long.length).toBe(128);
    expect(long.startsWith('model-')).toBe(true);
  });
});

describe('model sources', () => {
  it.each([
    {
      name: 'a foundation model',
      model: 'anthropic.claude-3-haiku-20240307-v1:0',
      copyFrom: undefined,
      source: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0',
      fm: 'anthropic.claude-3-haiku-20240307-v1:0',
    },
    {
      name: 'a cross-Region id copies the system profile',
      model: 'us.anthropic.claude-3-5-sonnet-20241022-v2:0',
      copyFrom: undefined,
      source: 'arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0',
      fm: 'anthropic.claude-3-5-sonnet-20241022-v2:0',
    },
    {
      name: 'a configured copyFrom wins',
      model: 'claude',
      copyFrom: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2',
      source: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2',
      fm: 'anthropic.claude-v2',
    },
  ])('$name', ({ model, copyFrom, source, fm }) => {
    expect(modelSourceArn(ctx, model, copyFrom)).toBe(source);
    expect(foundationModelId(model, copyFrom)).toBe(fm);
  });
});
