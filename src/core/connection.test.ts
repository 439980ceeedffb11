import { describe, expect, it } from 'vitest';
import type { Tenant } from '../api/v1alpha1/types.js';
import {
  type ConnectionScope,
  type OwnershipMeta,
  allowedConnectionNamespaces,
  checkConnectionNamespace,
  describeOwner,
  isOwnedBy,
} from './connection.js';

const tenant = (name: string, opts: { podNs?: string; connNs?: string; uid?: string } = {}): Tenant => ({
  apiVersion: 'rag.tenancy.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name, ...(opts.uid === '' ? {} : { uid: opts.uid ?? `uid-${name}` }) },
  spec: {
    tier: 'basic',
    access: opts.podNs
      ? { podIdentity: { namespace: opts.podNs, serviceAccount: 'app' } }
      : { principals: ['arn:aws:iam::111122223333:role/app'] },
    ...(opts.connNs ? { connection: { namespace: opts.connNs } } : {}),
  },
});

const scope = (allowed: string[] = [], operatorNamespace = 'tenant-rag-system'): ConnectionScope => ({
  allowedNamespaces: allowed,
  operatorNamespace,
});

describe('checkConnectionNamespace', () => {
  it.each([
    { name: 'no spec.connection', t: tenant('acme', { podNs: 'acme' }), s: scope(), refused: undefined },
    { name: 'its own Pod Identity namespace', t: tenant('acme', { podNs: 'acme', connNs: 'acme' }), s: scope(), refused: undefined },
    {
      name: 'a namespace the config allows',
      t: tenant('acme', { podNs: 'acme', connNs: 'shared-apps' }),
      s: scope(['shared-apps']),
      refused: undefined,
    },
    {
      name: 'an allowed namespace when the tenant has no Pod Identity',
      t: tenant('acme', { connNs: 'shared-apps' }),
      s: scope(['shared-apps']),
      refused: undefined,
    },
    {
      name: 'attacker: kube-system',
      t: tenant('evil', { podNs: 'evil', connNs: 'kube-system' }),
      s: scope(),
      refused: /"kube-system" is a system namespace, never allowed: set it to one of "evil"/,
    },
    {
      name: 'attacker: kube-system even when listed in the config',
      t: tenant('evil', { podNs: 'evil', connNs: 'kube-system' }),
      s: scope(['kube-system']),
      refused: /system namespace/,
    },
    {
      name: 'attacker: kube-public as its own Pod Identity namespace',
      t: tenant('evil', { podNs: 'kube-public', connNs: 'kube-public' }),
      s: scope(),
      refused: /system namespace.*Pod Identity namespace \(set spec.access.podIdentity\)/,
    },
    {
      name: "attacker: the operator's namespace",
      t: tenant('evil', { podNs: 'evil', connNs: 'tenant-rag-system' }),
      s: scope(),
      refused: /"tenant-rag-system" is the operator's own namespace, never allowed/,
    },
    {
      name: "attacker: the operator's namespace even when listed and its own",
      t: tenant('evil', { podNs: 'tenant-rag-system', connNs: 'tenant-rag-system' }),
      s: scope(['tenant-rag-system']),
      refused: /operator's own namespace/,
    },
    {
      name: "attacker: another tenant's Pod Identity namespace",
      t: tenant('evil', { podNs: 'evil', connNs: 'acme' }),
      s: scope(),
      refused:
        /"acme" is neither the tenant's own namespace .* nor in the operator's connectionNamespaces setting: set it to one of "evil", or have .* connectionNamespaces in the operator's --config file/,
    },
    {
      name: 'attacker: a similar name (acme-evil when its own is acme)',
      t: tenant('acme', { podNs: 'acme', connNs: 'acme-evil' }),
      s: scope(),
      refused: /"acme-evil" is neither/,
    },
    {
      name: 'attacker: a prefix of its own name (acm when its own is acme)',
      t: tenant('acme', { podNs: 'acme', connNs: 'acm' }),
      s: scope(['acme-apps']),
      refused: /set it to one of "acme", "acme-apps"/,
    },
    {
      name: 'principals only, nothing allowed: says how to get a namespace',
      t: tenant('globex', { connNs: 'globex' }),
      s: scope(),
      refused: /set it to the application's Pod Identity namespace \(set spec.access.podIdentity\)/,
    },
  ])('$name', ({ t, s, refused }) => {
    const r = checkConnectionNamespace(t, s);
    if (refused === undefined) {
      expect(r).toBeUndefined();
      return;
    }
    expect(r?.reason).toBe('ConnectionNamespaceNotAllowed');
    expect(r?.message).toMatch(refused);
  });

  it('lists the allowed namespaces own first, without duplicates or never-allowed ones', () => {
    const t = tenant('acme', { podNs: 'acme' });
    expect(allowedConnectionNamespaces(t, scope(['shared', 'acme', 'kube-node-lease', 'ops'], 'ops'))).toEqual(['acme', 'shared']);
  });
});

