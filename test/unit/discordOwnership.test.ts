import { Writable } from 'node:stream';
import { MessageFlags, PermissionFlagsBits, PermissionsBitField, type ButtonInteraction, type InteractionReplyOptions } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { actorOf, ensureOwner } from '../../src/discord/ownership.js';
import { createLogger } from '../../src/logger.js';

/**
 * The glue between a button press and the ownership rule: who the presser is, where, whether
 * they hold the permission, and the one private line a refused presser gets. The interaction
 * is shaped as discord.js builds it: in a server it always has the member's permissions, in
 * DMs no guild and no permissions.
 */
function press(options: { userId: string; guildId?: string; permissions?: bigint }) {
  const replies: InteractionReplyOptions[] = [];
  const guildId = options.guildId ?? null;
  const interaction = {
    user: { id: options.userId },
    guildId,
    inGuild: () => guildId !== null,
    memberPermissions: guildId === null ? null : new PermissionsBitField(options.permissions ?? PermissionFlagsBits.ViewChannel),
    reply: async (reply: InteractionReplyOptions) => {
      replies.push(reply);
    },
  };
  return { interaction: interaction as unknown as ButtonInteraction, replies };
}

function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

const job = { userId: 'alice', scope: 'guild-1' };

describe('actorOf: who pressed, and where', () => {
  it('places a press in a server in that server, a manager only with Manage Server', () => {
    expect(actorOf(press({ userId: 'bob', guildId: 'guild-1' }).interaction)).toEqual({ userId: 'bob', scope: 'guild-1', manager: false });
    expect(actorOf(press({ userId: 'mod', guildId: 'guild-1', permissions: PermissionFlagsBits.ManageGuild }).interaction)).toEqual({
      userId: 'mod',
      scope: 'guild-1',
      manager: true,
    });
  });

  it('checks the permission it is given instead of Manage Server', () => {
    const mod = press({ userId: 'mod', guildId: 'guild-1', permissions: PermissionFlagsBits.ManageMessages }).interaction;
    expect(actorOf(mod, PermissionFlagsBits.ManageMessages).manager).toBe(true);
    expect(actorOf(mod).manager).toBe(false);
  });

  it('places a press in DMs in that user’s own DM scope, never a manager', () => {
    expect(actorOf(press({ userId: 'alice' }).interaction)).toEqual({ userId: 'alice', scope: 'dm:alice', manager: false });
  });
});

describe('ensureOwner: one private line for anyone but the owner', () => {
  it('lets the owner through without a word', async () => {
    const { interaction, replies } = press({ userId: 'alice', guildId: 'guild-1' });
    const { logger, lines } = recordingLogger();
    expect(await ensureOwner(interaction, job, { verb: 'reroll', managersToo: true, logger })).toBe(true);
    expect(replies).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('refuses another member by naming the owner and the managers, privately and without a ping', async () => {
    const { interaction, replies } = press({ userId: 'bob', guildId: 'guild-1' });
    const { logger, lines } = recordingLogger();
    expect(await ensureOwner(interaction, job, { verb: 'reroll', managersToo: true, logger })).toBe(false);
    expect(replies).toEqual([{ content: 'Only <@alice> or a server manager can reroll this.', allowedMentions: { parse: [], repliedUser: false }, flags: MessageFlags.Ephemeral }]);
    expect(lines).toMatchObject([{ msg: 'button press refused', decision: 'not-owner', ownerId: 'alice', ownerScope: 'guild-1' }]);
  });

  it('names only the owner where managers may not act for them', async () => {
    const { interaction, replies } = press({ userId: 'mod', guildId: 'guild-1', permissions: PermissionFlagsBits.ManageGuild });
    expect(await ensureOwner(interaction, job, { verb: 'make', managersToo: false, logger: recordingLogger().logger })).toBe(false);
    expect(replies.map((r) => r.content)).toEqual(['Only <@alice> can make this.']);
  });

  it('lets a server manager act for the owner by default, and names Manage Messages when that is the permission', async () => {
    const manager = press({ userId: 'mod', guildId: 'guild-1', permissions: PermissionFlagsBits.ManageGuild });
    expect(await ensureOwner(manager.interaction, job, { verb: 'cancel', managersToo: true, logger: recordingLogger().logger })).toBe(true);
    // Manage Server is not Manage Messages: the 🗑️ buttons ask for the latter.
    expect(await ensureOwner(manager.interaction, job, { verb: 'delete', managersToo: true, permission: PermissionFlagsBits.ManageMessages, logger: recordingLogger().logger })).toBe(false);
    expect(manager.replies.map((r) => r.content)).toEqual(['Only <@alice> or a member with Manage Messages can delete this.']);
    const cleaner = press({ userId: 'janitor', guildId: 'guild-1', permissions: PermissionFlagsBits.ManageMessages });
    expect(await ensureOwner(cleaner.interaction, job, { verb: 'delete', managersToo: true, permission: PermissionFlagsBits.ManageMessages, logger: recordingLogger().logger })).toBe(true);
    expect(await ensureOwner(cleaner.interaction, job, { verb: 'cancel', managersToo: true, logger: recordingLogger().logger })).toBe(false);
    expect(cleaner.replies.map((r) => r.content)).toEqual(['Only <@alice> or a server manager can cancel this.']);
  });

  it('refuses a press from somewhere else, even by the owner, and says why', async () => {
    const { interaction, replies } = press({ userId: 'alice' });
    const { logger, lines } = recordingLogger();
    expect(await ensureOwner(interaction, job, { verb: 'reroll', managersToo: true, logger })).toBe(false);
    expect(replies).toEqual([
      { content: 'That button belongs to something made somewhere else, so it does nothing here.', allowedMentions: { parse: [], repliedUser: false }, flags: MessageFlags.Ephemeral },
    ]);
    expect(lines).toMatchObject([{ msg: 'button press refused', decision: 'other-scope', ownerId: 'alice', ownerScope: 'guild-1' }]);
  });
});
