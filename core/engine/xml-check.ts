import { TemplateError } from "../errors.ts";

/** Where a text stops being well-formed XML (1-based line and column) and what is wrong there. */
export interface XmlFault {
  line: number;
  column: number;
  message: string;
}

// XML 1.0 names (production 4 and 4a); a surrogate pair stands for the planes above U+FFFF.
const START =
  ":A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\uD800-\\uDBFF";
const NAME = new RegExp(
  `[${START}][${START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040\\uDC00-\\uDFFF]*`,
  "y",
);
const TEXT = /[^<&\]]+/y;
const SPACE = /[ \t\r\n]*/y;
const PREDEFINED = new Set(["amp", "lt", "gt", "quot", "apos"]);

class Fault {
  constructor(
    readonly offset: number,
    readonly message: string,
  ) {}
}

/** The offset of the first character XML forbids outright (controls but tab and line breaks, U+FFFE, U+FFFF), or -1. */
function firstIllegalChar(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x9 && c !== 0xa && c !== 0xd) || c === 0xfffe || c === 0xffff) return i;
  }
  return -1;
}

const legalChar = (c: number) =>
  c === 0x9 ||
  c === 0xa ||
  c === 0xd ||
  (c >= 0x20 && c <= 0xd7ff) ||
  (c >= 0xe000 && c <= 0xfffd) ||
  (c >= 0x10000 && c <= 0x10ffff);

/**
 * Finds the first place where a text is not well-formed XML 1.0, or undefined when it is: one root
 * element, matching end tags, attributes with quoted values (each name once per element, no `<`),
 * entity references (`&amp; &lt; &gt; &quot; &apos;`, `&#n;`, `&#xh;` naming a legal character),
 * comments (no `--` inside), CDATA sections, processing instructions, an XML declaration only at the
 * start, no control characters. A DOCTYPE is skipped, not read; after one, any named entity is
 * accepted, since the DTD may declare it. Not a validating parser: namespaces are not resolved.
 *
 * @example xmlErrorAt("<a><b></a>") // { line: 1, column: 7, message: "end tag </a> does not match the open element <b> (opened at line 1, column 4)" }
 */
export function xmlErrorAt(text: string): XmlFault | undefined {
  const at = (offset: number) => {
    const before = text.slice(0, offset);
    return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
  };
  let fault: Fault | undefined;
  try {
    new Scanner(text, at).document();
  } catch (e) {
    if (!(e instanceof Fault)) throw e;
    fault = e;
  }
  // The scanner skips comment and CDATA text unread, so a control character is searched for apart.
  const illegal = firstIllegalChar(text);
  if (illegal >= 0 && (!fault || illegal < fault.offset)) {
    const code = text.charCodeAt(illegal).toString(16).toUpperCase().padStart(4, "0");
    fault = new Fault(illegal, `the character U+${code} is not allowed in XML`);
  }
  return fault && { ...at(fault.offset), message: fault.message };
}

/**
 * Throws the `TemplateError` of a rendered xml body that is not well-formed, naming the line and
 * column in the body; the delivery then fails with a "render" reason and nothing is sent.
 *
 * @example if (format === "xml") assertWellFormedXml(body);
 */
export function assertWellFormedXml(body: string): void {
  const fault = xmlErrorAt(body);
  if (!fault) return;
  throw new TemplateError(
    `body: rendered xml is not well-formed at line ${fault.line}, column ${fault.column}: ${fault.message}`,
    { line: fault.line, column: fault.column },
  );
}

class Scanner {
  private i = 0;
  private doctype = false;

  constructor(
    private readonly text: string,
    private readonly at: (offset: number) => { line: number; column: number },
  ) {}

  private fail(message: string, offset = this.i): never {
    throw new Fault(offset, message);
  }

  private startsWith(s: string): boolean {
    return this.text.startsWith(s, this.i);
  }

  private space(): boolean {
    SPACE.lastIndex = this.i;
    SPACE.test(this.text);
    const moved = SPACE.lastIndex > this.i;
    this.i = SPACE.lastIndex;
    return moved;
  }

