import { type ConfigRegistry, type ConfigSource, checkConfig } from "../core/config/check.ts";
import { expandDataEnv, unsetVariable } from "../core/config/env.ts";
import type { KeyPath, Position } from "../core/config/positions.ts";
import type { HooklineConfig } from "../core/config/schema.ts";
import type { ConfigIssue } from "../core/errors.ts";

/**
 * A hookline.yaml as the edge build embeds it: its data, `${NAME}` references as written (the build
 * has checked everything else, with lines and columns), and where each string that holds one is
 * written, so that what the Worker's bindings make wrong is reported at its line.
 */
export interface EmbeddedConfig {
  file: string;
  data: unknown;
  /** Dotted key path → [line, column] of each string that reads the environment. */
  positions: Record<string, [number, number]>;
}

/**
 * Loads the embedded config with the Worker's bindings: expands `${NAME}` (a variable that is not set
 * is an issue, as in `loadConfig`), then runs the loader's checks (`checkConfig`) on the result, so
 * that a secret is held to its field's rules (`whsec_…`, non-empty) as on the servers. Throws a
 * `ConfigError`.
 *
 * @example const config = edgeConfig(embedded, stringBindings(env), registry);
 */
export function edgeConfig(
  embedded: EmbeddedConfig,
  env: Record<string, string | undefined>,
  registry: ConfigRegistry,
): HooklineConfig {
  const { file, positions } = embedded;
  const expansion = expandDataEnv(embedded.data, env);
  const data = expansion.data ?? {};
  const unset = new Set(expansion.missing.map((m) => m.path.join(".")));
  const at = (dotted: string): Position => {
    const [line, column] = positions[dotted] ?? nearest(positions, dotted) ?? [1, 1];
    return { line, column };
  };
  const issues: ConfigIssue[] = expansion.missing.map((m) => {
    const path = m.path.join(".");
    return { file, ...at(path), path, message: unsetVariable(m.name) };
  });
  const source: ConfigSource = {
    file,
    data,
    envValues: expansion.values,
    locate(path) {
      const written = writtenPart(data, path).join(".");
      return { position: at(written), unset: unset.has(written) };
    },
    fromEnv: (path) => expansion.fromEnv.has(path.join(".")),
    inTemplate: (path) => at(path.join(".")),
  };
  return checkConfig(source, registry, issues);
}

/** The longest part of `path` that exists in `data`: an issue about a missing key points at its parent. */
function writtenPart(data: unknown, path: KeyPath): KeyPath {
  let node = data;
  for (let i = 0; i < path.length; i++) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, path[i]!)) return path.slice(0, i);
    node = (node as Record<string | number, unknown>)[path[i]!];
  }
  return path;
}

/** The position of the closest recorded ancestor, else of the first recorded string below `dotted`. */
function nearest(positions: EmbeddedConfig["positions"], dotted: string): [number, number] | undefined {
  let best: string | undefined;
  for (const p of Object.keys(positions)) {
    const above = dotted.startsWith(`${p}.`) && (!best || p.length > best.length);
    if (above) best = p;
  }
  if (best) return positions[best];
  const below = Object.keys(positions).find((p) => dotted === "" || p.startsWith(`${dotted}.`));
  return below ? positions[below] : undefined;
}
