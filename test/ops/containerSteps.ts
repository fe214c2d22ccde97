import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeDiscord } from '../fakes/fakeDiscord.js';
import { FakeSogni } from '../fakes/fakeSogni.js';
import { freePort } from '../store/servers.js';
import { waitFor } from '../fakes/waitFor.js';

/**
 * CI has no Docker daemon, so it runs what the Dockerfile's steps do, read from the Dockerfile
 * itself so the two cannot drift: the build stage's production install in a temp dir, the
 * runtime stage's files, ENV and CMD (NODE_ENV=production) against the fakes until its
 * HEALTHCHECK command passes and a mention is answered, then SIGTERM and exit 0.
 * Run: node --import tsx test/ops/containerSteps.ts
 */

const ROOT = join(import.meta.dirname, '../..');

interface Stage {
  instructions: { keyword: string; args: string }[];
}

export function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (keyword.toUpperCase() === 'FROM') stages.push({ instructions: [] });
    stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
  }
  return stages;
}

function jsonArray(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) throw new Error(`not an exec-form array: ${text}`);
  return parsed as string[];
}

function step(what: string): void {
  console.log(`[container steps] ${what}`);
}

async function main(): Promise<void> {
  const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const [build, runtime] = [stages[0], stages.at(-1)];
  if (!build || !runtime || stages.length < 2) throw new Error('expected a multi-stage Dockerfile');
  const install = build.instructions.find((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
  if (!install || !/--omit=dev/.test(install.args)) throw new Error('the build stage must install production dependencies only (npm ci --omit=dev)');
  if (!runtime.instructions.some((i) => i.keyword === 'USER' && i.args !== 'root')) throw new Error('the runtime stage must not run as root');
  const env: Record<string, string> = {};
  for (const i of runtime.instructions.filter((x) => x.keyword === 'ENV')) {
    for (const pair of i.args.match(/\S+=("[^"]*"|\S+)/g) ?? []) {
      const at = pair.indexOf('=');
      env[pair.slice(0, at)] = pair.slice(at + 1).replace(/^"|"$/g, '');
    }
  }
  if (env['NODE_ENV'] !== 'production' || !env['HEALTH_PORT']) throw new Error('the image must set NODE_ENV=production and HEALTH_PORT');
  const cmd = jsonArray(runtime.instructions.filter((i) => i.keyword === 'CMD').at(-1)?.args ?? '');
  const healthArgs = runtime.instructions.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
  const healthcheck = jsonArray(healthArgs.slice(healthArgs.indexOf('CMD ') + 4));

  const app = mkdtempSync(join(tmpdir(), 'container-steps-'));
  const discord = await new FakeDiscord().start();
  const sogni = await new FakeSogni().start();
  try {
    step(`production install in ${app}: ${install.args}`);
    for (const file of ['package.json', 'package-lock.json']) cpSync(join(ROOT, file), join(app, file));
    // The cache the CI's own `npm ci` filled; the same lockfile, so the same packages.
    execFileSync('sh', ['-c', `${install.args} --prefer-offline`], { cwd: app, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
    for (const i of runtime.instructions.filter((x) => x.keyword === 'COPY' && !x.args.startsWith('--from'))) {
      const parts = i.args.split(/\s+/);
      for (const source of parts.slice(0, -1)) cpSync(join(ROOT, source), join(app, source), { recursive: true });
    }
    const devOnly = spawnSync(process.execPath, ['-e', "import('vitest').then(()=>process.exit(1),()=>process.exit(0))"], { cwd: app });
    if (devOnly.status !== 0) throw new Error('a dev dependency (vitest) was installed in the production install');

    // A free port rather than the image's, so the step can run beside anything on this machine.
    const port = String(await freePort());
    const runEnv = {
      PATH: process.env['PATH'] ?? '',
      HOME: app,
      ...env,
      HEALTH_PORT: port,
      DISCORD_TOKEN: discord.token,
      SOGNI_API_KEY: sogni.apiKey,
      SOGNI_BASE_URL: sogni.baseUrl,
      DISCORD_API_URL: discord.apiUrl,
    };
    step(`start: ${cmd.join(' ')} (NODE_ENV=${env['NODE_ENV']}, HEALTH_PORT=${port})`);
    const [command = 'node', ...args] = cmd;
    const bot = spawn(command, args, { cwd: app, env: runEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    bot.stdout.on('data', (d: Buffer) => (output += String(d)));
    bot.stderr.on('data', (d: Buffer) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => bot.on('exit', (code) => resolve(code)));
    try {
      step(`health check: ${healthcheck.join(' ')}`);
      const [hcCommand = 'node', ...hcArgs] = healthcheck;
      await waitFor(
        () => {
          if (bot.exitCode !== null) throw new Error(`the bot exited (${bot.exitCode}):\n${output}`);
          return spawnSync(hcCommand, hcArgs, { cwd: app, env: runEnv, timeout: 5000 }).status === 0;
        },
        60_000,
        'the HEALTHCHECK command to pass',
      );
      if (!output.split('\n').some((l) => l.startsWith('{"level":'))) throw new Error(`logs are not JSON lines:\n${output.slice(0, 500)}`);
      step('a mention is answered');
      discord.postUserMessage({ content: 'hello from CI' });
      await discord.waitFor(() => discord.botMessages().some((m) => m.content === 'Hello from the fake Sogni.'), 20_000);
      step('SIGTERM');
      bot.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`exit code ${code} after SIGTERM:\n${output}`);
    } finally {
      if (bot.exitCode === null) bot.kill('SIGKILL');
    }
    step('ok: install, start, health check and shutdown all work outside Docker');
  } finally {
    await discord.stop();
    await sogni.stop();
    rmSync(app, { recursive: true, force: true });
  }
}

await main().catch((err: unknown) => {
  console.error(`[container steps] FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
