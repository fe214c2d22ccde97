import type { Logger } from '../logger.js';

/**
 * SIGTERM and SIGINT: the first runs `stop` (a graceful shutdown) and exits 0 when it
 * succeeds; a second signal exits at once. Returns the function that starts the same
 * shutdown without a signal (the manager's request, or its IPC channel closing).
 */
export function onShutdownSignals(
  logger: Logger,
  stop: (reason: string) => Promise<void>,
  /** Runs before the immediate exit on a second signal (the manager kills its shard processes). */
  force: () => void = () => {},
): (reason: string) => void {
  let stopping = false;
  const begin = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    stop(reason).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!stopping) {
        begin(signal);
        return;
      }
      // Someone asked twice: they want it gone now, not in SHUTDOWN_GRACE_SECONDS.
      logger.warn({ signal }, 'second signal: exiting now');
      force();
      process.exit(1);
    });
  }
  return begin;
}
