import {
  ActionRowBuilder,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ChannelType,
  InteractionContextType,
  MessageFlags,
  ModalBuilder,
  PermissionFlagsBits,
  TextInputBuilder,
  TextInputStyle,
  type APIApplicationCommandChannelOption,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { parseRoles, PERSONA_MAX_CHARS, type EffectiveSettings, type ScopeSettings, type SettingSource } from '../src/core/settings.js';
import type { Deps } from '../src/deps.js';
import type { Command, Modal } from '../src/discord/command.js';
import { SAFE_MENTIONS } from '../src/discord/safeMentions.js';
import type { SettingsTarget } from '../src/settings/settingsStore.js';
import { UserError } from '../src/userError.js';

/** Model ids are short slugs; anything else is refused before it is stored. */
const MODEL_ID = /^[\w.:/-]{1,100}$/;
/** `persona:edit` opens a form instead of taking the text from the option. */
const EDIT_PERSONA = 'edit';
const PERSONA_MODAL_PREFIX = 'settings:persona:';
const PERSONA_FIELD = 'persona';

/** Text channels, announcement channels and threads: where the bot can be talked to. */
const channelOption = (description: string): APIApplicationCommandChannelOption => ({
  type: ApplicationCommandOptionType.Channel,
  name: 'channel',
  description,
  channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.PublicThread, ChannelType.PrivateThread, ChannelType.AnnouncementThread],
});

