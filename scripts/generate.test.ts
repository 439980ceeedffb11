import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from './generate.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('generated files', () => {
  it('crds/ and the TypeScript types match the schema source (run `npm run gen` after changing it)', async () => {
    const files = await generatedFiles();
    expect([...files.keys()].sort()).toEqual([
      'charts/tenant-rag-operator/crds/modelaccesses.yaml',
      'charts/tenant-rag-operator/crds/tenants.yaml',
      'charts/tenant-rag-operator/crds/tenanttiers.yaml',
      'config/argocd/argocd-cm-patch.yaml',
      'crds/modelaccesses.yaml',
      'crds/tenants.yaml',
      'crds/tenanttiers.yaml',
      'docs/iam/operator-policy.example.json',
      'docs/iam/tenant-boundary.example.json',
      'src/api/v1alpha1/types.generated.ts',
    ]);
    for (const [path, content] of files) {
      expect(await readFile(`${root}/${path}`, 'utf8'), path).toBe(content);
    }
  });

  it('every schema field carries a description', async () => {
    const { customResourceDefinitions } = await import('../src/api/v1alpha1/schema/crds.js');
    const missing: string[] = [];
    const walk = (node: Record<string, unknown>, path: string): void => {
      const props = node.properties as Record<string, Record<string, unknown>> | undefined;
      for (const [k, v] of Object.entries(props ?? {})) {
        const p = `${path}.${k}`;
        if (!v.description && !['metadata', 'apiVersion', 'kind'].includes(k)) missing.push(p);
        walk(v, p);
        if (v.items) walk(v.items as Record<string, unknown>, `${p}[]`);
      }
    };
    for (const crd of customResourceDefinitions()) {
      const version = (crd.spec as unknown as { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] }).versions[0];
      if (version) walk(version.schema.openAPIV3Schema, crd.spec.names.kind);
    }
    expect(missing).toEqual([]);
  });
});
