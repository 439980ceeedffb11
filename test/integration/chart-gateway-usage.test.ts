/**
 * The chart tells the operator where the tenant gateway's counters are: with `gateway.enabled` the
 * operator's config gets gatewayRedis from the gateway's own Redis values (a config the operator
 * parses), its pods get the gateway's Redis password Secret, and its NetworkPolicy lets it reach
 * the Redis port; without the gateway none of it is rendered.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config.js';
import { run } from '../support/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const chart = join(root, 'charts/tenant-rag-operator');
let helm: string;

type Doc = { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: Record<string, unknown> };
const render = async (...sets: string[]): Promise<Doc[]> =>
  parseAllDocuments(
    await run(helm, [
      'template',
      'tro',
      chart,
      '--kube-version',
      'v1.34.4',
      ...['config.permissionsBoundaryArn=arn:aws:iam::123456789012:policy/B', 'networkPolicy.enabled=true', ...sets].flatMap((s) => [
        '--set',
        s,
      ]),
    ]),
  )
    .map((d) => d.toJS() as Doc)
    .filter(Boolean);
const operatorConfig = (docs: Doc[]) => {
  const yaml = docs.find((d) => d.kind === 'ConfigMap')?.data?.['config.yaml'] ?? '';
  return parseConfig(['--config', 'config.yaml'], { GATEWAY_REDIS_PASSWORD: 's3cret' }, () => yaml);
};
const operatorEnv = (docs: Doc[]): { name: string }[] => {
  const d = docs.find((x) => x.kind === 'Deployment' && x.metadata.name === 'tro-tenant-rag-operator');
  const spec = d?.spec as { template: { spec: { containers: { env: { name: string }[] }[] } } };
  return spec.template.spec.containers[0]?.env ?? [];
};
const egressPorts = (docs: Doc[]): number[] =>
  ((docs.find((d) => d.kind === 'NetworkPolicy')?.spec?.egress ?? []) as { ports: { port: number }[] }[]).flatMap((e) =>
    e.ports.map((p) => p.port),
  );

beforeAll(async () => {
  helm = (await run('bash', [join(root, 'scripts/build-helm.sh')])).trim();
});

describe("the chart and the gateway's counters", () => {
  it("with the gateway: the operator reads the gateway's Redis, with its password Secret, through its NetworkPolicy", async () => {
    const docs = await render(
      'gateway.enabled=true',
      'gateway.redis.url=rediss://redis.example:6380',
      'gateway.redis.timeoutMs=800',
      'gateway.redis.operatorPollSeconds=5',
      'gateway.redis.passwordSecret.name=redis-auth',
    );
    const c = operatorConfig(docs);
    expect(c.gatewayRedis).toEqual({ url: 'rediss://redis.example:6380', timeoutMs: 800, keyPrefix: 'tro:quota', pollSeconds: 5 });
    expect(c.gatewayRedisPassword).toBe('s3cret');
    expect(operatorEnv(docs)).toContainEqual({
      name: 'GATEWAY_REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'redis-auth', key: 'password' } },
    });
    expect(egressPorts(docs)).toContain(6380);
    expect(egressPorts(await render('gateway.enabled=true', 'gateway.redis.url=redis://redis'))).toContain(6379);
  });

  it('without the gateway: CloudWatch only, no Redis anywhere', async () => {
    const docs = await render();
    expect(operatorConfig(docs).gatewayRedis).toBeUndefined();
    expect(operatorEnv(docs).map((e) => e.name)).not.toContain('GATEWAY_REDIS_PASSWORD');
    expect(egressPorts(docs)).toEqual([53, 53, 443, 6443]);
  });
});
