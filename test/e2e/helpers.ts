import type { FakeDiscord, RecordedCall } from '../fakes/fakeDiscord.js';

/** Calls that create or edit a message (channel messages and interaction webhooks). */
export function messageWrites(discord: FakeDiscord): RecordedCall[] {
  return discord.calls.filter(
    (c) =>
      (c.method === 'POST' || c.method === 'PATCH') &&
      (/^\/channels\/\d+\/messages/.test(c.path) || c.path.startsWith('/webhooks/')) &&
      // Opening a thread on a message carries a name, not content.
      !c.path.endsWith('/threads'),
  );
}

/** Every write must forbid all pings, whatever the content says. */
export function expectSafeMentions(calls: RecordedCall[]): void {
  if (calls.length === 0) throw new Error('no message writes to check');
  for (const call of calls) {
    const mentions = (call.body as { allowed_mentions?: { parse?: unknown[]; users?: unknown[]; roles?: unknown[]; replied_user?: boolean } })
      .allowed_mentions;
    if (!mentions) throw new Error(`${call.method} ${call.path} has no allowed_mentions`);
    if ((mentions.parse ?? []).length !== 0 || (mentions.users ?? []).length !== 0 || (mentions.roles ?? []).length !== 0 || mentions.replied_user) {
      throw new Error(`${call.method} ${call.path} allows mentions: ${JSON.stringify(mentions)}`);
    }
  }
}
