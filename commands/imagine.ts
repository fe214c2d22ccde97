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
import { CANCEL_PREFIX } from '../src/discord/runButtons.js';
import { runMediaJob } from '../src/discord/runMediaJob.js';
import { ensureAvailable, memberRoleIds, ownerRoleIds } from '../src/discord/access.js';
import { ensureOwner } from '../src/discord/ownership.js';
import { spendScope } from '../src/discord/scope.js';
import { rerollSpec } from '../src/media/jobs.js';
import { MEDIA_KINDS, type MediaKind, type MediaSpec } from '../src/media/mediaRequest.js';
import { UserError } from '../src/userError.js';

/** Seconds of video or audio when /imagine does not say. */
const DEFAULT_SECONDS = 10;

export const data = {
  name: 'imagine',
  description: 'Make an image (or a video, music, speech) with Sogni',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild, InteractionContextType.BotDM],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  options: [
    { type: ApplicationCommandOptionType.String, name: 'prompt', description: 'What to make', required: true, max_length: MAX_PROMPT_CHARS },
    {
      type: ApplicationCommandOptionType.String,
      name: 'kind',
      description: 'What to make (default: image)',
      choices: MEDIA_KINDS.map((k) => ({ name: k, value: k })),
    },
    { type: ApplicationCommandOptionType.Integer, name: 'duration', description: 'Seconds of video or audio (default 10)', min_value: 1, max_value: 120 },
    { type: ApplicationCommandOptionType.Attachment, name: 'image', description: 'An image to edit or vary (optional)' },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const imagineCommand: Command = {
  data,
  async execute(interaction, deps) {
    const { scope, dm } = spendScope(interaction.guildId, interaction.user.id, deps);
    await ensureAvailable(interaction, deps);
    const prompt = interaction.options.getString('prompt', true).trim();
    if (!hasVisibleText(prompt)) throw new UserError('The prompt is empty. Describe what to make, e.g. “a fox in the snow”.');
    const tooLong = promptTooLong(prompt);
    if (tooLong) throw new UserError(tooLong);
    const image = interaction.options.getAttachment('image');
    const kind = (interaction.options.getString('kind') ?? 'image') as MediaKind;
    if (!MEDIA_KINDS.includes(kind)) throw new UserError('Pick image, video, music or speech.');
    const maxSeconds = deps.config.MAX_VIDEO_SECONDS;
    const asked = interaction.options.getInteger('duration');
    // The member picks what is paid for: the length is theirs, bounded by the server's MAX_VIDEO_SECONDS.
    const durationSeconds = kind === 'image' ? undefined : Math.min(asked ?? DEFAULT_SECONDS, maxSeconds);
    if (image && kind !== 'image' && kind !== 'video') throw new UserError('An image can be given with kind image or video only.');
    await interaction.deferReply();
    const logger = deps.logger.child({ command: 'imagine', guildId: interaction.guildId, channelId: interaction.channelId, userId: interaction.user.id });
    let reference: string | undefined;
    if (image) {
      if (deps.media.mode === 'runs') {
        // Runs take media by link only; Sogni fetches the attachment from Discord's CDN.
        if (!image.contentType?.startsWith('image/')) throw new UserError('⚠️ That attachment is not an image I can use.');
        reference = image.url;
      } else {
        const read = await deps.readAttachments([toAttachmentRef(image)]);
        reference = read.images[0]?.dataUri;
        if (!reference) throw new UserError(`⚠️ ${read.notes[0] ?? 'That attachment is not an image I can use.'}`);
      }
    }
    const spec: MediaSpec = { prompt, kind, ...(durationSeconds ? { durationSeconds } : {}), ...(reference ? { reference } : {}) };
    await runMediaJob(interaction, deps, spec, { scope, dm, userId: interaction.user.id, roleIds: memberRoleIds(interaction.member), logger });
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
  // Paid again: the place's settings (bot turned off, allowed roles) apply as to /imagine.
  await ensureAvailable(interaction, deps);
  const { scope, dm } = spendScope(interaction.guildId, interaction.user.id, deps);
  let spec: MediaSpec;
  if (vary) {
    const image = job.media.find((m) => m.kind === 'image');
    if (!image) throw new UserError('There is no image to vary in that result.');
    spec = { prompt: job.prompt, reference: image.url };
  } else {
    spec = rerollSpec(job);
  }
  await interaction.deferReply();
  // The job's owner pays, also when a manager presses for them: the result stays theirs.
  await runMediaJob(interaction, deps, spec, { scope, dm, userId: job.userId, roleIds: await ownerRoleIds(interaction, job.userId), logger });
}

/** ⏹ Cancel on a run's status: the requester or a server manager stops the run; what was held and not charged is released. */
async function pressCancel(interaction: ButtonInteraction, deps: Deps): Promise<void> {
  const key = interaction.customId.slice(CANCEL_PREFIX.length);
  const logger = deps.logger.child({ button: 'cancel', runKey: key, guildId: interaction.guildId, userId: interaction.user.id });
  const owner = await deps.media.runs.owner(key);
  if (!owner) {
    await interaction.reply({ content: 'That has already finished.', flags: MessageFlags.Ephemeral });
    return;
  }
  if (!(await ensureOwner(interaction, owner, { verb: 'cancel', managersToo: true, logger }))) return;
  await interaction.deferUpdate();
  const result = await deps.media.runs.cancel(key, interaction.user.id);
  logger.info({ result }, 'media run cancel pressed');
  if (result === 'not-running') await interaction.followUp({ content: 'That has already finished.', flags: MessageFlags.Ephemeral });
}

export const imagine: Command = {
  ...imagineCommand,
  buttons: [
    { prefix: REROLL_PREFIX, execute: (interaction, deps) => pressMediaButton(interaction, deps, false) },
    { prefix: VARY_PREFIX, execute: (interaction, deps) => pressMediaButton(interaction, deps, true) },
    { prefix: CANCEL_PREFIX, execute: pressCancel },
  ],
};
