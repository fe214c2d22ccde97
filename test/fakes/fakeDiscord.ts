import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { snowflake } from './snowflake.js';
import { waitFor } from './waitFor.js';

/**
 * A small Discord on 127.0.0.1: REST v10 and a gateway v10 WebSocket, enough for the real
 * discord.js client to log in, receive messages and interactions, and send, edit and
 * follow up. It records every REST call and applies Discord-like per-channel rate limits
 * with Discord's headers, so tests can assert on what the bot actually sent.
 */

export interface RecordedCall {
  method: string;
  /** Decoded path below /api/v10, e.g. `/channels/1/messages`. */
  path: string;
  query: URLSearchParams;
  body: unknown;
  /** Files uploaded with the call (multipart), by name and size. */
  files?: { name: string; size: number }[];
  status: number;
  at: number;
  /** Channel whose budget the call drew from, if any. */
  channelId?: string;
}

export interface FakeUser {
  id: string;
  username: string;
  global_name: string | null;
  discriminator: string;
  avatar: null;
  bot?: boolean;
}

export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
}

export interface FakeThread {
  id: string;
  type: 11;
  guild_id: string;
  parent_id: string;
  owner_id: string;
  name: string;
  rate_limit_per_user: number;
  flags: number;
  member_count: number;
  message_count: number;
  thread_metadata: { archived: boolean; locked: boolean; auto_archive_duration: number; archive_timestamp: string };
}

export interface FakeComponentRow {
  type: number;
  components: { type: number; custom_id?: string; label?: string }[];
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: FakeUser;
  content: string;
  timestamp: string;
  edited_timestamp: string | null;
  tts: boolean;
  mention_everyone: boolean;
  mentions: FakeUser[];
  mention_roles: string[];
  attachments: FakeAttachment[];
  embeds: { image?: { url: string } }[];
  components: FakeComponentRow[];
  pinned: boolean;
  type: number;
  flags: number;
  message_reference?: { message_id: string; channel_id: string; guild_id?: string };
  referenced_message?: FakeMessage | null;
  webhook_id?: string;
  application_id?: string;
  /** Every content this message has shown, in order (creates and edits). */
  history: string[];
  /** When each of those contents became visible (ms since epoch). */
  historyAt: number[];
  deleted?: boolean;
}

export interface InteractionRecord {
  id: string;
  token: string;
  channelId: string;
  guildId: string;
  callbacks: unknown[];
  originalId?: string;
  /** For a button press: the message the button is on (a deferred update edits it as @original). */
  componentMessageId?: string;
  ephemeral: boolean;
  /** When the interaction was created (ms since epoch); its 3 s and 15 min clocks start here. */
  createdAt: number;
}

export interface InteractionLimits {
  /** Time to answer the interaction callback before Discord forgets it (3 s). */
  callbackMs: number;
  /** Lifetime of the interaction token for webhook calls (15 min). */
  tokenMs: number;
}

/**
 * How message writes are counted: `shared` (every create and edit of a channel, interaction
 * webhooks included, draws on one budget), `separate` (creates and edits of a channel each have
 * their own, each interaction token its own), or `changing` (`separate`, until the limits
 * shrink halfway through a run). Every mode reports Discord's rate-limit headers.
 */
export type RateLimitMode = 'shared' | 'separate' | 'changing';

export interface RateLimitOptions {
  mode: RateLimitMode;
  /** Writes per window per bucket (Discord: 5 per 5 s). */
  limit: number;
  windowMs: number;
  /** Requests per second for the whole bot (Discord: 50). */
  globalPerSecond: number;
  /** `changing`: after this long from the first write, every bucket starts afresh with `changedLimit`. */
  changeAfterMs: number;
  changedLimit: number;
}

export interface FakeDiscordOptions {
  token?: string;
  /** Extra guilds, each with this many text channels (the benchmark spreads answers over them). */
  extraGuilds?: number;
  channelsPerGuild?: number;
  /** Delay before each REST response, in ms. */
  latencyMs?: number;
  rateLimit?: Partial<RateLimitOptions> | false;
  interactionLimits?: Partial<InteractionLimits>;
  /** Shards GET /gateway/bot recommends, and how many may identify at once (sharding tests). */
  shards?: number;
  maxConcurrency?: number;
  /** Ids for the extra guilds (a test that needs a guild on a given shard picks its id). */
  extraGuildIds?: string[];
  /** The application's flags (GET /applications/@me, READY); the default has the Message Content intent on. */
  applicationFlags?: number;
  /** The bot's permissions in some guilds (by id), from the start; see setBotPermissions. */
  botPermissions?: Record<string, bigint>;
}

/** Application flags: the Message Content intent, for verified bots and for bots under 100 servers. */
export const GATEWAY_MESSAGE_CONTENT = 1 << 18;
export const GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19;
/** The privileged intent bit a client identifies with to read message content. */
const MESSAGE_CONTENT_INTENT = 1 << 15;
/** What the bot may do in a guild unless a test changes it (View Channels, Send Messages, Embed Links, …). */
const BOT_GUILD_PERMISSIONS = '1071698660929';

/** The shard Discord routes a guild to: (guild_id >> 22) % shard_count. */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

type GatewaySocket = WebSocket & { identified?: boolean; shard?: [number, number] };

/** What the bot sends when it creates or edits a message. */
interface MessageBody {
  content?: string | null;
  flags?: number;
  /** Attachments to keep (by id) and new uploads (id = the `files[n]` index). */
  attachments?: { filename?: string; id?: unknown }[];
  embeds?: { image?: { url: string } }[];
  components?: FakeComponentRow[];
  message_reference?: { message_id: string };
}

/** A file part of a multipart request (`files[n]`). */
interface Upload {
  index: number;
  filename: string;
  contentType: string;
  bytes: Buffer;
}

interface Route {
  /** Channel whose rate-limit budget the call draws from. */
  channelId?: string;
  handler: (body: unknown, query: URLSearchParams, uploads: Upload[]) => [number, unknown];
}

type Fault = (call: { method: string; path: string; channelId?: string }) => { status: number; body: unknown } | undefined;

