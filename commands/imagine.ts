import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  type ButtonInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Deps } from '../src/deps.js';
import type { Command } from '../src/discord/command.js';
import { REROLL_PREFIX, VARY_PREFIX } from '../src/discord/mediaMessage.js';
import { hasVisibleText, MAX_PROMPT_CHARS, promptTooLong, toAttachmentRef } from '../src/discord/prompt.js';
import { runMediaJob } from '../src/discord/runMediaJob.js';
import { ensureOwner } from '../src/discord/ownership.js';
import { spendScope } from '../src/discord/scope.js';
import type { MediaSpec } from '../src/media/mediaService.js';
import { UserError } from '../src/userError.js';


export const data = {
  name: 'imagine',
  description: 'Make an image (or a video, music, speech) with Sogni',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  options: [
    { type: ApplicationCommandOptionType.String, name: 'prompt', description: 'What to make', required: true, max_length: MAX_PROMPT_CHARS },
    { type: ApplicationCommandOptionType.Attachment, name: 'image', description: 'An image to edit or vary (optional)' },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const imagineCommand: Command = {
  data,
  async execute(interaction, deps) {
    const { scope, dm } = spendScope(interaction.guildId, interaction.user.id, deps);
    const prompt = interaction.options.getString('prompt', true).trim();
    if (!hasVisibleText(prompt)) throw new UserError('The prompt is empty. Describe what to make, e.g. “a fox in the snow”.');
    const tooLong = promptTooLong(prompt);
    if (tooLong) throw new UserError(tooLong);
    const image = interaction.options.getAttachment('image');
    await interaction.deferReply();
    const logger = deps.logger.child({ command: 'imagine', guildId: interaction.guildId, channelId: interaction.channelId, userId: interaction.user.id });
    let reference: string | undefined;
    if (image) {
      const read = await deps.readAttachments([toAttachmentRef(image)]);
      reference = read.images[0]?.dataUri;
      if (!reference) throw new UserError(`⚠️ ${read.notes[0] ?? 'That attachment is not an image I can use.'}`);
    }
    const spec: MediaSpec = { prompt, ...(reference ? { reference } : {}) };
    await runMediaJob(interaction, deps, spec, { scope, dm, userId: interaction.user.id, logger });
  },
};

/** Reroll (same prompt, new seed) and Vary (the result as the reference), from the stored job, for its owner or a manager. */
async function pressMediaButton(interaction: ButtonInteraction, deps: Deps, vary: boolean): Promise<void> {
  const jobId = interaction.customId.slice((vary ? VARY_PREFIX : REROLL_PREFIX).length);
  const logger = deps.logger.child({ button: vary ? 'vary' : 'reroll', jobId, guildId: interaction.guildId, userId: interaction.user.id });
  const job = await deps.media.job(jobId);
  if (!job) {
    await interaction.reply({ content: 'That result is too old to reuse. Run /imagine again.', flags: MessageFlags.Ephemeral });
    return;
  }
  if (!(await ensureOwner(interaction, job, { verb: vary ? 'vary' : 'reroll', managersToo: true, logger }))) return;
  const { scope, dm } = spendScope(interaction.guildId, interaction.user.id, deps);
  let spec: MediaSpec;
  if (vary) {
    const image = job.media.find((m) => m.kind === 'image');
    if (!image) throw new UserError('There is no image to vary in that result.');
    spec = { prompt: job.prompt, reference: image.url };
  } else {
    spec = {
      prompt: job.prompt,
      reroll: true,
      ...(job.reference ? { reference: job.reference } : {}),
      ...(job.tool ? { tool: job.tool } : {}),
      ...(job.args ? { args: job.args } : {}),
    };
  }
  await interaction.deferReply();
  // The job's owner pays, also when a manager presses for them: the result stays theirs.
  await runMediaJob(interaction, deps, spec, { scope, dm, userId: job.userId, logger });
}

export const imagine: Command = {
  ...imagineCommand,
  buttons: [
    { prefix: REROLL_PREFIX, execute: (interaction, deps) => pressMediaButton(interaction, deps, false) },
    { prefix: VARY_PREFIX, execute: (interaction, deps) => pressMediaButton(interaction, deps, true) },
  ],
};
