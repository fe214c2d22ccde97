import { loadDotEnv } from '../dotenv.js';
import { formatResult, runDoctor } from './doctorChecks.js';

/**
 * `npm run doctor`: checks the configuration, the Sogni key, the Discord token, intents,
 * permissions and commands, one line each with its fix. Exits 0 only when every check passes.
 */
loadDotEnv();
const results = await runDoctor(process.env);
for (const result of results) console.log(formatResult(result));
const failed = results.filter((r) => !r.ok).length;
console.log(failed === 0 ? `\nAll ${results.length} checks passed.` : `\n${failed} of ${results.length} checks failed.`);
process.exit(failed === 0 ? 0 : 1);