  private name(what: string): string {
    NAME.lastIndex = this.i;
    const m = NAME.exec(this.text);
    if (!m) this.fail(`expected ${what}`);
    this.i += m[0].length;
    return m[0];
  }

  private where(offset: number): string {
    const { line, column } = this.at(offset);
    return `line ${line}, column ${column}`;
  }

  /** Prolog, one root element, then only comments, processing instructions and white space. */
  document(): void {
    const { text } = this;
    if (text.startsWith("\uFEFF")) this.i = 1;
    const start = this.i;
    let root = false;
    for (;;) {
      this.space();
      if (this.i >= text.length) break;
      if (this.startsWith("<!--")) this.comment();
      else if (this.startsWith("<?")) this.instruction(this.i === start);
      else if (this.startsWith("<!DOCTYPE")) {
        if (root || this.doctype) this.fail("a DOCTYPE is allowed only once, before the root element");
        this.skipDoctype();
      } else if (this.startsWith("<![CDATA["))
        this.fail("a CDATA section is allowed only inside the root element");
      else if (this.startsWith("</")) this.fail("an end tag, but no element is open");
      else if (text[this.i] === "<") {
        if (root) this.fail("a second root element; an XML document has exactly one");
        this.element();
        root = true;
      } else this.fail(`text is not allowed ${root ? "after" : "before"} the root element`);
    }
    if (!root)
      this.fail(
        text.trim() === "" ? "the body is empty; expected a root element" : "expected a root element",
      );
  }

  /** An element and everything in it; a loop with its own stack, so deep nesting needs no recursion. */
  private element(): void {
    const { text } = this;
    const open: Array<{ name: string; offset: number }> = [];
    const startTag = () => {
      const offset = this.i++;
      const name = this.name("an element name after '<'");
      if (!this.attributes(name)) open.push({ name, offset });
    };
    startTag();
    while (open.length > 0) {
      TEXT.lastIndex = this.i;
      if (TEXT.test(text)) this.i = TEXT.lastIndex;
      if (this.i >= text.length) {
        const top = open.at(-1)!;
        this.fail(`element <${top.name}> (opened at ${this.where(top.offset)}) is never closed`);
      }
      const c = text[this.i];
      if (c === "&") this.reference();
      else if (c === "]") {
        if (this.startsWith("]]>")) this.fail("']]>' is not allowed in text (it ends only a CDATA section)");
        this.i++;
      } else if (this.startsWith("</")) {
        const offset = this.i;
        this.i += 2;
        const name = this.name("an element name after '</'");
        this.space();
        if (text[this.i] !== ">") this.fail(`expected '>' to end the end tag </${name}>`);
        this.i++;
        const top = open.pop()!;
        if (top.name !== name) {
          this.fail(
            `end tag </${name}> does not match the open element <${top.name}> (opened at ${this.where(top.offset)})`,
            offset,
          );
        }
      } else if (this.startsWith("<!--")) this.comment();
      else if (this.startsWith("<![CDATA[")) this.cdata();
      else if (this.startsWith("<?")) this.instruction(false);
      else if (this.startsWith("<!"))
        this.fail("expected a comment <!-- … --> or a CDATA section after '<!'");
      else startTag();
    }
  }

  /** The attributes after a tag name, up to `>` or `/>`; true when the element closed itself. */
  private attributes(tag: string): boolean {
    const { text } = this;
    const seen = new Set<string>();
    for (;;) {
      const spaced = this.space();
      if (this.startsWith("/>")) {
        this.i += 2;
        return true;
      }
      if (text[this.i] === ">") {
        this.i++;
        return false;
      }
      if (this.i >= text.length) this.fail(`the tag <${tag}> is never closed by '>'`);
      if (!spaced) this.fail(`expected white space, '>' or '/>' in the tag <${tag}>`);
      const offset = this.i;
      const name = this.name(`an attribute name, '>' or '/>' in the tag <${tag}>`);
      if (seen.has(name)) this.fail(`attribute "${name}" appears twice in the tag <${tag}>`, offset);
      seen.add(name);
      this.space();
      if (text[this.i] !== "=") this.fail(`expected '=' after the attribute name "${name}"`);
      this.i++;
      this.space();
      const quote = text[this.i];
      if (quote !== '"' && quote !== "'") this.fail(`expected a quoted value for the attribute "${name}"`);
      const opened = this.i++;
      for (;;) {
        const c = text[this.i];
        if (c === undefined)
          this.fail(`the value of the attribute "${name}" is never closed by ${quote}`, opened);
        if (c === quote) break;
        if (c === "<") this.fail(`'<' is not allowed in the value of the attribute "${name}" (write &lt;)`);
        if (c === "&") this.reference();
        else this.i++;
      }
      this.i++;
    }
  }

