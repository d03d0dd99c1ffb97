import { jsonLiteral, xmlEscape } from "../../core/plugin/index.ts";

/**
 * Writes a value as a JSON literal that cannot break out of a JSON, HTML or XML payload: `<`, `>`
 * and `&` become `\u003c` … (the same value once parsed). The one definition is `core/escape.ts`,
 * shared with the other renderers.
 *
 * @example json('say "hi"</script>') // "\"say \\\"hi\\\"\\u003c/script\\u003e\""
 */
export const json: (value: unknown) => string = jsonLiteral;

/**
 * Escapes a value for XML text or attribute content.
 *
 * @example xml("a < b & c") // "a &lt; b &amp; c"
 */
export const xml: (value: unknown) => string = xmlEscape;

/**
 * Writes fields as an `application/x-www-form-urlencoded` body (the WHATWG URL standard's encoding,
 * as a browser's form sends it): a list repeats its key, `null` and `undefined` are left out, an
 * object is written as JSON. For webhooks with `format: text` and a
 * `Content-Type: application/x-www-form-urlencoded` header.
 *
 * @example form({ To: "+15558675310", Body: "Hi & bye", Skip: undefined }) // "To=%2B15558675310&Body=Hi+%26+bye"
 */
export function form(fields: Record<string, unknown>): string {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(fields ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one === undefined || one === null) continue;
      out.append(key, typeof one === "object" ? JSON.stringify(one) : String(one));
    }
  }
  return out.toString();
}
