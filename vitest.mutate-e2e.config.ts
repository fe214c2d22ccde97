import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The focused end-to-end tests Stryker runs for the rules that live in the Discord and chat
 * glue (stryker.rules.config.mjs): who may press a result's buttons, and where a private
 * answer is remembered.
 */
export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/e2e/ownership.test.ts', 'test/e2e/privateHistory.test.ts', 'test/unit/ownership.test.ts', 'test/unit/discordOwnership.test.ts'] },
});
