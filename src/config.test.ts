import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';

const files: Record<string, string> = {
  'good.yaml':
    'clusterName: prod-eu\npermissionsBoundaryArn: arn:aws:iam::111122223333:policy/RagTenantBoundary\napprovedModels:\n  - { id: anthropic.claude-3-haiku-20240307-v1:0, inputPricePer1k: 0.00025, outputPricePer1k: 0.00125 }\n',
  'typo.yaml': 'clusterNmae: prod\n',
  'list.yaml': '- a\n- b\n',
  'lease.yaml': 'permissionsBoundaryOptional: true\nleaderElection: { leaseDurationSeconds: 5, renewDeadlineSeconds: 10 }\n',
  'unbounded.yaml': 'clusterName: prod\n',
  'unsafe.yaml': 'permissionsBoundaryOptional: true\n',
};
const read = (p: string): string => {
  const f = files[p];
  if (f === undefined) throw new Error(`no file ${p}`);
  return f;
};

describe('parseConfig', () => {
  it('fills defaults and applies flag overrides', () => {
    const c = parseConfig(['--config', 'good.yaml', '--metrics-port', '0', '--leader-elect', 'false', '--identity', 'me'], {}, read);
    expect(c).toMatchObject({
      clusterName: 'prod-eu',
      region: 'us-east-1',
      workers: 16,
      identity: 'me',
      server: { metricsPort: 0, healthPort: 8081 },
      leaderElection: { enabled: false, leaseDurationSeconds: 15 },
    });
    expect(c.approvedModels[0]?.id).toBe('anthropic.claude-3-haiku-20240307-v1:0');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    { name: 'an unknown setting is named', argv: ['--config', 'typo.yaml'], message: /clusterNmae/ },
    { name: 'a file that is not a mapping', argv: ['--config', 'list.yaml'], message: /YAML mapping/ },
    { name: 'a renew deadline longer than the lease', argv: ['--config', 'lease.yaml'], message: /renewDeadlineSeconds must be shorter/ },
    {
      name: 'a non-numeric port flag',
      argv: ['--config', 'unsafe.yaml', '--health-port', 'x'],
      message: /--health-port must be a whole number/,
    },
    {
      name: 'a bad boolean flag',
      argv: ['--config', 'unsafe.yaml', '--leader-elect', 'yes'],
      message: /--leader-elect must be true or false/,
    },
    {
      name: 'no permissions boundary, saying how to create one and how to opt out',
      argv: ['--config', 'unbounded.yaml'],
      message: /permissionsBoundaryArn is required.*--boundary-only.*aws iam create-policy.*permissionsBoundaryOptional: true/s,
    },
    {
      name: 'a config file that cannot be read',
      argv: ['--config', 'missing.yaml'],
      message: /cannot read --config missing.yaml: no file missing.yaml/,
    },
  ])('rejects $name', ({ argv, message }) => {
    expect(() => parseConfig(argv, {}, read)).toThrow(ConfigError);
    expect(() => parseConfig(argv, {}, read)).toThrow(message);
  });

  it('takes the identity from POD_NAME when no flag is given', () => {
    expect(parseConfig(['--config', 'unsafe.yaml'], { POD_NAME: 'op-0' }, read).identity).toBe('op-0');
  });
});
