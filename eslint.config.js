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
);
