/** How many answers a `remember` map keeps before it starts over. */
export const REMEMBERED = 1000;

/**
 * Keeps an answer in a map that stays small: past `REMEMBERED` entries it starts over, so inputs that
 * never repeat cannot grow it. For answers that depend on their key alone (a parsed URL, a verdict).
 *
 * @example remember(verdicts, ip, verdict);
 */
export function remember<T>(map: Map<string, T>, key: string, value: T): T {
  if (map.size >= REMEMBERED) map.clear();
  map.set(key, value);
  return value;
}
