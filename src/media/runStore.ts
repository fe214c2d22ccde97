import type Keyv from 'keyv';
import { KeyedMutex } from '../core/keyedMutex.js';
import type { MediaItem } from '../sogni/extractMedia.js';
import type { CreateRunBody } from '../sogni/runs.js';
import type { Hold } from '../spend/spendLedger.js';
import type { MediaSpec } from './mediaRequest.js';

/** Where a run's status and result are shown. */
export interface RunTarget {
  /** The one line on top: what was asked, for whom. */
  header: string;
  /** The channel a result goes to when nothing else can show it (absent: nowhere but the caller). */
  channelId?: string;
  /**
   * 'status': the run owns an interaction's reply and shows progress and the result there.
   * 'caller': the caller shows the result (a chat answer); after a restart it goes to the channel.
   */
  surface: 'status' | 'caller';
  /** The interaction whose reply is the status: its webhook token works for 15 minutes from `receivedAt`. */
  interaction?: { applicationId: string; token: string; receivedAt: number };
  /** Only the asker sees it: never posted in the channel. */
  private: boolean;
}

/** A priced job the bot confirmed (or is about to), and the hold that pays for it. */
export interface Confirmation {
  toolCallId?: string;
  toolName?: string;
  spark: number;
  /** The preview as Sogni sent it, to copy back unchanged (also after a restart). */
  preview: unknown;
  hold: Hold;
  state: 'reserved' | 'confirmed' | 'released';
}

/** How a run ended, kept until it is shown. */
export interface FinishedRun {
  outcome: 'ok' | 'partial' | 'failed' | 'cancelled' | 'refused' | 'empty';
  media: MediaItem[];
  text: string;
  /** One line each: why it stopped, or what failed. */
  lines: string[];
  /** Spend warnings. */
  notes: string[];
  jobId?: string;
}

/** Everything needed to finish a run in another process: kept from before it is created until it is shown. */
export interface RunRecord {
  /** The Idempotency-Key, also the record's id and the Cancel button's. */
  key: string;
  runId?: string;
  scope: string;
  userId: string;
  /** The member's role ids when the run was asked for: the allowance their roles give them pays for it. */
  roleIds?: string[];
  dm: boolean;
  spec: MediaSpec;
  /** Exactly what is (or was) sent: a retry after a crash sends the same. */
  body: CreateRunBody;
  target: RunTarget;
  /** The last event handled; a re-attached follower reads after it. */
  lastSequence: number;
  confirmations: Confirmation[];
  cancelledBy?: string;
  /** Set when the bot itself stopped the run (over a limit, an expired or unreadable price). */
  stopLine?: string;
  stopOutcome?: 'refused' | 'failed';
  finished?: FinishedRun;
  jobId: string;
  startedAt: number;
}

const INDEX = 'index';

/** Runs a read-modify-write alone: in-process for one bot, the store's cross-process lock when shards share a store. */
export type LockRunner = <T>(key: string, task: () => Promise<T>) => Promise<T>;

/**
 * The runs in progress, in the store. An index of keys lists them for the restart (keyv
 * cannot list a namespace on every backend); it is a read-modify-write, so one lock guards it,
 * across processes when several shards add runs to one shared store.
 */
export class RunStore {
  readonly #keyv: Keyv<unknown>;
  readonly #lock: LockRunner;

  constructor(keyv: Keyv<unknown>, lock?: LockRunner) {
    this.#keyv = keyv;
    if (lock) this.#lock = lock;
    else {
      const local = new KeyedMutex();
      this.#lock = (key, task) => local.run(key, task);
    }
  }

  async add(record: RunRecord): Promise<void> {
    await this.save(record);
    await this.#lock(INDEX, async () => {
      const keys = ((await this.#keyv.get(INDEX)) as string[] | undefined) ?? [];
      if (!keys.includes(record.key)) await this.#keyv.set(INDEX, [...keys, record.key]);
    });
  }

  async save(record: RunRecord): Promise<void> {
    await this.#keyv.set(`run:${record.key}`, record);
  }

  async get(key: string): Promise<RunRecord | undefined> {
    return (await this.#keyv.get(`run:${key}`)) as RunRecord | undefined;
  }

  async remove(key: string): Promise<void> {
    await this.#lock(INDEX, async () => {
      const keys = ((await this.#keyv.get(INDEX)) as string[] | undefined) ?? [];
      await this.#keyv.set(INDEX, keys.filter((k) => k !== key));
    });
    await this.#keyv.delete(`run:${key}`);
  }

  /** Every run not yet shown. */
  async unfinished(): Promise<RunRecord[]> {
    const keys = ((await this.#keyv.get(INDEX)) as string[] | undefined) ?? [];
    const records = await Promise.all(keys.map((k) => this.get(k)));
    return records.filter((r): r is RunRecord => r !== undefined);
  }
}
