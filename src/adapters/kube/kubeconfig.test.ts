import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accessFromDefault, accessFromFile, accessFromKubeconfig, accessInCluster } from './kubeconfig.js';

const kubeconfig = (cluster: string, user: string): string => `apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: { server: https://other.example }
- name: local
  cluster:
${cluster}
users:
- name: admin
  user:
${user}
contexts:
- name: other
  context: { cluster: other, user: admin }
- name: local
  context: { cluster: local, user: admin, namespace: ops }
current-context: local
`;

describe('accessFromKubeconfig', () => {
  it('uses the current context, with files relative to the kubeconfig and inline base64 data', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA');
    writeFileSync(join(dir, 'admin.key'), 'KEY');
    const path = join(dir, 'config');
    writeFileSync(
      path,
      kubeconfig(
        '    server: https://127.0.0.1:6443/\n    certificate-authority: ca.crt\n    tls-server-name: kubernetes',
        `    client-certificate-data: ${Buffer.from('CERT').toString('base64')}\n    client-key: ${join(dir, 'admin.key')}`,
      ),
    );
    const access = accessFromFile(path);
    expect(access).toMatchObject({
      server: 'https://127.0.0.1:6443',
      insecureSkipTlsVerify: false,
      tlsServerName: 'kubernetes',
      auth: { kind: 'none' },
      namespace: 'ops',
    });
    expect([access.ca?.toString(), access.cert?.toString(), access.key?.toString()]).toEqual(['CA', 'CERT', 'KEY']);
  });

  it.each([
    { user: '    token: abc', auth: { kind: 'token', token: 'abc' } },
    { user: '    tokenFile: token', auth: { kind: 'token-file', path: '/base/token' } },
    {
      user: '    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [eks, get-token]\n      env: [{ name: AWS_PROFILE, value: p }]',
      auth: {
        kind: 'exec',
        exec: {
          command: 'aws',
          args: ['eks', 'get-token'],
          env: [{ name: 'AWS_PROFILE', value: 'p' }],
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          cwd: '/base',
        },
      },
    },
  ])('reads the user $auth.kind', ({ user, auth }) => {
    expect(accessFromKubeconfig(kubeconfig('    server: https://k', user), '/base').auth).toEqual(auth);
  });

  it.each([
    { what: 'an auth-provider', cluster: '    server: https://k', user: '    auth-provider: { name: oidc }', error: /auth-provider/ },
    { what: 'a proxy', cluster: '    server: https://k\n    proxy-url: http://proxy', user: '    token: a', error: /proxy-url/ },
    { what: 'basic authentication', cluster: '    server: https://k', user: '    username: u\n    password: p', error: /basic/ },
    {
      what: 'impersonation',
      cluster: '    server: https://k',
      user: '    token: a\n    as: system:serviceaccount:x:y',
      error: /impersonation/,
    },
    {
      what: 'impersonated groups',
      cluster: '    server: https://k',
      user: '    token: a\n    as-groups: [viewers]',
      error: /impersonation/,
    },
    {
      what: 'a client certificate without its key',
      cluster: '    server: https://k',
      user: `    client-certificate-data: ${Buffer.from('CERT').toString('base64')}`,
      error: /client certificate but no client-key/,
    },
    {
      what: 'a client key without its certificate',
      cluster: '    server: https://k',
      user: `    client-key-data: ${Buffer.from('KEY').toString('base64')}`,
      error: /client key but no client-certificate/,
    },
    {
      what: 'insecure-skip-tls-verify with a CA',
      cluster: `    server: https://k\n    insecure-skip-tls-verify: true\n    certificate-authority-data: ${Buffer.from('CA').toString('base64')}`,
      user: '    token: a',
      error: /insecure-skip-tls-verify cannot be combined/,
    },
  ])('refuses $what rather than ignoring it', ({ cluster, user, error }) => {
    expect(() => accessFromKubeconfig(kubeconfig(cluster, user), '/base')).toThrow(error);
  });

  it('refuses a context whose user the file does not define, rather than going on without credentials', () => {
    const text = kubeconfig('    server: https://k', '    token: a').replace(
      'context: { cluster: local, user: admin, namespace: ops }',
      'context: { cluster: local, user: admn }',
    );
    expect(() => accessFromKubeconfig(text, '/base')).toThrow(/context local names user admn, which it does not define/);
  });

  it('says which context is missing', () => {
    expect(() => accessFromKubeconfig('current-context: gone\ncontexts: []\n', '/base')).toThrow(/no current context named gone/);
  });
});

describe('accessInCluster', () => {
  it('uses the service host and port, the mounted CA, token file and namespace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA');
    writeFileSync(join(dir, 'namespace'), 'tenant-rag-operator\n');
    const access = accessInCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(access).toMatchObject({
      server: 'https://[fd00::1]:443',
      auth: { kind: 'token-file', path: join(dir, 'token') },
      namespace: 'tenant-rag-operator',
    });
    expect(access.ca?.toString()).toBe('CA');
  });

  it('fails outside a cluster', () => {
    expect(() => accessInCluster({}, '/nonexistent')).toThrow(/not in a cluster/);
  });
});

describe('accessFromDefault', () => {
  it('takes the first file of $KUBECONFIG that exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    writeFileSync(join(dir, 'b'), kubeconfig('    server: https://b', '    token: b'));
    const access = accessFromDefault({ KUBECONFIG: `${join(dir, 'a')}:${join(dir, 'b')}`, HOME: dir });
    expect(access.server).toBe('https://b');
  });
});
