// @ts-check
import base from './stryker.config.mjs';

/**
 * One module at a time, for whoever is closing its mutation holes:
 *   MUTATE=src/core/runCost.ts npx stryker run stryker.focus.config.mjs
 * MUTATE takes a comma-separated list of files or globs; FOCUS names the report and sandbox
 * (reports/mutation-<FOCUS>/, .stryker-tmp-<FOCUS>/) so several runs can share one tree.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const files = (process.env.MUTATE ?? '').split(',').map((s) => s.trim()).filter(Boolean);
if (files.length === 0) throw new Error('Set MUTATE to the file(s) to mutate, e.g. MUTATE=src/core/runCost.ts');
const name = (process.env.FOCUS ?? 'focus').replace(/[^\w-]/g, '');

export default {
  ...base,
  mutate: files,
  concurrency: Number(process.env.STRYKER_CONCURRENCY ?? 1),
  reporters: ['clear-text', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation-${name}/index.html` },
  jsonReporter: { fileName: `reports/mutation-${name}/mutation.json` },
  tempDirName: `.stryker-tmp-${name}`,
};
