import { z } from "zod";

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration: a number of milliseconds, or a string such as "250ms", "10s", "5m", "1h", "5d".
 *
 * @example Duration.parse("10s") // 10000
 */
export const Duration = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'a duration such as "500ms", "10s", "5m", "1h" or "5d"')
    .transform((s) => {
      const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(s)!;
      return Math.round(Number(m[1]) * units[m[2]!]!);
    }),
]);
