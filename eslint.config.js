// Lint rules from docs/architecture.md: no floating promises, no any, no non-null assertions,
// explicit return types on exports, and the dependency direction between layers.
import { join } from 'node:path';
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

/**
 * What each layer of src/ may import besides itself (docs/architecture.md, "Layout"). `core` is
 * pure: only `api`, no packages and no Node module but `node:crypto` (hashing names). Controllers
 * reach AWS and Kubernetes through `ports` and the `resources` drivers, never through `adapters`.
 * Nothing imports `controllers` or the settings (src/config.ts) but the composition roots
 * (src/main.ts, src/operator.ts), which may import everything. Tests are exempt: they assemble
 * whatever they check.
 */
const layers = {
  api: ['api'],
  core: ['api'],
  ports: ['api', 'core'],
  runtime: ['core', 'ports'],
  adapters: ['api', 'core', 'ports', 'runtime'],
  resources: ['api', 'core', 'adapters'],
  usage: ['api', 'core', 'ports', 'runtime'],
  ingestion: ['api', 'core', 'ports', 'runtime', 'adapters'],
  controllers: ['api', 'core', 'ports', 'runtime', 'resources', 'usage', 'ingestion'],
  // The tenant gateway (a second entry point, src/gateway/main.ts): never the operator's
  // controllers, resources or settings.
  gateway: ['api', 'core', 'ports', 'runtime', 'adapters', 'usage'],
};

const dependencyDirection = {
  files: ['src/**/*.ts'],
  ignores: ['**/*.test.ts'],
  plugins: { boundaries },
  settings: {
    // Relative imports name `.js`; the resolver maps them to the `.ts` source. Packages: node.
    'import/resolver': { [join(import.meta.dirname, 'eslint-resolver.cjs')]: {}, node: {} },
    'boundaries/elements': Object.keys(layers).map((type) => ({ type, pattern: `src/${type}`, partialMatch: false })),
    'boundaries/files': [
      { category: 'composition-root', pattern: 'src/{main,operator}.ts' },
      { category: 'settings', pattern: 'src/config.ts' },
      { category: 'endpoints', pattern: 'src/server.ts' },
    ],
  },
  rules: {
    'boundaries/dependencies': [
      'error',
      {
        default: 'disallow',
        // Packages and Node modules too, and local files outside every layer (src/config.ts).
        checkAllOrigins: true,
        checkUnknownLocals: true,
        policies: [
          { from: { file: { categories: 'composition-root' } }, allow: { to: { module: { origin: '*' } } } },
          { from: { file: { categories: '{settings,endpoints}' } }, allow: { to: { module: { origin: '{external,core}' } } } },
          ...Object.entries(layers).map(([type, deps]) => ({
            from: { element: { type } },
            allow: { to: { element: { type: `{${[type, ...deps].join(',')}}` } } },
          })),
          { from: { element: { type: '!core' } }, allow: { to: { module: { origin: '{external,core}' } } } },
          { from: { element: { type: 'core' } }, allow: { to: { module: { origin: 'core', source: 'node:crypto' } } } },
        ],
      },
    ],
  },
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.scratch/', '.sandbox/', 'src/api/v1alpha1/types.generated.ts', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  dependencyDirection,
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/explicit-module-boundary-types': 'off' },
  },
  { files: ['eslint.config.js'], extends: [tseslint.configs.disableTypeChecked] },
  {
    files: ['eslint-resolver.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', exports: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
