import type { Config } from '../config.js';
import type { PriceTable } from '../core/pricing.js';
import type { Logger } from '../logger.js';
import { SogniRuns } from '../sogni/runs.js';
import type { Sogni } from '../sogni/sogniClient.js';
import type { SpendLedger } from '../spend/spendLedger.js';
import type { Store } from '../store/openStore.js';
import type { StoredJob } from './jobs.js';
import { MediaService, type MediaOffer } from './mediaService.js';
import { RunService } from './runService.js';
import { RunStore } from './runStore.js';

/** The media path as createBot wires it: durable runs in the same fair queue as every Sogni request. */
export function createMedia(
  config: Config,
  parts: { sogni: Sogni; ledger: SpendLedger; prices: PriceTable; store: Store; logger: Logger },
): MediaService {
  const { sogni, ledger, prices, store, logger } = parts;
  const jobs = store.namespace<StoredJob>('media');
  const runs = new RunService({
    runs: new SogniRuns({ apiKey: config.SOGNI_API_KEY, baseURL: config.SOGNI_BASE_URL, queue: sogni.queue, timeoutSeconds: config.SOGNI_TIMEOUT_SECONDS }),
    ledger,
    store: new RunStore(store.namespace('runs'), (key, task) => store.lock(`runs:${key}`, task)),
    jobs,
    model: config.SOGNI_MODEL,
    tokenType: config.TOKEN_TYPE,
    maxSeconds: config.MAX_VIDEO_SECONDS,
    logger: logger.child({ component: 'runs' }),
  });
  return new MediaService({
    sogni,
    ledger,
    prices,
    model: config.SOGNI_MODEL,
    tokenType: config.TOKEN_TYPE,
    jobs,
    offers: store.namespace<MediaOffer>('offer'),
    maxSeconds: config.MAX_VIDEO_SECONDS,
    mode: config.MEDIA_MODE,
    runs,
  });
}
