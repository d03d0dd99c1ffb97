// Modules that scripts/build-edge.ts generates at build time (esbuild plugin), typed for tsc.
declare module "hookline:edge/config" {
  import type { EmbeddedConfig } from "./config.ts";

  const config: EmbeddedConfig;
  export default config;
}
declare module "hookline:edge/templates" {
  import type { TemplateFn } from "../plugins/eta/precompile.ts";

  const templates: Readonly<Record<string, TemplateFn>>;
  export default templates;
}
declare module "hookline:edge/plugins" {
  import type { Plugin } from "../core/contracts/plugin.ts";

  const plugins: Plugin[];
  export default plugins;
}
