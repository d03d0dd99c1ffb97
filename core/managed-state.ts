export * from "./store/integration-state.ts";
