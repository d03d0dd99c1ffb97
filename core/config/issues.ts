import type { z } from "zod";
import type { KeyPath } from "./positions.ts";

// zod's own wording ("Invalid input: expected string, received number") is replaced by ours; this
// marker tells a default message from one a schema set itself, which we keep.
const DEFAULT_MESSAGE = "\u0000hookline-default";

/**
 * Options for `safeParse` that keep each issue's input and mark zod's default messages, so that
 * `describeIssues` can word them.
 *
 * @example schema.safeParse(data, parseOptions)
 */
export const parseOptions = { reportInput: true, error: () => DEFAULT_MESSAGE } as const;

/** One readable problem, relative to the parsed value: `at: "key"` points at a map key, not a value. */
export interface DescribedIssue {
  path: KeyPath;
  at: "value" | "key";
  message: string;
}

type Issue = z.core.$ZodIssue;

/** How to read a list of zod issues: against which schema, below which path. */
export interface DescribeOptions {
  /** The schema that produced the issues, to list the fields an object allows. */
  schema?: z.core.$ZodType;
  /** Where the parsed value sits in the file (`["integrations", "crm"]`). */
  prefix?: KeyPath;
  /** Keys the core owns beside the schema's at its root (an integration's `kind`, …). */
  ownKeys?: readonly string[];
  /**
   * Whether the value at a path must not be echoed: true for a value from the environment (it may be a
   * secret), or a string saying what stands in its place (e.g. a secret field written in the file).
   */
  hidden?: (path: KeyPath) => boolean | string;
}

/**
 * Words zod issues as "expected …; got …", one readable issue per problem (an unknown key each).
 *
 * @example
 * const schema = z.object({ port: z.number() });
 * describeIssues(schema.safeParse({ port: "x" }, parseOptions).error!.issues, { schema })
 * // [{ path: ["port"], at: "value", message: 'expected a number; got string "x"' }]
 */
export function describeIssues(issues: readonly Issue[], options: DescribeOptions = {}): DescribedIssue[] {
  return issues.flatMap((issue) => describe(issue, options));
}

function describe(issue: Issue, options: DescribeOptions): DescribedIssue[] {
  const { schema, prefix = [], ownKeys = [], hidden = () => false } = options;
  // `relative` walks `schema`; `path` is what the reader sees.
  const relative = issue.path as (string | number)[];
  const path: KeyPath = [...prefix, ...relative];
  const input = (issue as { input?: unknown }).input;
  const veiled = hidden(path);
  const got = (typed: boolean) =>
    veiled === true ? "a value from the environment" : veiled ? veiled : show(input, typed);
  const one = (message: string, at: DescribedIssue["at"] = "value"): DescribedIssue[] => [
    { path, at, message },
  ];

  if ((issue.code === "invalid_type" || issue.code === "invalid_union") && input === undefined) {
    return one(`missing required field "${String(path[path.length - 1] ?? "")}"`);
  }
  if (issue.code === "unrecognized_keys") {
    const keys = objectKeys(schema && schemaAt(schema, relative));
    const allowed = keys && (relative.length === 0 ? [...ownKeys, ...keys] : keys);
    const expected = allowed ? `; expected one of: ${allowed.join(", ")}` : "";
    const what = path.length === 0 ? "unknown top-level key" : "unknown field";
    return issue.keys.map((key) => ({
      path: [...path, key],
      at: "key" as const,
      message: `${what} "${key}"${expected}`,
    }));
  }
  if (issue.code === "invalid_union" && issue.errors.length > 0) {
    // Prefer the branch that got past the type check ("10 sec" is a string with a bad format,
    // not a non-number); if none did, list the types that would have been accepted.
    const index = issue.errors.findIndex((branch) =>
      branch.some((i) => i.code !== "invalid_type" || i.path.length > 0),
    );
    if (index >= 0) {
      const union = schema && schemaAt(schema, relative);
      const branches = union?._zod.def.type === "union" ? (union._zod.def as any).options : [];
      return describeIssues(issue.errors[index]!, { schema: branches[index], prefix: path, hidden });
    }
    const types = [
      ...new Set(issue.errors.flat().map((i) => (i.code === "invalid_type" ? typeName(i.expected) : ""))),
    ];
    return one(`expected ${types.filter(Boolean).join(" or ")}; got ${got(true)}`);
  }
  if (issue.code === "invalid_key") {
    const inner = issue.issues[0];
    const reason = inner ? expectation(inner) : undefined;
    return one(`invalid key ${show(input, false)}${reason ? `: expected ${reason}` : ""}`, "key");
  }
  if (issue.message !== DEFAULT_MESSAGE) {
    // A schema's own message: our schemas word them as what is expected ("a name of letters, …").
    const m = issue.message;
    if (/^(a|an|the|one of|at least|at most)\b/i.test(m)) return one(`expected ${m}; got ${got(false)}`);
    return one(input === undefined ? m : `${m} (got ${got(false)})`);
  }
  const expected = expectation(issue);
  return one(expected ? `expected ${expected}; got ${got(issue.code === "invalid_type")}` : "invalid value");
}

