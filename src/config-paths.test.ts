/**
 * Messages and descriptions that name an operator setting name it as the --config file spells it:
 * every string in src/ is scanned for setting paths, and each must exist in the config schema.
 * A message that says `aws.operatorRoleArn` for the top-level `operatorRoleArn` sends an
 * administrator looking for a setting that does not exist.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { settingPaths } from './config.js';

const src = fileURLToPath(new URL('.', import.meta.url));
const known = new Set(settingPaths());
const topLevel = new Set([...known].filter((p) => !p.includes('.')));

/** A string names the operator's configuration around its setting names. */
const CONFIG_CONTEXT = /--config|operator's config|\bsettings?\b/;
/** A dotted name standing on its own (not part of a file name, URL, JSON path or ARN). */
const DOTTED = /(?<![\w./:-])[a-z][a-zA-Z0-9]*(?:\.[a-z][a-zA-Z0-9]*)+(?![\w/:-])/g;
/** A camelCase name standing on its own. */
const CAMEL = /(?<![\w./:-])[a-z][a-z0-9]*[A-Z][a-zA-Z0-9]*(?![\w./:-])/g;

/**
 * The setting paths a string names that the config schema does not have. A dotted name counts when
 * its first part is a top-level setting (`aws.`, `leaderElection.`, ...), or it is the chart's
 * `config.<setting>`; a bare camelCase name counts in a string that speaks of the configuration,
 * and must then be a top-level setting (nested ones are named with their full path).
 */
export function unknownSettings(text: string): string[] {
  const bad: string[] = [];
  const dotted = text.match(DOTTED) ?? [];
  for (const name of dotted) {
    const path = name.startsWith('config.') ? name.slice('config.'.length) : name;
    const first = path.split('.')[0] ?? '';
    if ((topLevel.has(first) || name.startsWith('config.')) && !known.has(path)) bad.push(name);
  }
  if (CONFIG_CONTEXT.test(text)) {
    const bare = text.replace(DOTTED, ' ');
    for (const name of bare.match(CAMEL) ?? []) if (!topLevel.has(name)) bad.push(name);
  }
  return bad;
}

/** Every string literal and template text of a source file, with its line (imports excluded). */
function strings(file: string): { line: number; text: string }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      out.push({ line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.text });
    } else if (ts.isTemplateExpression(node)) {
      // The parts between substitutions, joined with a placeholder no pattern matches.
      const text = [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' … ');
      out.push({ line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text });
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.name !== 'types.generated.ts' ? [path] : [];
  });
}

describe('setting paths in messages', () => {
  it.each([
    { text: 'check aws.operatorRoleArn (the role the operator runs as)', want: ['aws.operatorRoleArn'] },
    { text: 'check operatorRoleArn and openSearch.vpcEndpointIds', want: [] },
    { text: "add it to trustedAccountIds in the operator's --config", want: [] },
    { text: "add it to trustedAccount in the operator's --config", want: ['trustedAccount'] },
    { text: "set config.eksClusterArn (the chart's values)", want: [] },
    { text: 'set config.eksCluster in the chart', want: ['config.eksCluster'] },
    { text: "set vpcEndpointIds in the operator's --config", want: ['vpcEndpointIds'] },
    { text: 'leaderElection.renewDeadlineSeconds must be shorter', want: [] },
    { text: 'spec.access.podIdentity, status.usage.totalTokens, ./usage.js, .status.usage.x, https://docs.aws.amazon.com', want: [] },
  ])('finds $want in "$text"', ({ text, want }) => {
    expect(unknownSettings(text)).toEqual(want);
  });

  it('every setting a string in src/ names exists in the --config schema', () => {
    const files = sourceFiles(src);
    expect(files.length).toBeGreaterThan(50);
    const problems = files.flatMap((file) =>
      strings(file).flatMap(({ line, text }) => unknownSettings(text).map((name) => `${relative(src, file)}:${line}: ${name}`)),
    );
    expect(problems).toEqual([]);
  });
});
