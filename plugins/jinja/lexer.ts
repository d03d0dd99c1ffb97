/**
 * Jinja's lexer: template text, `{{ … }}`, `{% … %}`, `{# … #}` with `-` whitespace control and
 * `{% raw %}`, and inside tags the expression tokens. Every token keeps its offset in the source so
 * that errors name a line and a column.
 */

export type TokenType =
  | "text"
  | "var_begin"
  | "var_end"
  | "block_begin"
  | "block_end"
  | "name"
  | "number"
  | "string"
  | "op"
  | "eof";

export interface Token {
  type: TokenType;
  /** The text, the name, the operator, or a string literal's decoded value. */
  value: string;
  /** Offset of the token in the source. */
  at: number;
}

/** A template that does not parse; `at` is the offset in the source. */
export class JinjaSyntaxError extends Error {
  override name = "JinjaSyntaxError";
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const TAG_START = /\{\{|\{%|\{#/g;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /\d+(?:_\d+)*(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const SPACE = /\s+/y;
const OPERATORS = [
  "**",
  "//",
  "==",
  "!=",
  "<=",
  ">=",
  "+",
  "-",
  "*",
  "/",
  "%",
  "~",
  "<",
  ">",
  "=",
  ".",
  ",",
  ":",
  "|",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
];
const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  "'": "'",
  '"': '"',
  "0": "\0",
};
const PAIRS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
const RAW = /\{%(-?)\s*raw\s*(-?)%\}/y;
const ENDRAW = /\{%(-?)\s*endraw\s*(-?)%\}/g;

function readString(source: string, start: number): { value: string; end: number } {
  const quote = source[start]!;
  let value = "";
  let i = start + 1;
  while (i < source.length) {
    const c = source[i]!;
    if (c === quote) return { value, end: i + 1 };
    if (c === "\\") {
      const n = source[i + 1] ?? "";
      if (n === "u" && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
        value += String.fromCharCode(Number.parseInt(source.slice(i + 2, i + 6), 16));
        i += 6;
        continue;
      }
      value += ESCAPES[n] ?? `\\${n}`;
      i += 2;
      continue;
    }
    value += c;
    i++;
  }
  throw new JinjaSyntaxError("unclosed string literal", start);
}

/**
 * Splits a template into tokens.
 *
 * @example tokenize("Hi {{ name }}").map((t) => t.type) // ["text", "var_begin", "name", "var_end", "eof"]
 */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  let stripNext = false;
  const pushText = (text: string, at: number, stripEnd: boolean) => {
    let t = stripNext ? text.replace(/^\s+/, "") : text;
    if (stripEnd) t = t.replace(/\s+$/, "");
    stripNext = false;
    if (t) tokens.push({ type: "text", value: t, at });
  };

  while (pos < source.length) {
    TAG_START.lastIndex = pos;
    const m = TAG_START.exec(source);
    if (!m) {
      pushText(source.slice(pos), pos, false);
      break;
    }
    const tagAt = m.index;
    RAW.lastIndex = tagAt;
    const raw = m[0] === "{%" ? RAW.exec(source) : null;
    pushText(source.slice(pos, tagAt), pos, source[tagAt + 2] === "-");
    if (raw) {
      // `{% raw %}…{% endraw %}`: the body is text, whatever it holds.
      ENDRAW.lastIndex = RAW.lastIndex;
      const end = ENDRAW.exec(source);
      if (!end) throw new JinjaSyntaxError("'raw' is never closed by 'endraw'", tagAt);
      stripNext = raw[2] === "-";
      pushText(source.slice(RAW.lastIndex, end.index), RAW.lastIndex, end[1] === "-");
      stripNext = end[2] === "-";
      pos = ENDRAW.lastIndex;
      continue;
    }
    let p = tagAt + 2;
    if (source[p] === "-" || source[p] === "+") p++;
    if (m[0] === "{#") {
      const end = source.indexOf("#}", p);
      if (end === -1) throw new JinjaSyntaxError("unclosed comment", tagAt);
      stripNext = source[end - 1] === "-";
      pos = end + 2;
      continue;
    }
    const isVar = m[0] === "{{";
    tokens.push({ type: isVar ? "var_begin" : "block_begin", value: m[0], at: tagAt });
    pos = lexTag(source, p, isVar ? "}}" : "%}", tokens, tagAt);
    stripNext = source[pos - 3] === "-";
  }
  tokens.push({ type: "eof", value: "", at: source.length });
  return tokens;
}

/** Lexes the inside of a tag up to its closer; returns the offset after the closer. */
function lexTag(source: string, start: number, closer: "}}" | "%}", tokens: Token[], tagAt: number): number {
  let p = start;
  // Open brackets: a `}}` inside `{'a': {'b': 1}}` does not end the tag.
  const open: Token[] = [];
  for (;;) {
    SPACE.lastIndex = p;
    if (SPACE.exec(source)) p = SPACE.lastIndex;
    if (p >= source.length) {
      const bracket = open.at(-1);
      if (bracket) throw new JinjaSyntaxError(`'${bracket.value}' is never closed`, bracket.at);
      throw new JinjaSyntaxError(`tag is never closed by '${closer}'`, tagAt);
    }
    if (open.length === 0) {
      const dashed = source.startsWith(`-${closer}`, p) || source.startsWith(`+${closer}`, p);
      if (dashed || source.startsWith(closer, p)) {
        tokens.push({ type: closer === "}}" ? "var_end" : "block_end", value: closer, at: p });
        return p + closer.length + (dashed ? 1 : 0);
      }
    }
    const c = source[p]!;
    if (c === "'" || c === '"') {
      const s = readString(source, p);
      tokens.push({ type: "string", value: s.value, at: p });
      p = s.end;
      continue;
    }
    NAME.lastIndex = p;
    const name = NAME.exec(source);
    if (name) {
      tokens.push({ type: "name", value: name[0], at: p });
      p = NAME.lastIndex;
      continue;
    }
    NUMBER.lastIndex = p;
    const num = NUMBER.exec(source);
    if (num) {
      tokens.push({ type: "number", value: num[0].replace(/_/g, ""), at: p });
      p = NUMBER.lastIndex;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, p));
    if (!op) throw new JinjaSyntaxError(`unexpected character '${c}'`, p);
    const token: Token = { type: "op", value: op, at: p };
    if (op === "(" || op === "[" || op === "{") open.push(token);
    else if (op === ")" || op === "]" || op === "}") {
      const bracket = open.pop();
      if (!bracket || PAIRS[bracket.value] !== op) {
        throw new JinjaSyntaxError(
          bracket ? `'${bracket.value}' is never closed` : `unexpected '${op}'`,
          bracket ? bracket.at : p,
        );
      }
    }
    tokens.push(token);
    p += op.length;
  }
}
