import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  Scalar,
} from "yaml";

/** A key path into the config: map keys as strings, list indexes as numbers. */
export type KeyPath = readonly (string | number)[];

/** A 1-based place in the config file. */
export interface Position {
  line: number;
  column: number;
}

/**
 * Where an issue about `path` should point. `missing` is set when the path does not exist in the
 * file and the position is that of its nearest existing ancestor.
 */
export interface Located {
  position: Position;
  node?: Node;
  missing: boolean;
}

/**
 * Dotted form of a key path, as issues show it.
 *
 * @example dotted(["triggers", 0, "webhooks", 1]) // "triggers.0.webhooks.1"
 */
export function dotted(path: KeyPath): string {
  return path.join(".");
}

/**
 * Maps key paths of a parsed YAML document to positions in its text.
 *
 * @example
 * const lineCounter = new LineCounter();
 * const doc = parseDocument(text, { lineCounter });
 * new SourceMap(doc, lineCounter, text).value(["webhooks", "crm-sync", "url"]).position // { line: 12, column: 10 }
 */
export class SourceMap {
  readonly #doc: Document;
  readonly #lineCounter: LineCounter;
  readonly #lines: string[];
  readonly #text: string;

  constructor(doc: Document, lineCounter: LineCounter, text: string) {
    this.#doc = doc;
    this.#lineCounter = lineCounter;
    this.#text = text;
    this.#lines = text.split("\n");
  }

  /** The 1-based line and column of a character offset. */
  at(offset: number): Position {
    const { line, col } = this.#lineCounter.linePos(offset);
    return { line, column: col };
  }

  /** Points at the value at `path`, or at the nearest ancestor's key when the path is missing. */
  value(path: KeyPath): Located {
    return this.#locate(path, false);
  }

  /** Points at the key of the entry at `path` (for unknown or malformed keys). */
  key(path: KeyPath): Located {
    return this.#locate(path, true);
  }

  /**
   * The file position of a place inside a string scalar's value (1-based line and column within the
   * value). Literal block scalars (`|`) keep their lines as written, and a scalar written on one line
   * (plain, or quoted with its escapes counted) keeps its characters in order, so both map exactly;
   * for every other style (folded, or quoted across lines) the scalar's start is the honest answer.
   */
  inScalar(node: Node, line: number, column: number): Position {
    const start = this.at(node.range?.[0] ?? 0);
    if (!isScalar(node) || typeof node.value !== "string") return start;
    if (node.type !== Scalar.BLOCK_LITERAL) return this.#inOneLine(node, line, column) ?? start;
    // The node starts at the `|` header; the value's first line is the next line of the file.
    const fileLine = start.line + line;
    const source = this.#lines[fileLine - 1] ?? "";
    const valueLine = node.value.split("\n")[line - 1] ?? "";
    const indent = leadingSpaces(source) - leadingSpaces(valueLine);
    return { line: fileLine, column: Math.max(indent, 0) + column };
  }

