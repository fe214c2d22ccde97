/** Waits `ms`, or less when `signal` aborts first (then it resolves early, never rejects: the caller checks the signal). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    // `done` removes itself, so no `{ once: true }` is needed.
    signal.addEventListener('abort', done);
  });
}
