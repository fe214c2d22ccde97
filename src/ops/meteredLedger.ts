import { roundSpark } from '../core/pricing.js';
import { SpendLedger, type Hold, type ReserveRequest, type ReserveResult, type SettleResult } from '../spend/spendLedger.js';
import type { SpendKind } from '../core/pricing.js';
import type { BotMetrics } from './metrics.js';

/**
 * The ledger, counted: every paid request passes through it, so media jobs by outcome and
 * Spark spent by server are read here, without a line in each media path. Chat holds are
 * answers, counted by the chat service; everything else is a media job.
 */
export class MeteredLedger extends SpendLedger {
  readonly #metrics: Pick<BotMetrics, 'mediaJob' | 'spent'>;

  constructor(metrics: Pick<BotMetrics, 'mediaJob' | 'spent'>, ...args: ConstructorParameters<typeof SpendLedger>) {
    super(...args);
    this.#metrics = metrics;
  }

  override async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const result = await super.reserve(request);
    if (!result.ok && request.kind !== 'chat') this.#metrics.mediaJob('refused');
    return result;
  }

  override async settle(hold: Hold, actual: number, kind?: SpendKind): Promise<SettleResult> {
    const result = await super.settle(hold, actual, kind);
    this.#metrics.spent(hold.scope, roundSpark(Math.max(0, actual)));
    if (hold.entry.kind !== 'chat') this.#metrics.mediaJob('ok');
    return result;
  }

  override async release(hold: Hold): Promise<void> {
    await super.release(hold);
    if (hold.entry.kind !== 'chat') this.#metrics.mediaJob('failed');
  }
}
