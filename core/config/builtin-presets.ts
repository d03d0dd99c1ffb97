// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the descriptions show `${NAME}` references as a config writes them
import type { BuiltinPresetEntry } from "./presets.ts";
import type { PresetConfig } from "./schema.ts";

/** One template parameter of a built-in preset, as docs/presets.md and `GET /v1/presets` show it. */
export interface PresetParamDoc {
  name: string;
  description: string;
  /** Whether a webhook must give it (in its `params:`); a required param has no default. */
  required: boolean;
  /** The value used when the webhook gives none (absent: none, or what `description` says). */
  default?: unknown;
}

/** A field a webhook extending the preset writes itself (`url`, `integration`), and what to put there. */
export interface PresetNeed {
  field: "url" | "integration";
  description: string;
}

/** A preset that ships with hookline: what it sends, its parameters, and the page it follows. */
export interface BuiltinPreset {
  /** What `extends:` names. */
  name: string;
  title: string;
  description: string;
  /** The destination's public documentation of the request this preset sends. */
  docs: string;
  params: readonly PresetParamDoc[];
  needs: readonly PresetNeed[];
  /** The preset's webhook fields (Eta templates). */
  preset: PresetConfig;
  /** A webhook using it, as hookline.yaml writes it. */
  example: string;
}

// Recipients fall back to the customer's `phone`; a customer without one fails alone (a render
// fault), where an empty `To` would make the destination answer 400 and halt the whole webhook.
const recipient = (what: string) =>
  `<% const to = it.params.to ?? it.customer?.phone; if (to === undefined || to === null || to === "") throw new Error("no recipient: params.to is not set and the customer has no phone (${what})"); %>`;

/** The summary a notification shows when the webhook gives no `text`: the event and who it is about. */
const SUMMARY =
  '(it.params.text ?? [it.event?.type ?? "event", it.customer?.email ?? it.customer?.id].filter((x) => x !== undefined && x !== null).join(": "))';

/** The event as a destination that takes any JSON receives it. */
const EVENT =
  "{ id: it.event?.id, type: it.event?.type, timestamp: it.event?.timestamp, data: it.event?.data }";

const param = (
  name: string,
  description: string,
  options: { required?: boolean; default?: unknown } = {},
): PresetParamDoc => ({
  name,
  description,
  required: options.required ?? false,
  ...("default" in options ? { default: options.default } : {}),
});

/** The defaults of `params`, as the preset's `params:` holds them. */
const defaults = (params: readonly PresetParamDoc[]): Record<string, unknown> =>
  Object.fromEntries(params.filter((p) => "default" in p).map((p) => [p.name, p.default]));

const slackParams = [
  param(
    "text",
    "the message (mrkdwn); with blocks, the notification's fallback text. Default: the event type and the customer's email (or id)",
  ),
  param("blocks", "Block Kit blocks (a list), sent as given"),
];

const teamsParams = [
  param("title", "a bold first line of the card"),
  param("text", "the card's text. Default: the event type and the customer's email (or id)"),
  param(
    "card",
    "a whole Adaptive Card (the attachment's `content`), sent instead of the one made from title and text",
  ),
];

const messageCardParams = [
  param("title", "the card's title"),
  param("text", "the card's text (Markdown). Default: the event type and the customer's email (or id)"),
  param("summary", "the notification's summary. Default: the text"),
  param("themeColor", "the card's accent colour, hex without #", { default: "0076D7" }),
];

const zapierParams = [
  param("fields", "more top-level fields (a map) sent beside event and customer, e.g. a campaign name"),
];

const twilioParams = [
  param("accountSid", "the Account SID (AC…) in the URL", { required: true }),
  param(
    "from",
    "the sender: a Twilio phone number (E.164) or alphanumeric sender id; required unless messagingServiceSid",
  ),
  param("messagingServiceSid", "a Messaging Service (MG…) to send from instead of `from`"),
  param("to", "the recipient (E.164). Default: the customer's `phone`"),
  param("text", "the message text (Twilio's `Body`)", { required: true }),
  param("statusCallback", "a URL Twilio posts delivery status to"),
  param("baseUrl", "the API host (a regional one, or a test double)", { default: "https://api.twilio.com" }),
];

