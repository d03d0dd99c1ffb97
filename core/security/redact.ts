const MASK = "[REDACTED]";

/**
 * Removes known secret values from text before it is logged, stored or answered. Integrations and
 * `${ENV}` substitutions register their values; values shorter than 4 characters are not matched
 * (they would mask ordinary text and hide little).
 *
 * @example
 * const r = new Redactor(); r.add(["s3cret-token"]);
 * r.redact("Bearer s3cret-token") // "Bearer [REDACTED]"
 */
export class Redactor {
  private values: string[] = [];

  add(values: Iterable<string>): void {
    for (const v of values) if (v && v.length >= 4 && !this.values.includes(v)) this.values.push(v);
    // Longest first, so a secret that contains another is masked whole.
    this.values.sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.values.length;
  }

  redact(text: string): string {
    let out = text;
    for (const v of this.values) if (out.includes(v)) out = out.split(v).join(MASK);
    return out;
  }

  /** Redacts every string inside a JSON-like value. */
  redactDeep<T>(value: T): T {
    if (this.values.length === 0) return value;
    if (typeof value === "string") return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactDeep(v)) as T;
    if (value && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactDeep(v);
      return out as T;
    }
    return value;
  }
}
