import { InteractionContextType, type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import type { Config } from '../src/config.js';
import type { Button, Command, Registry } from '../src/discord/command.js';
import { ask } from './ask.js';
import { cleanupButtons } from './cleanup.js';
import { forget } from './forget.js';
import { imagine } from './imagine.js';
import { makeMediaButton } from './makeMedia.js';
import { settings } from './settings.js';
import { spend } from './spend.js';
import { usage } from './usage.js';

/** Every slash command, used by the bot and by `npm run deploy-commands`. */
export const commands: readonly Command[] = [ask, imagine, forget, spend, settings, usage];

/** Buttons that belong to no one command (offers made in chat answers, 🗑️ under answers and results). */
const standaloneButtons: readonly Button[] = [makeMediaButton, ...cleanupButtons];

/** What the interaction router dispatches to; createBot hands it down. */
export const registry: Registry = {
  commands: new Map(commands.map((c) => [c.data.name, c])),
  buttons: [...commands.flatMap((c) => c.buttons ?? []), ...standaloneButtons],
  modals: commands.flatMap((c) => c.modals ?? []),
};

/** The definitions to register: offered in DMs with the bot only when ALLOW_DMS is on. */
export function definitionsFor(config: Pick<Config, 'ALLOW_DMS'>): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return commands.map(({ data }) =>
    config.ALLOW_DMS || !data.contexts ? data : { ...data, contexts: data.contexts.filter((c) => c !== InteractionContextType.BotDM) },
  );
}
