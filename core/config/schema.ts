import { z } from "zod";
import { MappingRule } from "../mapping/apply.ts";
import { Duration } from "./duration.ts";

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "a name of letters, digits, '.', '_' and '-' (at most 100)");

/**
 * Consent objectives of which a customer must have granted one (BlueConic: any one suffices), e.g.
 * `[marketing-email, sms]`; the same names as the profiles' consents and segment filters.
 */
export const ConsentObjectives = z
  .array(
    z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/,
        "expected an objective name of letters, digits, '.', '_', ':' and '-' (at most 100)",
      ),
  )
  .min(1)
  .max(50);

const httpUrl = z.url({ protocol: /^https?$/, error: "an absolute http:// or https:// URL" });

/** Common fields of every integration; the rest of an entry is checked by its kind's plugin. */
export const IntegrationBase = z.looseObject({
  kind: z.string().min(1).describe("the authentication kind, from a registered plugin (basic, headers, …)"),
  endpointPrefix: httpUrl.describe("credentials are sent only to URLs under this prefix"),
  test: z
    .object({
      method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("GET"),
      path: z.string().min(1),
    })
    .strict()
    .optional()
    .describe("a request that checks the credentials: empty body, success is HTTP 200"),
});
export type IntegrationBase = z.output<typeof IntegrationBase>;

export const BodyFormat = z.enum(["json", "text", "xml"]);

