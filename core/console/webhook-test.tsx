/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import type { Delivery } from "../contracts/delivery.ts";
import type { PreviewStep } from "../engine/preview.ts";
import { HttpError } from "../errors.ts";
import type { AdminApp } from "../http/admin-app.ts";
import type { WebhookTestInput } from "../http/webhook-test.ts";
import { tone } from "./layout.tsx";

/** Where a test's data comes from: the webhook's sample, a stored profile, or a past delivery's event. */
export type TestSource = "sample" | "profile" | "delivery";

/** What the test form asked for. */
export interface TestChoice {
  source: TestSource;
  profile?: string;
  delivery?: string;
}

/**
 * The test's input for a choice: nothing more than the sample; a stored profile as the customer
 * (through the plugin's `ProfileReader`); or a past delivery's event, customer and parameters.
 * An unknown profile or delivery is 404, saying which.
 *
 * @example await testInput(app, "crm", { source: "profile", profile: "email=ada@example.com" }, false)
 */
export async function testInput(
  app: AdminApp,
  webhook: string,
  choice: TestChoice,
  send: boolean,
): Promise<WebhookTestInput> {
  if (choice.source === "profile") {
    const query = choice.profile?.trim() ?? "";
    const found = query && app.profiles ? await app.profiles.customer(query) : undefined;
    if (!found) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no stored profile "${query}"`);
    return { customer: found.customer, send };
  }
  if (choice.source === "delivery") {
    const d = choice.delivery ? await app.store.getDelivery(choice.delivery) : undefined;
    if (!d || d.webhook !== webhook)
      throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no delivery "${choice.delivery ?? ""}" of ${webhook}`);
    const context = d.context as {
      event?: Record<string, unknown>;
      customer?: Record<string, unknown>;
      params?: Record<string, unknown>;
    };
    const { id: _id, ...event } = context.event ?? {};
    return {
      event,
      ...(context.customer && Object.keys(context.customer).length > 0 ? { customer: context.customer } : {}),
      ...(context.params ? { params: context.params } : {}),
      send,
    };
  }
  return { send };
}

const HeaderBlock = (props: { headers?: Record<string, string> }) =>
  props.headers && Object.keys(props.headers).length > 0 ? (
    <pre>
      {Object.entries(props.headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n")}
    </pre>
  ) : (
    <p class="muted">no headers</p>
  );

/** One step of a test: the request it renders (and sends), and what came back. Every value is text. */
function Step(props: { step: PreviewStep; n: number; of: number }) {
  const { step } = props;
  const r = step.request;
  return (
    <section class="card" aria-label={`step ${props.n}`} data-step={step.webhook}>
      <h3>
        {props.of > 1 ? `Step ${props.n}: ` : ""}
        {step.webhook}
      </h3>
      <div class="split">
        <div>
          <h4>Request</h4>
          {r ? (
            <>
              <p>
                <code data-part="request-line">
                  {r.method} {r.url}
                </code>
              </p>
              <HeaderBlock headers={r.headers} />
              <pre data-part="request-body">{r.body ?? ""}</pre>
            </>
          ) : (
            <p class="muted">not rendered</p>
          )}
        </div>
        <div>
          <h4>Response</h4>
          {step.response ? (
            <>
              <p>
                <span
                  class={tone(step.response.status < 400 ? "succeeded" : "failed")}
                  data-part="response-status"
                >
                  HTTP {step.response.status}
                </span>
              </p>
              <HeaderBlock headers={step.response.headers} />
              <pre data-part="response-body">
                {step.response.body}
                {step.response.truncated ? "\n… (truncated)" : ""}
              </pre>
            </>
          ) : step.error ? null : (
            <p class="muted">Not sent: this is a preview.</p>
          )}
          {step.error ? (
            <p class="error" role="alert">
              {step.error.stage === "prepare" ? "Cannot render: " : `Not sent (${step.error.class}): `}
              {step.error.message}
            </p>
          ) : null}
        </div>
      </div>
    </section>
  );
}

/**
 * The Test tab: pick the data (the sample, a stored profile when a plugin keeps them, or the event of
 * one of this webhook's recent deliveries), preview every step's request, or send it and see the
 * response.
 */
export function TestPanel(props: {
  action: string;
  csrf: Child;
  choice: TestChoice;
  profiles: boolean;
  recent: readonly Delivery[];
  canTest: boolean;
  result?: { steps: PreviewStep[]; stopped?: string; sent: boolean };
  error?: string;
}) {
  const { choice } = props;
  return (
    <>
      {props.canTest ? (
        <form method="post" action={props.action} class="stack card" aria-label="Test">
          {props.csrf}
          <div class="fields">
            <label>
              Test with
              <select name="source" id="test-source">
                <option value="sample" selected={choice.source === "sample"}>
                  its sample data
                </option>
                {props.profiles ? (
                  <option value="profile" selected={choice.source === "profile"}>
                    a stored profile
                  </option>
                ) : null}
                {props.recent.length > 0 ? (
                  <option value="delivery" selected={choice.source === "delivery"}>
                    a past event
                  </option>
                ) : null}
              </select>
            </label>
            {props.profiles ? (
              <label>
                Stored profile (its id, or an identifier: email=ada@example.com)
                <input name="profile" id="test-profile" value={choice.profile ?? ""} />
              </label>
            ) : null}
            {props.recent.length > 0 ? (
              <label>
                Past event (of a recent delivery)
                <select name="delivery" id="test-delivery">
                  {props.recent.map((d) => (
                    <option value={d.id} selected={choice.delivery === d.id}>
                      {`${d.eventType} · ${d.customerId ?? "no customer"} · ${d.createdAt}`}
                    </option>
                  ))}
                </select>
              </label>
            ) : null}
          </div>
          <div class="actions">
            <button type="submit" name="action" value="preview">
              Preview
            </button>
            <button type="submit" name="action" value="send" class="secondary">
              Send
            </button>
          </div>
        </form>
      ) : (
        <p class="muted">Your role may not test webhooks.</p>
      )}
      {props.error ? (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      ) : null}
      {props.result ? (
        <div class="stack" id="test-result" data-sent={String(props.result.sent)}>
          <h2>{props.result.sent ? "Sent" : "Preview"}</h2>
          {props.result.stopped ? <p class="warn">Stopped at {props.result.stopped}</p> : null}
          {props.result.steps.map((s, i) => (
            <Step step={s} n={i + 1} of={props.result!.steps.length} />
          ))}
        </div>
      ) : null}
    </>
  );
}
