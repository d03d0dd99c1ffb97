/**
 * Builds the edge worker (edge/worker.ts) for workerd: checks a hookline.yaml with the full loader and
 * embeds its data (no YAML parser in the worker; `${NAME}` references are left for the Worker's
 * bindings; the built-in presets it extends written into its `presets:`), precompiles its Eta templates (workerd forbids code generation), imports only the
 * renderers and authentication kinds it names, bundles with esbuild and reports the size.
 *
 *   npm run build:edge -- --config examples/cloudflare-worker-inbound/hookline.yaml [--out edge/dist]
 *
 * Prints `name: value` lines (bundle size minified and gzipped, the largest packages) and writes
 * `<out>/worker.js` and `<out>/size.json`. `${NAME}` references in templates are expanded from this
 * process's environment (they must match the Worker's); elsewhere they are read from the Worker's
 * bindings when it starts.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Plugin as EsbuildPlugin, type Metafile } from "esbuild";
import { parseDocument } from "yaml";
import { BUILTIN_PRESETS, withBuiltinPresets } from "../core/config/builtin-presets.ts";
import { resolveWebhooks } from "../core/config/presets.ts";
import { DEFAULT_ENGINE } from "../core/config/templates.ts";
import type { Plugin } from "../core/contracts/plugin.ts";
import { ErrorCodes } from "../core/error-codes.ts";
import { embedConfig } from "../edge/embed.ts";
import { precompileEta } from "../plugins/eta/precompile.ts";
import { etaTemplatesOf } from "./precompile-eta.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Renderers the edge can carry (Eta is always there, precompiled), by engine name. */
const RENDERERS: Record<string, { module: string; factory: string }> = {
  velocity: { module: "plugins/velocity/index.ts", factory: "velocity" },
  jinja: { module: "plugins/jinja/index.ts", factory: "jinja" },
  mustache: { module: "plugins/mustache/index.ts", factory: "mustache" },
};
/** Authentication kinds, by `kind`. */
const AUTH_KINDS: Record<string, { module: string; factory: string }> = {
  basic: { module: "plugins/basic/index.ts", factory: "basic" },
  headers: { module: "plugins/headers/index.ts", factory: "headers" },
  oauth2: { module: "plugins/oauth2/index.ts", factory: "oauth2" },
  responsys: { module: "plugins/responsys/index.ts", factory: "responsys" },
  mtls: { module: "plugins/mtls/index.ts", factory: "mtls" },
  apikey: { module: "plugins/apikey/index.ts", factory: "apikey" },
  bearer: { module: "plugins/bearer/index.ts", factory: "bearer" },
  signature: { module: "plugins/signature/index.ts", factory: "signature" },
};

export interface EdgeBuildOptions {
  /** hookline.yaml for the worker. */
  config: string;
  /** Output folder (default edge/dist). */
  out?: string;
  minify?: boolean;
  /** The environment `${NAME}` in templates expands from (default: this process's). */
  env?: Record<string, string | undefined>;
  /**
   * Carry JWT verification (jose) even when no endpoint of the config verifies JWTs, for bearer
   * endpoints with `jwks` defined through the admin API (default: only when the config has one).
   */
  jwt?: boolean;
}

export interface EdgeBuildResult {
  file: string;
  bytes: number;
  gzipBytes: number;
  /** Bytes in the bundle per npm package (or `hookline` for this repository's own code), largest first. */
  packages: Array<{ name: string; bytes: number }>;
  renderers: string[];
  authKinds: string[];
  templates: number;
  /** Whether JWT verification (jose) is in the bundle. */
  jwt: boolean;
}

/**
 * The Eta templates of a config as the loader compiles them: url, headers and body (as
 * `etaTemplatesOf` finds them) plus a batch webhook's `batch.item` and `orderingKey`.
 *
 * @example edgeTemplates(text, process.env)["webhooks.w.batch.item"]
 */
