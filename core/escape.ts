/**
 * Escaping shared by every renderer plugin: a plugin may not import another plugin, so the one
 * definition of "JSON-safe" and "XML-safe" lives here and each engine exposes it in its own idiom
 * (Eta `json(v)`, Jinja `|tojson`, Velocity `$esc.json($v)`, Mustache `{{#json}}…{{/json}}`).
 */

const UNSAFE_IN_JSON = /[<>&\u2028\u2029]/g;
const HAS_UNSAFE_IN_JSON = /[<>&\u2028\u2029]/;

/**
 * Writes a value as a JSON literal that cannot break out of a JSON, HTML or XML payload: `<`, `>`,
 * `&`, U+2028 and U+2029 become `\uXXXX` escapes (the same value once parsed). `undefined` and
 * values JSON cannot represent (functions, symbols) are written as `null`.
 *
 * @example jsonLiteral('say "hi"</script>') // "\"say \\\"hi\\\"\\u003c/script\\u003e\""
 */
export function jsonLiteral(value: unknown): string {
  const s = JSON.stringify(value === undefined ? null : value) as string | undefined;
  if (s === undefined) return "null";
  // Most values hold none of these: testing first spares the replace its scan and copy.
  if (!HAS_UNSAFE_IN_JSON.test(s)) return s;
  return s.replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/**
 * Escapes a value for XML text or attribute content (`null`/`undefined` write nothing).
 *
 * @example xmlEscape("a < b & c") // "a &lt; b &amp; c"
 */
export function xmlEscape(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}
