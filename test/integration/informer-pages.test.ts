/**
 * The operator's informers list a kind a page at a time over a real kube-apiserver: every object
 * arrives, no page holds more than the page size, and the pages after the first follow the API
 * server's own continue tokens.
 */
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../src/api/v1alpha1/types.js';
import { CustomObjectsApi, KubeConfig } from '../../src/adapters/kube/client.js';
import { Informer } from '../../src/adapters/kube/informer.js';
import { collectionPath, type ListPage, type ListResult, lister } from '../../src/adapters/kube/resources.js';
import { systemClock } from '../../src/runtime/clock.js';
import { type ControlPlane, startControlPlane } from '../support/controlplane.js';
import { TestKube } from '../support/kube.js';

const crds = fileURLToPath(new URL('../../crds', import.meta.url));
let cp: ControlPlane;
let kube: TestKube;

beforeAll(async () => {
  cp = await startControlPlane();
  kube = new TestKube(cp.kubeconfig);
  await kube.kubectl('apply', '-f', crds);
  await kube.kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all');
}, 120_000);
afterAll(async () => {
  await cp.stop();
});

describe('informer lists', () => {
  it('read every object in pages of at most pageSize, following the continue tokens', async () => {
    const names = Array.from({ length: 7 }, (_, i) => `paged-${i}`);
    const yaml = names
      .map((n) => `apiVersion: rag.tenancy.dev/v1alpha1\nkind: Tenant\nmetadata: { name: ${n} }\nspec: { tier: gold }\n`)
      .join('---\n');
    await kube.apply(yaml);
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfig);
    const list = lister<Tenant>(kc.makeApiClient(CustomObjectsApi), 'Tenant');
    const pages: { asked: ListPage; got: ListResult<Tenant> }[] = [];
    const informer = new Informer<Tenant>({
      path: collectionPath('Tenant'),
      list: async (asked) => {
        const got = await list(asked);
        pages.push({ asked, got });
        return got;
      },
      pageSize: 3,
      kubeConfig: kc,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
    });
    const added: string[] = [];
    informer.onEvent((type, obj) => {
      if (type === 'add') added.push(obj.metadata.name);
    });
    informer.start();
    try {
      await informer.waitForSync();
      expect(
        informer
          .list()
          .map((t) => t.metadata.name)
          .sort(),
      ).toEqual(names);
      expect(added.sort()).toEqual(names);
      expect(pages.map((p) => p.got.items.length)).toEqual([3, 3, 1]);
      expect(pages.map((p) => p.asked.limit)).toEqual([3, 3, 3]);
      // The first page asks for no token; each later one for the token the one before returned.
      expect(pages[0]?.asked.continue).toBeUndefined();
      for (let i = 1; i < pages.length; i++) {
        expect(pages[i]?.asked.continue).toBe(pages[i - 1]?.got.metadata?.continue);
        expect(pages[i]?.asked.continue).toMatch(/.+/);
      }
      expect(pages.at(-1)?.got.metadata?.continue ?? '').toBe('');
    } finally {
      informer.stop();
    }
  });
});