const whatsappParams = [
  param("phoneNumberId", "the WhatsApp Business phone number id in the URL", { required: true }),
  param("type", "template (a pre-approved template, for business-initiated messages) or text", {
    default: "template",
  }),
  param("template", "the template's name; required when type is template"),
  param("language", "the template's language code", { default: "en_US" }),
  param("components", "the template's components (a list: header/body parameters, buttons), sent as given"),
  param("text", "the message text; required when type is text"),
  param("previewUrl", "with type text: whether a link in the text gets a preview", { default: false }),
  param("to", "the recipient's WhatsApp phone number. Default: the customer's `phone`"),
  param("version", "the Graph API version in the URL", { default: "v23.0" }),
  param("baseUrl", "the API host", { default: "https://graph.facebook.com" }),
];

const cmParams = [
  param("from", "the sender name or number", { required: true }),
  param("text", "the message text", { required: true }),
  param(
    "to",
    "the recipient (international format, e.g. +31612345678 or 0031612345678). Default: the customer's `phone`",
  ),
  param("channels", "allowed channels (a list)", { default: ["SMS"] }),
  param("reference", "a reference CM returns in delivery reports"),
  param("baseUrl", "the gateway", { default: "https://gw.messaging.cm.com" }),
];

const restParams = [param("payload", "the JSON body (any value). Default: the event and the customer")];

/**
 * The presets that ship with hookline, in the order docs/presets.md lists them. A webhook uses one
 * with `extends: NAME` as it would a preset of its file (which shadows a built-in of the same name).
 * Secrets come from the webhook's integration or its own `url:` (`${ENV}`), never from here.
 *
 * @example builtinPresets.find((p) => p.name === "slack")?.params.map((p) => p.name) // ["text", "blocks"]
 */
