/**
 * What a JSON value must be for the store to keep it and for hookline to process it: the same rule on
 * PGlite, a Postgres server and the edge worker, checked before anything is written. Postgres refuses
 * U+0000 in text and jsonb, and a lone UTF-16 surrogate (not Unicode text) in jsonb; hashing,
 * `JSON.stringify` and JSONPath recurse, so a value nested thousands of levels deep overflows the
 * stack; and a single huge string is never a field a sender means.
 */

/** Limits on a value that is to be stored. */
export interface JsonLimits {
  /** Containers (objects and arrays) nested in one another, the value itself counting as 1. */
  depth: number;
  /** Characters (UTF-16 code units) in any one string or object key. */
  stringLength: number;
}

/**
 * The limits the inbound receivers and the activity schema apply: 64 levels (no sender nests
 * anywhere near that; recursion stays far from every runtime's stack) and 65,536 characters per
 * string or key (eSputnik's and BlueConic's fields are short; the body limit bounds the total).
 */
export const JSON_LIMITS: Readonly<JsonLimits> = Object.freeze({ depth: 64, stringLength: 65_536 });

/** Why a value cannot be stored, and where: `path` names the field (a key is named by its object). */
export interface JsonProblem {
  path: Array<string | number>;
  message: string;
}

// NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is what this looks for.
const UNSTORABLE_CHAR = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why a string cannot be stored, or undefined when it can: too long, U+0000, or a lone surrogate.
 *
 * @example unstorableText("a\u0000b") // "contains U+0000 (NUL) at character 1, which Postgres cannot store"
 */
export function unstorableText(text: string, limits: Readonly<JsonLimits> = JSON_LIMITS): string | undefined {
  if (text.length > limits.stringLength)
    return `${text.length} characters long; at most ${limits.stringLength} are taken`;
  const bad = UNSTORABLE_CHAR.exec(text);
  if (!bad) return undefined;
  return bad[0] === "\u0000"
    ? `contains U+0000 (NUL) at character ${bad.index}, which Postgres cannot store`
    : `contains a lone surrogate (U+${bad[0].charCodeAt(0).toString(16).toUpperCase()}) at character ${bad.index}: not Unicode text`;
}

interface Container {
  value: object;
  depth: number;
  key: string | number | undefined;
  up: Container | undefined;
}

const pathOf = (c: Container | undefined): Array<string | number> => {
  const path: Array<string | number> = [];
  for (let x = c; x?.key !== undefined; x = x.up) path.unshift(x.key);
  return path;
};

/** A key quoted for a message: JSON-escaped (NUL and lone surrogates become `\u` escapes), shortened. */
const quoteKey = (key: string) => JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);

/**
 * The first thing found in a JSON value that cannot be stored — nested deeper than `limits.depth`, a
 * string or key over `limits.stringLength`, U+0000 or a lone surrogate in a string or key, a number
 * that is not finite (JSON.parse reads `1e400` as Infinity, which would be stored as null), something
 * that is not JSON — with the path to it; undefined when the whole value can be stored. The walk is
 * iterative and stops at the depth limit, so a value nested past the stack is judged, not overflowed on.
 *
 * @example unstorableJson({ partner: { note: ["ok", "\udc00"] } }) // { path: ["partner", "note", 1], message: "contains a lone surrogate …" }
 */
export function unstorableJson(
  value: unknown,
  limits: Readonly<JsonLimits> = JSON_LIMITS,
): JsonProblem | undefined {
  const leaf = (v: unknown): string | undefined => {
    switch (typeof v) {
      case "string":
        return unstorableText(v, limits);
      case "number":
        return Number.isFinite(v) ? undefined : `${v} is not a number JSON can carry (beyond ±1.8e308)`;
      case "boolean":
      case "undefined":
        return undefined;
      case "object":
        return undefined;
      default:
        return `a ${typeof v} is not a JSON value`;
    }
  };
  if (value === null || typeof value !== "object") {
    const problem = leaf(value);
    return problem ? { path: [], message: problem } : undefined;
  }
  const stack: Container[] = [{ value, depth: 1, key: undefined, up: undefined }];
  while (stack.length > 0) {
    const c = stack.pop()!;
    // Named by the outermost field that holds it: the path down to level 64 would say no more.
    if (c.depth > limits.depth)
      return { path: pathOf(c).slice(0, 1), message: `nested deeper than ${limits.depth} levels` };
    const array = Array.isArray(c.value);
    const keys = array ? undefined : Object.keys(c.value);
    const n = array ? (c.value as unknown[]).length : keys!.length;
    for (let i = 0; i < n; i++) {
      const key = array ? i : keys![i]!;
      if (!array) {
        const problem = unstorableText(key as string, limits);
        if (problem) return { path: pathOf(c), message: `key ${quoteKey(key as string)}: ${problem}` };
      }
      const v = (c.value as Record<string | number, unknown>)[key];
      if (v !== null && typeof v === "object") {
        stack.push({ value: v, depth: c.depth + 1, key, up: c });
        continue;
      }
      const problem = leaf(v);
      if (problem) return { path: [...pathOf(c), key], message: problem };
    }
  }
  return undefined;
}
