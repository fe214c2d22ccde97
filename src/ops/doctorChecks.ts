import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DiscordAPIError, REST, Routes, type APIApplication, type APIApplicationCommand, type APIUser, type RESTAPIPartialCurrentUserGuild } from 'discord.js';
import { definitionsFor } from '../../commands/index.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { openStore, storeKind } from '../store/openStore.js';
import { MESSAGE_CONTENT_FIX, MESSAGE_CONTENT_PROBLEM, messageContentEnabled, missingPermissions, permissionsFix, inviteUrl } from './checks.js';
import { errorCode } from './health.js';
import { shardPlanFrom } from './shardPlan.js';

/** One line of the report. */
export interface CheckResult {
  ok: boolean;
  name: string;
  detail: string;
  fix?: string;
}

const TIMEOUT_MS = 10_000;
/** Servers listed one by one when their permissions fall short; the rest are counted. */
const MAX_GUILD_LINES = 20;

/** Runs every check it can, in order, and returns one result per line. */
export async function runDoctor(env: NodeJS.ProcessEnv): Promise<CheckResult[]> {
  let config: Config;
  try {
    config = loadConfig(env);
    shardPlanFrom(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((problem) => ({ ok: false, name: 'config', detail: problem, fix: 'set it in .env or the environment (see .env.example)' }));
  }
  const results: CheckResult[] = [{ ok: true, name: 'config', detail: 'every variable is valid' }];
  results.push(await checkStore(config));
  results.push(...(await checkSogni(config)));
  results.push(...(await checkDiscord(config)));
  return results;
}

/** `✓ name: detail` or `✗ name: detail — fix: …`. */
export function formatResult(result: CheckResult): string {
  return `${result.ok ? '✓' : '✗'} ${result.name}: ${result.detail}${result.fix ? ` — fix: ${result.fix}` : ''}`;
}

async function checkStore(config: Config): Promise<CheckResult> {
  const kind = storeKind(config.STORE_URL);
  if (kind === 'sqlite') {
    // Opening the file would take it from a running bot (one writer per file): check its folder instead.
    const path = config.STORE_URL.replace(/^sqlite:\/\//, '');
    if (path === ':memory:') return { ok: true, name: 'store', detail: 'SQLite in memory (nothing is kept across restarts)' };
    try {
      mkdirSync(dirname(path), { recursive: true });
      accessSync(dirname(path), constants.W_OK);
      return { ok: true, name: 'store', detail: `SQLite file ${path} (its folder is writable)` };
    } catch (err) {
      return { ok: false, name: 'store', detail: `cannot write to the folder of ${path} (${errorCode(err)})`, fix: 'point STORE_URL at a writable path, or fix the folder’s owner' };
    }
  }
  const store = openStore(config.STORE_URL);
  try {
    await store.ping(TIMEOUT_MS);
    return { ok: true, name: 'store', detail: `${kind === 'redis' ? 'Redis' : 'PostgreSQL'} answers` };
  } catch (err) {
    return {
      ok: false,
      name: 'store',
      detail: `${kind === 'redis' ? 'Redis' : 'PostgreSQL'} at STORE_URL does not answer (${errorCode(err)})`,
      fix: 'check STORE_URL (host, port, user, password, database) and that the server is running and reachable from here',
    };
  } finally {
    await store.close();
  }
}

async function checkSogni(config: Config): Promise<CheckResult[]> {
  const name = 'Sogni API key';
  let response: Response;
  try {
    response = await fetch(`${config.SOGNI_BASE_URL.replace(/\/$/, '')}/models`, {
      headers: { authorization: `Bearer ${config.SOGNI_API_KEY}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    return [{ ok: false, name, detail: `cannot reach Sogni at ${config.SOGNI_BASE_URL} (${errorCode(err)})`, fix: 'check SOGNI_BASE_URL and this machine’s network' }];
  }
  const body = (await response.json().catch(() => undefined)) as { data?: { id?: unknown }[]; error?: { code?: unknown; message?: unknown } } | undefined;
  const code = typeof body?.error?.code === 'string' ? ` ${body.error.code}` : '';
  if (response.status === 401 || response.status === 403) {
    return [{ ok: false, name, detail: `Sogni refused SOGNI_API_KEY (${response.status}${code})`, fix: 'create a new API key in your Sogni account and set SOGNI_API_KEY to it' }];
  }
  if (response.status === 402) {
    return [{ ok: false, name, detail: `Sogni says the account cannot pay (402${code})`, fix: 'add Spark to the Sogni account, or renew its subscription' }];
  }
  if (response.status === 429) {
    return [{ ok: false, name, detail: 'Sogni is rate-limiting this key (429)', fix: 'wait a minute and run the doctor again; if the bot is busy, lower SOGNI_RATE_LIMIT' }];
  }
  if (!response.ok) {
    return [{ ok: false, name, detail: `Sogni answered ${response.status}${code} to GET /models`, fix: 'try again later; if it persists, check SOGNI_BASE_URL' }];
  }
  const models = (body?.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
  const results: CheckResult[] = [{ ok: true, name, detail: `accepted; ${models.length} models listed` }];
  results.push(
    models.includes(config.SOGNI_MODEL)
      ? { ok: true, name: 'default model', detail: `${config.SOGNI_MODEL} is available` }
      : { ok: false, name: 'default model', detail: `SOGNI_MODEL ${config.SOGNI_MODEL} is not in Sogni's model list`, fix: `set SOGNI_MODEL to one of: ${models.slice(0, 8).join(', ')}` },
  );
  return results;
}

async function checkDiscord(config: Config): Promise<CheckResult[]> {
  const rest = new REST({ ...(config.DISCORD_API_URL ? { api: config.DISCORD_API_URL } : {}), timeout: TIMEOUT_MS, retries: 1 }).setToken(config.DISCORD_TOKEN);
  let user: APIUser;
  let application: APIApplication;
  try {
    user = (await rest.get(Routes.user())) as APIUser;
    application = (await rest.get(Routes.currentApplication())) as APIApplication;
  } catch (err) {
    if (err instanceof DiscordAPIError && err.status === 401) {
      return [{ ok: false, name: 'Discord token', detail: 'Discord refused DISCORD_TOKEN (401)', fix: 'Developer Portal → your application → Bot → Reset Token, and set DISCORD_TOKEN to the new token' }];
    }
    return [{ ok: false, name: 'Discord token', detail: `cannot reach Discord (${errorCode(err)})`, fix: 'check this machine’s network (and DISCORD_API_URL if you use a proxy)' }];
  }
  const results: CheckResult[] = [
    { ok: true, name: 'Discord token', detail: `accepted; the bot is ${user.username} (${user.id})` },
    { ok: true, name: 'Discord application', detail: `${application.name} (${application.id})` },
    messageContentEnabled(application.flags ?? 0)
      ? { ok: true, name: 'Message Content intent', detail: 'enabled' }
      : { ok: false, name: 'Message Content intent', detail: MESSAGE_CONTENT_PROBLEM, fix: MESSAGE_CONTENT_FIX },
  ];
  results.push(...(await checkGuilds(rest, application.id)));
  results.push(await checkCommands(rest, config, application.id));
  return results;
}

async function checkGuilds(rest: REST, applicationId: string): Promise<CheckResult[]> {
  const guilds: RESTAPIPartialCurrentUserGuild[] = [];
  try {
    for (let after = '0'; ; ) {
      const page = (await rest.get(Routes.userGuilds(), { query: new URLSearchParams({ limit: '200', after }) })) as RESTAPIPartialCurrentUserGuild[];
      guilds.push(...page);
      if (page.length < 200) break;
      after = (page.at(-1) as RESTAPIPartialCurrentUserGuild).id;
    }
  } catch (err) {
    return [{ ok: false, name: 'servers', detail: `cannot list the bot's servers (${errorCode(err)})`, fix: 'run the doctor again; if it persists, check the token' }];
  }
  if (guilds.length === 0) {
    return [{ ok: false, name: 'servers', detail: 'the bot is in no server yet', fix: `invite it: ${inviteUrl(applicationId)}` }];
  }
  const short = guilds.flatMap((g) => {
    const missing = missingPermissions(BigInt(g.permissions ?? '0'));
    return missing.length > 0 ? [{ guild: g, missing }] : [];
  });
  const results: CheckResult[] = short.slice(0, MAX_GUILD_LINES).map(({ guild, missing }) => ({
    ok: false,
    name: `server ${guild.name} (${guild.id})`,
    detail: `the bot lacks ${missing.join(', ')}`,
    fix: permissionsFix(applicationId),
  }));
  if (short.length > MAX_GUILD_LINES) {
    results.push({ ok: false, name: 'servers', detail: `${short.length - MAX_GUILD_LINES} more servers lack permissions`, fix: permissionsFix(applicationId) });
  }
  const fine = guilds.length - short.length;
  if (fine > 0) results.unshift({ ok: true, name: 'servers', detail: `${fine} of ${guilds.length} servers give the bot every permission it uses` });
  return results;
}

async function checkCommands(rest: REST, config: Config, applicationId: string): Promise<CheckResult> {
  const where = config.DEV_GUILD_ID ? `on server ${config.DEV_GUILD_ID} (DEV_GUILD_ID)` : 'globally';
  const route = config.DEV_GUILD_ID ? Routes.applicationGuildCommands(applicationId, config.DEV_GUILD_ID) : Routes.applicationCommands(applicationId);
  let registered: APIApplicationCommand[];
  try {
    registered = (await rest.get(route)) as APIApplicationCommand[];
  } catch (err) {
    return { ok: false, name: 'slash commands', detail: `cannot list the registered commands (${errorCode(err)})`, fix: 'run npm run deploy-commands' };
  }
  const names = new Set(registered.map((c) => c.name));
  const missing = definitionsFor(config)
    .map((d) => d.name)
    .filter((n) => !names.has(n));
  if (missing.length > 0) {
    return { ok: false, name: 'slash commands', detail: `not registered ${where}: ${missing.map((n) => `/${n}`).join(', ')}`, fix: 'run npm run deploy-commands (the bot also registers them when it starts)' };
  }
  return { ok: true, name: 'slash commands', detail: `all ${names.size} registered ${where}` };
}
