import type { DependencyContainer } from "tsyringe";

/**
 * A plugin is a plain object made by a factory: a `name` and a `register(container)` that registers
 * providers under the core's tokens. It never reaches into another plugin; the core never imports one.
 *
 * @example
 * export const basic = (): Plugin => ({
 *   name: "basic",
 *   register(c) { c.register(Tokens.AuthProvider, { useValue: basicProvider }) },
 * });
 */
export interface Plugin {
  readonly name: string;
  register(container: DependencyContainer): void;
}
