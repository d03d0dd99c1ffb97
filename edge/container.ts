import type { InjectionToken } from "tsyringe";

type Provider = { useValue?: unknown } & Record<string, unknown>;

/**
 * The part of a DI container the edge's plugins use: values registered under the core's tokens, read
 * back as tsyringe reads them (`resolve`: the last registered; `resolveAll`: every one). Every
 * built-in plugin registers with `useValue`; tsyringe and reflect-metadata (~20 KB) would buy the
 * edge nothing more.
 *
 * @example
 * const { container } = pluginRegistry([basic(), etaPrecompiled(templates)], new ValueContainer() as never);
 * container.resolveAll(Tokens.Renderer) // [the precompiled Eta renderer]
 */
export class ValueContainer {
  private readonly values = new Map<unknown, unknown[]>();

  register<T>(token: InjectionToken<T>, provider: Provider): this {
    if (!("useValue" in provider))
      throw new Error(`the edge registers values only (useValue), not ${Object.keys(provider).join(", ")}`);
    const list = this.values.get(token) ?? [];
    list.push(provider.useValue);
    this.values.set(token, list);
    return this;
  }

  isRegistered<T>(token: InjectionToken<T>, _recursive?: boolean): boolean {
    return (this.values.get(token)?.length ?? 0) > 0;
  }

  resolve<T>(token: InjectionToken<T>): T {
    const list = this.values.get(token);
    if (!list?.length) throw new Error(`nothing is registered under ${String(token)}`);
    return list.at(-1) as T;
  }

  resolveAll<T>(token: InjectionToken<T>): T[] {
    return [...((this.values.get(token) as T[] | undefined) ?? [])];
  }
}