export const builtinPresets: readonly BuiltinPreset[] = [
  {
    name: "slack",
    title: "Slack incoming webhook",
    description:
      "Posts a message to the Slack channel of an incoming webhook: `text`, and Block Kit `blocks` when given.",
    docs: "https://api.slack.com/messaging/webhooks",
    params: slackParams,
    needs: [
      {
        field: "url",
        description:
          "the incoming webhook's URL (https://hooks.slack.com/services/…): a secret, so `${SLACK_WEBHOOK_URL}`",
      },
    ],
    preset: {
      description: "Slack incoming webhook",
      method: "POST",
      format: "json",
      engine: "eta",
      body: `{"text": <%= json(${SUMMARY}) %><% if (it.params.blocks !== undefined && it.params.blocks !== null) { %>, "blocks": <%= json(it.params.blocks) %><% } %>}`,
      params: defaults(slackParams),
    },
    example: `webhooks:
  signup-alert:
    extends: slack
    url: \${SLACK_WEBHOOK_URL}
    params: { text: "New signup :tada:" }`,
  },
  {
    name: "teams",
    title: "Microsoft Teams (Workflows / incoming webhook), Adaptive Card",
    description:
      "Posts a message with one Adaptive Card to a Teams channel through a Workflows webhook (Power Automate's “When a Teams webhook request is received”) or an incoming webhook.",
    docs: "https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#send-adaptive-cards-using-an-incoming-webhook",
    params: teamsParams,
    needs: [
      {
        field: "url",
        description:
          "the workflow's (or incoming webhook's) URL: it carries a signature, so `${TEAMS_WEBHOOK_URL}`",
      },
    ],
    preset: {
      description: "Microsoft Teams Adaptive Card",
      method: "POST",
      format: "json",
      engine: "eta",
      body: `<% const body = []; if (it.params.title !== undefined && it.params.title !== null) body.push({ type: "TextBlock", text: String(it.params.title), weight: "Bolder", size: "Medium", wrap: true }); body.push({ type: "TextBlock", text: String(${SUMMARY}), wrap: true }); %>{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": <%= json(it.params.card ?? { $schema: "http://adaptivecards.io/schemas/adaptive-card.json", type: "AdaptiveCard", version: "1.2", body }) %>}]}`,
      params: defaults(teamsParams),
    },
    example: `webhooks:
  vip-alert:
    extends: teams
    url: \${TEAMS_WEBHOOK_URL}
    params: { title: "VIP signup", text: "A VIP customer signed up" }`,
  },
  {
    name: "teams-messagecard",
    title: "Microsoft Teams Office 365 connector, MessageCard",
    description:
      "Posts a legacy MessageCard (title, text, theme colour) to a Teams channel's Office 365 connector incoming webhook.",
    docs: "https://learn.microsoft.com/en-us/outlook/actionable-messages/message-card-reference",
    params: messageCardParams,
    needs: [
      {
        field: "url",
        description: "the connector's incoming webhook URL (a secret: `${TEAMS_WEBHOOK_URL}`)",
      },
    ],
    preset: {
      description: "Microsoft Teams MessageCard",
      method: "POST",
      format: "json",
      engine: "eta",
      body: `<% const text = String(${SUMMARY}); %>{"@type": "MessageCard", "@context": "https://schema.org/extensions", "summary": <%= json(it.params.summary ?? text) %>, "themeColor": <%= json(it.params.themeColor) %><% if (it.params.title !== undefined && it.params.title !== null) { %>, "title": <%= json(it.params.title) %><% } %>, "text": <%= json(text) %>}`,
      params: defaults(messageCardParams),
    },
    example: `webhooks:
  ops-alert:
    extends: teams-messagecard
    url: \${TEAMS_CONNECTOR_URL}
    params: { title: "Run finished", themeColor: "2EB886" }`,
  },
  {
    name: "zapier",
    title: "Zapier catch hook",
    description:
      "Posts the event and the customer as JSON to a Zapier “Catch Hook” trigger, which makes each field available to the Zap's later steps.",
    docs: "https://help.zapier.com/hc/en-us/articles/8496288690317-Trigger-Zaps-from-webhooks",
    params: zapierParams,
    needs: [
      {
        field: "url",
        description:
          "the catch hook's URL (https://hooks.zapier.com/hooks/catch/…/…/): a secret, so `${ZAPIER_HOOK_URL}`",
      },
    ],
    preset: {
      description: "Zapier catch hook",
      method: "POST",
      format: "json",
      engine: "eta",
      body: `<%= json({ event: ${EVENT}, customer: it.customer ?? {}, ...(it.params.fields ?? {}) }) %>`,
      params: defaults(zapierParams),
    },
    example: `webhooks:
  to-zapier:
    extends: zapier
    url: \${ZAPIER_HOOK_URL}
    params: { fields: { campaign: spring-sale } }`,
  },
  {
    name: "twilio-sms",
    title: "Twilio SMS (Programmable Messaging)",
    description:
      "Sends one SMS per customer: a form-encoded POST of To, From (or MessagingServiceSid) and Body to the Messages resource, authenticated with HTTP Basic.",
    docs: "https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource",
    params: twilioParams,
    needs: [
      {
        field: "integration",
        description:
          "a `basic` integration: username the Account SID (or an API key SID), password `${TWILIO_AUTH_TOKEN}`, endpointPrefix https://api.twilio.com/2010-04-01/Accounts/AC…",
      },
    ],
    preset: {
      description: "Twilio SMS",
      method: "POST",
      url: "<%= it.params.baseUrl %>/2010-04-01/Accounts/<%= encodeURIComponent(it.params.accountSid) %>/Messages.json",
      format: "text",
      engine: "eta",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `${recipient("twilio-sms")}<%= form({ To: to, From: it.params.messagingServiceSid == null ? it.params.from : undefined, MessagingServiceSid: it.params.messagingServiceSid, Body: it.params.text, StatusCallback: it.params.statusCallback }) %>`,
      params: defaults(twilioParams),
    },
    example: `integrations:
  twilio:
    kind: basic
    endpointPrefix: https://api.twilio.com/2010-04-01/Accounts/\${TWILIO_ACCOUNT_SID}
    username: \${TWILIO_ACCOUNT_SID}
    password: \${TWILIO_AUTH_TOKEN}
webhooks:
  welcome-sms:
    extends: twilio-sms
    integration: twilio
    params:
      accountSid: \${TWILIO_ACCOUNT_SID}
      from: "+15017122661"
      text: Welcome aboard!`,
  },
  {
    name: "whatsapp",
    title: "WhatsApp Cloud API message",
    description:
      "Sends one WhatsApp message per customer through the Cloud API's messages endpoint: a template message (the default) or a text message, with a Bearer token.",
    docs: "https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages",
    params: whatsappParams,
    needs: [
      {
        field: "integration",
        description:
          "a `bearer` (or `headers`) integration with the system user's access token (`${WHATSAPP_TOKEN}`), endpointPrefix https://graph.facebook.com/",
      },
    ],
    preset: {
      description: "WhatsApp Cloud API message",
      method: "POST",
      url: "<%= it.params.baseUrl %>/<%= it.params.version %>/<%= encodeURIComponent(it.params.phoneNumberId) %>/messages",
      format: "json",
      engine: "eta",
      body: `${recipient("whatsapp")}<% const type = it.params.type ?? "template"; if (type !== "template" && type !== "text") throw new Error("params.type: expected template or text; got " + JSON.stringify(type)); %>{"messaging_product": "whatsapp", "recipient_type": "individual", "to": <%= json(String(to)) %>, "type": <%= json(type) %>, <% if (type === "text") { %>"text": {"preview_url": <%= json(it.params.previewUrl === true) %>, "body": <%= json(it.params.text) %>}<% } else { %>"template": {"name": <%= json(it.params.template) %>, "language": {"code": <%= json(it.params.language) %>}<% if (it.params.components !== undefined && it.params.components !== null) { %>, "components": <%= json(it.params.components) %><% } %>}<% } %>}`,
      params: defaults(whatsappParams),
    },
    example: `integrations:
  whatsapp:
    kind: bearer
    endpointPrefix: https://graph.facebook.com/
    token: \${WHATSAPP_TOKEN}
webhooks:
  order-shipped:
    extends: whatsapp
    integration: whatsapp
    params:
      phoneNumberId: "106540352242922"
      template: order_shipped
      language: en_US`,
  },
  {
    name: "cm-sms",
    title: "CM.com batch SMS (Business Messaging API)",
    description:
      "A batch webhook: up to 100 customers per request (batch.size), each one `messages.msg[]` entry with from, to[].number and body.content; the product token in the X-CM-PRODUCTTOKEN header.",
    docs: "https://developers.cm.com/messaging/docs/sms",
    params: cmParams,
    needs: [
      {
        field: "integration",
        description:
          "a `headers` integration sending X-CM-PRODUCTTOKEN: `${CM_PRODUCT_TOKEN}`, endpointPrefix https://gw.messaging.cm.com/v1.0/message",
      },
    ],
    preset: {
      description: "CM.com batch SMS",
      method: "POST",
      url: "<%= it.params.baseUrl %>/v1.0/message",
      format: "json",
      engine: "eta",
      body: '{"messages": {"msg": [<%= it.items.join(", ") %>]}}',
      batch: {
        size: 100,
        linger: 1_000,
        item: `${recipient("cm-sms")}{"from": <%= json(it.params.from) %>, "to": [{"number": <%= json(String(to)) %>}], "body": {"type": "auto", "content": <%= json(it.params.text) %>}<% if (it.params.channels !== undefined && it.params.channels !== null) { %>, "allowedChannels": <%= json(it.params.channels) %><% } %><% if (it.params.reference !== undefined && it.params.reference !== null) { %>, "reference": <%= json(it.params.reference) %><% } %>}`,
      },
      params: defaults(cmParams),
    },
    example: `integrations:
  cm:
    kind: headers
    endpointPrefix: https://gw.messaging.cm.com/v1.0/message
    headers: [{ name: X-CM-PRODUCTTOKEN, value: "\${CM_PRODUCT_TOKEN}" }]
webhooks:
  promo-sms:
    extends: cm-sms
    integration: cm
    batch: { size: 500 }
    params: { from: ACME, text: "Spring sale: 20% off today" }`,
  },
  {
    name: "rest-json",
    title: "Generic JSON REST call",
    description:
      "Sends a JSON body (by default the event and the customer) to any REST endpoint with Accept: application/json; the response is parsed as JSON for later steps.",
    docs: "https://www.rfc-editor.org/rfc/rfc8259 (JSON) and https://www.rfc-editor.org/rfc/rfc9110 (HTTP semantics)",
    params: restParams,
    needs: [{ field: "url", description: "the endpoint (a template: it may use it.customer and it.params)" }],
    preset: {
      description: "JSON REST call",
      method: "POST",
      format: "json",
      engine: "eta",
      headers: { Accept: "application/json" },
      body: `<%= json(it.params.payload !== undefined ? it.params.payload : { event: ${EVENT}, customer: it.customer ?? {} }) %>`,
      params: defaults(restParams),
    },
    example: `webhooks:
  crm-upsert:
    extends: rest-json
    method: PUT
    url: https://crm.example.com/api/contacts/<%= encodeURIComponent(it.customer.id) %>
    integration: crm`,
  },
];