describe('isOwnedBy and describeOwner', () => {
  const acme = tenant('acme', { uid: 'u-acme' });
  const labels = { 'app.kubernetes.io/managed-by': 'tenant-rag-operator', 'rag.tenancy.dev/tenant': 'acme' };
  const ref = (name: string, uid: string, apiVersion = 'rag.tenancy.dev/v1alpha1', kind = 'Tenant') => ({ apiVersion, kind, name, uid });

  it.each<{ name: string; meta: OwnershipMeta | undefined; t?: Tenant; owned: boolean; owner: RegExp | undefined }>([
    {
      name: 'labels and owner reference with its uid',
      meta: { labels, ownerReferences: [ref('acme', 'u-acme')] },
      owned: true,
      owner: /^Tenant "acme"$/,
    },
    {
      name: 'another version of the group counts',
      meta: { labels, ownerReferences: [ref('acme', 'u-acme', 'rag.tenancy.dev/v1')] },
      owned: true,
      owner: /^Tenant "acme"$/,
    },
    { name: 'no metadata', meta: undefined, owned: false, owner: undefined },
    { name: 'a plain ConfigMap (coredns)', meta: { labels: { 'k8s-app': 'kube-dns' } }, owned: false, owner: undefined },
    {
      name: 'labels copied by someone, no owner reference',
      meta: { labels },
      owned: false,
      owner: /^Tenant "acme" \(by its label\)$/,
    },
    {
      name: "another tenant's ConfigMap",
      meta: {
        labels: { ...labels, 'rag.tenancy.dev/tenant': 'globex' },
        ownerReferences: [ref('globex', 'u-globex')],
      },
      owned: false,
      owner: /^Tenant "globex"$/,
    },
    {
      name: "another tenant's owner reference under this tenant's labels",
      meta: { labels, ownerReferences: [ref('globex', 'u-globex')] },
      owned: false,
      owner: /^Tenant "globex"$/,
    },
    {
      name: 'an earlier Tenant of the same name (other uid)',
      meta: { labels, ownerReferences: [ref('acme', 'u-old')] },
      owned: false,
      owner: /^an earlier Tenant "acme" \(uid u-old\), not this one$/,
    },
    {
      name: 'the right uid under another kind',
      meta: { labels, ownerReferences: [ref('acme', 'u-acme', 'v1', 'Namespace')] },
      owned: false,
      owner: /^Namespace "acme" \(v1\)$/,
    },
    {
      name: 'the right uid under another group',
      meta: { labels, ownerReferences: [ref('acme', 'u-acme', 'evil.example.com/v1')] },
      owned: false,
      owner: /^Tenant "acme" \(evil.example.com\/v1\)$/,
    },
    {
      name: 'managed by something else',
      meta: { labels: { 'app.kubernetes.io/managed-by': 'Helm' } },
      owned: false,
      owner: /^Helm \(its app.kubernetes.io\/managed-by label\)$/,
    },
    {
      name: 'a Tenant without a uid owns nothing',
      meta: { labels, ownerReferences: [ref('acme', '')] },
      t: tenant('acme', { uid: '' }),
      owned: false,
      owner: /earlier Tenant/,
    },
  ])('$name', ({ meta, t, owned, owner }) => {
    expect(isOwnedBy(meta, t ?? acme)).toBe(owned);
    const who = describeOwner(meta, t ?? acme);
    if (owner === undefined) expect(who).toBeUndefined();
    else expect(who).toMatch(owner);
  });
});
