// Import resolver for eslint-plugin-boundaries (eslint-module-utils interface version 2): our
// relative imports name the compiled `.js` file while the source is the `.ts` file next to it,
// which the node resolver cannot map. Packages and built-ins are left to the node resolver that
// follows this one in eslint.config.js.
const { existsSync } = require('node:fs');
const { dirname, resolve } = require('node:path');

exports.interfaceVersion = 2;

/** @type {(source: string, file: string) => { found: boolean, path?: string | null }} */
exports.resolve = (source, file) => {
  if (!source.startsWith('.')) return { found: false };
  const target = resolve(dirname(file), source);
  for (const candidate of [target.replace(/\.js$/, '.ts'), target]) {
    if (existsSync(candidate)) return { found: true, path: candidate };
  }
  return { found: false };
};
