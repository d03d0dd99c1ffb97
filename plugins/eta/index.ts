import { Eta } from "eta/core";
import {
  type CompiledTemplate,
  type Plugin,
  type Renderer,
  TemplateError,
  Tokens,
} from "../../core/plugin/index.ts";
import { etaCompileError, firstLines } from "./errors.ts";
import { form, json, xml } from "./helpers.ts";
import { etaParameters } from "./parameters.ts";

export { form, json, xml };

/**
 * Options Eta's compiled functions see: the helpers templates call as `json(…)`, `xml(…)` and `form(…)`.
 * Eta's render copies its options with `async: false` added on every call; made once here, the
 * compiled function is called with them as Eta's render would call it.
 */
const RENDER_OPTIONS = { json, xml, form, async: false } as const;

/**
 * Eta with payload-friendly settings: no HTML auto-escaping (payloads are JSON, text or XML; use
 * `json(v)` / `xml(v)` / `form({…})` to write values safely), helpers in scope.
 */
export function createEta(): Eta {
  return new Eta({
    autoEscape: false,
    functionHeader: "const json = options.json, xml = options.xml, form = options.form;",
  });
}

/**
 * The default renderer: Eta. Its templates are JavaScript, so it is trusted: only for templates that
 * ship with the deployment. `<%= it.customer.email %>` writes a value; `<%= json(it.customer) %>`
 * writes it as a JSON literal.
 *
 * @example const t = etaRenderer().compile('{"email": <%= json(it.customer.email) %>}', { name: "body" });
 */
export function etaRenderer(): Renderer {
  const eta = createEta();
  return {
    name: "eta",
    trusted: true,
    compile(source): CompiledTemplate {
      let fn: ReturnType<Eta["compile"]>;
      try {
        fn = eta.compile(source);
      } catch (e) {
        throw etaCompileError(eta, source, e);
      }
      return {
        render(context) {
          try {
            return fn.call(eta, context, RENDER_OPTIONS);
          } catch (e) {
            throw new TemplateError(firstLines((e as Error).message), { cause: e });
          }
        },
      };
    },
    parameters: (source) => etaParameters(eta, source),
  };
}

/**
 * The Eta renderer as a plugin (registered by default).
 *
 * @example createHookline({ plugins: [eta(), ...] })
 */
export const eta = (): Plugin => ({
  name: "eta",
  register(container) {
    container.register(Tokens.Renderer, { useValue: etaRenderer() });
  },
});
