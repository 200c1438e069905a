// @ts-check
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = dirname(fileURLToPath(import.meta.url));

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'example/**', 'artifacts/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Type-aware rules on package sources, tests included: an un-awaited `expect(...).rejects` or
    // server.close() is a test that cannot fail, or one that ends before its work does. Sources get
    // types from their package's tsconfig.json, tests from the root tsconfig.json (tsconfig.tests.json).
    files: ['packages/*/src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // File-level import cycles (type-only imports excluded: they vanish at run time). Folder-level
    // cycles inside core are scripts/lint/check-folder-cycles.ts, run by `npm run lint`.
    files: ['packages/*/src/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: root })],
      // Other packages are reached through their built output; their own lint covers their cycles.
      'import-x/ignore': ['/dist/', 'node_modules'],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  // A package's code imports only what its package.json depends on: core never reaches for the test
  // fixtures in @autolabel/test-utils (which depend on core), nor anything else it does not declare.
  ...['core', 'test-utils', 'server', 'cli'].map((name) => ({
    files: [`packages/${name}/src/**/*.ts`],
    ignores: ['**/*.test.ts', '**/*.contract.ts', '**/testing/**'],
    rules: {
      'import-x/no-extraneous-dependencies': [
        'error',
        { packageDir: [`packages/${name}`], devDependencies: false, includeTypes: true },
      ],
    },
  })),
  {
    // The web app talks to the server over HTTP only: core's types, and core's browser-safe entries.
    files: ['packages/web/app/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@autolabel/core', allowTypeImports: true, message: 'import core types only (type-only)' }],
          patterns: [
            { group: ['@autolabel/server', '@autolabel/cli'], message: 'the web app reaches the server over HTTP' },
            {
              group: [
                '@autolabel/core/*',
                '!@autolabel/core/charts',
                '!@autolabel/core/domain',
                '!@autolabel/core/http-limits',
              ],
              message: "of core's values, the browser gets its browser-safe entries only: charts, domain, http-limits",
            },
          ],
        },
      ],
    },
  },
  {
    // Dependency direction: core is the engine; it never imports the CLI, the server or the web app.
    files: ['packages/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@autolabel/cli',
                '@autolabel/server',
                '@autolabel/web',
                '**/cli/**',
                '**/server/**',
                '**/web/**',
              ],
              message: 'core must not depend on cli, server or web',
            },
            { group: ['commander'], message: 'argv parsing belongs in packages/cli' },
          ],
        },
      ],
      // Library code reports through return values and errors, never prints or exits.
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'core never exits the process; throw an AutolabelError' },
      ],
    },
  },
  {
    // The domain floor (ids, image status, labels, skip reasons, model specs) imports nothing but its own
    // files and ../errors.js, so every layer can use its words without importing another layer. It
    // replaces core's no-restricted-imports for these files, and is stricter.
    files: ['packages/core/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\.\\./errors\\.js$|\\./[\\w-]+\\.js$)',
              message: 'core/src/domain is the floor: it imports nothing but its own files and ../errors.js',
            },
          ],
        },
      ],
    },
  },
  {
    // One engine API: the CLI and the server call the Workspace's use cases, never the store behind
    // it (core's own), and never the internals that only benchmarks and tests reach for.
    files: ['packages/server/src/**/*.ts', 'packages/cli/src/**/*.ts'],
    ignores: ['**/*.test.ts', '**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@autolabel/core',
              importNames: ['storeOf', 'openSqliteStore', 'Store'],
              message: 'the store is private to core: call a Workspace use case',
            },
            { name: '@autolabel/core/learn', message: 'benchmark and test internals: call a Workspace use case' },
          ],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          // A command's parsed --store flag (flags.store) is a URL, not the store.
          selector: "MemberExpression[property.name='store']:not([object.name='flags'])",
          message: 'the store is private to core: call a Workspace use case',
        },
      ],
    },
  },
);
