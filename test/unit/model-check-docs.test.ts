/**
 * docs/testing.md lists, per AWS operation the operator's source sends, who serves it in tests and
 * how many calls were checked against AWS's API model. This fails when the source sends a command
 * the table does not list (the scan is the one of src/core/policies/operator.test.ts, widened to
 * every source file and keyed by the client each command is imported from).
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../support/model-check/botocore-models.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** `service:Operation` of every `new XCommand(` in src/, the service being the client package it is imported from. */
async function commandsSent(): Promise<Set<string>> {
  const files = (await readdir(`${root}src`, { recursive: true })).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const sent = new Set<string>();
  for (const f of files) {
    const text = await readFile(`${root}src/${f}`, 'utf8');
    const clientOf = new Map<string, string>();
    for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g)) {
      for (const name of (m[1] ?? '').split(','))
        clientOf.set(
          name
            .trim()
            .replace(/^type\s+/, '')
            .split(/\s+as\s+/)
            .pop() ?? '',
          m[2] ?? '',
        );
    }
    for (const m of text.matchAll(/new (\w+)Command\(/g)) {
      const service = clientOf.get(`${m[1] ?? ''}Command`);
      if (service) sent.add(`${service}:${m[1] ?? ''}`);
    }
  }
  return sent;
}

/** `service:Operation` of every row of the table under "Calls checked against AWS's API models". */
async function commandsDocumented(): Promise<Set<string>> {
  const doc = await readFile(`${root}docs/testing.md`, 'utf8');
  const section = doc.split(/^### /m).find((s) => s.startsWith("Calls checked against AWS's API models")) ?? '';
  const rows = [...section.matchAll(/^\| ([a-z0-9-]+) \| (\w+) \|/gm)].map((m) => `${m[1] ?? ''}:${m[2] ?? ''}`);
  return new Set(rows);
}

describe("docs/testing.md's table of model-checked operations", () => {
  it('lists every command the operator sends', async () => {
    const sent = await commandsSent();
    const documented = await commandsDocumented();
    expect(sent.size).toBeGreaterThan(30);
    expect([...sent].filter((c) => !documented.has(c)).sort()).toEqual([]);
  });

  it("names operations of botocore's models (the client package is the model's service name)", async () => {
    const unknown = [...(await commandsSent())].filter((c) => {
      const [service = '', operation = ''] = c.split(':');
      return !loadModel(service)?.operations[operation];
    });
    expect(unknown).toEqual([]);
  });
});