const present = (v: unknown) => v !== undefined && v !== null && v !== "";

/** What a webhook extending `p` still lacks: a required param its preset's templates read, an integration. */
function missingOf(p: BuiltinPreset): BuiltinPresetEntry["missing"] {
  return (webhook, fromPreset) => {
    const params = (webhook.params ?? {}) as Record<string, unknown>;
    // Params feed the preset's body (or batch item); a webhook that writes its own needs none of them.
    const templated = fromPreset(p.preset.batch ? "batch.item" : "body");
    const out: string[] = [];
    const need = (name: string, when = true) => {
      if (templated && when && !present(params[name])) {
        const doc = p.params.find((x) => x.name === name);
        out.push(
          `preset "${p.name}" needs param "${name}" (${doc?.description ?? name}): set it under params:`,
        );
      }
    };
    for (const x of p.params) if (x.required) need(x.name);
    if (p.name === "twilio-sms" && templated && !present(params.from) && !present(params.messagingServiceSid))
      out.push(`preset "twilio-sms" needs param "from" or "messagingServiceSid": set one under params:`);
    if (p.name === "whatsapp") {
      need("template", (params.type ?? "template") === "template");
      need("text", params.type === "text");
    }
    for (const n of p.needs) {
      if (n.field === "integration" && webhook.integration === undefined)
        out.push(`preset "${p.name}" needs integration: ${n.description}`);
    }
    return out;
  };
}

