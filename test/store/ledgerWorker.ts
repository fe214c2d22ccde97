import { createInterface } from 'node:readline';
import { SpendLedger, type Hold } from '../../src/spend/spendLedger.js';
import { openStore } from '../../src/store/openStore.js';

/**
 * One "bot process" for the cross-process ledger test: the store and the ledger wired as
 * createBot wires them, reserving against one guild as fast as it can once told to go, then
 * settling or releasing what it got. Prints one JSON line with what it did.
 */
const env = process.env;
const url = env['STORE_URL'] ?? '';
const scope = env['SCOPE'] ?? 'guild';
const attempts = Number(env['ATTEMPTS'] ?? 30);
const estimate = Number(env['ESTIMATE'] ?? 3);
const daily = Number(env['DAILY'] ?? 100);
const worker = env['WORKER'] ?? '0';

const store = openStore(url);
const ledger = new SpendLedger(store.namespace('spend'), () => ({ daily, monthly: null, userDaily: null }), Date.now, {
  lock: (key, task) => store.lock(`spend:${key}`, task),
});
await store.ping(10_000);
const lines = createInterface({ input: process.stdin });
const nextLine = () => new Promise<void>((resolve) => lines.once('line', () => resolve()));
console.log(JSON.stringify({ ready: true }));
// Both processes start reserving at the same moment.
await nextLine();

const holds: Hold[] = [];
let refused = 0;
// Four requests in flight at a time, as a busy guild would have.
await Promise.all(
  Array.from({ length: 4 }, async (_, lane) => {
    for (let i = lane; i < attempts; i += 4) {
      const result = await ledger.reserve({ scope, userId: `w${worker}-u${i % 5}`, kind: 'chat', model: 'm', estimate });
      if (result.ok) holds.push(result.hold);
      else refused += 1;
    }
  }),
);
console.log(JSON.stringify({ granted: holds.length, refused, ids: holds.map((h) => h.entry.id) }));
// Then, again together: half the holds are settled below their estimate, the rest released (failed requests).
await nextLine();
let settledSpark = 0;
await Promise.all(
  holds.map(async (hold, i) => {
    if (i % 2 === 0) {
      await ledger.settle(hold, estimate - 1);
      settledSpark += estimate - 1;
    } else {
      await ledger.release(hold);
    }
  }),
);
console.log(JSON.stringify({ settledSpark }));
lines.close();
await store.close();