export function edgeTemplates(text: string, env: Record<string, string | undefined>): Record<string, string> {
  const templates = etaTemplatesOf(text, env);
  const file = parseDocument(text).toJS() as { presets?: unknown; webhooks?: unknown } | null;
  const webhooks = resolveWebhooks(file?.presets, file?.webhooks, BUILTIN_PRESETS).webhooks as Record<
    string,
    { engine?: string; batch?: { item?: unknown }; orderingKey?: unknown }
  >;
  for (const [name, w] of Object.entries(webhooks)) {
    if ((w.engine ?? DEFAULT_ENGINE) !== "eta") continue;
    if (typeof w.batch?.item === "string") templates[`webhooks.${name}.batch.item`] = w.batch.item;
    if (typeof w.orderingKey === "string") templates[`webhooks.${name}.orderingKey`] = w.orderingKey;
  }
  return templates;
}

/** The renderers and authentication kinds a config names; unknown ones are an error naming them. */
function pluginsOf(text: string): { renderers: string[]; authKinds: string[] } {
  const file = (parseDocument(text).toJS() ?? {}) as {
    presets?: Record<string, { engine?: unknown }>;
    webhooks?: Record<string, { engine?: unknown }>;
    integrations?: Record<string, { kind?: unknown }>;
  };
  const engines = new Set<string>();
  for (const w of [...Object.values(file.webhooks ?? {}), ...Object.values(file.presets ?? {})]) {
    if (typeof w?.engine === "string" && w.engine !== "eta") engines.add(w.engine);
  }
  const kinds = new Set<string>();
  for (const i of Object.values(file.integrations ?? {})) if (typeof i?.kind === "string") kinds.add(i.kind);
  const unknown = [
    ...[...engines].filter((e) => !RENDERERS[e]).map((e) => `engine "${e}"`),
    ...[...kinds].filter((k) => !AUTH_KINDS[k]).map((k) => `integration kind "${k}"`),
  ];
  if (unknown.length > 0)
    throw new Error(
      `the edge build carries the built-in plugins only; this config names ${unknown.join(", ")} (known engines: eta, ${Object.keys(RENDERERS).join(", ")}; kinds: ${Object.keys(AUTH_KINDS).join(", ")})`,
    );
  return { renderers: [...engines].sort(), authKinds: [...kinds].sort() };
}

/** Serves the `hookline:edge/*` modules edge/worker.ts imports. */
function buildModules(modules: Record<string, string>): EsbuildPlugin {
  return {
    name: "hookline-edge-modules",
    setup(b) {
      b.onResolve({ filter: /^hookline:edge\// }, (args) => ({
        path: args.path,
        namespace: "hookline-edge",
      }));
      b.onLoad({ filter: /.*/, namespace: "hookline-edge" }, (args) => ({
        contents: modules[args.path],
        loader: "js",
        resolveDir: root,
      }));
    },
  };
}

/**
 * Substitutions that keep the bundle small without changing behaviour: `zod` is classic zod's API
 * over zod/mini (edge/zod-classic.ts: the same engine; classic zod cannot be tree-shaken, ~190 KB);
 * zod's fifty locales are English only (~300 KB; only English is used); yaml is marked free of import
 * side effects (it is), so that a loader module importing it for functions the worker never calls
 * does not bring its ~30 KB along; without `jwt`, jose (~18 KB) is edge/jose-absent.ts; and the error
 * catalogue (core/error-codes.ts) keeps its codes and statuses but not its summaries (~7 KB of
 * documentation no code reads at run time: `ErrorCodes[code].summary` is "" in the worker); and
 * postgres.js's logical replication (`sql.subscribe`) and large objects (`sql.largeObject`), which
 * hookline never calls, are stubs that refuse (~5 KB); and the inbound plugin's admin routes
 * (plugins/inbound/admin-routes.ts, with their validator) are left out: the worker serves receivers
 * through `HttpRoutes.receive` and mounts nothing (~6 KB), and so are its console pages and the
 * profile reader the console uses (~1 KB); and the SQL of the store's modules and
 * the plugins' repositories loses its comment lines and indentation (the statements are the same,
 * split where they were; ~6 KB); and the migrations keep their versions and names but not their SQL,
 * since the worker checks the schema and never migrates (~13 KB); and the config schemas' `.describe("…")` texts, which
 * only the JSON Schema and the docs read (~3 KB).
 *
 * @example await build({ entryPoints, bundle: true, plugins: [edgeSubstitutions({ jwt: false })] })
 */
