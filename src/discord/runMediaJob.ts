import { escapeMarkdown, type RepliableInteraction } from 'discord.js';
import type { Deps } from '../deps.js';
import type { MediaContext, MediaSpec } from '../media/mediaService.js';
import { sendMediaMessage } from './mediaMessage.js';
import { fit } from './runPresenter.js';
import { SAFE_MENTIONS } from './safeMentions.js';

/** How often the status message says how long it has been (well inside the edit budget). */
const STATUS_EVERY_MS = 5000;

function headerFor(prompt: string, userId: string): string {
  const shown = prompt.length > 200 ? `${prompt.slice(0, 199)}…` : prompt;
  return `🎨 **${escapeMarkdown(shown.replace(/\s+/g, ' '))}** — for <@${userId}>`;
}

/**
 * Runs one media request for a deferred interaction (/imagine, Reroll, Vary, an accepted
 * offer). As a durable run (the default): the reply shows the run's progress with ⏹ Cancel,
 * then the media with its buttons, or one line saying why not; the run is in the store, so a
 * restart finishes it. In completions mode: a status that counts the seconds, then the same.
 */
export async function runMediaJob(interaction: RepliableInteraction, deps: Deps, spec: MediaSpec, context: MediaContext): Promise<void> {
  const header = headerFor(spec.prompt, context.userId);
  if (deps.media.mode === 'runs') {
    await deps.media.runs.start(
      spec,
      { ...context, requestId: interaction.id },
      {
        header,
        ...(interaction.channelId ? { channelId: interaction.channelId } : {}),
        surface: 'status',
        private: context.private ?? false,
        interaction: { applicationId: interaction.applicationId, token: interaction.token, receivedAt: Date.now() },
      },
    );
    return;
  }
  const started = Date.now();
  let done = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  const showStatus = () => {
    if (done) return;
    const seconds = Math.round((Date.now() - started) / 1000);
    const content = `${header}\n-# ⏳ Working on it… ${seconds > 0 ? `${seconds} s` : ''}`.trimEnd();
    inFlight = interaction.editReply({ content, components: [], allowedMentions: SAFE_MENTIONS }).catch((err: unknown) => {
      context.logger.warn({ err }, 'could not update the media status');
    });
  };
  showStatus();
  const timer = setInterval(showStatus, STATUS_EVERY_MS);
  let outcome;
  try {
    outcome = await deps.media.create(spec, context);
  } finally {
    done = true;
    clearInterval(timer);
    // A status edit still on its way must not land after the result.
    await inFlight;
  }
  switch (outcome.kind) {
    case 'ok':
      await sendMediaMessage(
        { header, text: outcome.text, notes: outcome.notes, media: outcome.media, jobId: outcome.jobId },
        { net: deps.net },
        (payload) => interaction.editReply(payload),
      );
      return;
    case 'empty':
      await interaction.editReply({
        content: fit([header, outcome.text.trim().slice(0, 1500), outcome.line, ...outcome.notes].filter(Boolean).join('\n')),
        components: [],
        allowedMentions: SAFE_MENTIONS,
      });
      return;
    case 'refused':
    case 'failed':
      await interaction.editReply({ content: `${header}\n${outcome.line}`, components: [], allowedMentions: SAFE_MENTIONS });
  }
}
