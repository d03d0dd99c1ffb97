import { isAlias, isScalar, LineCounter, type Node, parseDocument, Scalar, type YAMLError } from "yaml";
import { ConfigError, type ConfigIssue } from "../errors.ts";
import { BUILTIN_PRESETS } from "./builtin-presets.ts";
import { type ConfigRegistry, type ConfigSource, checkConfig, inFileOrder } from "./check.ts";
import { expandDocumentEnv, unsetVariable } from "./env.ts";
import { dotted, eachNode, type KeyPath, nodeAt, type Position, SourceMap } from "./positions.ts";
import type { HooklineConfig } from "./schema.ts";

export type { ConfigRegistry } from "./check.ts";

/** Where the text came from (for messages), the environment `${NAME}` reads, and the plugins' parts. */
export interface LoadConfigOptions {
  file: string;
  env: Record<string, string | undefined>;
  registry: ConfigRegistry;
}

/**
 * Parses and checks a `hookline.yaml` text: YAML syntax, `${ENV}` references, then `checkConfig`'s
 * checks (the core schema, the plugins' sections, each integration and trigger against its kind,
 * references between entries, every webhook template). Throws one `ConfigError` listing every issue
 * found, each with file, line, column and key path. A webhook that `extends` a preset is checked and
 * returned merged with it (`resolveWebhooks`); an issue in a field the preset wrote points at the preset.
 * The built-in presets (docs/presets.md) are there unless `registry.presets` says otherwise.
 *
 * A plugin section absent from the file is validated as `undefined`, so a section schema decides
 * with `.optional()` or `.default(…)` whether it may be left out. Values from the environment stay
 * strings: `port: ${PORT}` is the string "8080" and fails a number field.
 *
 * @example
 * const config = loadConfig(await adapter.readText("hookline.yaml"), {
 *   file: "hookline.yaml", env: adapter.env(), registry: { authProviders, triggerKinds, sections, renderers },
 * });
 * logger.redact(config.envValues ?? []);
 */
export function loadConfig(text: string, options: LoadConfigOptions): HooklineConfig {
  const { file, env, registry } = options;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const map = new SourceMap(doc, lineCounter, text);
  const issues: ConfigIssue[] = [];
  const report = (path: KeyPath, at: Position, message: string) =>
    issues.push({ file, line: at.line, column: at.column, path: dotted(path), message });

  // Past a syntax error the tree is a guess; checking it would mostly report the guess.
  if (doc.errors.length > 0) {
    for (const error of doc.errors) report([], syntaxPosition(error, map, doc), syntaxMessage(error, doc));
    // One mistake repeated (tabs, a pasted block) can make thousands of errors; the first say what to fix.
    const all = inFileOrder(issues);
    const shown = all.slice(0, MAX_SYNTAX_ISSUES);
    const next = all[MAX_SYNTAX_ISSUES];
    if (next)
      shown.push({ ...next, message: `${all.length - MAX_SYNTAX_ISSUES} more YAML errors from here on` });
    throw new ConfigError(shown);
  }

  // A config nests a few levels; thousands (a hostile or broken file) would make every walk slow.
  let deepest: Node | undefined;
  eachNode(doc, (node, depth) => {
    if (depth > MAX_DEPTH && !deepest) deepest = node;
  });
  if (deepest) {
    report([], map.at(deepest.range?.[0] ?? 0), `nested deeper than ${MAX_DEPTH} levels; a config needs few`);
    throw new ConfigError(inFileOrder(issues));
  }

  const expansion = expandDocumentEnv(doc, env);
  for (const m of expansion.missing)
    report(m.path, map.inScalar(m.node, m.line, m.column), unsetVariable(m.name));
  // A value whose variable is missing still reads `${NAME}`; any further complaint about it is noise.
  const unset = new Set<Node>(expansion.missing.map((m) => m.node));

  let data: unknown;
  try {
    // yaml's default alias budget (100 expansions) refuses a "billion laughs"; a config needs few.
    data = doc.toJS() ?? {};
  } catch (e) {
    // An alias to no anchor, or aliases that multiply into a resource-exhaustion bomb.
    report([], aliasPosition(doc, map, e), `invalid YAML: ${(e as Error).message}`);
    throw new ConfigError(inFileOrder(issues));
  }

  // A tag such as `!!binary` makes a value no JSON holds (bytes); the config is plain data throughout.
  const odd = notPlain(data);
  if (odd) {
    report(
      odd.path,
      map.value(odd.path).position,
      `${odd.what} is not plain data; write a string, number, boolean, list or map`,
    );
    throw new ConfigError(inFileOrder(issues));
  }

  const source: ConfigSource = {
    file,
    data,
    envValues: expansion.values,
    locate(path, at) {
      const located = at === "key" ? map.key(path) : map.value(path);
      return { position: located.position, unset: located.node !== undefined && unset.has(located.node) };
    },
    fromEnv(path) {
      const node = nodeAt(doc, path);
      return node !== undefined && expansion.fromEnv.has(node);
    },
    inTemplate(path, line, column) {
      const node = nodeAt(doc, path);
      return node ? map.inScalar(node, line, column) : undefined;
    },
  };
  return checkConfig(source, { ...registry, presets: registry.presets ?? BUILTIN_PRESETS }, issues);
}

