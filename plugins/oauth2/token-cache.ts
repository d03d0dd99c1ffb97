/**
 * When to replace a token that lives `lifetimeMs`: 30 s before it runs out, or after 90 % of its
 * life for tokens shorter than 5 minutes, so that a request never leaves with a token about to die.
 *
 * @example refreshAt(Date.now(), 3_600_000) // now + 59.5 min
 */
export function refreshAt(obtainedAt: number, lifetimeMs: number): number {
  const skew = Math.min(30_000, lifetimeMs * 0.1);
  return obtainedAt + Math.max(0, lifetimeMs - skew);
}