/** What an issue wanted, worded after "expected"; undefined when zod does not say. */
function expectation(issue: Issue): string | undefined {
  if (issue.message !== DEFAULT_MESSAGE) return issue.message;
  switch (issue.code) {
    case "invalid_type":
      return typeName(issue.expected);
    case "invalid_value":
      return issue.values.length === 1
        ? show(issue.values[0], false)
        : `one of ${issue.values.map((v) => String(v)).join(", ")}`;
    case "too_small":
      return bound(issue.origin, issue.minimum, issue.inclusive ?? true, "at least", "more than");
    case "too_big":
      return bound(issue.origin, issue.maximum, issue.inclusive ?? true, "at most", "less than");
    case "invalid_format": {
      const detail = issue as { pattern?: string; prefix?: string; suffix?: string; includes?: string };
      if (issue.format === "regex") return `a string matching ${detail.pattern}`;
      if (issue.format === "url") return "a URL";
      if (issue.format === "starts_with") return `a string starting with ${JSON.stringify(detail.prefix)}`;
      if (issue.format === "ends_with") return `a string ending with ${JSON.stringify(detail.suffix)}`;
      if (issue.format === "includes") return `a string containing ${JSON.stringify(detail.includes)}`;
      return `a valid ${issue.format}`;
    }
    case "not_multiple_of":
      return `a multiple of ${String(issue.divisor)}`;
    default:
      return undefined;
  }
}

function bound(origin: string, limit: number | bigint, inclusive: boolean, inc: string, exc: string): string {
  const n = Number(limit);
  const word = inclusive ? inc : exc;
  if (origin === "string")
    return n === 1 && inclusive && inc === "at least" ? "a non-empty string" : `${word} ${n} characters`;
  if (origin === "array" || origin === "set") return `${word} ${n} item${n === 1 ? "" : "s"}`;
  return `a number ${inclusive ? (inc === "at least" ? ">=" : "<=") : inc === "at least" ? ">" : "<"} ${n}`;
}

function typeName(expected: string): string {
  const names: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "an integer",
    boolean: "true or false",
    object: "a map",
    array: "a list",
    record: "a map",
    null: "null",
  };
  return names[expected] ?? expected;
}

/** A short rendering of a value for a message; `typed` adds its YAML type before scalars. */
function show(value: unknown, typed: boolean): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null (an empty value)";
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? "" : "s"}`;
  if (typeof value === "object") return "a map";
  const text = typeof value === "string" ? JSON.stringify(clip(value)) : String(value);
  return typed ? `${typeof value} ${text}` : text;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/**
 * The schema that validates the value at `path` of a value `schema` validates, seen from the input
 * side (defaults, optionals and pipes unwrapped); undefined where it cannot tell (unions).
 *
 * @example schemaAt(CoreConfig, ["webhooks", "crm-sync"]) // WebhookConfig
 */
export function schemaAt(schema: z.core.$ZodType, path: KeyPath): z.core.$ZodType | undefined {
  let current: z.core.$ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    const def = current?._zod.def as any;
    if (def?.type === "object") current = def.shape[segment];
    else if (def?.type === "record") current = def.valueType;
    else if (def?.type === "array") current = def.element;
    else if (def?.type === "tuple") current = def.items[segment as number];
    else return undefined;
    current = current && unwrap(current);
  }
  return current;
}

/**
 * The object schema inside wrappers (optional, default, pipe, …), or the schema itself.
 *
 * @example unwrap(z.object({}).optional().default({})) // the z.object({})
 */
export function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (let i = 0; i < 32; i++) {
    const def = current._zod.def as any;
    if (
      ["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"].includes(def.type)
    ) {
      current = def.innerType;
    } else if (def.type === "pipe") current = def.in;
    else if (def.type === "lazy") current = def.getter();
    else return current;
  }
  return current;
}

function objectKeys(schema: z.core.$ZodType | undefined): string[] | undefined {
  const def = schema?._zod.def as any;
  return def?.type === "object" ? Object.keys(def.shape) : undefined;
}