/** The first value that is not a string, finite or infinite number, boolean, null, list or plain map. */
function notPlain(data: unknown): { path: KeyPath; what: string } | undefined {
  const stack: Array<{ v: unknown; path: KeyPath }> = [{ v: data, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (v === null || ["string", "number", "boolean"].includes(typeof v)) continue;
    if (Array.isArray(v)) for (const [i, x] of v.entries()) stack.push({ v: x, path: [...path, i] });
    else if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype)
      for (const [k, x] of Object.entries(v)) stack.push({ v: x, path: [...path, k] });
    else {
      const what =
        v instanceof Uint8Array
          ? "binary data (!!binary)"
          : typeof v === "object"
            ? v.constructor.name
            : typeof v;
      return { path, what };
    }
  }
  return undefined;
}

/** How deep maps and lists may nest. */
const MAX_DEPTH = 64;

/** Syntax errors reported one by one; past these, a count. */
const MAX_SYNTAX_ISSUES = 20;

/** Where the alias `toJS` refused is: the one that resolves to nothing, else the first alias. */
function aliasPosition(doc: Parameters<typeof nodeAt>[0], map: SourceMap, error: unknown): Position {
  let unresolved: number | undefined;
  let first: number | undefined;
  eachNode(doc, (node) => {
    const at = node.range?.[0];
    if (!isAlias(node) || at === undefined) return;
    first ??= at;
    if (unresolved === undefined && /Unresolved alias/.test(String(error)) && !node.resolve(doc))
      unresolved = at;
  });
  return map.at(unresolved ?? first ?? 0);
}

function syntaxPosition(error: YAMLError, map: SourceMap, doc: Parameters<typeof nodeAt>[0]): Position {
  const offset = error.pos[0];
  // The parser notices an unclosed quote only at the end of the file; the opening quote is what to fix.
  if (error.code === "MISSING_CHAR" && /quote/.test(error.message)) {
    let start: number | undefined;
    eachNode(doc, (node) => {
      if (!isScalar(node)) return;
      const [from, to] = node.range ?? [0, 0];
      const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
      if (quoted && from < offset && to >= offset) start = from;
    });
    if (start !== undefined) return map.at(start);
  }
  return map.at(offset);
}

function syntaxMessage(error: YAMLError, doc: Parameters<typeof nodeAt>[0]): string {
  if (error.code === "DUPLICATE_KEY") {
    let key: unknown;
    eachNode(doc, (node) => {
      if (isScalar(node) && node.range?.[0] === error.pos[0]) key = node.value;
    });
    return `duplicate key ${key === undefined ? "" : `${JSON.stringify(String(key))}: `}map keys must be unique`;
  }
  if (error.code === "MISSING_CHAR" && /quote/.test(error.message)) {
    return `${error.message}: the quoted string that starts here is never closed`;
  }
  return `invalid YAML: ${error.message}`;
}