export const WebhookConfig = z
  .object({
    description: z.string().optional(),
    method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
    url: z.string().min(1).describe("a template rendering to an absolute URL"),
    headers: z.record(z.string(), z.string()).default({}).describe("header templates"),
    body: z.string().optional().describe("the payload template"),
    format: BodyFormat.default("json").describe("json | text | xml: sets the content type; json is checked"),
    engine: z.string().default("eta").describe("the renderer for this webhook's templates"),
    integration: z
      .union([name, z.array(name).min(1).max(5)])
      .optional()
      .describe(
        "the authentication integration, or several applied in order (e.g. credentials, then a signature)",
      ),
    params: z.record(z.string(), z.unknown()).default({}).describe("template parameters and their defaults"),
    timeout: Duration.optional().describe("request timeout; default engine.timeout"),
    response: z
      .object({
        format: z.enum(["json", "text"]).default("json"),
        mapping: z
          .array(MappingRule)
          .min(1)
          .max(100)
          .optional()
          .describe(
            "after a success, JSONPath rules copy response values into the customer's profile (needs the inbound plugin's profiles)",
          ),
        profile: z
          .object({
            match: z
              .string()
              .min(1)
              .max(200)
              .default("id")
              .describe(
                "how the customer's profile is found: `id` (the customer id is the profile id) or an identifier property, e.g. email",
              ),
            create: z.boolean().default(false).describe("create the profile when none matches"),
          })
          .strict()
          .default({ match: "id", create: false })
          .describe("which profile response mapping writes to"),
      })
      .strict()
      .default({ format: "json", profile: { match: "id", create: false } })
      .describe("how the response is parsed for later steps (json or text) and mapped into the profile"),
    policy: name
      .optional()
      .describe("the throughput policy whose concurrency limit this webhook shares (see policies:)"),
    retry: name
      .optional()
      .describe(
        "the retry policy: bloomreach (the default), exponential, or one of retryPolicies: (see docs/retries.md)",
      ),
    orderingKey: z
      .string()
      .optional()
      .describe(
        "a template (e.g. the customer id): deliveries with the same key go out one at a time, in order",
      ),
    next: name
      .optional()
      .describe("the next step of the scenario: sent after this one succeeds, seeing its response"),
    actionId: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("this step's id for by_action_id / $data (default: the webhook name)"),
    batch: z
      .object({
        size: z.number().int().min(1).max(1000).describe("customers per request (1..1000)"),
        linger: Duration.default(1_000).describe(
          "how long the first delivery waits for others to join its batch",
        ),
        item: z.string().describe("the template each customer renders to; `body` is the root around them"),
      })
      .strict()
      .optional()
      .describe("send many customers in one request: the root template (body) around item renders"),
    sample: z
      .object({
        event: z.record(z.string(), z.unknown()).optional(),
        customer: z.record(z.string(), z.unknown()).optional(),
        params: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .optional()
      .describe("data the test endpoint renders with when none is given"),
    consent: ConsentObjectives.optional().describe(
      "consent objectives, any one of which the customer must have granted: without one, a delivery is not sent but skipped (reason consent) into the fail branch",
    ),
    extends: name
      .optional()
      .describe(
        "a preset (under presets:, or a built-in one: slack, twilio-sms, … in docs/presets.md) whose fields this webhook starts from and overrides",
      ),
  })
  .strict();
export type WebhookConfig = z.output<typeof WebhookConfig>;

type WebhookShape = typeof WebhookConfig.shape;
/** A webhook field as a preset holds it: optional, and without the webhook's default. */
type PresetField<S extends z.core.SomeType> = z.ZodOptional<S extends z.ZodDefault<infer I> ? I : S>;

/**
 * A preset: a webhook's fields, all optional and without defaults (a default would override what a
 * preset it extends sets). Webhooks and presets name one with `extends`; the loader merges them.
 */
export const PresetConfig = z
  .object(
    Object.fromEntries(
      Object.entries(WebhookConfig.shape).map(([key, field]) => {
        const inner: z.ZodType = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
        const optional = inner.optional();
        return [key, field.description ? optional.describe(field.description) : optional];
      }),
    ) as { [K in keyof WebhookShape]: PresetField<WebhookShape[K]> },
  )
  .strict();
export type PresetConfig = z.output<typeof PresetConfig>;

/** The integrations a webhook names, in the order they apply. */
export const integrationsOf = (webhook: { integration?: string | string[] }): string[] =>
  webhook.integration === undefined
    ? []
    : Array.isArray(webhook.integration)
      ? webhook.integration
      : [webhook.integration];

/** Common fields of every trigger; the rest is checked by its kind. */
export const TriggerBase = z.looseObject({
  kind: z.string().default("event"),
  webhooks: z.array(name).min(1),
  params: z.record(z.string(), z.unknown()).optional(),
  segments: z
    .array(name)
    .min(1)
    .max(50)
    .optional()
    .describe("only customers in at least one of these segments fire it (segments: or the admin API's)"),
  consent: ConsentObjectives.optional().describe(
    "consent objectives the deliveries this trigger makes need (any one), in addition to their webhook's",
  ),
});

/** A throughput policy: requests in flight at once, and optionally requests started per second. */
export const PolicyConfig = z
  .object({
    concurrency: z.number().int().min(1).max(10_000).describe("requests in flight at once, across processes"),
    rate: z
      .number()
      .positive()
      .max(100_000)
      .nullable()
      .optional()
      .describe(
        "requests started per second at most, across processes (bursts up to one second's worth); in the config, left out or null: none; in PUT /v1/policies, left out keeps the rate and null removes it",
      ),
  })
  .strict();
export type PolicyConfig = z.output<typeof PolicyConfig>;

/**
 * A named retry policy (`retryPolicies:`): `bloomreach` (the platforms' contract with its own
 * delays), `exponential` (base·2ⁿ up to a cap, for a number of attempts or a maximum age, or without
 * end), or `delays` (an exact list of delays, the contract's classification).
 */
export const RetryPolicyConfig = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("bloomreach"),
      delays: z
        .array(Duration)
        .min(1)
        .optional()
        .describe("delays before the 2nd, 3rd, … attempt; the last repeats"),
      attempts: z
        .number()
        .int()
        .min(1)
        .max(100)
        .optional()
        .describe("attempts in all (default 4, 8 for batches of 10 or more)"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("exponential"),
      base: Duration.default(60_000).describe("the first retry's delay; then 2x, 4x, 8x …"),
      cap: Duration.default(3_600_000).describe("the longest delay between attempts"),
      attempts: z.number().int().min(1).max(1_000_000).optional().describe("attempts in all"),
      maxAge: Duration.optional().describe("no attempt starts later than this after the first"),
    })
    .strict()
    .refine((p) => p.attempts === undefined || p.maxAge === undefined, {
      message: "give attempts or maxAge, not both (neither: retried until delivered)",
    }),
  z
    .object({
      kind: z.literal("delays"),
      delays: z
        .array(Duration)
        .min(1)
        .max(100)
        .describe("the delay before each retry; one attempt more than delays"),
    })
    .strict(),
]);
export type RetryPolicyConfig = z.output<typeof RetryPolicyConfig>;

