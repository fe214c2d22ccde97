import type {
  AutocompleteInteraction,
  ButtonInteraction,
  ChatInputCommandInteraction,
  ModalSubmitInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Deps } from '../deps.js';

/** A button the bot puts under its messages: every custom id starting with `prefix` is its. */
export interface Button {
  prefix: string;
  execute(interaction: ButtonInteraction, deps: Deps): Promise<void>;
}

/** A form the bot opens (a modal): every submitted custom id starting with `prefix` is its. */
export interface Modal {
  prefix: string;
  execute(interaction: ModalSubmitInteraction, deps: Deps): Promise<void>;
}

/** A slash command: the JSON Discord registers, what runs when it is used, and the buttons and forms its messages carry. */
export interface Command {
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction, deps: Deps): Promise<void>;
  autocomplete?(interaction: AutocompleteInteraction, deps: Deps): Promise<void>;
  buttons?: readonly Button[];
  modals?: readonly Modal[];
}

/** What the interaction router dispatches to, built from the command files (commands/index.ts). */
export interface Registry {
  commands: ReadonlyMap<string, Command>;
  buttons: readonly Button[];
  modals: readonly Modal[];
}
