export { main } from "./cli.ts";
export { nodeRuntime, nodeTransportPlugin } from "./runtime.ts";
export { nodeTransport } from "./transport.ts";
