import { DiscordAPIError, EmbedBuilder, InteractionWebhook, RESTJSONErrorCodes, type BaseMessageOptions, type Client } from 'discord.js';
import type { PacerRegistry, SendRoute } from '../core/editPacer.js';
import { LatestEditor } from '../core/latestEditor.js';
import { statusLine } from '../core/runProgress.js';
import { DISCORD_MESSAGE_LIMIT } from '../core/splitMessage.js';
import type { Logger } from '../logger.js';
import type { RunPresenter, RunView } from '../media/runService.js';
import type { FinishedRun, RunTarget } from '../media/runStore.js';
import type { NetDeps } from '../net/safeFetch.js';
import { sendMediaMessage } from './mediaMessage.js';
import { cancelRow } from './runButtons.js';
import { SAFE_MENTIONS } from './safeMentions.js';

/** Discord's interaction tokens work for 15 minutes; a little less is trusted, so a send is not cut at the edge. */
const TOKEN_LIFETIME_MS = 15 * 60_000 - 30_000;

type Payload = Pick<BaseMessageOptions, 'content' | 'embeds' | 'components'>;

export interface RunPresenterDeps {
  client: Client;
  pacers: PacerRegistry;
  net: NetDeps;
  logger: Logger;
}

function isExpiredToken(err: unknown): boolean {
  return err instanceof DiscordAPIError && (err.code === RESTJSONErrorCodes.InvalidWebhookToken || err.code === RESTJSONErrorCodes.UnknownWebhook || err.status === 401);
}

function isGone(err: unknown): boolean {
  return err instanceof DiscordAPIError && (isExpiredToken(err) || err.code === RESTJSONErrorCodes.UnknownMessage || err.code === RESTJSONErrorCodes.UnknownChannel);
}

/** Content cut to Discord's 2,000 characters (the model's words can be long; the line after them must not be refused). */
export function fit(content: string): string {
  return content.length > DISCORD_MESSAGE_LIMIT ? `${content.slice(0, DISCORD_MESSAGE_LIMIT - 1)}…` : content;
}

/** The status while a run works: what was asked, the bar (or where it stands), the preview, ⏹ Cancel. */
export function statusPayload(key: string, header: string, view: RunView): Payload {
  const preview = view.phase.kind === 'working' ? view.phase.progress : undefined;
  return {
    content: fit(`${header}\n-# ${statusLine(view.phase)}`),
    embeds: preview?.previewUrl && !preview.previewIsVideo ? [new EmbedBuilder().setImage(preview.previewUrl)] : [],
    components: view.cancellable ? [cancelRow(key)] : [],
  };
}

/**
 * Shows media runs in Discord. The status is the interaction's reply, edited through a
 * coalescing editor on the channel's pacer; the result replaces it, or, once the interaction
 * token has expired (after 15 minutes, or when a run finishes after a restart), is posted as
 * a channel message. A private run is never posted in the channel.
 */
export function createRunPresenter(deps: RunPresenterDeps): RunPresenter {
  const { client, pacers, net, logger } = deps;
  const editors = new Map<string, LatestEditor<Payload>>();
  /** Runs whose token no longer works. */
  const expired = new Set<string>();

  const tokenUsable = (key: string, target: RunTarget) =>
    target.interaction !== undefined && !expired.has(key) && Date.now() - target.interaction.receivedAt < TOKEN_LIFETIME_MS;
  const webhook = (target: RunTarget) => {
    const { applicationId, token } = target.interaction as NonNullable<RunTarget['interaction']>;
    return new InteractionWebhook(client as Client<true>, applicationId, token);
  };
  /** The REST call that edits the run's status message, for the pacer. */
  const originalRoute = (target: RunTarget): SendRoute => {
    const { applicationId, token } = target.interaction as NonNullable<RunTarget['interaction']>;
    return { method: 'PATCH', path: `/webhooks/${applicationId}/${token}/messages/@original` };
  };
  const editOriginal = async (target: RunTarget, payload: BaseMessageOptions) => {
    await webhook(target).editMessage('@original', { ...payload, allowedMentions: SAFE_MENTIONS });
  };
  const postInChannel = async (target: RunTarget, payload: BaseMessageOptions) => {
    if (!target.channelId) throw new Error('no channel to post the result in');
    const channel = await client.channels.fetch(target.channelId);
    if (!channel?.isSendable()) throw new Error('the channel cannot be written to');
    await channel.send({ ...payload, allowedMentions: SAFE_MENTIONS });
  };

  return {
    progress(key, target, view) {
      if (!tokenUsable(key, target)) return;
      let editor = editors.get(key);
      if (!editor) {
        editor = new LatestEditor<Payload>((payload) => editOriginal(target, payload), pacers.for(target.channelId ?? key), {
          key: (p) => JSON.stringify(p),
          route: originalRoute(target),
          onError: (err) => {
            if (isExpiredToken(err)) expired.add(key);
            logger.warn({ err, runKey: key }, 'could not update a media run status');
            return isGone(err) ? 'stop' : 'continue';
          },
        });
        editors.set(key, editor);
      }
      editor.show(statusPayload(key, target.header, view));
    },

    async finish(key, target, finished) {
      await editors.get(key)?.close();
      editors.delete(key);
      const viaToken = tokenUsable(key, target);
      // Counted where Discord counts it (the interaction's webhook, or the channel), and finished when sent.
      const slot = target.channelId
        ? await pacers.for(target.channelId).acquire('urgent', viaToken ? originalRoute(target) : { method: 'POST', path: `/channels/${target.channelId}/messages` })
        : undefined;
      const send = async (payload: BaseMessageOptions) => {
        if (viaToken && !expired.has(key)) {
          try {
            await editOriginal(target, payload);
            return;
          } catch (err) {
            if (!isGone(err)) throw err;
            expired.add(key);
          }
        }
        // Only where everyone may see it: a private result is never moved to the channel.
        if (target.private) throw new Error('a private result can only be shown through its interaction');
        await postInChannel(target, payload);
      };
      try {
        if (finished.media.length > 0) {
          await sendMediaMessage(
            { header: target.header, text: finished.text, notes: [...finished.lines, ...finished.notes], media: finished.media, jobId: finished.jobId ?? key },
            { net },
            send,
          );
        } else {
          const content = fit([target.header, finished.text.trim().slice(0, 1500), ...finished.lines, ...finished.notes].filter(Boolean).join('\n'));
          await send({ content, embeds: [], components: [], files: [] });
        }
      } catch (err) {
        logger.error({ err, runKey: key }, 'could not show a media run result');
      } finally {
        slot?.done();
        expired.delete(key);
      }
    },

    async drop(key) {
      await editors.get(key)?.close();
      editors.delete(key);
      expired.delete(key);
    },
  };
}
