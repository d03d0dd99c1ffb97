/**
 * A body's size in UTF-8 bytes and a fast hash of it: what a successful attempt keeps instead of the
 * body (an attempt log that copied every delivered body would write it twice to the store). The hash is
 * cyrb53 — 53 bits, not cryptographic: it tells a re-rendered body from the one sent, nothing more.
 *
 * @example bodyFingerprint('{"a":1}') // { bodyBytes: 7, bodyHash: "cyrb53:…" }
 */
export function bodyFingerprint(body: string): { bodyBytes: number; bodyHash: string } {
  return { bodyBytes: utf8Length(body), bodyHash: `cyrb53:${cyrb53(body).toString(16).padStart(14, "0")}` };
}

/** Bytes of a string in UTF-8, counted without encoding it (a lone surrogate counts 3, as it encodes). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** cyrb53 (bryc, public domain) over UTF-16 code units: 53 well-mixed bits. */
function cyrb53(s: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
