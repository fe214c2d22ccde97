import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Command } from '../src/discord/command.js';
import { displayName, hasVisibleText, MAX_PROMPT_CHARS, promptTooLong, toAttachmentRef } from '../src/discord/prompt.js';
import { interactionSurface } from '../src/discord/surfaces.js';
import { ensureAvailable, memberRoleIds } from '../src/discord/access.js';
import { UserError } from '../src/userError.js';

/** Model ids are short slugs; anything else is refused before it reaches Sogni. */
const MODEL_ID = /^[\w.:/-]{1,100}$/;

export const data = {
  name: 'ask',
  description: 'Ask Sogni something; the answer streams into the channel',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  options: [
    { type: ApplicationCommandOptionType.String, name: 'prompt', description: 'What to ask', required: true, max_length: MAX_PROMPT_CHARS },
    { type: ApplicationCommandOptionType.Boolean, name: 'private', description: 'Only you see the answer (default: no)' },
    { type: ApplicationCommandOptionType.Attachment, name: 'image', description: 'An image (or text file) to ask about' },
    {
      type: ApplicationCommandOptionType.String,
      name: 'model',
      description: 'Which Sogni model answers (default: the bot’s model)',
      autocomplete: true,
      max_length: 100,
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

export const ask: Command = {
  data,
  async execute(interaction, deps) {
    if (!interaction.channelId || (!interaction.inGuild() && !deps.config.ALLOW_DMS)) throw new UserError('/ask works in servers only.');
    const ephemeral = interaction.options.getBoolean('private') ?? false;
    // Cheap checks first, answered privately; then acknowledge: Discord drops interactions not answered within 3 s.
    const prompt = interaction.options.getString('prompt', true).trim();
    if (!hasVisibleText(prompt)) throw new UserError('The prompt is empty. Tell me what to answer.');
    const tooLong = promptTooLong(prompt);
    if (tooLong) throw new UserError(tooLong);
    const settings = await ensureAvailable(interaction, deps);
    const model = interaction.options.getString('model')?.trim() || settings.model;
    if (!MODEL_ID.test(model)) throw new UserError('That model name is not valid. Pick one from the list.');
    const image = interaction.options.getAttachment('image');
    await interaction.deferReply(ephemeral ? { flags: MessageFlags.Ephemeral } : {});
    const logger = deps.logger.child({
      command: 'ask',
      guildId: interaction.guildId,
      channelId: interaction.channelId,
      userId: interaction.user.id,
      interactionId: interaction.id,
    });
    await deps.chat.answer({
      channelId: interaction.channelId,
      guildId: interaction.guildId,
      userId: interaction.user.id,
      roleIds: memberRoleIds(interaction.member),
      userName: displayName(interaction.member, interaction.user),
      text: prompt,
      attachments: image ? [toAttachmentRef(image)] : [],
      model,
      systemPrompt: settings.persona,
      offerMedia: settings.media,
      private: ephemeral,
      surface: interactionSurface(interaction, ephemeral, { net: deps.net }, deps.answers),
      logger,
    });
  },
  async autocomplete(interaction, deps) {
    const typed = interaction.options.getFocused();
    const ids = await deps.models.suggest(typed);
    await interaction.respond(ids.map((id) => ({ name: id.slice(0, 100), value: id })));
  },
};
