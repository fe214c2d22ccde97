import type { Shard } from 'discord.js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { ProcessHealth } from './health.js';

/**
 * The manager's questions to its shard processes, over the IPC channel discord.js opened:
 * health and metrics (which need every shard), and "shut down gracefully". Tagged so they
 * never mix with discord.js's own messages on that channel.
 */
const TAG = 'sogniOps';

export type ShardMetrics = MetricObjectWithValues<MetricValue<string>>[];

interface Questions {
  health: ProcessHealth;
  metrics: ShardMetrics;
}

type Request = { [TAG]: 'request'; id: number; what: keyof Questions } | { [TAG]: 'shutdown' };
type Reply = { [TAG]: 'reply'; id: number; result?: unknown; error?: string };

export interface ShardServices {
  health(): Promise<ProcessHealth>;
  metrics(): Promise<ShardMetrics>;
  /** Starts a graceful shutdown (the same as a first SIGTERM); repeated requests are ignored by the caller. */
  shutdown(): void;
}

function isOps(message: unknown): message is Request | Reply {
  return typeof message === 'object' && message !== null && TAG in message;
}

/** In a shard process: answers the manager. Returns a function that stops answering. */
export function serveManager(services: ShardServices): () => void {
  const onMessage = (message: unknown) => {
    if (!isOps(message)) return;
    if (message[TAG] === 'shutdown') {
      services.shutdown();
      return;
    }
    if (message[TAG] !== 'request') return;
    const { id, what } = message;
    const work = what === 'health' ? services.health() : services.metrics();
    work.then(
      (result) => send({ [TAG]: 'reply', id, result }),
      (err: unknown) => send({ [TAG]: 'reply', id, error: err instanceof Error ? err.name : 'error' }),
    );
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}

function send(reply: Reply): void {
  // The manager may be gone (then the shard shuts down on 'disconnect'): nothing to answer.
  if (process.connected) process.send?.(reply, undefined, {}, () => {});
}

let nextId = 0;

/** In the manager: asks one shard process, rejecting after `timeoutMs` (a shard that is down or stuck). */
export function askShard<K extends keyof Questions>(shard: Shard, what: K, timeoutMs: number): Promise<Questions[K]> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      shard.off('message', onMessage);
    };
    const onMessage = (message: unknown) => {
      if (!isOps(message) || message[TAG] !== 'reply' || message.id !== id) return;
      done();
      if (message.error !== undefined) reject(new Error(`shard ${shard.id}: ${message.error}`));
      else resolve(message.result as Questions[K]);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`shard ${shard.id} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    shard.on('message', onMessage);
    shard.send({ [TAG]: 'request', id, what } satisfies Request).catch((err: unknown) => {
      done();
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}

/** In the manager: tells a shard process to shut down gracefully. */
export async function tellShardToStop(shard: Shard): Promise<void> {
  await shard.send({ [TAG]: 'shutdown' } satisfies Request);
}
