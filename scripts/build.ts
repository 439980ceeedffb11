/**
 * The production build: the operator (src/main.ts -> dist/main.js) and the tenant gateway
 * (src/gateway/main.ts -> dist/gateway/main.js) bundled by esbuild, tree-shaken, into files that
 * need no node_modules. It exists for memory: Node keeps the source of every module it loads and
 * the bookkeeping of each, and a bundle holds only the code each process can reach (the AWS SDK
 * clients' unused commands, unused parts of every package), so the operator starts about 10 MiB
 * smaller than from tsc's output with node_modules (docs/performance.md, "Memory").
 *
 * Types are not checked here (`npm run typecheck` does that). Whitespace and comments are removed,
 * identifiers kept, so stack traces still name functions; full minification measured larger.
 * Code loaded only on some paths (e.g. ioredis, which the operator loads only when it reads the
 * gateway's counters) goes to chunks under dist/chunks/ that are read only when first imported.
 *
 *   node scripts/build.ts [--outdir dist]
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { bundleOptions } from './bundle-options.ts';

const repoRoot = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { outdir: { type: 'string', default: join(repoRoot, 'dist') } } });
const outdir = values.outdir;

await rm(outdir, { recursive: true, force: true });
await build({
  ...bundleOptions,
  absWorkingDir: repoRoot,
  entryPoints: { main: 'src/main.ts', 'gateway/main': 'src/gateway/main.ts' },
  outdir,
});
