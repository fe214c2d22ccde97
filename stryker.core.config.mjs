// @ts-check
import base from './stryker.config.mjs';

/**
 * `npm run mutate:core`, run by CI: the parts of src/core and src/spend whose rules protect
 * users (money, history, failure lines, who may press a button), failing under 90%. The whole
 * of src/core and src/spend takes over half an hour on a 2-core machine, past CI's budget for
 * it: `npm run mutate` covers all of it for developers.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  ...base,
  mutate: [
    'src/core/spendMath.ts',
    'src/core/pricing.ts',
    'src/core/history.ts',
    'src/core/keyedMutex.ts',
    'src/core/describeFailure.ts',
    'src/core/ownership.ts',
    'src/spend/limits.ts',
  ],
  htmlReporter: { fileName: 'reports/mutation-core/index.html' },
  jsonReporter: { fileName: 'reports/mutation-core/mutation.json' },
  thresholds: { high: 90, low: 80, break: 90 },
};
