import type { Command } from '../src/discord/command.js';
import { ask } from './ask.js';
import { forget } from './forget.js';

/** Every slash command, used by the bot and by `npm run deploy-commands`. */
export const commands: readonly Command[] = [ask, forget];

export const commandsByName: ReadonlyMap<string, Command> = new Map(commands.map((c) => [c.data.name, c]));