  /** `&name;`, `&#n;` or `&#xh;`. */
  private reference(): void {
    const { text } = this;
    const offset = this.i++;
    if (text[this.i] === "#") {
      const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+));/.exec(text.slice(this.i, this.i + 16));
      if (!m) this.fail("expected a character reference &#n; or &#xh;", offset);
      const code = m[1] !== undefined ? Number.parseInt(m[1], 16) : Number(m[2]);
      if (!legalChar(code)) this.fail(`&${m[0]} names a character XML does not allow`, offset);
      this.i += m[0].length;
      return;
    }
    NAME.lastIndex = this.i;
    const m = NAME.exec(text);
    if (!m || text[this.i + m[0].length] !== ";") {
      this.fail(
        "'&' must start an entity reference (&amp; &lt; &gt; &quot; &apos; &#n; &#xh;); write &amp;",
        offset,
      );
    }
    if (!PREDEFINED.has(m[0]) && !this.doctype) {
      this.fail(`unknown entity &${m[0]}; (XML predefines only &amp; &lt; &gt; &quot; &apos;)`, offset);
    }
    this.i += m[0].length + 1;
  }

  private comment(): void {
    const offset = this.i;
    const end = this.text.indexOf("--", this.i + 4);
    if (end < 0) this.fail("the comment is never closed by '-->'", offset);
    if (this.text[end + 2] !== ">") this.fail("'--' is not allowed inside a comment", end);
    this.i = end + 3;
  }

  private cdata(): void {
    const offset = this.i;
    const end = this.text.indexOf("]]>", this.i + 9);
    if (end < 0) this.fail("the CDATA section is never closed by ']]>'", offset);
    this.i = end + 3;
  }

  /** `<?target …?>`; the XML declaration (`<?xml version="1.0" …?>`) only at the very start. */
  private instruction(first: boolean): void {
    const offset = this.i;
    this.i += 2;
    const target = this.name("a processing instruction target after '<?'");
    if (target.toLowerCase() === "xml") {
      if (!first || target !== "xml") {
        this.fail("the XML declaration <?xml …?> is allowed only at the very start of the body", offset);
      }
      if (!/^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["'])1\.[0-9]+\1/.test(this.text.slice(offset))) {
        this.fail('expected version="1.0" first in the XML declaration', this.i);
      }
    }
    const end = this.text.indexOf("?>", this.i);
    if (end < 0) this.fail("the processing instruction is never closed by '?>'", offset);
    if (end > this.i && !this.space()) this.fail(`expected white space or '?>' after <?${target}`);
    this.i = end + 2;
  }

  /** Skips `<!DOCTYPE …>` with its internal subset, minding quoted strings. */
  private skipDoctype(): void {
    const { text } = this;
    const offset = this.i;
    this.i += 9;
    let depth = 0;
    while (this.i < text.length) {
      const c = text[this.i]!;
      if (c === '"' || c === "'") {
        const close = text.indexOf(c, this.i + 1);
        if (close < 0) break;
        this.i = close + 1;
        continue;
      }
      if (c === "[") depth++;
      else if (c === "]") depth--;
      else if (c === ">" && depth <= 0) {
        this.i++;
        this.doctype = true;
        return;
      }
      this.i++;
    }
    this.fail("the DOCTYPE is never closed by '>'", offset);
  }
}
