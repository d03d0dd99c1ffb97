/**
 * Waits `ms`, or less if `signal` aborts first. The timer alone keeps no process alive (an hourly
 * sweep's wait must not hold a process open at shutdown). A signal already aborted ends it at once: a
 * loop that checked the signal before a step that took a while must not wait out its interval then.
 *
 * @example await idleSleep(3_600_000, signal);
 */
export const idleSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    (timer as { unref?: () => void }).unref?.();
    signal.addEventListener("abort", done, { once: true });
  });
