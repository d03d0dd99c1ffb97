import { type Document, isMap, isScalar, isSeq, type Node } from "yaml";
import type { KeyPath } from "./positions.ts";

// Only upper-case names are references, so that template syntax such as Velocity's `${customer.name}`
// passes through; `$${` is the escape for a literal `${`.
const REFERENCE = /\$\$\{|\$\{([A-Z_][A-Z0-9_]*)\}/g;

/** What one string went through: the result, the variables used, and those that were not set. */
export interface Expansion {
  text: string;
  /** Values substituted, in order of appearance. */
  values: string[];
  /** Variables referenced but not set, with the offset of their `${` in the original text. */
  missing: { name: string; offset: number }[];
}

/**
 * Replaces `${NAME}` references with values from `env`. A missing variable stays as written and is
 * reported; `$${` becomes a literal `${`.
 *
 * @example
 * expandEnv("Bearer ${TOKEN} $${literal}", { TOKEN: "abc" }).text // "Bearer abc ${literal}"
 */
export function expandEnv(text: string, env: Record<string, string | undefined>): Expansion {
  const values: string[] = [];
  const missing: Expansion["missing"] = [];
  const result = text.replace(REFERENCE, (match, name: string | undefined, offset: number) => {
    if (name === undefined) return "${";
    const value = env[name];
    if (value === undefined) {
      missing.push({ name, offset });
      return match;
    }
    values.push(value);
    return value;
  });
  return { text: result, values, missing };
}

/**
 * What a reference to a variable that is not set is reported as.
 *
 * @example unsetVariable("ESPUTNIK_KEY") // "environment variable ESPUTNIK_KEY is not set"
 */
export const unsetVariable = (name: string) => `environment variable ${name} is not set`;

/** The outcome of expanding every string value of plain data (the config the edge build embedded). */
export interface DataExpansion {
  /** A copy of the data, references replaced. */
  data: unknown;
  /** Distinct non-empty values substituted, for redaction. */
  values: string[];
  /** Variables referenced but not set: the value keeps its `${NAME}`. */
  missing: { name: string; path: KeyPath }[];
  /** Paths (dotted) of the strings whose value came wholly or partly from the environment. */
  fromEnv: Set<string>;
}

/**
 * Expands `${NAME}` in every string value (not keys) of JSON-like data, as `expandDocumentEnv` does
 * in a YAML document: the edge worker's config, embedded at build time, read with the Worker's
 * bindings when it starts.
 *
 * @example
 * expandDataEnv({ auth: { keys: ["${KEY}"] } }, { KEY: "k-123" }).data // { auth: { keys: ["k-123"] } }
 */
export function expandDataEnv(data: unknown, env: Record<string, string | undefined>): DataExpansion {
  const values = new Set<string>();
  const missing: DataExpansion["missing"] = [];
  const fromEnv = new Set<string>();
  const walk = (value: unknown, path: KeyPath): unknown => {
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i]));
    if (typeof value === "object" && value !== null)
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
    if (typeof value !== "string") return value;
    const expansion = expandEnv(value, env);
    for (const m of expansion.missing) missing.push({ name: m.name, path });
    if (expansion.values.length > 0) fromEnv.add(path.join("."));
    for (const v of expansion.values) if (v !== "") values.add(v);
    return expansion.text;
  };
  return { data: walk(data, []), values: [...values], missing, fromEnv };
}

/** A missing variable found in the document, with the scalar that referenced it. */
export interface MissingVariable {
  name: string;
  path: KeyPath;
  node: Node;
  /** 1-based line and column of the reference within the scalar's value. */
  line: number;
  column: number;
}

/** The outcome of expanding every string value of a document in place. */
export interface DocumentExpansion {
  /** Distinct non-empty values substituted, for redaction. */
  values: string[];
  missing: MissingVariable[];
  /** Scalars whose value came wholly or partly from the environment. */
  fromEnv: Set<Node>;
}

/**
 * Expands `${NAME}` in every string value (not keys) of a parsed YAML document, in place, so that
 * positions of the document's nodes stay those of the file.
 *
 * @example
 * const doc = parseDocument("password: ${PW}");
 * expandDocumentEnv(doc, { PW: "s3cret" }).values // ["s3cret"]; doc.toJS() // { password: "s3cret" }
 */
export function expandDocumentEnv(doc: Document, env: Record<string, string | undefined>): DocumentExpansion {
  const values = new Set<string>();
  const missing: MissingVariable[] = [];
  const fromEnv = new Set<Node>();

  const walk = (node: unknown, path: KeyPath): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        walk(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        walk(item, [...path, i]);
      });
    } else if (isScalar(node) && typeof node.value === "string") {
      const original = node.value;
      const expansion = expandEnv(original, env);
      for (const m of expansion.missing) {
        const before = original.slice(0, m.offset);
        const line = before.split("\n").length;
        const column = m.offset - before.lastIndexOf("\n");
        missing.push({ name: m.name, path, node, line, column });
      }
      if (expansion.values.length > 0) fromEnv.add(node);
      for (const v of expansion.values) if (v !== "") values.add(v);
      node.value = expansion.text;
    }
    // Aliases are skipped: the anchored node they point to is expanded where it is defined.
  };
  walk(doc.contents, []);
  return { values: [...values], missing, fromEnv };
}