export const data = {
  name: 'settings',
  description: 'Model, persona, threads and who may use the bot, per server or channel',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  // Only Manage Server by default; server owners can change who sees it, so execute checks again.
  default_member_permissions: String(PermissionFlagsBits.ManageGuild),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'show',
      description: 'What applies in a channel, and where each setting comes from',
      options: [channelOption('Which channel (default: this one)')],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'set',
      description: 'Change settings for a channel, or for the whole server',
      options: [
        channelOption('Which channel (default: the whole server)'),
        { type: ApplicationCommandOptionType.String, name: 'model', description: 'The Sogni model that answers', autocomplete: true, max_length: 100 },
        {
          type: ApplicationCommandOptionType.String,
          name: 'persona',
          description: `The system prompt (up to ${PERSONA_MAX_CHARS} characters), or "edit" to open a form`,
          max_length: PERSONA_MAX_CHARS,
        },
        {
          type: ApplicationCommandOptionType.String,
          name: 'threads',
          description: 'Answer mentions in a new thread',
          choices: [
            { name: 'on', value: 'on' },
            { name: 'off', value: 'off' },
          ],
        },
        { type: ApplicationCommandOptionType.Boolean, name: 'media', description: 'Let chat make images and videos when asked' },
        { type: ApplicationCommandOptionType.String, name: 'roles', description: 'Who may use the bot: role mentions such as @Members, or "everyone"', max_length: 1000 },
        { type: ApplicationCommandOptionType.Boolean, name: 'enabled', description: 'Whether the bot answers there at all' },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'reset',
      description: 'Back to the defaults for a channel (or the whole server)',
      options: [channelOption('Which channel (default: the whole server)')],
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const SOURCE_WORDS: Record<SettingSource, string> = {
  channel: 'set here',
  'parent channel': 'from the parent channel',
  server: 'server-wide',
  default: 'default',
};

/** The whole effective picture, one setting a line, with where each came from. */
export function describeSettings(place: string, s: EffectiveSettings): string {
  const persona = s.persona.replace(/\s+/g, ' ');
  const lines = [
    `**Settings in ${place}**`,
    `• Answers here: ${s.enabled ? 'yes' : 'no'} · ${SOURCE_WORDS[s.sources.enabled]}`,
    `• Who may use it: ${s.roles.length ? s.roles.map((id) => `<@&${id}>`).join(', ') : 'everyone'} · ${SOURCE_WORDS[s.sources.roles]}`,
    `• Model: \`${s.model}\` · ${SOURCE_WORDS[s.sources.model]}`,
    `• Persona: “${persona.length > 300 ? `${persona.slice(0, 299)}…` : persona}” · ${SOURCE_WORDS[s.sources.persona]}`,
    `• Threads for mentions: ${s.threads ? 'on' : 'off'} · ${SOURCE_WORDS[s.sources.threads]}`,
    `• Media from chat: ${s.media ? 'on' : 'off'} · ${SOURCE_WORDS[s.sources.media]}`,
  ];
  return lines.join('\n');
}

function requireManager(interaction: { inGuild(): boolean; memberPermissions: { has(p: bigint): boolean } | null }): void {
  if (!interaction.inGuild()) throw new UserError('/settings works in servers only.');
  if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) throw new UserError('Only members with Manage Server can change the bot’s settings.');
}

function targetOf(interaction: ChatInputCommandInteraction): { target: SettingsTarget; place: string } {
  const channel = interaction.options.getChannel('channel');
  const guildId = interaction.guildId ?? '';
  return channel ? { target: { guildId, channelId: channel.id }, place: `<#${channel.id}>` } : { target: { guildId }, place: 'this server (every channel without its own setting)' };
}

/** The changes the options ask for, checked; `editPersona` when the persona is to be typed in a form. */
async function changesFrom(interaction: ChatInputCommandInteraction, deps: Deps): Promise<{ changes: ScopeSettings; editPersona: boolean }> {
  const changes: ScopeSettings = {};
  const model = interaction.options.getString('model')?.trim();
  if (model) {
    if (!MODEL_ID.test(model)) throw new UserError('That model name is not valid. Pick one from the list.');
    const known = await deps.models.list();
    // With only the default known, the catalogue could not be read: trust the slug rather than refuse.
    if (known.length > 1 && !known.includes(model)) throw new UserError(`Sogni has no model called \`${model}\`. Pick one from the list.`);
    changes.model = model;
  }
  const persona = interaction.options.getString('persona');
  const editPersona = persona?.trim().toLowerCase() === EDIT_PERSONA;
  if (persona !== null && !editPersona) {
    if (!persona.trim()) throw new UserError('The persona is empty. Write the system prompt, or use `persona:edit` to open a form.');
    changes.persona = persona.trim();
  }
  const threads = interaction.options.getString('threads');
  if (threads) changes.threads = threads === 'on';
  const media = interaction.options.getBoolean('media');
  if (media !== null) changes.media = media;
  const rolesText = interaction.options.getString('roles');
  if (rolesText !== null) {
    const roles = parseRoles(rolesText);
    if (!roles) throw new UserError('`roles` takes role mentions such as `@Members @Mods`, or `everyone`.');
    changes.roles = roles;
  }
  const enabled = interaction.options.getBoolean('enabled');
  if (enabled !== null) changes.enabled = enabled;
  return { changes, editPersona };
}

function personaModal(target: SettingsTarget, current: string): ModalBuilder {
  const input = new TextInputBuilder()
    .setCustomId(PERSONA_FIELD)
    .setLabel('System prompt')
    .setStyle(TextInputStyle.Paragraph)
    .setMaxLength(PERSONA_MAX_CHARS)
    .setRequired(true)
    .setValue(current.slice(0, PERSONA_MAX_CHARS));
  return new ModalBuilder()
    .setCustomId(`${PERSONA_MODAL_PREFIX}${target.channelId ?? 'server'}`)
    .setTitle(target.channelId ? 'Persona for this channel' : 'Persona for the server')
    .addComponents(new ActionRowBuilder<TextInputBuilder>().addComponents(input));
}

const personaForm: Modal = {
  prefix: PERSONA_MODAL_PREFIX,
  async execute(interaction, deps) {
    requireManager(interaction);
    const where = interaction.customId.slice(PERSONA_MODAL_PREFIX.length);
    const target: SettingsTarget = { guildId: interaction.guildId ?? '', ...(where === 'server' ? {} : { channelId: where }) };
    const persona = interaction.fields.getTextInputValue(PERSONA_FIELD).trim();
    if (!persona) throw new UserError('The persona is empty; nothing was changed.');
    await deps.settings.set(target, { persona });
    deps.logger.info({ guildId: interaction.guildId, channelId: target.channelId, userId: interaction.user.id, chars: persona.length }, 'persona changed');
    await interaction.reply({
      content: `Saved: the persona ${target.channelId ? `in <#${target.channelId}>` : 'for the server'} (${persona.length.toLocaleString('en-US')} characters). It applies from the next message.`,
      allowedMentions: SAFE_MENTIONS,
      flags: MessageFlags.Ephemeral,
    });
  },
};

const reply = (interaction: ChatInputCommandInteraction, content: string) =>
  interaction.reply({ content, allowedMentions: SAFE_MENTIONS, flags: MessageFlags.Ephemeral });

export const settings: Command = {
  data,
  modals: [personaForm],
  async execute(interaction, deps) {
    // Managers are never locked out: no availability check here, whatever the channel's settings say.
    requireManager(interaction);
    const subcommand = interaction.options.getSubcommand();
    const logger = deps.logger.child({ command: 'settings', subcommand, guildId: interaction.guildId, userId: interaction.user.id });
    if (subcommand === 'show') {
      const channel = interaction.options.getChannel('channel') ?? interaction.channel;
      const channelId = channel?.id ?? interaction.channelId;
      const parentId = channel && 'parentId' in channel && channel.isThread?.() ? channel.parentId : null;
      const effective = await deps.settings.effective(interaction.guildId, channelId, parentId);
      await reply(interaction, describeSettings(`<#${channelId}>`, effective));
      return;
    }
    const { target, place } = targetOf(interaction);
    if (subcommand === 'reset') {
      await deps.settings.reset(target);
      logger.info({ channelId: target.channelId }, 'settings reset');
      await reply(interaction, `Done: ${place} is back to the defaults.`);
      return;
    }
    const { changes, editPersona } = await changesFrom(interaction, deps);
    if (Object.keys(changes).length === 0 && !editPersona) throw new UserError('Give at least one setting to change, e.g. `model:` or `enabled:`.');
    const saved = Object.keys(changes).length > 0 ? await deps.settings.set(target, changes) : await deps.settings.get(target);
    logger.info({ channelId: target.channelId, changed: Object.keys(changes) }, 'settings changed');
    if (editPersona) {
      // A form must be the first answer to the command; the other changes are already saved.
      const current = saved.persona ?? (await deps.settings.effective(target.guildId, target.channelId ?? interaction.channelId)).persona;
      await interaction.showModal(personaModal(target, current));
      return;
    }
    await reply(interaction, `Saved for ${place}: ${Object.keys(changes).join(', ')}. It applies from the next message.`);
  },
  async autocomplete(interaction, deps) {
    const ids = await deps.models.suggest(interaction.options.getFocused());
    await interaction.respond(ids.map((id) => ({ name: id.slice(0, 100), value: id })));
  },
};
