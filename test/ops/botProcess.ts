import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitFor } from '../fakes/waitFor.js';

/** `npm start`'s command (or another entry) as a child process, with its JSON log lines parsed. */
export interface BotProcess {
  child: ChildProcess;
  /** Every JSON line written so far (shard processes write to the same stdout). */
  logs: Record<string, unknown>[];
  /** Everything written, JSON or not. */
  output(): string;
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number, what?: string): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
  /** Kills the process (and, with a signal, its shards through it) if it is still running. */
  kill(signal?: NodeJS.Signals): void;
}

export const ROOT = join(import.meta.dirname, '../..');

export function startBotProcess(env: Record<string, string>, options: { cwd?: string; args?: string[] } = {}): BotProcess {
  const child = spawn(process.execPath, options.args ?? ['--import', 'tsx', 'src/main.ts'], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let text = '';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    text += `${line}\n`;
    if (!line.startsWith('{')) return;
    try {
      logs.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut by another process writing at the same moment: kept in the text only.
    }
  });
  child.stderr!.on('data', (d: Buffer) => (text += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    logs,
    output: () => text,
    waitForLog: (predicate, timeoutMs = 30_000, what = 'log line') =>
      waitFor(
        () => {
          const found = logs.find(predicate);
          if (!found && child.exitCode !== null) throw new Error(`the process exited before ${what}:\n${text}`);
          return found;
        },
        timeoutMs,
        what,
      ),
    exited,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** GET on the bot's health port: status and parsed body (undefined when nothing answers). */
export async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** Polls an async predicate until it returns something truthy. */
export async function waitForAsync<T>(predicate: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
