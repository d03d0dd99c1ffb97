export { main } from "./cli.ts";
export { type DenoNamespace, denoApi } from "./deno-api.ts";
export { denoPlugins, denoRuntime, denoServe } from "./runtime.ts";
export { type DenoTransportOptions, denoTransport } from "./transport.ts";
