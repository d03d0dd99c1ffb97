export { main } from "./cli.ts";
export { type DenoNamespace, denoApi } from "./deno-api.ts";
export { assertDenoCapabilities, denoPlugins, denoRuntime, denoServe } from "./runtime.ts";
export { denoTransport, missingHttpClient, resolveWithDeno } from "./transport.ts";
