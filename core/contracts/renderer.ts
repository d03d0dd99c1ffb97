/** The data a template sees. Engines expose it in their own idiom (Eta: `it.customer.email`). */
export type TemplateContext = Record<string, unknown>;

/** A template compiled once and rendered many times. */
export interface CompiledTemplate {
  /** Renders to a string; throws `TemplateError` on a render-time fault. */
  render(context: TemplateContext): string;
}

/**
 * A template engine. `compile` runs at config load, so a syntax error is reported there (with the
 * line and column inside the template as a `TemplateError`), not at the first send.
 */
export interface Renderer {
  /** The name a webhook selects with `engine:` (e.g. "eta"). */
  readonly name: string;
  /**
   * True when templates are code (Eta): such templates may only come from files that ship with the
   * deployment, never from the admin API unless the operator opts in.
   */
  readonly trusted: boolean;
  compile(source: string, options: { name: string }): CompiledTemplate;
  /**
   * The template parameters a template reads (`it.params.campaign` in Eta → "campaign"), each once,
   * in order of first use; [] for a template that does not parse. Optional: without it, a webhook's
   * declared parameters are listed but none can be told unused.
   */
  parameters?(source: string): string[];
}
