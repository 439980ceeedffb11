/**
 * The operator's gatewayRedis setting: defaults that match the gateway's own (the key prefix above
 * all, or the operator would read counters the gateway never writes), a bad URL named, and the
 * AUTH password taken from the environment only when the setting is there.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';
import { DEFAULT_QUOTA_KEY_PREFIX } from './core/quota-counters.js';
import { parseGatewayConfig } from './gateway/config.js';

const base = 'permissionsBoundaryOptional: true\n';
const parse = (yaml: string, env: Record<string, string> = {}) => parseConfig(['--config', 'c.yaml'], env, () => base + yaml);

describe('gatewayRedis', () => {
  it("is unset by default: CloudWatch only, and no password kept even if the gateway's variable is around", () => {
    const c = parse('', { GATEWAY_REDIS_PASSWORD: 'secret' });
    expect(c.gatewayRedis).toBeUndefined();
    expect(c.gatewayRedisPassword).toBeUndefined();
  });

  it("fills the gateway's defaults; the key prefix is the one the gateway writes under", () => {
    const c = parse('gatewayRedis: { url: "rediss://redis.example:6380" }\n', { GATEWAY_REDIS_PASSWORD: 'secret' });
    expect(c.gatewayRedis).toEqual({
      url: 'rediss://redis.example:6380',
      timeoutMs: 500,
      keyPrefix: DEFAULT_QUOTA_KEY_PREFIX,
      pollSeconds: 10,
    });
    expect(c.gatewayRedisPassword).toBe('secret');
    const gateway = parseGatewayConfig({ GATEWAY_REDIS_URL: 'redis://x:6379' });
    expect(gateway.GATEWAY_REDIS_KEY_PREFIX).toBe(DEFAULT_QUOTA_KEY_PREFIX);
    expect(gateway.GATEWAY_REDIS_TIMEOUT_MS).toBe(c.gatewayRedis?.timeoutMs);
  });

  it.each([
    { yaml: 'gatewayRedis: { url: "http://redis:6379" }\n', want: /gatewayRedis\.url: must be a redis:\/\/ or rediss:\/\/ \(TLS\) URL/ },
    { yaml: 'gatewayRedis: { url: "redis://r", pollSeconds: 0 }\n', want: /gatewayRedis\.pollSeconds/ },
    { yaml: 'gatewayRedis: { url: "redis://r", password: "x" }\n', want: /password/ },
  ])('refuses $yaml', ({ yaml, want }) => {
    expect(() => parse(yaml)).toThrow(ConfigError);
    expect(() => parse(yaml)).toThrow(want);
  });
});
