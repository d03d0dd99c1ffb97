import { z } from "zod";
import { type ConfigRegistry, loadConfig } from "../../../core/config/load.ts";
import type { AuthProvider } from "../../../core/contracts/auth.ts";
import type { ConfigSection } from "../../../core/contracts/config-section.ts";
import type { Renderer } from "../../../core/contracts/renderer.ts";
import type { TriggerKind } from "../../../core/contracts/trigger.ts";
import { ConfigError, TemplateError } from "../../../core/errors.ts";

/** An HTTP Basic-like kind: username and password, nothing else. */
export const basic: AuthProvider<{ username: string; password: string }> = {
  kind: "basic",
  schema: z.object({ username: z.string(), password: z.string() }).strict(),
  create: (o) => ({ secrets: () => [o.password], authorize: (r) => r }),
};

/** A kind with a nested option, to see paths below the integration. */
export const headers: AuthProvider<{ headers: { name: string; value: string }[] }> = {
  kind: "headers",
  schema: z.object({ headers: z.array(z.object({ name: z.string(), value: z.string() }).strict()) }).strict(),
  create: () => ({ secrets: () => [], authorize: (r) => r }),
};

export const eventTrigger: TriggerKind<{ event: string }> = {
  kind: "event",
  schema: z.object({ event: z.string() }).strict(),
  create: (_o, common) => ({ webhooks: common.webhooks }),
};

export const scheduleTrigger: TriggerKind<{ every: number }> = {
  kind: "schedule",
  schema: z.object({ every: z.number().int().positive() }).strict(),
  create: (_o, common) => ({ webhooks: common.webhooks }),
};

/** A plugin's `inbound:` section. */
export const inboundSection: ConfigSection<{ path: string; maxBytes: number } | undefined> = {
  key: "inbound",
  schema: z
    .object({ path: z.string().startsWith("/"), maxBytes: z.number().int().default(1024) })
    .strict()
    .optional(),
};

/**
 * A renderer that "compiles" anything except `<%!`, which it rejects with the line and column of
 * that marker inside the template, as real engines report syntax errors.
 */
export function fakeRenderer(name: string): Renderer & { compiled: string[] } {
  const compiled: string[] = [];
  return {
    name,
    trusted: true,
    compiled,
    compile(source, options) {
      const at = source.indexOf("<%!");
      if (at >= 0) {
        const before = source.slice(0, at);
        const line = before.split("\n").length;
        const column = at - before.lastIndexOf("\n");
        throw new TemplateError(`unexpected "<%!" in ${options.name}`, { line, column });
      }
      compiled.push(options.name);
      return { render: () => source };
    },
  };
}

export function registry(overrides: Partial<ConfigRegistry> = {}): ConfigRegistry {
  return {
    authProviders: [basic, headers],
    triggerKinds: [eventTrigger, scheduleTrigger],
    sections: [inboundSection],
    renderers: [fakeRenderer("eta"), fakeRenderer("velocity")],
    ...overrides,
  };
}

/** Loads `text` as `hookline.yaml` and returns the ConfigError it must throw. */
export function loadError(
  text: string,
  env: Record<string, string | undefined> = {},
  reg = registry(),
): ConfigError {
  try {
    loadConfig(text, { file: "hookline.yaml", env, registry: reg });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected loadConfig to throw a ConfigError");
}

/** Strips the common indentation of a template literal, so that YAML in tests reads naturally. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  // Cooked strings, so that a test writes `\${NAME}` for a literal `${NAME}`.
  const text = strings
    .reduce((all, s, i) => all + s + (i < values.length ? String(values[i]) : ""), "")
    .replace(/^\n/, "");
  const indent = Math.min(
    ...text
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => l.length - l.trimStart().length),
  );
  return text
    .split("\n")
    .map((l) => l.slice(indent))
    .join("\n");
}