export const EngineConfig = z
  .object({
    concurrency: z.number().int().min(1).max(10_000).default(50).describe("requests in flight per process"),
    pollInterval: Duration.default(200).describe("how often an idle worker looks for due deliveries"),
    sendAtOnce: z
      .boolean()
      .default(true)
      .describe(
        "deliveries this process publishes go straight to its worker's free slots, written already leased to it (no claim); false: every delivery waits for a claim in due order",
      ),
    lease: Duration.default(60_000).describe(
      "how long a claimed delivery stays claimed before another worker may take it",
    ),
    bulkMaxWait: Duration.default(30_000).describe(
      "deliveries of bulk runs (schedules' ticks, segment sends, bulk retries) are claimed after due deliveries of events, unless due for longer than this",
    ),
    timeout: Duration.default(10_000).describe("default request timeout"),
    maxResponseBytes: z
      .number()
      .int()
      .min(0)
      .max(16 * 1024 * 1024)
      .default(65_536),
    retry: z
      .object({
        delays: z.array(Duration).min(1).default([7_000, 45_000, 300_000]),
        jitter: z.number().min(0).max(1).default(0.1),
        /** Multiplies every delay, Retry-After included: for tests and drills. */
        scale: z.number().positive().default(1),
        maxRetryAfter: Duration.default(3_600_000),
      })
      .strict()
      .default({ delays: [7_000, 45_000, 300_000], jitter: 0.1, scale: 1, maxRetryAfter: 3_600_000 }),
    abortAfter: z
      .number()
      .int()
      .min(1)
      .default(50)
      .describe(
        "unrecoverable outcomes (4xx but 429, exhausted retries, render failures) that abort the rest of a webhook's run",
      ),
    pauseAfter: Duration.default(5 * 86_400_000).describe(
      "a webhook failing continuously this long is paused (webhook.paused) until resumed",
    ),
    allowCodeTemplatesFromApi: z
      .boolean()
      .default(false)
      .describe(
        "accept templates of trusted engines (Eta: templates are code) in webhooks PUT through the admin API",
      ),
    allowNetworks: z
      .array(z.string())
      .default([])
      .describe("CIDR ranges that may be targeted although private or loopback (e.g. 127.0.0.1/32)"),
    requireHttps: z
      .boolean()
      .optional()
      .describe(
        "refuse plain http:// targets: webhook URLs and endpoint prefixes at start-up and in the admin API, rendered URLs when sent; default on when the server listens beyond loopback",
      ),
  })
  .strict();
export type EngineConfig = z.output<typeof EngineConfig>;

export const ServerConfig = z
  .object({
    host: z.string().default("127.0.0.1"),
    port: z.number().int().min(0).max(65_535).default(8080),
  })
  .strict();

/** RFC 6750's b64token: all a Bearer credential can carry. */
const BEARER_TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;

export const MetricsConfig = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe("serve GET /metrics; false: metrics go to a registered OpenTelemetry SDK, if any"),
    token: z
      .string({ error: "a Bearer token, as a string" })
      .min(16, "at least 16 characters (e.g. openssl rand -hex 32)")
      .regex(BEARER_TOKEN, "a Bearer token: letters, digits and -._~+/ with = only at the end")
      .optional()
      .describe("a Bearer token that reads /metrics only, beside the admin token"),
    cache: Duration.default(5_000).describe("how long scrapes reuse the backlog read from the store"),
  })
  .strict();
export type MetricsConfig = z.output<typeof MetricsConfig>;

export const StoreConfig = z
  .object({
    dataDir: z.string().optional().describe("PGlite data folder; default $HOOKLINE_DATA_DIR or .hookline/"),
    url: z.string().optional().describe("a postgres:// URL; default $DATABASE_URL"),
  })
  .strict();

/**
 * The core's part of `hookline.yaml`. Plugins add top-level sections (`ConfigSection`) and validate
 * their integration and trigger kinds; `loadConfig` assembles the whole.
 */
export const CoreConfig = z.object({
  version: z.literal(1).default(1),
  server: ServerConfig.default({ host: "127.0.0.1", port: 8080 }),
  store: StoreConfig.default({}),
  engine: EngineConfig.default(EngineConfig.parse({})),
  metrics: MetricsConfig.default({ enabled: true, cache: 5_000 }).describe(
    "GET /metrics (docs/operations.md)",
  ),
  integrations: z.record(name, IntegrationBase).default({}),
  policies: z
    .record(name, PolicyConfig)
    .default({})
    .describe(
      "throughput policies: a concurrency limit (and optionally a rate per second) shared by every webhook that names it, across processes",
    ),
  retryPolicies: z
    .record(name, RetryPolicyConfig)
    .default({})
    .describe(
      "named retry policies webhooks choose with retry: (bloomreach and exponential exist without being declared)",
    ),
  presets: z
    .record(name, PresetConfig)
    .default({})
    .describe("webhook fields shared by the webhooks that name a preset with extends"),
  webhooks: z.record(name, WebhookConfig).default({}),
  triggers: z.array(TriggerBase).default([]),
});
export type CoreConfig = z.output<typeof CoreConfig>;

/** A loaded config: the core's sections, the plugins' sections, and plugin-validated options. */
export interface HooklineConfig extends CoreConfig {
  /** Options of each integration as its kind's schema produced them. */
  integrationOptions: Record<string, unknown>;
  /** Options of each trigger as its kind's schema produced them. */
  triggerOptions: unknown[];
  /** Sections contributed by plugins, by key. */
  sections: Record<string, unknown>;
  /** The file it came from, if any (for messages). */
  file?: string;
  /**
   * The values `${NAME}` references were replaced with (distinct, non-empty), so that logs and kept
   * requests can redact them: secrets come in through the environment.
   */
  envValues?: string[];
}
