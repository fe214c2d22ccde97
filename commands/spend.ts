import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { Deps } from '../src/deps.js';
import type { Command } from '../src/discord/command.js';
import { SAFE_MENTIONS } from '../src/discord/safeMentions.js';
import { resetsAt, type SpendLimits, type SpendState } from '../src/core/spendMath.js';
import { UserError } from '../src/userError.js';

/** The largest limit accepted: 10 million Spark is US$50,000. Anything above is a typo. */
export const MAX_LIMIT = 10_000_000;

const limitOption = (name: string, description: string) =>
  ({ type: ApplicationCommandOptionType.Number, name, description, min_value: 0, max_value: MAX_LIMIT }) as const;

export const data = {
  name: 'spend',
  description: "See and set this server's Sogni spend limits (Spark)",
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
  // Only Manage Server by default; server owners can change who sees it, so execute checks again.
  default_member_permissions: String(PermissionFlagsBits.ManageGuild),
  options: [
    { type: ApplicationCommandOptionType.Subcommand, name: 'status', description: 'Spend today and this month against the limits' },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'set',
      description: 'Change limits (0 blocks all paid use)',
      options: [
        limitOption('daily', 'Spark per day for the whole server'),
        limitOption('monthly', 'Spark per month for the whole server'),
        limitOption('user_daily', 'Spark per person per day'),
      ],
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'clear', description: 'Go back to the default limits' },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const NAMES = { daily: 'daily', monthly: 'monthly', user_daily: 'user_daily' } as const;

/** A limit from an option: a number of Spark from 0 to MAX_LIMIT, at most two decimals. */
export function parseLimit(name: string, value: unknown): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_LIMIT && Math.abs(value * 100 - Math.round(value * 100)) < 1e-6;
  if (!ok) throw new UserError(`${name} must be a number of Spark from 0 to ${MAX_LIMIT.toLocaleString('en-US')}, with at most two decimals.`);
  return value;
}

export const spend: Command = {
  data,
  async execute(interaction, deps) {
    if (!interaction.inGuild()) throw new UserError('/spend works in servers only.');
    if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
      deps.logger.info({ guildId: interaction.guildId, userId: interaction.user.id }, '/spend refused: no Manage Server');
      throw new UserError('Only members with the Manage Server permission can use /spend.');
    }
    const guildId = interaction.guildId;
    switch (interaction.options.getSubcommand()) {
      case 'set': {
        const changes: Partial<SpendLimits> = {};
        const raw = (name: string) => interaction.options.get(name)?.value;
        if (raw(NAMES.daily) !== undefined) changes.daily = parseLimit(NAMES.daily, raw(NAMES.daily));
        if (raw(NAMES.monthly) !== undefined) changes.monthly = parseLimit(NAMES.monthly, raw(NAMES.monthly));
        if (raw(NAMES.user_daily) !== undefined) changes.userDaily = parseLimit(NAMES.user_daily, raw(NAMES.user_daily));
        if (Object.keys(changes).length === 0) throw new UserError('Give at least one of daily, monthly or user_daily.');
        const limits = await deps.ledger.setLimits(guildId, changes);
        deps.logger.info({ guildId, userId: interaction.user.id, changes }, 'spend limits changed');
        await reply(interaction, `Limits updated.\n${describeLimits(limits)}`);
        return;
      }
      case 'clear': {
        const limits = await deps.ledger.clearLimits(guildId);
        deps.logger.info({ guildId, userId: interaction.user.id }, 'spend limits reset to defaults');
        await reply(interaction, `Back to the default limits.\n${describeLimits(limits)}`);
        return;
      }
      default: {
        const [{ limits, custom }, state] = await Promise.all([deps.ledger.limits(guildId), deps.ledger.state(guildId)]);
        await reply(interaction, renderStatus(state, limits, custom));
      }
    }
  },
};

async function reply(interaction: ChatInputCommandInteraction, content: string): Promise<void> {
  await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: SAFE_MENTIONS });
}

function sparkText(n: number): string {
  return `${Number(n.toFixed(n < 10 ? 2 : 0)).toLocaleString('en-US')}`;
}

function limitText(n: number | null): string {
  return n === null ? 'no limit' : `${sparkText(n)} Spark`;
}

export function describeLimits(limits: SpendLimits): string {
  return `Daily: **${limitText(limits.daily)}** · Monthly: **${limitText(limits.monthly)}** · Per person per day: **${limitText(limits.userDaily)}**`;
}

/** A 10-cell bar; full (and marked) at or over the limit. */
export function bar(spent: number, limit: number | null): string {
  if (limit === null) return '';
  const fraction = limit <= 0 ? 1 : Math.min(1, spent / limit);
  const cells = Math.round(fraction * 10);
  return `\`${'█'.repeat(cells)}${'░'.repeat(10 - cells)}\` `;
}

function percent(spent: number, limit: number | null): string {
  if (limit === null) return '';
  if (limit <= 0) return ' (paid use off)';
  return ` (${Math.round((spent / limit) * 100)}%)`;
}

function until(at: number): string {
  const minutes = Math.max(1, Math.ceil((at - Date.now()) / 60_000));
  return minutes < 60 ? `${minutes} min` : minutes < 2880 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${Math.round(minutes / 1440)} days`;
}

export function renderStatus(state: SpendState, limits: SpendLimits, custom: boolean): string {
  const now = Date.now();
  const lines = [
    `**Sogni spend for this server** (1 Spark = US$0.005; ${custom ? 'custom limits' : 'default limits'})`,
    `Today: ${bar(state.daySpent, limits.daily)}${sparkText(state.daySpent)} / ${limitText(limits.daily)}${percent(state.daySpent, limits.daily)} · resets in ${until(resetsAt('daily', now))}`,
    `This month: ${bar(state.monthSpent, limits.monthly)}${sparkText(state.monthSpent)} / ${limitText(limits.monthly)}${percent(state.monthSpent, limits.monthly)} · resets in ${until(resetsAt('monthly', now))}`,
    `Per person per day: ${limitText(limits.userDaily)}`,
  ];
  const top = Object.entries(state.userMonth)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5);
  lines.push(top.length ? `**Top this month:** ${top.map(([id, v]) => `<@${id}> ${sparkText(v)}`).join(' · ')}` : '**Top this month:** nobody yet');
  const pending = Object.keys(state.reservations).length;
  if (pending > 0) lines.push(`-# ${pending} request${pending === 1 ? '' : 's'} running now (estimates held)`);
  if (state.recent.length > 0) {
    lines.push('**Recent:**');
    for (const e of state.recent.slice(0, 5)) {
      const time = new Date(e.at).toISOString().slice(11, 16);
      const amount = e.status === 'settled' ? `${sparkText(e.actual ?? 0)} Spark` : e.status;
      lines.push(`-# ${time} UTC · ${e.kind} · <@${e.userId}> · ${amount} (est. ${sparkText(e.estimate)})`);
    }
  }
  return lines.join('\n');
}
