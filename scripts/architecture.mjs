#!/usr/bin/env node
// The house rules, measured: import cycles among source files, imports that cross a boundary
// (a plugin or the edge reaching into core/app.ts, into core's internals instead of `hookline/plugin`,
// or into another plugin), and the size of core/ and of the largest files.
//
//   node scripts/architecture.mjs          # prints the figures; exit 1 when a rule is broken
//   node scripts/architecture.mjs --json   # the same as JSON (tests read it)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE_DIRS = ["core", "plugins", "adapters", "edge"];
/** What plugins/ and examples/ may import of core: the plugin surface and nothing deeper. */
const PLUGIN_SURFACE = ["core/plugin/index.ts"];
const MAX_LINES = 400;

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === "node_modules" || name === "dist") continue;
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|(?:^|\n)\s*import\s+"([^"]+)"/g;

function importsOf(file) {
  const text = readFileSync(file, "utf8");
  const specs = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    // Type-only imports still shape the design (a contract importing the app is a cycle in kind).
    if (spec.startsWith(".")) specs.push(resolve(dirname(file), spec));
  }
  return specs;
}

export function measure() {
  const files = SOURCE_DIRS.flatMap((d) => walk(join(root, d)));
  const exampleFiles = walk(join(root, "examples"));
  const rel = (f) => relative(root, f);
  const graph = new Map(files.map((f) => [rel(f), importsOf(f).map(rel)]));

  // Tarjan's strongly connected components: a component of more than one file is a cycle.
  let index = 0;
  const stack = [];
  const on = new Set();
  const idx = new Map();
  const low = new Map();
  const cycles = [];
  const strong = (v) => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) cycles.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);

  const crossings = [];
  const pluginOf = (f) => (f.startsWith("plugins/") ? f.split("/")[1] : undefined);
  const check = (from, to) => {
    if (to === "core/app.ts" && (from.startsWith("plugins/") || from.startsWith("edge/")))
      crossings.push({ from, to, rule: "imports the concrete app" });
    const p = pluginOf(from);
    const q = pluginOf(to);
    // plugins/defaults.ts lists the built-in plugins: it may import each one's entry, nothing deeper.
    if (p && q && p !== q && !(p === "defaults.ts" && to.endsWith("/index.ts")))
      crossings.push({ from, to, rule: "imports another plugin" });
    if (
      ((p && p !== "defaults.ts") || from.startsWith("examples/")) &&
      to.startsWith("core/") &&
      !PLUGIN_SURFACE.includes(to)
    )
      crossings.push({ from, to, rule: "imports core past hookline/plugin" });
  };
  for (const [from, tos] of graph) for (const to of tos) check(from, to);
  for (const f of exampleFiles) {
    if (!rel(f).startsWith("examples/custom-auth-plugin/")) continue;
    for (const to of importsOf(f).map(rel)) {
      // The example's runner starts an app: it may use the package's main entry and an adapter.
      if (to === "core/index.ts" || to.startsWith("adapters/") || to.startsWith("plugins/")) continue;
      check(rel(f), to);
    }
  }

  const lines = (f) => readFileSync(f, "utf8").split("\n").length - 1;
  const sizes = files.map((f) => ({ file: rel(f), lines: lines(f) })).sort((a, b) => b.lines - a.lines);
  const coreLines = sizes.filter((s) => s.file.startsWith("core/")).reduce((n, s) => n + s.lines, 0);
  const pluginLines = sizes.filter((s) => s.file.startsWith("plugins/")).reduce((n, s) => n + s.lines, 0);
  return {
    files: files.length,
    cycles,
    crossings,
    coreLines,
    pluginLines,
    largest: sizes[0],
    overLimit: sizes.filter((s) => s.lines > MAX_LINES),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const m = measure();
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(m, null, 2));
  } else {
    console.log(`source files: ${m.files}`);
    console.log(`import cycles: ${m.cycles.length}`);
    for (const c of m.cycles) console.log(`  cycle: ${c.join(" ↔ ")}`);
    console.log(`boundary crossings: ${m.crossings.length}`);
    for (const c of m.crossings.slice(0, 40)) console.log(`  ${c.from} → ${c.to} (${c.rule})`);
    if (m.crossings.length > 40) console.log(`  … ${m.crossings.length - 40} more`);
    console.log(`core lines: ${m.coreLines}`);
    console.log(`plugin lines: ${m.pluginLines}`);
    console.log(`largest file: ${m.largest.file} (${m.largest.lines} lines)`);
    console.log(
      `files over ${MAX_LINES} lines: ${m.overLimit.map((s) => `${s.file} (${s.lines})`).join(", ") || "none"}`,
    );
  }
  process.exitCode = m.cycles.length > 0 || m.crossings.length > 0 ? 1 : 0;
}
