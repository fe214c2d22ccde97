// @ts-check
/**
 * Mutation testing (`npm run mutate`): Stryker breaks the modules whose rules protect users,
 * one small change at a time, and checks that a test fails for each. Report: reports/mutation/.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const config = {
  packageManager: 'npm',
  testRunner: 'vitest',
  // Per-mutant selection: only tests related to the mutated file (vitest --related) and,
  // within them, only the tests that reached the mutant in the dry run.
  vitest: { configFile: 'vitest.mutate.config.ts', related: true },
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  mutate: [
    'src/core/**/*.ts',
    'src/spend/**/*.ts',
    'src/store/**/*.ts',
    // The one safe fetch, and the address policy it enforces.
    'src/net/**/*.ts',
    'src/logger.ts',
  ],
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportTests: false, reportMutants: true, reportScoreTable: true },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  // Not copied into the sandbox: other runs' sandboxes, reports, local data and scratch files.
  ignorePatterns: ['.stryker-tmp*', 'reports', 'data', '.scratch', 'bench/results.json'],
  cleanTempDir: true,
};

export default config;
