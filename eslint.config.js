import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'crds/**', 'charts/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', fetch: 'readonly', setImmediate: 'readonly', queueMicrotask: 'readonly', structuredClone: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-console': 'off',
    },
  },
  // The agent's layers: cli → actions → session/devloop/sync/project → api. Lower layers never
  // import higher ones, and a command never imports another command (shared flags live in
  // cli/flags.ts). Relative imports are matched by what they point at.
  {
    files: ['agent/src/session/**/*.ts', 'agent/src/devloop/**/*.ts', 'agent/src/sync/**/*.ts', 'agent/src/project/**/*.ts', 'agent/src/build/**/*.ts', 'agent/src/analyze/**/*.ts', 'agent/src/hooks/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)(cli|actions)(/|$)', message: 'session/, devloop/, sync/ and project/ must not depend on the CLI or the action layer: take what you need as a parameter (see agent/src/env.ts).' }] }],
    },
  },
  {
    files: ['agent/src/actions/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)cli(/|$)', message: 'actions know nothing of the CLI: take explicit options and an AgentEnv.' }] }],
    },
  },
  {
    files: ['agent/src/kube/**/*.ts', 'agent/src/output/**/*.ts', 'agent/src/env.ts', 'agent/src/errors.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)(cli|actions|session|devloop|sync|project)(/|$)', message: 'kube/, output/, env.ts and errors.ts are the bottom layer of the agent.' }] }],
    },
  },
  {
    files: ['agent/src/cli/commands/*.ts'],
    ignores: ['agent/src/cli/commands/index.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\./', message: 'a command must not import another command: shared flags and printers live in agent/src/cli/.' }] }],
    },
  },
);
