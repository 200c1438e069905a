// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

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
    // The web app talks to the server over HTTP only: core's types, core's browser-safe report charts.
    files: ['packages/web/app/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@autolabel/core', allowTypeImports: true, message: 'import core types only (type-only)' }],
          patterns: [
            { group: ['@autolabel/server', '@autolabel/cli'], message: 'the web app reaches the server over HTTP' },
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
);
