import { getAttr, isPlainObject, JinjaFunction, JinjaValue, toText } from "./values.ts";

/** One earlier response of a scenario, as the engine passes it in `context.responses`. */
export interface ScenarioResponse {
  /** The action (step) id, for `webhook.by_action_id(id)`. */
  actionId?: string;
  /** The webhook's name. */
  name?: string;
  /** The parsed JSON body, or the text of a TEXT response. */
  data: unknown;
}

/**
 * One response as a template reads it: a JSON object's keys are its attributes (`webhook.promo`),
 * and `.data` is the whole body: the text of a TEXT response, or the parsed JSON when the object
 * has no `data` key of its own.
 */
class ResponseView extends JinjaValue {
  constructor(readonly data: unknown) {
    super();
  }
  override attr(name: string): unknown {
    if (isPlainObject(this.data) && Object.hasOwn(this.data, name)) return getAttr(this.data, name);
    return name === "data" ? this.data : undefined;
  }
  override text(): string {
    return toText(this.data);
  }
}

/**
 * Bloomreach's `webhook`: the last response's attributes (`webhook.x`), callable for the n-th
 * response (`webhook(2).x`, 1-based) and with `webhook.by_action_id('a1').data`.
 */
class WebhookResponses extends JinjaValue {
  constructor(private readonly responses: readonly ScenarioResponse[]) {
    super();
  }
  override call(args: unknown[]): unknown {
    const n = args[0];
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      throw new Error(`webhook(n) takes the step number, 1 for the first response; got ${toText(n)}`);
    }
    const r = this.responses[n - 1];
    return r && new ResponseView(r.data);
  }
  override attr(name: string): unknown {
    if (name === "by_action_id") {
      return new JinjaFunction(([id]) => {
        const hit = this.responses.find((r) => r.actionId !== undefined && r.actionId === toText(id));
        return hit ? { data: hit.data } : undefined;
      });
    }
    const last = this.responses.at(-1);
    return last && new ResponseView(last.data).attr(name);
  }
  override text(): string {
    const last = this.responses.at(-1);
    return last ? new ResponseView(last.data).text() : "";
  }
}

// Built per render, so kept cheap: views are made when a template reads them.
const NO_RESPONSES = new WebhookResponses([]);

/**
 * Builds Bloomreach's `webhook` value from the engine's `context.responses` (missing or not a list:
 * no responses).
 *
 * @example webhookResponses([{ actionId: "a1", data: { promo: "X" } }]) // {{ webhook.promo }} → X
 */
export function webhookResponses(responses: unknown): JinjaValue {
  if (!Array.isArray(responses) || responses.length === 0) return NO_RESPONSES;
  return new WebhookResponses(
    responses.filter((r): r is ScenarioResponse => typeof r === "object" && r !== null && "data" in r),
  );
}
