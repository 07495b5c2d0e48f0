// Type-checked lint: the rules that catch real bugs in async server code (a floating
// promise in a handler is a lost error, not a style issue) over every TypeScript file.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'docs-dist/', 'generated/', 'node_modules/', '.data/', 'coverage/', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Log lines and messages print unknown values on purpose (String() of whatever arrived).
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      // Slonik fragments are typed `never` inside template literals; `+` on them is not arithmetic.
      '@typescript-eslint/restrict-plus-operands': 'off',
      // Express types res.locals and JSON bodies as `any`; the values are checked where they are made.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // Rejections and rethrows pass on what the callee threw, unchanged.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/only-throw-error': 'off',
    },
  },
  {
    // Slonik's README: production code uses sql.type (a zod schema per query), never sql.unsafe.
    files: ['src/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'sql', property: 'unsafe', message: 'Use sql.type(zodSchema): every query in src/ is typed (Slonik README).' },
      ],
    },
  },
  {
    // Tests and the bench read JSON answers, which are `any` by nature; their shape is checked
    // against openapi.yaml at run time instead.
    files: ['tests/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Fakes implement async interfaces with bodies that need no await.
      '@typescript-eslint/require-await': 'off',
    },
  },
);