const API = '/api/v10';
const ALL_PERMISSIONS = '2251799813685247';
/** Discord refuses message content longer than this (characters). */
const CONTENT_LIMIT = 2000;
const EPHEMERAL = 64;

/** Discord's 400 for content over the limit; `at` is where the content sits in the body. */
function contentTooLong(at: string[]): [number, unknown] {
  let errors: Record<string, unknown> = { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${CONTENT_LIMIT} or fewer in length.` }] };
  for (const key of [...at].reverse()) errors = { [key]: errors };
  return [400, { code: 50035, message: 'Invalid Form Body', errors }];
}

const isTooLong = (content: unknown): boolean => typeof content === 'string' && content.length > CONTENT_LIMIT;

export class FakeDiscord {
  readonly token: string;
  readonly botUser: FakeUser;
  readonly applicationId: string;
  readonly guildId = snowflake();
  readonly channelId = snowflake();
  readonly otherChannelId = snowflake();
  readonly dmChannelId = snowflake();
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly interactions = new Map<string, InteractionRecord>();
  /** Number of 429 responses sent. */
  rateLimited = 0;
  latencyMs: number;
  rateLimit: RateLimitOptions | false;
  interactionLimits: InteractionLimits;
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();
  readonly #sent: { seq: number; payload: string; guildId?: string }[] = [];
  readonly #bucketLog = new Map<string, number[]>();
  #firstWriteAt: number | undefined;
  #limitChanged = false;
  readonly #globalLog: number[] = [];
  readonly #faults: Fault[] = [];
  readonly #commands = new Map<string, unknown[]>();
  readonly #files = new Map<string, { bytes: Buffer; contentType: string; delayMs: number }>();
  /** Attachment ids whose bytes were downloaded from the fake CDN. */
  readonly downloads: string[] = [];
  #seq = 0;
  #port = 0;
  /** Threads opened on messages (id → the thread channel as Discord sends it). */
  readonly threads = new Map<string, FakeThread>();
  /** False: creating a thread is refused with Missing Permissions, as without Create Public Threads. */
  threadsAllowed = true;
  /** Role ids of members (user id → roles), sent with their messages and interactions. */
  readonly memberRoles = new Map<string, string[]>();
  /** Extra guilds and their channels (guild id → channel ids). */
  readonly extraGuilds = new Map<string, string[]>();
  /** What GET /gateway/bot says. */
  shardCount: number;
  maxConcurrency: number;
  applicationFlags: number;
  /** Every IDENTIFY the gateway accepted, with the shard it asked for. */
  readonly identifies: { shard: [number, number]; intents: number; at: number }[] = [];
  /** True: the gateway refuses every connection (Discord unreachable from the bot). */
  gatewayRefused = false;
  /** The bot's permissions in a guild (its roles), when a test changes them. */
  readonly #botPermissions = new Map<string, string>();

  constructor(options: FakeDiscordOptions = {}) {
    this.token = options.token ?? 'fake-bot-token.for-tests-only';
    this.applicationId = snowflake();
    this.botUser = { id: this.applicationId, username: 'Sogni', global_name: 'Sogni', discriminator: '0', avatar: null, bot: true };
    this.latencyMs = options.latencyMs ?? 0;
    this.rateLimit =
      options.rateLimit === false
        ? false
        : { mode: 'shared', limit: 5, windowMs: 5000, globalPerSecond: 50, changeAfterMs: 5000, changedLimit: 3, ...(options.rateLimit ?? {}) };
    this.interactionLimits = { callbackMs: 3000, tokenMs: 15 * 60_000, ...(options.interactionLimits ?? {}) };
    for (let g = 0; g < (options.extraGuilds ?? 0); g++) {
      this.extraGuilds.set(snowflake(), Array.from({ length: options.channelsPerGuild ?? 1 }, () => snowflake()));
    }
    for (const id of options.extraGuildIds ?? []) this.extraGuilds.set(id, Array.from({ length: options.channelsPerGuild ?? 1 }, () => snowflake()));
    this.shardCount = options.shards ?? 1;
    this.maxConcurrency = options.maxConcurrency ?? 1;
    this.applicationFlags = options.applicationFlags ?? GATEWAY_MESSAGE_CONTENT_LIMITED;
    for (const [guildId, permissions] of Object.entries(options.botPermissions ?? {})) this.setBotPermissions(guildId, permissions);
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#wss = new WebSocketServer({ noServer: true });
    this.#server.on('upgrade', (req, socket, head) => {
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onSocket(ws));
    });
  }

  async start(): Promise<this> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  /** The REST base discord.js is given as `rest.api`. */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.#port}/api`;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.#port}`;
  }

  async stop(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Makes the next matching requests fail: return a response to inject, or undefined to pass. */
  addFault(fault: Fault): () => void {
    this.#faults.push(fault);
    return () => {
      const i = this.#faults.indexOf(fault);
      if (i >= 0) this.#faults.splice(i, 1);
    };
  }

  /**
   * Makes an interaction `ms` older, as if that much time had passed since it was created:
   * past 3 s its callback is refused, past 15 min its token no longer works.
   */
  ageInteraction(record: InteractionRecord, ms: number): void {
    record.createdAt -= ms;
  }

  /** The bytes of a file the bot uploaded (or a user attached), as stored on the fake CDN. */
  attachmentBytes(attachment: Pick<FakeAttachment, 'id'>): Buffer | undefined {
    return this.#files.get(attachment.id)?.bytes;
  }

  /** Slash commands registered, by scope (`global` or a guild id). */
  registeredCommands(scope: string): unknown[] | undefined {
    return this.#commands.get(scope);
  }

  // ——— what users do ———

  /**
   * Uploads a file to the fake CDN and returns the attachment object Discord would send.
   * `reportedSize` lets a test lie about the size; `delayMs` slows the download down.
   */
  addAttachment(
    filename: string,
    bytes: Buffer,
    contentType: string | null,
    options: { reportedSize?: number; delayMs?: number } = {},
  ): FakeAttachment {
    const id = snowflake();
    this.#files.set(id, { bytes, contentType: contentType ?? 'application/octet-stream', delayMs: options.delayMs ?? 0 });
    const url = `${this.baseUrl}/attachments/${this.channelId}/${id}/${encodeURIComponent(filename)}`;
    return {
      id,
      filename,
      size: options.reportedSize ?? bytes.length,
      url,
      proxy_url: url,
      ...(contentType ? { content_type: contentType } : {}),
    };
  }

  user(name = 'alice'): FakeUser {
    return { id: snowflake(), username: name, global_name: name[0]?.toUpperCase() + name.slice(1), discriminator: '0', avatar: null };
  }

  /** A user posts a message in a channel (dispatched as MESSAGE_CREATE). */
  postUserMessage(options: {
    content: string;
    author?: FakeUser;
    channelId?: string;
    mentionBot?: boolean;
    replyTo?: string;
    mentions?: FakeUser[];
    attachments?: FakeAttachment[];
    /** The message pings @everyone or @here. */
    mentionEveryone?: boolean;
    /** Roles the message mentions. */
    mentionRoles?: string[];
  }): FakeMessage {
    const author = options.author ?? this.user();
    const mentionBot = options.mentionBot ?? true;
    const content = mentionBot ? `<@${this.botUser.id}> ${options.content}` : options.content;
    const referenced = options.replyTo ? this.messages.get(options.replyTo) : undefined;
    const channelId = options.channelId ?? this.channelId;
    const guildId = this.guildOf(channelId);
    const message = this.#newMessage(channelId, author, content, {
      guild_id: guildId,
      mentions: [...(mentionBot ? [this.botUser] : []), ...(options.mentions ?? [])],
      mention_everyone: options.mentionEveryone ?? false,
      mention_roles: options.mentionRoles ?? [],
      attachments: options.attachments ?? [],
      ...(referenced
        ? {
            type: 19,
            message_reference: { message_id: referenced.id, channel_id: referenced.channel_id, guild_id: guildId },
            referenced_message: referenced,
          }
        : {}),
    });
    this.dispatch('MESSAGE_CREATE', { ...wire(message), member: this.#member(author) });
    return message;
  }

  /** The guild a channel belongs to. */
  guildOf(channelId: string): string {
    for (const [guildId, channels] of this.extraGuilds) if (channels.includes(channelId)) return guildId;
    return this.guildId;
  }

  /** A user runs a slash command, or types into an autocompleted option (dispatched as INTERACTION_CREATE). */
  runCommand(options: {
    name: string;
    options?: { name: string; type: number; value: unknown; focused?: boolean }[];
    /** Attachments referenced by attachment options (their value is the attachment id). */
    attachments?: FakeAttachment[];
    user?: FakeUser;
    channelId?: string;
    type?: 2 | 4;
    permissions?: string;
    guild?: boolean;
  }): InteractionRecord {
    return this.#interact({
      type: options.type ?? 2,
      channelId: options.channelId ?? this.channelId,
      user: options.user ?? this.user(),
      inGuild: options.guild ?? true,
      ...(options.permissions ? { permissions: options.permissions } : {}),
      fields: {
        data: {
          id: snowflake(),
          name: options.name,
          type: 1,
          options: options.options ?? [],
          ...this.#resolved(options.options ?? [], options.attachments),
        },
      },
    });
  }

  /** A user submits a form (modal) the bot opened (dispatched as INTERACTION_CREATE type 5). */
  submitModal(options: { customId: string; fields: Record<string, string>; user?: FakeUser; permissions?: string; channelId?: string }): InteractionRecord {
    return this.#interact({
      type: 5,
      channelId: options.channelId ?? this.channelId,
      user: options.user ?? this.user(),
      inGuild: true,
      ...(options.permissions ? { permissions: options.permissions } : {}),
      fields: {
        data: {
          custom_id: options.customId,
          components: Object.entries(options.fields).map(([id, value]) => ({ type: 1, components: [{ type: 4, custom_id: id, value }] })),
        },
      },
    });
  }

  /** Discord sends the objects that options point at (attachments, channels) in `resolved`. */
  #resolved(options: { type: number; value: unknown; options?: unknown }[], attachments?: FakeAttachment[]): { resolved?: Record<string, unknown> } {
    const channelIds: string[] = [];
    const roleIds: string[] = [];
    const walk = (list: { type: number; value: unknown; options?: unknown }[]) => {
      for (const o of list) {
        if (o.type === 7 && typeof o.value === 'string') channelIds.push(o.value);
        if (o.type === 8 && typeof o.value === 'string') roleIds.push(o.value);
        if (Array.isArray(o.options)) walk(o.options as typeof list);
      }
    };
    walk(options);
    const channel = (id: string) => {
      const thread = this.threads.get(id);
      return thread ? { ...thread, permissions: ALL_PERMISSIONS } : { id, type: 0, name: 'channel', parent_id: null, permissions: ALL_PERMISSIONS };
    };
    const resolved = {
      ...(attachments ? { attachments: Object.fromEntries(attachments.map((a) => [a.id, a])) } : {}),
      ...(channelIds.length ? { channels: Object.fromEntries(channelIds.map((id) => [id, channel(id)])) } : {}),
      ...(roleIds.length ? { roles: Object.fromEntries(roleIds.map((id) => [id, this.#role(id)])) } : {}),
    };
    return Object.keys(resolved).length ? { resolved } : {};
  }

  /** A user presses a button under one of the bot's messages (dispatched as INTERACTION_CREATE type 3). */
  pressButton(options: { customId: string; message: FakeMessage; user?: FakeUser; permissions?: string }): InteractionRecord {
    const record = this.#interact({
      type: 3,
      channelId: options.message.channel_id,
      user: options.user ?? this.user(),
      inGuild: true,
      ...(options.permissions ? { permissions: options.permissions } : {}),
      fields: { data: { custom_id: options.customId, component_type: 2 }, message: wire(options.message) },
    });
    record.componentMessageId = options.message.id;
    return record;
  }

  /** Dispatches an interaction with the fields every interaction carries, and records it. */
  #interact(options: { type: number; channelId: string; user: FakeUser; inGuild: boolean; permissions?: string; fields: Record<string, unknown> }): InteractionRecord {
    const { channelId, user } = options;
    const record: InteractionRecord = {
      id: snowflake(),
      token: `interaction-token-${snowflake()}-${'x'.repeat(40)}`,
      channelId,
      guildId: this.guildId,
      callbacks: [],
      ephemeral: false,
      createdAt: Date.now(),
    };
    this.interactions.set(record.token, record);
    this.dispatch('INTERACTION_CREATE', {
      id: record.id,
      application_id: this.applicationId,
      type: options.type,
      ...options.fields,
      ...(options.inGuild
        ? {
            guild_id: this.guildId,
            channel_id: channelId,
            channel: { id: channelId, type: 0, guild_id: this.guildId, name: 'general', position: 0, permission_overwrites: [] },
            member: { ...this.#member(user), permissions: options.permissions ?? ALL_PERMISSIONS },
            context: 0,
          }
        : { channel_id: channelId, channel: { id: channelId, type: 1, recipients: [user] }, user, context: 1 }),
      token: record.token,
      version: 1,
      app_permissions: ALL_PERMISSIONS,
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': this.guildId },
      attachment_size_limit: 10 * 1024 * 1024,
    });
    return record;
  }

  /** A user writes to the bot in DMs. */
  postDirectMessage(options: { content: string; author?: FakeUser }): FakeMessage {
    const author = options.author ?? this.user();
    const message = this.#newMessage(this.dmChannelId, author, options.content);
    delete message.guild_id;
    // Discord says the channel type on DM messages; discord.js needs it to build the DM channel.
    this.dispatch('MESSAGE_CREATE', { ...wire(message), channel_type: 1 });
    return message;
  }

  /** The message an interaction's reply became (deferred or not). */
  original(record: InteractionRecord): FakeMessage | undefined {
    return record.originalId ? this.messages.get(record.originalId) : undefined;
  }

  /** A user deletes a message (later edits get 404 Unknown Message). */
  deleteMessage(id: string): void {
    const message = this.messages.get(id);
    if (message) message.deleted = true;
  }

  /** Messages the bot posted in a channel (not deleted), oldest first. */
  botMessages(channelId = this.channelId): FakeMessage[] {
    return [...this.messages.values()].filter((m) => m.author.id === this.botUser.id && m.channel_id === channelId);
  }

  /** Resolves when the predicate holds; rejects after timeoutMs. */
  waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    return waitFor(predicate, timeoutMs, 'FakeDiscord.waitFor');
  }

  dispatch(t: string, d: unknown): void {
    const seq = ++this.#seq;
    const payload = JSON.stringify({ op: 0, t, s: seq, d });
    const guildId = (d as { guild_id?: string } | null)?.guild_id;
    // Kept for RESUME: a client that reconnects gets what it missed, as from Discord.
    this.#sent.push({ seq, payload, ...(guildId ? { guildId } : {}) });
    if (this.#sent.length > 1000) this.#sent.shift();
    for (const ws of this.#sockets) if ((ws as GatewaySocket).identified && this.#reaches(ws as GatewaySocket, guildId)) ws.send(payload);
  }

  /** As on Discord, a guild's events go to its shard only, and DMs to shard 0. */
  #reaches(ws: GatewaySocket, guildId: string | undefined): boolean {
    const [id, count] = ws.shard ?? [0, 1];
    return guildId ? shardOf(guildId, count) === id : id === 0;
  }

  /** Sets the bot's permissions in a guild (as its roles would): what GUILD_CREATE and GET /users/@me/guilds show. */
  setBotPermissions(guildId: string, permissions: bigint): void {
    this.#botPermissions.set(guildId, permissions.toString());
  }

  #guildIds(): string[] {
    return [this.guildId, ...this.extraGuilds.keys()];
  }

  /** Drops every gateway connection with a resumable close code, as Discord does when it restarts a node. */
  dropGateway(code = 4000): void {
    for (const ws of this.#sockets) ws.close(code, 'Unknown error');
  }

  /** Gateway sessions resumed (op 6) since start. */
  resumes = 0;

  // ——— gateway ———

  #onSocket(ws: WebSocket): void {
    if (this.gatewayRefused) {
      ws.terminate();
      return;
    }
    this.#sockets.add(ws);
    ws.on('close', () => this.#sockets.delete(ws));
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null }));
    ws.on('message', (raw) => {
      const packet = JSON.parse(String(raw)) as { op: number; d: Record<string, unknown> };
      if (packet.op === 1) ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
      if (packet.op === 2) {
        if (packet.d['token'] !== this.token) {
          ws.close(4004, 'Authentication failed.');
          return;
        }
        const intents = Number(packet.d['intents'] ?? 0);
        // Discord refuses a privileged intent the application has not turned on.
        if ((intents & MESSAGE_CONTENT_INTENT) !== 0 && (this.applicationFlags & (GATEWAY_MESSAGE_CONTENT | GATEWAY_MESSAGE_CONTENT_LIMITED)) === 0) {
          ws.close(4014, 'Disallowed intent(s).');
          return;
        }
        const requested = packet.d['shard'];
        const shard: [number, number] = Array.isArray(requested) ? [Number(requested[0]), Number(requested[1])] : [0, 1];
        if (!(shard[1] >= 1 && shard[0] >= 0 && shard[0] < shard[1])) {
          ws.close(4010, 'Invalid shard.');
          return;
        }
        this.identifies.push({ shard, intents, at: Date.now() });
        const gws = ws as GatewaySocket;
        gws.shard = shard;
        gws.identified = true;
        const mine = this.#guildIds().filter((id) => this.#reaches(gws, id));
        this.#sendTo(ws, 'READY', {
          v: 10,
          user: this.botUser,
          guilds: mine.map((id) => ({ id, unavailable: true })),
          session_id: `session-${snowflake()}`,
          resume_gateway_url: this.gatewayUrl,
          shard,
          application: { id: this.applicationId, flags: this.applicationFlags },
        });
        if (mine.includes(this.guildId)) this.#sendTo(ws, 'GUILD_CREATE', this.#guildPayload());
        for (const [guildId, channels] of this.extraGuilds) if (mine.includes(guildId)) this.#sendTo(ws, 'GUILD_CREATE', this.#guildPayload(guildId, channels));
      }
      if (packet.op === 6) {
        if (packet.d['token'] !== this.token) {
          ws.close(4004, 'Authentication failed.');
          return;
        }
        this.resumes += 1;
        const after = Number(packet.d['seq'] ?? 0);
        for (const event of this.#sent) if (event.seq > after && this.#reaches(ws as GatewaySocket, event.guildId)) ws.send(event.payload);
        (ws as WebSocket & { identified?: boolean }).identified = true;
        this.#sendTo(ws, 'RESUMED', {});
      }
    });
  }

  #sendTo(ws: WebSocket, t: string, d: unknown): void {
    ws.send(JSON.stringify({ op: 0, t, s: ++this.#seq, d }));
  }

  #guildPayload(guildId = this.guildId, extraChannels?: string[]): unknown {
    const channel = (id: string, name: string) => ({ id, type: 0, guild_id: guildId, name, position: 0, permission_overwrites: [] });
    const channels = extraChannels
      ? extraChannels.map((id, i) => channel(id, `channel-${i}`))
      : [channel(this.channelId, 'general'), channel(this.otherChannelId, 'random')];
    return {
      id: guildId,
      name: 'Test Server',
      icon: null,
      owner_id: snowflake(),
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      premium_tier: 0,
      system_channel_flags: 0,
      nsfw_level: 0,
      preferred_locale: 'en-US',
      features: [],
      emojis: [],
      stickers: [],
      roles: [
        {
          id: guildId,
          name: '@everyone',
          permissions: this.#botPermissions.get(guildId) ?? BOT_GUILD_PERMISSIONS,
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          flags: 0,
        },
      ],
      member_count: 2,
      large: false,
      unavailable: false,
      joined_at: new Date().toISOString(),
      members: [this.#member(this.botUser)],
      channels,
      threads: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
    };
  }

  #member(user: FakeUser) {
    return { user, roles: this.memberRoles.get(user.id) ?? [], joined_at: new Date().toISOString(), deaf: false, mute: false, flags: 0, nick: null };
  }

  // ——— REST ———

  #newMessage(channelId: string, author: FakeUser, content: string, extra: Partial<FakeMessage> = {}): FakeMessage {
    const message: FakeMessage = {
      id: snowflake(),
      channel_id: channelId,
      guild_id: this.guildId,
      author,
      content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      embeds: [],
      components: [],
      pinned: false,
      type: 0,
      flags: 0,
      history: [content],
      historyAt: [Date.now()],
      ...extra,
    };
    this.messages.set(message.id, message);
    return message;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    if (url.pathname.startsWith('/attachments/')) {
      await this.#serveFile(url.pathname.split('/')[3] ?? '', res);
      return;
    }
    const raw = await readBody(req);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const path = decodeURIComponent(url.pathname.startsWith(API) ? url.pathname.slice(API.length) : url.pathname);
    const method = req.method ?? 'GET';
    const contentType = req.headers['content-type'] ?? '';
    let body: unknown = raw.toString('utf8');
    let uploads: Upload[] = [];
    if (raw.length > 0 && contentType.includes('application/json')) body = JSON.parse(raw.toString('utf8'));
    if (contentType.includes('multipart/form-data')) ({ payload: body, uploads } = parseMultipart(raw, contentType));

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}, channelId?: string) => {
      this.calls.push({
        method,
        path,
        query: url.searchParams,
        body,
        ...(uploads.length > 0 ? { files: uploads.map((u) => ({ name: u.filename, size: u.bytes.length })) } : {}),
        status,
        at: Date.now(),
        ...(channelId ? { channelId } : {}),
      });
      if (payload === undefined) {
        res.writeHead(status, headers);
        res.end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };

    // Interaction callbacks and webhooks authenticate with the token in the URL, not the bot token.
    if (!path.startsWith('/interactions/') && !path.startsWith('/webhooks/') && req.headers.authorization !== `Bot ${this.token}`) {
      send(401, { message: '401: Unauthorized', code: 0 });
      return;
    }
    const route = this.#route(method, path);
    const fault = this.#faults.map((f) => f({ method, path, ...(route.channelId ? { channelId: route.channelId } : {}) })).find(Boolean);
    if (fault) {
      send(fault.status, fault.body, {}, route.channelId);
      return;
    }
    const limited = this.#checkRateLimit(method, path, route.channelId);
    if (limited.status === 429) {
      this.rateLimited += 1;
      send(429, limited.body, limited.headers, route.channelId);
      return;
    }
    try {
      const [status, payload] = route.handler(body, url.searchParams, uploads);
      send(status, payload, limited.headers, route.channelId);
    } catch (err) {
      send(500, { message: String(err), code: 0 });
    }
  }

  #checkRateLimit(method: string, path: string, channelId: string | undefined): { status: number; headers: Record<string, string>; body?: unknown } {
    if (!this.rateLimit) return { status: 200, headers: {} };
    const now = Date.now();
    const { globalPerSecond, windowMs } = this.rateLimit;
    while (this.#globalLog.length && now - (this.#globalLog[0] as number) >= 1000) this.#globalLog.shift();
    if (this.#globalLog.length >= globalPerSecond) {
      const retry = (1000 - (now - (this.#globalLog[0] as number))) / 1000;
      return {
        status: 429,
        headers: { 'retry-after': retry.toFixed(3), 'x-ratelimit-global': 'true', 'x-ratelimit-scope': 'global' },
        body: { message: 'You are being rate limited.', retry_after: retry, global: true },
      };
    }
    this.#globalLog.push(now);
    if (!channelId) return { status: 200, headers: {} };
    const limit = this.#bucketLimit(now);
    const { counter, hash } = this.#bucketOf(method, path, channelId);
    const log = this.#bucketLog.get(counter) ?? [];
    while (log.length && now - (log[0] as number) >= windowMs) log.shift();
    this.#bucketLog.set(counter, log);
    const resetAfter = (oldest: number) => Math.max(0, (oldest + windowMs - now) / 1000);
    if (log.length >= limit) {
      const retry = resetAfter(log[log.length - limit] as number);
      return {
        status: 429,
        headers: {
          'retry-after': String(Math.ceil(retry)),
          'x-ratelimit-limit': String(limit),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': ((now + retry * 1000) / 1000).toFixed(3),
          'x-ratelimit-reset-after': retry.toFixed(3),
          'x-ratelimit-bucket': hash,
          'x-ratelimit-scope': 'user',
        },
        body: { message: 'You are being rate limited.', retry_after: retry, global: false },
      };
    }
    log.push(now);
    const retry = resetAfter(log[0] as number);
    return {
      status: 200,
      headers: {
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(limit - log.length),
        'x-ratelimit-reset': ((now + retry * 1000) / 1000).toFixed(3),
        'x-ratelimit-reset-after': retry.toFixed(3),
        'x-ratelimit-bucket': hash,
      },
    };
  }

  /**
   * Which budget a write draws on, and the bucket hash reported for it. `shared`: one per
   * channel, interaction webhooks included. `separate` (and `changing`): creates and edits of
   * a channel each their own, though both report one hash (as developers measured on
   * Discord), and each interaction token its own.
   */
  #bucketOf(method: string, path: string, channelId: string): { counter: string; hash: string } {
    if (!this.rateLimit || this.rateLimit.mode === 'shared') return { counter: `channel:${channelId}`, hash: 'f4ke-channel-messages' };
    const parts = path.split('/').filter(Boolean);
    if (parts[0] === 'webhooks') return { counter: `webhook:${parts[2] ?? ''}`, hash: 'f4ke-interaction-webhook' };
    const route = `${method} ${parts.slice(2).map((p) => (/^\d+$/.test(p) ? ':id' : p)).join('/')}`;
    const messages = route === 'POST messages' || route === 'PATCH messages/:id';
    return { counter: `${route}:${channelId}`, hash: messages ? 'f4ke-channel-messages' : `f4ke-${route}` };
  }

  /** The per-bucket limit now: `changing` starts every bucket afresh at `changedLimit` once `changeAfterMs` have passed since the first write. */
  #bucketLimit(now: number): number {
    if (!this.rateLimit) return Infinity;
    const { mode, limit, changeAfterMs, changedLimit } = this.rateLimit;
    if (mode !== 'changing') return limit;
    this.#firstWriteAt ??= now;
    if (now - this.#firstWriteAt < changeAfterMs) return limit;
    if (!this.#limitChanged) {
      this.#limitChanged = true;
      this.#bucketLog.clear();
    }
    return changedLimit;
  }

  #route(method: string, path: string): Route {
    const parts = path.split('/').filter(Boolean);
    const notFound = { handler: (): [number, unknown] => [404, { message: '404: Not Found', code: 0 }] };

    if (method === 'GET' && path === '/gateway/bot') {
      return {
        handler: () => [
          200,
          {
            url: this.gatewayUrl,
            shards: this.shardCount,
            session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: this.maxConcurrency },
          },
        ],
      };
    }
    if (method === 'GET' && path === '/users/@me') return { handler: () => [200, this.botUser] };
    if (method === 'GET' && path === '/applications/@me') {
      return { handler: () => [200, { id: this.applicationId, name: 'Sogni', flags: this.applicationFlags, bot: this.botUser }] };
    }
    if (method === 'GET' && path === '/users/@me/guilds') {
      // Partial guilds with the bot's own permissions there (roles only, as Discord computes them here), paged by id.
      return {
        handler: (_body, query) => {
          const after = query.get('after') ?? '0';
          const limit = Math.min(200, Number(query.get('limit') ?? 200));
          const guilds = this.#guildIds()
            .filter((id) => BigInt(id) > BigInt(after))
            .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
            .slice(0, limit)
            .map((id) => ({ id, name: 'Test Server', icon: null, owner: false, permissions: this.#botPermissions.get(id) ?? BOT_GUILD_PERMISSIONS, features: [] }));
          return [200, guilds];
        },
      };
    }
    if (parts[0] === 'applications' && method === 'GET' && parts.at(-1) === 'commands') {
      if (parts[1] !== this.applicationId) return { handler: () => [403, { message: 'Missing Access', code: 50001 }] };
      return { handler: () => [200, this.#commands.get(parts[2] === 'guilds' ? (parts[3] as string) : 'global') ?? []] };
    }
    if (parts[0] === 'applications' && method === 'PUT' && parts.at(-1) === 'commands') {
      const scope = parts[2] === 'guilds' ? (parts[3] as string) : 'global';
      return {
        handler: (body) => {
          const list = (body as Record<string, unknown>[]).map((c) => ({ ...c, id: snowflake(), application_id: this.applicationId, version: snowflake() }));
          this.#commands.set(scope, list);
          return [200, list];
        },
      };
    }
    if (parts[0] === 'channels' && parts[1]) {
      const channelId = parts[1];
      if (parts[2] === 'typing' && method === 'POST') return { handler: () => [204, undefined] };
      const threadRoute = this.#threadRoute(method, parts);
      if (threadRoute) return threadRoute;
      if (parts[2] === 'messages' && parts.length === 3 && method === 'POST') {
        return {
          channelId,
          handler: (body, _query, uploads) => {
            const payload = body as MessageBody;
            if (isTooLong(payload.content)) return contentTooLong(['content']);
            const ref = payload.message_reference ? this.messages.get(payload.message_reference.message_id) : undefined;
            const message = this.#newMessage(channelId, this.botUser, payload.content ?? '', {
              guild_id: this.guildOf(channelId),
              attachments: this.#attachments(channelId, payload.attachments, uploads) ?? [],
              embeds: payload.embeds ?? [],
              components: payload.components ?? [],
              ...(ref
                ? {
                    type: 19,
                    message_reference: { message_id: ref.id, channel_id: channelId, guild_id: this.guildId },
                    referenced_message: ref,
                  }
                : {}),
            });
            this.dispatch('MESSAGE_CREATE', wire(message));
            return [200, wire(message)];
          },
        };
      }
      if (parts[2] === 'messages' && parts[3]) {
        const route = this.#messageRoute(method, channelId, parts[3], 'channel');
        if (route) return route;
      }
    }
    if (parts[0] === 'interactions' && parts[3] === 'callback' && method === 'POST') {
      const record = this.interactions.get(parts[2] ?? '');
      return {
        handler: (body, _query, uploads) => {
          // Discord forgets an interaction that is not answered within 3 s.
          if (!record || Date.now() - record.createdAt > this.interactionLimits.callbackMs) {
            return [404, { message: 'Unknown interaction', code: 10062 }];
          }
          const payload = body as { type: number; data?: MessageBody };
          if (isTooLong(payload.data?.content)) return contentTooLong(['data', 'content']);
          if (record.callbacks.length > 0) return [400, { message: 'Interaction has already been acknowledged.', code: 40060 }];
          record.callbacks.push(payload);
          record.ephemeral = ((payload.data?.flags ?? 0) & EPHEMERAL) !== 0;
          if (payload.type === 4 || payload.type === 5) {
            const original = this.#newMessage(record.channelId, this.botUser, payload.data?.content ?? '', {
              attachments: this.#attachments(record.channelId, payload.data?.attachments, uploads) ?? [],
              flags: payload.data?.flags ?? 0,
              webhook_id: this.applicationId,
              application_id: this.applicationId,
            });
            record.originalId = original.id;
          }
          // A deferred update (6) or an update (7) answers on the message the button is on.
          if ((payload.type === 6 || payload.type === 7) && record.componentMessageId) {
            record.originalId = record.componentMessageId;
            const target = this.messages.get(record.componentMessageId);
            if (payload.type === 7 && target && payload.data) this.#applyEdit(target, payload.data, uploads);
          }
          return [204, undefined];
        },
      };
    }
    if (parts[0] === 'webhooks' && parts[2]) {
      const record = this.interactions.get(parts[2]);
      if (!record) return { handler: () => [404, { message: 'Unknown Webhook', code: 10015 }] };
      // An interaction token works for 15 minutes, then every webhook call with it is refused.
      if (Date.now() - record.createdAt > this.interactionLimits.tokenMs) {
        return { handler: () => [401, { message: 'Invalid Webhook Token', code: 50027 }] };
      }
      const channelId = record.channelId;
      if (method === 'POST' && parts.length === 3) {
        return {
          channelId,
          handler: (body, _query, uploads) => {
            const payload = body as MessageBody;
            if (isTooLong(payload.content)) return contentTooLong(['content']);
            const message = this.#newMessage(channelId, this.botUser, payload.content ?? '', {
              attachments: this.#attachments(channelId, payload.attachments, uploads) ?? [],
              embeds: payload.embeds ?? [],
              components: payload.components ?? [],
              flags: payload.flags ?? 0,
              webhook_id: this.applicationId,
              application_id: this.applicationId,
            });
            return [200, wire(message)];
          },
        };
      }
      if (parts[3] === 'messages' && parts[4]) {
        const original = parts[4] === '@original';
        // After a button's (deferred) update, @original is the message the button is on, whoever sent it.
        const via = original && record.originalId !== undefined && record.originalId === record.componentMessageId ? 'component' : 'webhook';
        const route = this.#messageRoute(method, channelId, original ? record.originalId : parts[4], via);
        if (route) return route;
      }
    }
    return notFound;
  }

  /**
   * Threads as Discord has them: POST /channels/:c/messages/:m/threads opens one on a message
   * (403 Missing Permissions when not allowed), PATCH /channels/:thread changes `archived`, and
   * an archived thread refuses new messages (50083) until it is unarchived.
   */
  #threadRoute(method: string, parts: string[]): Route | undefined {
    const [, channelId, sub, messageId, action] = parts as [string, string, string?, string?, string?];
    if (method === 'POST' && sub === 'messages' && messageId && action === 'threads') {
      return {
        channelId,
        handler: (body) => {
          if (!this.threadsAllowed) return [403, { message: 'Missing Permissions', code: 50013 }];
          const name = String((body as { name?: unknown }).name ?? '');
          if (name.length === 0 || name.length > 100) return [400, { message: 'Invalid Form Body', code: 50035, errors: { name: { _errors: [{ code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' }] } } }];
          const thread: FakeThread = {
            id: messageId,
            type: 11,
            guild_id: this.guildOf(channelId),
            parent_id: channelId,
            owner_id: this.botUser.id,
            name,
            rate_limit_per_user: 0,
            flags: 0,
            member_count: 1,
            message_count: 0,
            thread_metadata: { archived: false, locked: false, auto_archive_duration: Number((body as { auto_archive_duration?: number }).auto_archive_duration ?? 1440), archive_timestamp: new Date().toISOString() },
          };
          this.threads.set(thread.id, thread);
          this.dispatch('THREAD_CREATE', { ...thread, newly_created: true });
          return [201, thread];
        },
      };
    }
    const thread = this.threads.get(channelId);
    if (!thread) return undefined;
    if (method === 'PATCH' && parts.length === 2) {
      return {
        handler: (body) => {
          const archived = (body as { archived?: unknown }).archived;
          if (typeof archived === 'boolean') thread.thread_metadata.archived = archived;
          this.dispatch('THREAD_UPDATE', thread);
          return [200, thread];
        },
      };
    }
    if (method === 'POST' && sub === 'messages' && parts.length === 3 && thread.thread_metadata.archived) {
      return { channelId, handler: () => [400, { message: 'Thread is archived', code: 50083 }] };
    }
    return undefined;
  }

  /** An admin creates a role in the default guild (dispatched as GUILD_ROLE_CREATE); returns its id. */
  addRole(name = 'role'): string {
    const id = snowflake();
    this.#roleNames.set(id, name);
    this.dispatch('GUILD_ROLE_CREATE', { guild_id: this.guildId, role: this.#role(id) });
    return id;
  }

  readonly #roleNames = new Map<string, string>();

  /** A role as Discord sends it (in GUILD_ROLE_CREATE, and resolved in role options). */
  #role(id: string) {
    return { id, name: this.#roleNames.get(id) ?? 'role', permissions: '0', position: 1, color: 0, hoist: false, managed: false, mentionable: true, flags: 0 };
  }

  /** Discord archives a thread after its inactivity period (or a moderator does). */
  archiveThread(id: string): void {
    const thread = this.threads.get(id);
    if (!thread) throw new Error(`no thread ${id}`);
    thread.thread_metadata.archived = true;
    this.dispatch('THREAD_UPDATE', thread);
  }

  /** The CDN: no auth, the declared length, and optionally slow. */
  async #serveFile(id: string, res: ServerResponse): Promise<void> {
    const file = this.#files.get(id);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    this.downloads.push(id);
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.bytes.length) });
    if (file.delayMs > 0) {
      res.write(file.bytes.subarray(0, 16));
      await new Promise((r) => setTimeout(r, file.delayMs));
      if (!res.destroyed) res.end(file.bytes.subarray(16));
      return;
    }
    res.end(file.bytes);
  }

  /**
   * Editing, reading or deleting one message, by channel route or interaction webhook. As on
   * Discord, a webhook reaches only the messages the application's webhook sent, the channel
   * route never reaches ephemeral messages, and only the bot's own messages can be edited.
   */
  #messageRoute(method: string, channelId: string, id: string | undefined, via: 'channel' | 'webhook' | 'component'): Route | undefined {
    const find = () => {
      const message = id ? this.messages.get(id) : undefined;
      if (!message || message.deleted) return undefined;
      if (via === 'webhook' && message.webhook_id !== this.applicationId) return undefined;
      if (via === 'channel' && (message.flags & EPHEMERAL) !== 0) return undefined;
      return message;
    };
    const unknownMessage: [number, unknown] = [404, { message: 'Unknown Message', code: 10008 }];
    if (method === 'PATCH') {
      return {
        channelId,
        handler: (body, _query, uploads) => {
          const message = find();
          if (!message) return unknownMessage;
          if (message.author.id !== this.botUser.id) return [403, { message: 'Cannot edit a message authored by another user', code: 50005 }];
          const payload = body as MessageBody;
          if (isTooLong(payload.content)) return contentTooLong(['content']);
          this.#applyEdit(message, payload, uploads);
          return [200, wire(message)];
        },
      };
    }
    if (method === 'GET') {
      return {
        handler: () => {
          const message = find();
          return message ? [200, wire(message)] : unknownMessage;
        },
      };
    }
    if (method === 'DELETE') {
      // The bot deletes its own messages only (others' would need Manage Messages, which the fake does not grant).
      return {
        handler: () => {
          const message = find();
          if (!message) return unknownMessage;
          if (message.author.id !== this.botUser.id) return [403, { message: 'Missing Permissions', code: 50013 }];
          message.deleted = true;
          this.dispatch('MESSAGE_DELETE', { id: message.id, channel_id: message.channel_id, ...(message.guild_id ? { guild_id: message.guild_id } : {}) });
          return [204, undefined];
        },
      };
    }
    return undefined;
  }

  #applyEdit(message: FakeMessage, body: MessageBody, uploads: Upload[]): void {
    if (body.content !== undefined) {
      message.content = body.content ?? '';
      message.history.push(message.content);
      message.historyAt.push(Date.now());
    }
    const attachments = this.#attachments(message.channel_id, body.attachments, uploads, message.attachments);
    if (attachments) message.attachments = attachments;
    if (body.embeds !== undefined) message.embeds = body.embeds;
    if (body.components !== undefined) message.components = body.components;
    message.edited_timestamp = new Date().toISOString();
  }

  /**
   * The attachments a create or edit leaves on a message, as Discord decides them: `listed`
   * names the existing attachments to keep (by id) and the new uploads (id = the `files[n]`
   * index); with no list, uploads are added to what was there. Uploads go to the fake CDN.
   * Undefined means "unchanged".
   */
  #attachments(
    channelId: string,
    listed: MessageBody['attachments'],
    uploads: Upload[],
    existing: FakeAttachment[] = [],
  ): FakeAttachment[] | undefined {
    if (listed === undefined && uploads.length === 0) return undefined;
    const store = (upload: Upload): FakeAttachment => {
      const id = snowflake();
      this.#files.set(id, { bytes: upload.bytes, contentType: upload.contentType, delayMs: 0 });
      const url = `${this.baseUrl}/attachments/${channelId}/${id}/${encodeURIComponent(upload.filename)}`;
      return { id, filename: upload.filename, size: upload.bytes.length, url, proxy_url: url, content_type: upload.contentType };
    };
    if (listed === undefined) return [...existing, ...uploads.map(store)];
    return listed.flatMap((entry) => {
      const upload = uploads.find((u) => String(u.index) === String(entry.id));
      if (upload) return [store(upload.filename ? upload : { ...upload, filename: entry.filename ?? 'file' })];
      const kept = existing.find((a) => a.id === String(entry.id));
      return kept ? [kept] : [];
    });
  }
}