export const edgeSubstitutions = (o: { jwt: boolean }): EsbuildPlugin => ({
  name: "hookline-edge-substitutions",
  setup(b) {
    if (!o.jwt) b.onResolve({ filter: /^jose$/ }, () => ({ path: join(root, "edge", "jose-absent.ts") }));
    b.onLoad({ filter: /[\\/]core[\\/]error-codes\.ts$/ }, () => ({
      contents: `const statuses = ${JSON.stringify(
        Object.fromEntries(Object.entries(ErrorCodes).map(([code, { status }]) => [code, status])),
      )};
export const ErrorCodes = Object.fromEntries(
  Object.entries(statuses).map(([code, status]) => [code, { status, summary: "" }]),
);`,
      loader: "js",
    }));
    b.onResolve({ filter: /^\.\/(subscribe|large)\.js$/ }, (args) =>
      /postgres[\\/]cf[\\/]src[\\/]index\.js$/.test(args.importer)
        ? { path: args.path.slice(2, -3), namespace: "hookline-absent" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "hookline-absent" }, (args) => ({
      contents:
        args.path === "subscribe"
          ? 'export default () => () => Promise.reject(new Error("sql.subscribe (logical replication) is not in the edge build"));'
          : 'export default () => Promise.reject(new Error("sql.largeObject is not in the edge build"));',
      loader: "js",
    }));
    // Config schemas: their descriptions are for the JSON Schema and the docs, not read at run time.
    b.onLoad(
      { filter: /[\\/](core[\\/]config[\\/]schema|plugins[\\/][^\\/]+[\\/]config)\.ts$/ },
      async (args) => ({
        contents: (await readFile(args.path, "utf8")).replace(
          /\.describe\(\s*"(?:[^"\\]|\\.)*"\s*,?\s*\)/g,
          "",
        ),
        loader: "ts",
      }),
    );
    // SQL modules: a template literal keeps its indentation through minifying; SQL does not need it.
    b.onLoad(
      {
        filter:
          /[\\/](core[\\/]store[\\/][^\\/]+|plugins[\\/][^\\/]+[\\/](migrations|[a-z-]*repository))\.ts$/,
      },
      async (args) => {
        const text = await readFile(args.path, "utf8");
        // The worker checks the schema and never migrates (edge/compose.ts): a migration is its version
        // and name there, without its SQL.
        const source = /[\\/]migrations\.ts$/.test(args.path)
          ? text.replace(/\bsql:\s*`(?:[^`\\]|\\.)*`/g, 'sql: ""')
          : text;
        return {
          contents: source.replace(/^[ \t]*--.*\n/gm, "").replace(/\n[ \t]+/g, "\n"),
          loader: "ts",
        };
      },
    );
    b.onLoad({ filter: /[\\/]plugins[\\/]inbound[\\/]admin-routes\.ts$/ }, () => ({
      contents:
        'export const mountAdmin = () => { throw new Error("the edge build serves receivers only: no admin routes"); };',
      loader: "js",
    }));
    // The core's window on stored profiles serves the console's test panel and `fire` by email, which
    // the worker has neither of: it finds no profile.
    b.onLoad({ filter: /[\\/]plugins[\\/]inbound[\\/]profile-reader\.ts$/ }, () => ({
      contents: "export const profileReader = { customer: async () => undefined };",
      loader: "js",
    }));
    // Segment sends start on the servers (admin API, schedules) and their jobs run there: the worker
    // neither starts one nor works one.
    b.onLoad({ filter: /[\\/]plugins[\\/]inbound[\\/]segments[\\/]send\.ts$/ }, () => ({
      contents: "export const segmentMembers = { members: async () => undefined };",
      loader: "js",
    }));
    // Segment filters are checked where they are written: the config file by the full loader when the
    // build embeds it, an admin-API segment when it is stored. The worker only applies them
    // (condition.ts, evaluate.ts), without the schema that checks them (~4 KB).
    b.onLoad({ filter: /[\\/]plugins[\\/]inbound[\\/]segments[\\/]filter\.ts$/ }, (args) => ({
      contents:
        'export { conditionOf, PROPERTY_OPERATORS } from "./condition.ts"; import { z } from "zod"; export const SegmentFilter = z.unknown(); export const CheckedFilter = SegmentFilter; export const checkFilter = (filter) => ({ ok: true, filter });',
      loader: "js",
      resolveDir: dirname(args.path),
    }));
    // The worker starts no services, and records no delivery outcomes (it sends nothing), so no
    // observer runs there: response mapping keeps only what the config check reads (what it provides).
    b.onLoad({ filter: /[\\/]plugins[\\/]inbound[\\/]segments[\\/]startup-check\.ts$/ }, () => ({
      contents: 'export const segmentTriggersCheck = { name: "segment triggers", start() {} };',
      loader: "js",
    }));
    // Consent is checked as a worker sends, and the worker sends nothing.
    b.onLoad({ filter: /[\\/]plugins[\\/]inbound[\\/]consent-check\.ts$/ }, () => ({
      contents: "export const consentCheck = { granted: async () => new Set() };",
      loader: "js",
    }));
    b.onLoad({ filter: /[\\/]plugins[\\/]inbound[\\/]response-mapping\.ts$/ }, () => ({
      contents:
        'export const responseMapping = { name: "response-mapping", provides: ["profiles"], accepts: () => false, observe: async () => {} };',
      loader: "js",
    }));
    b.onLoad({ filter: /[\\/]core[\\/]store[\\/]fan-out\.ts$/ }, () => ({
      contents:
        'const refuse = () => { throw new Error("the edge build runs no segment sends"); }; export const FAN_OUT_PAGE = 0; export const fanOutPage = refuse; export class SqlFanOut { startFanOut() { refuse(); } }',
      loader: "js",
    }));
    b.onLoad({ filter: /[\\/]plugins[\\/]inbound[\\/]console\.tsx$/ }, () => ({
      contents:
        'export const inboundConsole = () => { throw new Error("the edge build serves receivers only: no console"); }; export const countRefusals = inboundConsole;',
      loader: "js",
    }));
    b.onResolve({ filter: /^zod$/ }, () => ({ path: join(root, "edge", "zod-classic.ts") }));
    b.onResolve({ filter: /^yaml$/ }, async (args) => {
      if (args.pluginData === "yaml") return undefined;
      const found = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: "yaml",
      });
      return { ...found, sideEffects: false };
    });
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${"/"}zod${"/"}`)
        ? {
            path: join(dirname(args.importer), args.path.replace(/index\.js$/, "english-only.js")),
            namespace: "hookline-trim",
          }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "hookline-trim" }, (args) => ({
      contents: 'export { default as en } from "./en.js";',
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
});

/** Whether an inbound endpoint of the config verifies JWTs (a bearer endpoint with `jwks`). */
function verifiesJwts(data: unknown): boolean {
  const endpoints = (data as { inbound?: { endpoints?: Record<string, { auth?: unknown }> } } | null)?.inbound
    ?.endpoints;
  return Object.values(endpoints ?? {}).some((e) => {
    const auth = e?.auth as { kind?: unknown; jwks?: unknown } | undefined;
    return auth?.kind === "bearer" && auth.jwks !== undefined;
  });
}

function packageSizes(metafile: Metafile): Array<{ name: string; bytes: number }> {
  const sizes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = m ? m[1]! : input.startsWith("hookline-edge:") ? "(build-time modules)" : "hookline";
      sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * Builds the edge worker bundle for one config.
 *
 * @example const r = await buildEdge({ config: "examples/cloudflare-worker-inbound/hookline.yaml" }); r.bytes
 */
export async function buildEdge(options: EdgeBuildOptions): Promise<EdgeBuildResult> {
  const text = await readFile(options.config, "utf8");
  const out = resolve(options.out ?? join(root, "edge", "dist"));
  const { renderers, authKinds } = pluginsOf(text);
  const templates = edgeTemplates(text, options.env ?? process.env);
  const chosen = [...renderers.map((r) => RENDERERS[r]!), ...authKinds.map((k) => AUTH_KINDS[k]!)];
  // The config is checked here, with the plugins the worker will carry, and embedded as data.
  const plugins: Plugin[] = [];
  for (const p of chosen) plugins.push((await import(join(root, p.module)))[p.factory]());
  // The built-in presets the config extends are embedded as its own presets: the worker's loader
  // carries no gallery (core/config/builtin-presets.ts stays out of the bundle).
  const checked = embedConfig(text, basename(options.config), plugins);
  const embedded = { ...checked, data: withBuiltinPresets(checked.data) };
  const jwt = options.jwt === true || verifiesJwts(embedded.data);
  const modules = {
    "hookline:edge/config": `export default ${JSON.stringify(embedded)};`,
    "hookline:edge/templates": precompileEta(templates),
    "hookline:edge/plugins": [
      ...chosen.map((p) => `import { ${p.factory} } from ${JSON.stringify(`./${p.module}`)};`),
      `export default [${chosen.map((p) => `${p.factory}()`).join(", ")}];`,
    ].join("\n"),
  };
  await mkdir(out, { recursive: true });
  const file = join(out, "worker.js");
  const result = await build({
    entryPoints: [join(root, "edge", "worker.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // workerd's own entries of packages that have them (postgres.js), and no Node-only defaults (eta/core).
    conditions: ["workerd", "worker", "browser"],
    // Given by workerd itself: TCP sockets, and the Node APIs of the nodejs_compat flag.
    external: ["cloudflare:*", "node:*"],
    minify: options.minify !== false,
    legalComments: "none",
    metafile: true,
    outfile: file,
    plugins: [buildModules(modules), edgeSubstitutions({ jwt })],
    logLevel: "warning",
  });
  const bundle = await readFile(file);
  const report: EdgeBuildResult = {
    file: relative(process.cwd(), file),
    bytes: bundle.byteLength,
    gzipBytes: gzipSync(bundle, { level: 9 }).byteLength,
    packages: packageSizes(result.metafile),
    renderers: ["eta (precompiled)", ...renderers],
    authKinds,
    templates: Object.keys(templates).length,
    jwt,
  };
  await writeFile(join(out, "size.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(out, "meta.json"), JSON.stringify(result.metafile));
  return report;
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

async function main(argv: string[]): Promise<number> {
  const config =
    option(argv, "--config") ?? join(root, "examples", "cloudflare-worker-inbound", "hookline.yaml");
  const r = await buildEdge({
    config,
    out: option(argv, "--out"),
    minify: !argv.includes("--no-minify"),
    jwt: argv.includes("--jwt"),
  });
  console.log(`edge bundle: ${r.file}`);
  console.log(`edge bundle minified: ${kb(r.bytes)} (${r.bytes} bytes; goal < 250 KB)`);
  console.log(`edge bundle gzipped: ${kb(r.gzipBytes)} (${r.gzipBytes} bytes)`);
  console.log(`edge templates precompiled: ${r.templates}`);
  console.log(`edge plugins: ${[...r.renderers, ...r.authKinds].join(", ")}`);
  console.log(
    `edge JWT verification: ${r.jwt ? "yes (jose)" : "no (no endpoint verifies JWTs; --jwt adds it)"}`,
  );
  for (const p of r.packages.slice(0, 12)) console.log(`edge package ${p.name}: ${kb(p.bytes)}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`build:edge: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
