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