/**
 * The built-in presets as the loader applies them (`resolveWebhooks`' `builtins`): by name, each
 * with its fields and what a webhook extending it must add.
 *
 * @example resolveWebhooks(file.presets, file.webhooks, BUILTIN_PRESETS)
 */
export const BUILTIN_PRESETS: Readonly<Record<string, BuiltinPresetEntry>> = Object.fromEntries(
  builtinPresets.map((p) => [p.name, { fields: p.preset as Record<string, unknown>, missing: missingOf(p) }]),
);

/**
 * A config's data with the built-in presets it extends written into its `presets:` (those its own
 * presets do not shadow), so that a loader without the gallery (the edge worker) resolves them as
 * file presets. The data is not changed; the same object comes back when no built-in is used.
 *
 * @example embedded.data = withBuiltinPresets(embedded.data)
 */
export function withBuiltinPresets(data: unknown): unknown {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return data;
  const root = data as Record<string, unknown>;
  const own = isMap(root.presets) ? root.presets : {};
  const used: Record<string, unknown> = {};
  const entries = [...Object.values(isMap(root.webhooks) ? root.webhooks : {}), ...Object.values(own)];
  for (const entry of entries) {
    const name = isMap(entry) ? entry.extends : undefined;
    if (typeof name !== "string" || Object.hasOwn(own, name) || !Object.hasOwn(BUILTIN_PRESETS, name))
      continue;
    used[name] = structuredClone(BUILTIN_PRESETS[name]!.fields);
  }
  if (Object.keys(used).length === 0) return data;
  return { ...root, presets: { ...own, ...used } };
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
