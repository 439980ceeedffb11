import { DetachRolePolicyCommand, type IAMClient, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { ROLE_PATH } from '../../core/naming.js';
import { policy } from '../../core/policies/document.js';
import { ownerTags } from '../../core/tags.js';
import { IamRoleDriver, type RoleObserved, type RoleSpec } from './driver.js';

const owner = { cluster: 'prod', kind: 'Tenant' as const, name: 'acme', uid: 'uid-1', tier: 'premium' };
const trust = policy({ Effect: 'Allow', Principal: { Service: 'bedrock.amazonaws.com' }, Action: 'sts:AssumeRole' });
const spec: RoleSpec = { name: 'rag-prod-t-acme-kb', path: ROLE_PATH, description: 'kb role', owner, trust, inline: {} };
const last: RoleObserved = {
  name: spec.name,
  arn: `arn:aws:iam::111122223333:role${ROLE_PATH}${spec.name}`,
  trust,
  inline: {},
  attached: [],
  tags: ownerTags(owner),
};
const foreign = 'arn:aws:iam::111122223333:policy/someone-elses';

/** An IAM client that lists pages of attached policies and records what it was sent. */
function stubIam(pages: string[][]): { iam: IAMClient; sent: unknown[] } {
  const sent: unknown[] = [];
  const send = (cmd: unknown): Promise<unknown> => {
    sent.push(cmd);
    if (cmd instanceof ListAttachedRolePoliciesCommand) {
      const i = Number(cmd.input.Marker ?? 0);
      const more = i + 1 < pages.length;
      return Promise.resolve({
        AttachedPolicies: (pages[i] ?? []).map((PolicyArn) => ({ PolicyArn })),
        IsTruncated: more,
        ...(more ? { Marker: String(i + 1) } : {}),
      });
    }
    return Promise.resolve({});
  };
  return { iam: { send } as unknown as IAMClient, sent };
}

describe('IamRoleDriver: managed policies attached behind its back', () => {
  it('a spot check lists every page of attached policies, and one found is drift', async () => {
    const { iam } = stubIam([['arn:aws:iam::aws:policy/ReadOnlyAccess'], [foreign]]);
    const d = new IamRoleDriver(iam, 'KnowledgeBaseRole');
    // The role itself, its inline policy list, its attached policy list (no inline policy wanted).
    const checks = d.spotChecks(spec, last);
    expect(checks).toHaveLength(3);
    const ctx = { signal: new AbortController().signal, logger: { warn: () => undefined } as unknown as Logger };
    const checked = await checks[2]?.(ctx);
    expect(checked?.attached).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess', foreign]);
    expect(checked && d.compare(spec, checked)).toEqual([`attached:${foreign}`, 'attached:arn:aws:iam::aws:policy/ReadOnlyAccess']);
  });

  it('update detaches it and says so in a warning log line', async () => {
    const { iam, sent } = stubIam([]);
    const warned: unknown[] = [];
    const logger = { warn: (o: unknown, msg: string) => warned.push([o, msg]) } as unknown as Logger;
    await new IamRoleDriver(iam, 'KnowledgeBaseRole').update(
      { signal: new AbortController().signal, logger },
      spec,
      { ...last, attached: [foreign] },
      [`attached:${foreign}`],
    );
    const detach = sent.find((c): c is DetachRolePolicyCommand => c instanceof DetachRolePolicyCommand);
    expect(detach?.input).toEqual({ RoleName: spec.name, PolicyArn: foreign });
    expect(warned).toEqual([[{ role: spec.name, policyArn: foreign }, 'detaching a managed policy the operator did not attach']]);
  });
});
