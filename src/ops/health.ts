import { Status, type Client } from 'discord.js';
import type { Store } from '../store/openStore.js';

/** Longest the store may take to answer a health check's ping. */
export const STORE_PING_MS = 2000;

/** One process's view of itself (a shard process, or the whole bot without sharding). */
export interface ProcessHealth {
  ok: boolean;
  /** Why not ok, one short line each (never secrets: error codes, not messages). */
  reasons: string[];
  /** Each gateway shard this process runs. */
  gateways: { shard: number; status: string }[];
  store: 'ok' | string;
  guilds: number;
  stopping: boolean;
}

/** What /healthz answers: every shard connected and the store answering, or why not. */
export interface HealthReport {
  status: 'ok' | 'unhealthy' | 'stopping';
  reasons: string[];
  shards: { shard: number; status: string }[];
  store: string;
  guilds: number;
}

/** The gateway and the store, as this process sees them now. */
export async function processHealth(client: Client, store: Store, stopping: boolean): Promise<ProcessHealth> {
  const reasons: string[] = [];
  const gateways = [...client.ws.shards.values()].map((shard) => ({ shard: shard.id, status: statusName(shard.status) }));
  if (gateways.length === 0) reasons.push('gateway: not connected yet');
  for (const gateway of gateways) if (gateway.status !== 'ready') reasons.push(`gateway shard ${gateway.shard}: ${gateway.status}`);
  let storeState = 'ok';
  try {
    await store.ping(STORE_PING_MS);
  } catch (err) {
    storeState = `not answering (${errorCode(err)})`;
    reasons.push(`store: ${storeState}`);
  }
  if (stopping) reasons.push('shutting down');
  return { ok: reasons.length === 0, reasons, gateways, store: storeState, guilds: client.guilds.cache.size, stopping };
}

/** Combines the processes' views (one without sharding) into the /healthz answer. */
export function combineHealth(parts: readonly ProcessHealth[], missing: readonly string[] = []): HealthReport {
  const reasons = [...missing, ...parts.flatMap((p) => p.reasons)];
  const stores = [...new Set(parts.map((p) => p.store))];
  return {
    status: parts.some((p) => p.stopping) ? 'stopping' : reasons.length === 0 && parts.length > 0 ? 'ok' : 'unhealthy',
    reasons,
    shards: parts.flatMap((p) => p.gateways).sort((a, b) => a.shard - b.shard),
    store: stores.length === 1 ? (stores[0] as string) : stores.find((s) => s !== 'ok') ?? 'unknown',
    guilds: parts.reduce((n, p) => n + p.guilds, 0),
  };
}

function statusName(status: Status): string {
  switch (status) {
    case Status.Ready:
      return 'ready';
    case Status.Connecting:
      return 'connecting';
    case Status.Reconnecting:
      return 'reconnecting';
    case Status.Idle:
      return 'idle';
    case Status.Nearly:
      return 'nearly ready';
    case Status.Disconnected:
      return 'disconnected';
    case Status.WaitingForGuilds:
      return 'waiting for guilds';
    case Status.Identifying:
      return 'identifying';
    case Status.Resuming:
      return 'resuming';
    default:
      return `status ${String(status)}`;
  }
}

/** An error's code or class name: enough to act on, nothing that could carry a secret. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code;
  return err instanceof Error ? err.name : 'unknown error';
}