/** The message as Discord sends it (without the fake's bookkeeping). */
function wire(message: FakeMessage): Omit<FakeMessage, 'history' | 'historyAt' | 'deleted'> {
  const { history: _history, historyAt: _historyAt, deleted: _deleted, referenced_message, ...rest } = message;
  return { ...rest, ...(referenced_message ? { referenced_message: wire(referenced_message) as FakeMessage } : {}) };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * discord.js sends `payload_json` and the files (`files[n]`) in a multipart body when files
 * are attached. The file bytes are kept as sent, so tests can read back what was uploaded.
 */
function parseMultipart(raw: Buffer, contentType: string): { payload: unknown; uploads: Upload[] } {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const delimiter = Buffer.from(`--${boundary?.[1] ?? boundary?.[2] ?? ''}`);
  let payload: unknown = {};
  const uploads: Upload[] = [];
  let at = raw.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    const next = raw.indexOf(delimiter, start);
    if (next < 0) break;
    // A part is CRLF, headers, CRLF CRLF, the bytes, CRLF, then the next delimiter.
    const part = raw.subarray(start + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const bytes = Buffer.from(part.subarray(headerEnd + 4));
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    if (name === 'payload_json') payload = JSON.parse(bytes.toString('utf8'));
    const file = /^files\[(\d+)\]$/.exec(name ?? '');
    if (file) {
      uploads.push({
        index: Number(file[1]),
        filename: /filename="([^"]*)"/.exec(headers)?.[1] ?? '',
        contentType: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? 'application/octet-stream',
        bytes,
      });
    }
    at = next;
  }
  return { payload, uploads };
}
