export { main } from "./cli.ts";
export { bunRuntime, bunServe, bunTransportPlugin, type ConnectionInfo } from "./runtime.ts";
export { bunPinnedFetch, bunTlsFetch, bunTransport, resolveWithDns } from "./transport.ts";
