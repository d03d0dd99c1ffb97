/**
 * Build step for runtimes that forbid code generation (workerd): compiles the Eta templates of a
 * hookline.yaml into an ES module that `etaPrecompiled(templates)` renders.
 *
 *   bun scripts/precompile-eta.ts --config hookline.yaml --out edge/templates.mjs
 *
 * Templates are read as the server reads them, `${NAME}` references expanded from this process's
 * environment (a value baked in here must match the one the server sees, or that template is
 * reported as not precompiled at load).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { BUILTIN_PRESETS } from "../core/config/builtin-presets.ts";
import { expandDocumentEnv } from "../core/config/env.ts";
import { resolveWebhooks } from "../core/config/presets.ts";
import { DEFAULT_ENGINE } from "../core/config/templates.ts";
import { precompileEta } from "../plugins/eta/precompile.ts";

interface WebhookSources {
  engine?: unknown;
  url?: unknown;
  headers?: unknown;
  body?: unknown;
}

/**
 * The Eta templates (url, headers, body of every webhook whose engine is eta, the default) of a
 * config text, named by key path as `loadConfig` names them. Throws when the YAML does not parse or
 * a template references an environment variable that is not set.
 *
 * @example etaTemplatesOf("webhooks:\n  w:\n    url: https://x/<%= it.customer.id %>\n", {}) // { "webhooks.w.url": "https://x/<%= it.customer.id %>" }
 */
export function etaTemplatesOf(
  text: string,
  env: Record<string, string | undefined>,
): Record<string, string> {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new Error(`the config does not parse: ${doc.errors[0]!.message}`);
  const { missing } = expandDocumentEnv(doc, env);
  const inTemplates = missing.filter((m) => m.path[0] === "webhooks" || m.path[0] === "presets");
  if (inTemplates.length > 0) {
    throw new Error(
      inTemplates.map((m) => `${m.path.join(".")}: environment variable ${m.name} is not set`).join("\n"),
    );
  }
  const file = doc.toJS() as { presets?: unknown; webhooks?: unknown } | null;
  // A webhook's templates may come from the preset it extends (a built-in one too): read them merged, as the loader does.
  const webhooks = resolveWebhooks(file?.presets, file?.webhooks, BUILTIN_PRESETS).webhooks as Record<
    string,
    WebhookSources
  >;
  const templates: Record<string, string> = {};
  for (const [name, w] of Object.entries(webhooks)) {
    if ((w.engine ?? DEFAULT_ENGINE) !== "eta") continue;
    if (typeof w.url === "string") templates[`webhooks.${name}.url`] = w.url;
    if (typeof w.headers === "object" && w.headers !== null) {
      for (const [header, value] of Object.entries(w.headers)) {
        if (typeof value === "string") templates[`webhooks.${name}.headers.${header}`] = value;
      }
    }
    if (typeof w.body === "string") templates[`webhooks.${name}.body`] = w.body;
  }
  return templates;
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
}

async function main(argv: string[]): Promise<number> {
  const config = option(argv, "--config");
  const out = option(argv, "--out");
  if (!config || !out) {
    console.error("usage: bun scripts/precompile-eta.ts --config hookline.yaml --out templates.mjs");
    return 2;
  }
  const templates = etaTemplatesOf(await readFile(config, "utf8"), process.env);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, precompileEta(templates));
  console.error(`${Object.keys(templates).length} Eta templates from ${config} → ${out}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error((e as Error).message);
      process.exitCode = 1;
    },
  );
}
