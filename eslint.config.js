// The linter in the README's test command: typescript-eslint's strict type-checked rules over
// the sources, the connectors and the tests, with the conventions this codebase keeps.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/bench/**', 'bin/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers and booleans read well in messages; objects and nullish values must be shown on purpose.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `return respond(res)` ends a handler in one line: returning a void call is how the code is written.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // A failure kept as it was caught (`unknown`) is thrown again exactly as it was; nothing
      // here throws a literal.
      '@typescript-eslint/only-throw-error': 'off',
      // Values read from a database or a worker are converted where they arrive, whatever the
      // declared type says (PostgreSQL counts come as text, SQLite's as numbers).
      '@typescript-eslint/no-unnecessary-type-conversion': 'off',
      // Methods that implement an async interface without awaiting anything stay async.
      '@typescript-eslint/require-await': 'off',
      // `_name`: deliberately unused (a destructured-away property, a required parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests read JSON answers and rows of unknown shape and name cases after them: `String(value)`
    // in a title, `expect(spec.method)` to check a method is absent, `JSON.parse` results.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-dynamic-delete': 'off',
      // Expected output is written as it looks, indentation included.
      'no-regex-spaces': 'off',
    },
  },
  {
    // Plain configuration files outside the TypeScript projects.
    files: ['vitest.config.ts'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