  /** `inScalar` for a flow scalar written on one line of the file. */
  #inOneLine(node: Scalar, line: number, column: number): Position | undefined {
    const [from, to] = node.range ?? [0, 0];
    const raw = this.#text.slice(from, to);
    // Across lines, or with `${NAME}` expanded (the value is no longer the text): no exact place.
    if (/[\r\n]/.test(raw) || raw.includes("${")) return undefined;
    const value = node.value as string;
    const lines = value.split("\n");
    if (line > lines.length) return undefined;
    const target = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0) + column - 1;
    const offset = rawOffset(raw, node.type, target);
    return offset === undefined ? undefined : this.at(from + offset);
  }

  #locate(path: KeyPath, wantKey: boolean): Located {
    let node: Node | undefined = this.#doc.contents ?? undefined;
    let keyNode: Node | undefined;
    for (let i = 0; i < path.length; i++) {
      const step = node ? child(this.#doc, node, path[i]!) : undefined;
      if (!step) return { position: this.#start(keyNode ?? node), node, missing: true };
      node = step.value;
      keyNode = step.key;
      if (!node && i < path.length - 1) return { position: this.#start(keyNode), missing: true };
    }
    const target = wantKey ? (keyNode ?? node) : (node ?? keyNode);
    return { position: this.#start(target), node, missing: false };
  }

  #start(node: Node | undefined): Position {
    return node?.range ? this.at(node.range[0]) : { line: 1, column: 1 };
  }
}

/**
 * The scalar or collection at `path`, following aliases; undefined when absent.
 *
 * @example nodeAt(parseDocument("a:\n  - x"), ["a", 0]) // the Scalar "x"
 */
export function nodeAt(doc: Document, path: KeyPath): Node | undefined {
  let node: Node | undefined = doc.contents ?? undefined;
  for (const segment of path) {
    node = node ? child(doc, node, segment)?.value : undefined;
  }
  return node;
}

/**
 * Calls `fn` on every node of the document (keys included), depth first, without recursion: yaml's
 * `visit` copies the path at every step, which is quadratic in the nesting a hostile file can have.
 *
 * @example eachNode(doc, (n) => { if (isAlias(n)) aliases.push(n) })
 */
export function eachNode(doc: Document, fn: (node: Node, depth: number) => void): void {
  const stack: Array<[unknown, number]> = [[doc.contents, 0]];
  while (stack.length > 0) {
    const [n, depth] = stack.pop()!;
    if (isMap(n)) {
      for (let i = n.items.length - 1; i >= 0; i--) {
        const pair = n.items[i] as Pair<unknown, unknown>;
        stack.push([pair.value, depth + 1], [pair.key, depth + 1]);
      }
    } else if (isSeq(n)) {
      for (let i = n.items.length - 1; i >= 0; i--) stack.push([n.items[i], depth + 1]);
    }
    if (isMap(n) || isSeq(n) || isScalar(n) || isAlias(n)) fn(n as Node, depth);
  }
}

function child(
  doc: Document,
  parent: Node,
  segment: string | number,
): { key?: Node; value?: Node } | undefined {
  const node = isAlias(parent) ? (parent.resolve(doc) as Node | undefined) : parent;
  if (isMap(node)) {
    // Compared as strings: `toJS` turns a key such as `123:` into the property "123".
    const pair = (node.items as Pair<unknown, unknown>[]).find((p) => keyText(p.key) === String(segment));
    if (!pair) return undefined;
    const value = isAlias(pair.value)
      ? (pair.value.resolve(doc) as Node | undefined)
      : (pair.value as Node | null);
    return { key: pair.key as Node, value: value ?? undefined };
  }
  if (isSeq(node) && typeof segment === "number") {
    const item = node.items[segment] as Node | undefined;
    if (item === undefined) return undefined;
    return { value: isAlias(item) ? (item.resolve(doc) as Node | undefined) : item };
  }
  return undefined;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

/**
 * The offset in a flow scalar's source text of the value's `target`-th UTF-16 unit: plain text maps
 * one to one, `''` is one quote in single quotes, and an escape (`\\n`, `\\x41`, `\\u00e9`,
 * `\\U0001F600`) is one character (two units past U+FFFF) in double quotes.
 */
function rawOffset(raw: string, type: Scalar["type"], target: number): number | undefined {
  if (type === Scalar.PLAIN) return target <= raw.length ? target : undefined;
  const quote = type === Scalar.QUOTE_SINGLE ? "'" : type === Scalar.QUOTE_DOUBLE ? '"' : undefined;
  if (!quote || raw[0] !== quote) return undefined;
  const width: Record<string, number> = { x: 4, u: 6, U: 10 };
  let i = 1;
  for (let n = 0; n < target; ) {
    if (i >= raw.length - 1) return undefined;
    if (quote === "'" && raw[i] === "'" && raw[i + 1] === "'") {
      i += 2;
      n += 1;
    } else if (quote === '"' && raw[i] === "\\") {
      const kind = raw[i + 1] ?? "";
      const step = width[kind] ?? 2;
      n += kind === "U" && Number.parseInt(raw.slice(i + 2, i + 10), 16) > 0xffff ? 2 : 1;
      i += step;
    } else {
      i += 1;
      n += 1;
    }
  }
  return i;
}

function leadingSpaces(line: string): number {
  return line.length - line.trimStart().length;
}
