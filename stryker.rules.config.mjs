// @ts-check
import { readFileSync } from 'node:fs';
import base from './stryker.config.mjs';

const CHAT = 'src/chat/chatService.ts';

/**
 * The lines of the chat service that hold the private-history rule (which history a private
 * answer reads and writes, the private key, the merge), found by what they say: the file
 * changes often, so fixed line numbers would drift.
 */
function privateHistoryLines() {
  const lines = readFileSync(CHAT, 'utf8').split('\n');
  const at = (/** @type {string} */ text) => lines.findIndex((l) => l.includes(text)) + 1;
  const ranges = [];
  const key = at('const historyKey = request.private');
  const read = at('request.private ? mergeByTime(');
  if (key > 0) ranges.push(`${CHAT}:${key}-${key}`);
  if (read > 0) ranges.push(`${CHAT}:${read}-${read}`);
  for (const start of [at('export function privateHistoryKey('), at('function mergeByTime(')]) {
    if (start > 0) ranges.push(`${CHAT}:${start}-${start + 2}`);
  }
  if (ranges.length < 4) console.warn(`stryker.rules.config.mjs: found ${ranges.length} of the 4 private-history places in ${CHAT}; update the markers`);
  return ranges;
}

/**
 * `npm run mutate`, second part: the rules that live in the Discord and chat glue, killed by
 * the focused end-to-end tests (the bot on the fake Discord and fake Sogni).
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  ...base,
  mutate: ['src/discord/ownership.ts', ...privateHistoryLines()],
  vitest: { configFile: 'vitest.mutate-e2e.config.ts', related: true },
  htmlReporter: { fileName: 'reports/mutation-rules/index.html' },
  jsonReporter: { fileName: 'reports/mutation-rules/mutation.json' },
};
