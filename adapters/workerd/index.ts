export {
  type ExecutionContext,
  type Fetcher,
  type HyperdriveBinding,
  isFetcher,
  stringBindings,
  type WorkerEnv,
} from "./bindings.ts";
export { MtlsBindings, mtlsBindingName } from "./mtls.ts";
export { type WorkerdOptions, type WorkerdParts, workerdPlugins, workerdRuntime } from "./runtime.ts";
export { workerdTransport } from "./transport.ts";
