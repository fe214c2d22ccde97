import { randomUUID } from 'node:crypto';
import { ActionRowBuilder, ButtonBuilder, ButtonStyle, type Message } from 'discord.js';
import type Keyv from 'keyv';
import type { Owned } from '../core/ownership.js';
import type { Logger } from '../logger.js';

/** The 🗑️ under a chat answer's last message; the answer's record id follows. */
export const DELETE_ANSWER_PREFIX = 'answer:delete:';
/** The 🗑️ under a media result; the job id follows (the job says whose it is). */
export const DELETE_MEDIA_PREFIX = 'media:delete:';

/** Answers' records are kept as long as media jobs, so both kinds of 🗑️ work for as long. */
export const ANSWER_RECORD_TTL_MS = 30 * 24 * 3600_000;

export function deleteButton(customId: string): ButtonBuilder {
  return new ButtonBuilder().setCustomId(customId).setEmoji('🗑️').setStyle(ButtonStyle.Secondary);
}

/** Which messages make up one chat answer, and whose it is: what its 🗑️ needs after a restart. */
export interface AnswerRecord extends Owned {
  channelId: string;
  messageIds: string[];
  at: number;
}

/** Chat answers' records, in the store with a TTL. */
export class AnswerRecords {
  readonly #keyv: Keyv<AnswerRecord>;
  readonly #logger: Logger;

  constructor(keyv: Keyv<AnswerRecord>, logger: Logger) {
    this.#keyv = keyv;
    this.#logger = logger;
  }

  get(id: string): Promise<AnswerRecord | undefined> {
    return this.#keyv.get(id);
  }

  async forget(id: string): Promise<void> {
    await this.#keyv.delete(id);
  }

  /** Never throws: an answer is shown whether or not its 🗑️ can be remembered. */
  async keep(id: string, record: AnswerRecord): Promise<void> {
    try {
      await this.#keyv.set(id, record, ANSWER_RECORD_TTL_MS);
    } catch (err) {
      this.#logger.warn({ err, answerId: id }, 'could not keep the answer record; its 🗑️ will not work');
    }
  }

  /**
   * Follows one answer as a surface sends it: every message id, and on its last message the
   * 🗑️ row. The record is written once that message is sent, with every id known by then.
   */
  track(owner: Owned, channelId: string): AnswerTracker {
    const id = randomUUID();
    const ids: string[] = [];
    return {
      note(message) {
        if (!ids.includes(message.id)) ids.push(message.id);
      },
      components(last) {
        return last ? { components: [new ActionRowBuilder<ButtonBuilder>().addComponents(deleteButton(`${DELETE_ANSWER_PREFIX}${id}`))] } : {};
      },
      kept: (last) => (last ? this.keep(id, { ...owner, channelId, messageIds: [...ids], at: Date.now() }) : Promise.resolve()),
    };
  }
}

export interface AnswerTracker {
  /** A message of the answer was posted (or an answer moved to it). */
  note(message: Message): void;
  /** The 🗑️ row to send with the answer's last message. */
  components(last: boolean | undefined): { components?: ActionRowBuilder<ButtonBuilder>[] };
  /** Writes the record once the last message is out. */
  kept(last: boolean | undefined): Promise<void>;
}
