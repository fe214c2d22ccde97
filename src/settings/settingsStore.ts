import type Keyv from 'keyv';
import { KeyedMutex } from '../core/keyedMutex.js';
import { resolveSettings, type EffectiveSettings, type ScopeSettings, type SettingSource } from '../core/settings.js';

export type SettingsDefaults = Omit<EffectiveSettings, 'sources'>;

/** Where a change applies: a whole server, or one channel (or thread) in it. */
export interface SettingsTarget {
  guildId: string;
  channelId?: string | null;
}

const keyOf = ({ guildId, channelId }: SettingsTarget) => (channelId ? `channel:${guildId}:${channelId}` : `guild:${guildId}`);

/**
 * Server and channel settings in the store: they survive restarts and apply from the next
 * message on. Changes are read-modify-writes of one entry, serialised per entry.
 */
export class SettingsStore {
  readonly #keyv: Keyv<ScopeSettings>;
  readonly #defaults: SettingsDefaults;
  readonly #locks = new KeyedMutex();

  constructor(keyv: Keyv<ScopeSettings>, defaults: SettingsDefaults) {
    this.#keyv = keyv;
    this.#defaults = defaults;
  }

  get defaults(): SettingsDefaults {
    return this.#defaults;
  }

  /** What applies in a channel: its own settings, then its parent's (for a thread), then the server's, then the defaults. */
  async effective(guildId: string | null, channelId: string, parentId?: string | null): Promise<EffectiveSettings> {
    if (!guildId) return resolveSettings(this.#defaults, []);
    try {
      return await this.#effective(guildId, channelId, parentId);
    } catch {
      // A store that cannot be read must not silence the bot: the defaults apply, and paid work is
      // refused by the ledger (which needs the same store) with a line saying why.
      return resolveSettings(this.#defaults, []);
    }
  }

  async #effective(guildId: string, channelId: string, parentId?: string | null): Promise<EffectiveSettings> {
    const layers: { source: SettingSource; settings: ScopeSettings | undefined }[] = [
      { source: 'channel', settings: await this.#keyv.get(keyOf({ guildId, channelId })) },
    ];
    if (parentId) layers.push({ source: 'parent channel', settings: await this.#keyv.get(keyOf({ guildId, channelId: parentId })) });
    layers.push({ source: 'server', settings: await this.#keyv.get(keyOf({ guildId })) });
    return resolveSettings(this.#defaults, layers);
  }

  /** The settings stored for exactly this target (nothing inherited). */
  async get(target: SettingsTarget): Promise<ScopeSettings> {
    return (await this.#keyv.get(keyOf(target))) ?? {};
  }

  async set(target: SettingsTarget, changes: ScopeSettings): Promise<ScopeSettings> {
    const key = keyOf(target);
    return this.#locks.run(key, async () => {
      const next = { ...((await this.#keyv.get(key)) ?? {}), ...changes };
      await this.#keyv.set(key, next);
      return next;
    });
  }

  async reset(target: SettingsTarget): Promise<void> {
    const key = keyOf(target);
    await this.#locks.run(key, () => this.#keyv.delete(key));
  }
}
