import { LineCounter, parseDocument } from "yaml";
import { expandDocumentEnv, unsetVariable } from "../core/config/env.ts";
import { loadConfig } from "../core/config/load.ts";
import { SourceMap } from "../core/config/positions.ts";
import type { Plugin } from "../core/contracts/plugin.ts";
import { ConfigError } from "../core/errors.ts";
import { eta } from "../plugins/eta/index.ts";
import { inboundParts } from "./compose.ts";
import type { EmbeddedConfig } from "./config.ts";

/**
 * The build's half of the edge config: checks a hookline.yaml with the full loader (lines, columns,
 * every issue at once) against the parts the worker composes, then returns its data for embedding.
 * `${NAME}` references stay as written — secrets never enter the bundle — and everything that reads
 * one is checked again when the worker starts, with the Worker's bindings (`edgeConfig`). Throws the
 * loader's `ConfigError`, less the references it leaves for the worker.
 *
 * @example const embedded = embedConfig(await readFile("hookline.yaml", "utf8"), "hookline.yaml", [basic()]);
 */
export function embedConfig(text: string, file: string, plugins: readonly Plugin[]): EmbeddedConfig {
  const { registry } = inboundParts([eta(), ...plugins]);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  // The data before expansion: the worker expands it (`$${` escapes included) with its bindings.
  const data = doc.errors.length > 0 ? {} : (doc.toJS() ?? {});
  const references = expandDocumentEnv(doc, {}).missing;
  const left = new Set(references.map((r) => `${r.path.join(".")}\u0000${unsetVariable(r.name)}`));
  try {
    loadConfig(text, { file, env: {}, registry });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const issues = e.issues.filter((i) => !left.has(`${i.path}\u0000${i.message}`));
    if (issues.length > 0) throw new ConfigError(issues);
  }
  const map = new SourceMap(doc, lineCounter, text);
  const positions: EmbeddedConfig["positions"] = {};
  for (const r of references) {
    const at = map.inScalar(r.node, r.line, r.column);
    positions[r.path.join(".")] ??= [at.line, at.column];
  }
  return { file, data, positions };
}
