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
  const onAbort = () => controller.abort(caller?.reason);
  if (caller?.aborted) onAbort();
  else caller?.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    get aborted() {
      return expired;
    },
    done() {
      clearTimeout(timer);
      caller?.removeEventListener("abort", onAbort);
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
