import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  ChannelType,
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
import type { RoleLimits } from '../src/core/roleLimits.js';
import { missingPostPermissions } from '../src/discord/alertPoster.js';
import type { AlertSettings } from '../src/spend/spendAlerts.js';
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
    { type: ApplicationCommandOptionType.Subcommand, name: 'clear', description: 'Go back to the default limits (role limits too)' },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'role',
      description: "A per-person daily limit for members with a role (0 blocks the role's paid use)",
      options: [
        { type: ApplicationCommandOptionType.Role, name: 'role', description: 'Which role', required: true },
        limitOption('user_daily', 'Spark per person per day for members with this role'),
        { type: ApplicationCommandOptionType.Boolean, name: 'clear', description: "Remove the role's limit" },
      ],
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'alerts',
      description: 'Post to a channel at 80% and 100% of the limits and when a request is refused',
      options: [
        {
          type: ApplicationCommandOptionType.Channel,
          name: 'channel',
          description: 'Where to post the alerts',
          channel_types: [ChannelType.GuildText, ChannelType.GuildAnnouncement, ChannelType.PublicThread, ChannelType.PrivateThread],
        },
        { type: ApplicationCommandOptionType.Boolean, name: 'off', description: 'Stop posting alerts' },
      ],
    },
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
        await reply(interaction, `Back to the default limits, and no role limits.\n${describeLimits(limits)}`);
        return;
      }
      case 'role': {
        const role = interaction.options.getRole('role', true);
        const clear = interaction.options.getBoolean('clear') ?? false;
        const raw = interaction.options.getNumber(NAMES.user_daily);
        if (clear === (raw !== null)) throw new UserError('Give either user_daily or clear:true.');
        const spark = raw === null ? null : parseLimit(NAMES.user_daily, raw);
        const roles = await deps.ledger.setRoleLimit(guildId, role.id, spark);
        deps.logger.info({ guildId, userId: interaction.user.id, roleId: role.id, userDaily: spark }, 'role spend limit changed');
        const said =
          spark === null
            ? `<@&${role.id}> no longer has its own limit.`
            : spark === 0
              ? `Members with <@&${role.id}> can make no paid requests, unless another role of theirs allows it.`
              : `Members with <@&${role.id}> may spend **${sparkText(spark)} Spark** a day each (their most generous role counts).`;
        await reply(interaction, `${said}\n${describeRoleLimits(roles)}`);
        return;
      }
      case 'alerts': {
        const channel = interaction.options.getChannel('channel');
        const off = interaction.options.getBoolean('off') ?? false;
        if (off === (channel !== null)) throw new UserError('Give either channel or off:true.');
        if (!channel) {
          await deps.alerts.configure(guildId, null);
          deps.logger.info({ guildId, userId: interaction.user.id }, 'spend alerts turned off');
          await reply(interaction, 'Spend alerts are off.');
          return;
        }
        await deps.alerts.configure(guildId, channel.id);
        deps.logger.info({ guildId, userId: interaction.user.id, alertChannelId: channel.id }, 'spend alerts channel set');
        const cached = interaction.guild?.channels.cache.get(channel.id);
        const missing = cached ? missingPostPermissions(cached) : [];
        const warning = missing.length ? `\n⚠️ I can't post there yet: I need ${missing.join(' and ')} in <#${channel.id}>.` : '';
        await reply(interaction, `Spend alerts go to <#${channel.id}>: at 80% and 100% of the daily and monthly limits, and when a request is refused for budget (at most once an hour per limit).${warning}`);
        return;
      }
      default: {
        const [{ limits, custom }, state, roles, alerts] = await Promise.all([
          deps.ledger.limits(guildId),
          deps.ledger.state(guildId),
          deps.ledger.roleLimits(guildId),
          deps.alerts.settings(guildId),
        ]);
        await reply(interaction, [renderStatus(state, limits, custom), describeRoleLimits(roles), describeAlerts(alerts)].join('\n'));
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

/** The role limits, one line (status and /spend role). */
export function describeRoleLimits(roles: RoleLimits): string {
  const entries = Object.entries(roles).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return '**Role limits:** none (everyone has the per-person limit)';
  return `**Role limits** (per person per day; a member's most generous role counts): ${entries.map(([id, v]) => `<@&${id}> ${v === 0 ? 'blocked' : `${sparkText(v)} Spark`}`).join(' · ')}`;
}

/** Where alerts go, and whether the last one could be posted. */
export function describeAlerts(alerts: AlertSettings | undefined): string {
  if (!alerts) return '**Alerts:** off (`/spend alerts channel:` turns them on)';
  const line = `**Alerts:** <#${alerts.channelId}>`;
  if (!alerts.failure) return line;
  return `${line}\n⚠️ I could not post the last alert there (<t:${Math.floor(alerts.failure.at / 1000)}:R>: ${alerts.failure.reason}). I need View Channel and Send Messages in <#${alerts.channelId}>.`;
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
