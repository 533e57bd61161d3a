// ESLint (flat config): JavaScript's and typescript-eslint's recommended rules for our own code.
// Examples are user projects in their own style; dist/ and results are generated.
const js = require('@eslint/js');
const globals = require('globals');
const tseslint = require('typescript-eslint');
const { defineConfig, globalIgnores } = require('eslint/config');

// `_name` marks what is there only to be left out (`{ pack: _previous, ...rest }`) or to fit a signature.
const unused = ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }];

module.exports = defineConfig([
  globalIgnores(['dist/', 'examples/', 'bench/results/', '.cache/', 'coverage/']),
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': unused,
      // Deliberate: the AWS SDK and other heavy modules load only where used (a `require` inside
      // the function that needs it), and the user's own Jest is loaded by path at run time.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { 'no-unused-vars': unused },
  },
]);
