/**
 * One request's deadline and its caller's signal as one abort signal: a plain controller and a timer,
 * cleared by `done()`. `AbortSignal.timeout` and `AbortSignal.any` do the same with weakly tracked
 * signals that cost measurably more per request (a few per cent of a delivery's CPU on Node).
 * `aborted` is true once the deadline itself fired (a timeout), not when the caller aborted.
 *
 * @example
 * const deadline = requestDeadline(request.timeoutMs, request.signal);
 * try { await fetch(url, { signal: deadline.signal }) } catch (e) { throw faultFor(e, request, deadline) } finally { deadline.done() }
 */
export function requestDeadline(timeoutMs: number, caller?: AbortSignal): RequestDeadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`no complete answer within ${timeoutMs} ms`, "TimeoutError"));
  }, timeoutMs);
  const onAbort = (reason: unknown) => controller.abort(reason);
  let release: (() => void) | undefined;
  if (caller?.aborted) onAbort(caller.reason);
  else if (caller) release = onCallerAbort(caller, onAbort);
  return {
    signal: controller.signal,
    get aborted() {
      return expired;
    },
    done() {
      clearTimeout(timer);
      release?.();
    },
  };
}

/** See `requestDeadline`. */
export interface RequestDeadline {
  /** Aborts when the deadline fires or the caller's signal does. */
  readonly signal: AbortSignal;
  /** Whether the deadline fired. */
  readonly aborted: boolean;
  /** Stops the timer and lets go of the caller's signal; call it when the answer is read. */
  done(): void;
}

const waiting = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();

/**
 * Calls `listener` with the signal's reason when `signal` aborts, until the returned release is
 * called. Requests in flight share their caller's signal (a worker's stop signal): one listener per
 * signal and a set of requests is cheaper than an event listener added and removed per request, and
 * keeps Node from warning about a leak at more than ten requests in flight. The signal must not have
 * aborted yet (check `signal.aborted` first).
 *
 * @example
 * if (signal.aborted) cancel(signal.reason); else release = onCallerAbort(signal, cancel);
 */
export function onCallerAbort(signal: AbortSignal, listener: (reason: unknown) => void): () => void {
  let listeners = waiting.get(signal);
  if (!listeners) {
    const created = new Set<(reason: unknown) => void>();
    listeners = created;
    waiting.set(signal, created);
    signal.addEventListener(
      "abort",
      () => {
        waiting.delete(signal);
        for (const l of created) l(signal.reason);
      },
      { once: true },
    );
  }
  const set = listeners;
  set.add(listener);
  return () => {
    set.delete(listener);
  };
}
