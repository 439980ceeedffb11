/**
 * How the production bundles are built (scripts/build.ts), shared with benchmarks that bundle a
 * process of their own the same way: ES modules for Node 24, tree-shaken, whitespace removed and
 * identifiers kept (stack traces still name functions), code loaded only on some paths split into
 * chunks under chunks/ that are read only when first imported.
 */
import type { BuildOptions } from 'esbuild';

export const bundleOptions = {
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minifyWhitespace: true,
  legalComments: 'none',
  // CommonJS packages call require() for Node's modules; an ES module has none of its own.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
} satisfies BuildOptions;
