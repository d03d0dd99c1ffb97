/**
 * Writes a value as a JSON literal that cannot break out of a JSON, HTML or XML payload: `<`, `>`
 * and `&` become `\u003c` … (the same value once parsed).
 *
 * @example json('say "hi"</script>') // "\"say \\\"hi\\\"\\u003c/script\\u003e\""
 */
export function json(value: unknown): string {
  const s = JSON.stringify(value === undefined ? null : value);
  return s.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/**
 * Escapes a value for XML text or attribute content.
 *
 * @example xml("a < b & c") // "a &lt; b &amp; c"
 */
export function xml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}
