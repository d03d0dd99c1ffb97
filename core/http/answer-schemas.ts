import { z } from "zod";

// The shapes of the HTTP app's success answers, for the OpenAPI document (GET /openapi.json). They
// describe what the handlers write; tests/core/http/openapi-answers.test.ts checks real answers
// against the document, so a handler that changes its answer without this file fails there.

const text = z.string();
const time = z.string().describe("an ISO 8601 date-time");
const object = z.record(z.string(), z.unknown());
const count = z.number().int().nonnegative();
const httpStatus = z.number().int().min(100).max(599);

/** `GET /healthz`: the process answers (always 200 while it serves). */
export const HealthUp = z
  .object({
    status: z.literal("ok"),
    worker: text.describe("this process's worker id (its leases carry it)"),
    inFlight: count.describe("deliveries this process is sending now"),
  })
  .strict();

/** `GET /openapi.json`: an OpenAPI 3.1 document. */
export const OpenApiDocument = z.looseObject({
  openapi: z.literal("3.1.0"),
  info: z.looseObject({ title: text, version: text }),
  paths: z.record(z.string(), object),
});

/** What `POST /v1/events` wrote: the run, and per event the deliveries it made. */
export const Published = z
  .object({
    runId: text,
    events: z.array(
      z
        .object({
          id: text,
          type: text,
          deliveries: z.array(z.object({ id: text, webhook: text }).strict()),
        })
        .strict(),
    ),
  })
  .strict();

export const DeliveryStatus = z.enum([
  "pending",
  "waiting",
  "paused",
  "in_flight",
  "succeeded",
  "failed",
  "halted",
  "aborted",
  "skipped",
]);

/** A delivery as the store holds it: where it stands in the queue, and why. */
export const Delivery = z.looseObject({
  id: text,
  webhook: text,
  idempotencyKey: text.describe("sent with every attempt as Idempotency-Key"),
  runId: text,
  eventId: text,
  eventType: text,
  customerId: text.optional(),
  context: object.describe("what its templates render from: event, customer, params"),
  maxAttempts: count,
  status: DeliveryStatus,
  attempts: count.describe("attempts started so far"),
  nextAt: time,
  createdAt: time,
  updatedAt: time,
  leaseOwner: text.optional(),
  leaseUntil: time.optional(),
  lastStatus: httpStatus.optional(),
  reason: text.optional().describe("why it failed or halted, or why the last attempt is retried"),
  policy: text.optional(),
  orderingKey: text.optional(),
  traceparent: text.optional().describe("the W3C traceparent it was published under"),
});

const headers = z.record(z.string(), z.string());

/** One attempt, as recorded (headers and bodies with known secrets masked). */
export const Attempt = z.looseObject({
  deliveryId: text,
  number: count.min(1).describe("1 for the first attempt"),
  startedAt: time,
  durationMs: z.number().nonnegative(),
  request: z.looseObject({
    method: text,
    url: text,
    headers,
    body: text.optional().describe("kept for an attempt that did not succeed"),
    bodyBytes: count.optional(),
    bodyHash: text.optional(),
    batch: z.looseObject({ key: text, size: count, recordedOn: text }).optional(),
  }),
  status: httpStatus.optional(),
  responseHeaders: headers.optional(),
  responseBody: text.optional(),
  responseTruncated: z.boolean().optional(),
  errorClass: text.optional().describe("set when no HTTP answer came, or nothing was sent"),
  error: text.optional(),
  outcome: z.enum(["succeeded", "retry", "failed", "halted"]),
});

export const DeliveryPage = z
  .object({
    deliveries: z.array(Delivery),
    next: text.optional().describe("pass as `before` for the next page; absent on the last page"),
  })
  .strict();

export const DeliveryWithAttempts = z.object({ delivery: Delivery, attempts: z.array(Attempt) }).strict();

/** A request as hookline renders it (credentials masked). */
export const RenderedRequest = z.looseObject({
  method: text,
  url: text,
  headers,
  body: text.optional(),
});

export const RerenderedRequest = z
  .object({
    request: RenderedRequest,
    rerendered: z.literal(true),
    matchesRecorded: z
      .boolean()
      .optional()
      .describe("whether the body rendered now is the one the last attempt recorded; absent when none did"),
  })
  .strict();

export const RetriedDelivery = z.object({ delivery: Delivery }).strict();

/** A webhook in the list. */
export const WebhookSummary = z
  .object({
    name: text,
    method: text,
    integration: z.union([text, z.array(text)]).optional(),
    source: text.describe("config, api, or plugin:<name>"),
    file: text.optional().describe("the config file it is written in"),
    line: z.number().int().optional().describe("the line of that file"),
    paused: z.object({ at: time, reason: text }).strict().optional(),
    disabled: z.object({ at: time, reason: text }).strict().optional(),
  })
  .strict();

export const WebhookList = z.object({ webhooks: z.array(WebhookSummary) }).strict();

/** A webhook's config as it is now, with its template parameters. */
export const WebhookView = z.looseObject({
  name: text,
  url: text.optional(),
  method: text.optional(),
  parameters: z.unknown().describe("the template parameters its templates use, and their values"),
});

export const WebhookResumed = z.object({ name: text, resumed: z.literal(true) }).strict();

export const WebhookDisabled = z
  .object({
    name: text,
    disabled: z.literal(true),
    queued: z.enum(["wait", "cancel"]),
    halted: count.describe("queued deliveries ended halted (with cancel)"),
  })
  .strict();

export const WebhookEnabled = z.object({ name: text, enabled: z.literal(true) }).strict();

export const WebhookFired = z
  .object({ delivery: text.describe("the delivery's id"), webhook: text, runId: text })
  .strict();

/** What `POST /v1/webhooks/:name/test` rendered, and with `send: true` what came back. */
export const WebhookTestResult = z.looseObject({
  request: RenderedRequest,
  params: object,
  response: z.looseObject({ status: httpStatus }).optional(),
  error: z.object({ class: text, message: text }).strict().optional(),
  steps: z.array(z.unknown()).optional().describe("a scenario's steps, each with what it would send"),
  stopped: z.unknown().optional(),
});

/** An integration as the admin API shows it: options with secret values masked, which secrets are set. */
export const IntegrationView = z.looseObject({
  name: text,
  source: z.enum(["config", "api"]),
  kind: text,
  endpointPrefix: text,
  test: z.looseObject({ method: text, path: text }).optional(),
  options: object.optional(),
  secrets: z.record(z.string(), z.enum(["set", "missing"])).optional(),
});

export const IntegrationList = z.object({ integrations: z.array(IntegrationView) }).strict();

export const AuthorizationUrl = z
  .object({ url: text.describe("the URL a person opens to authorize") })
  .strict();

/** The test request's outcome: success is HTTP 200 only. */
export const IntegrationTestResult = z
  .object({
    ok: z.boolean(),
    status: httpStatus.optional(),
    request: z.object({ method: text, url: text }).strict().optional(),
    reason: text.optional(),
  })
  .strict();

/** `GET /v1/export`: integrations and webhooks of the admin API, without secrets. */
export const ExportDocument = z
  .object({
    integrations: z.record(z.string(), object),
    webhooks: z.record(z.string(), object),
    secretsRequired: z.record(z.string(), z.array(text)).describe("per integration, the secrets left out"),
  })
  .strict();

/** The document `POST /v1/import` takes: one `GET /v1/export` gave (secrets to re-enter afterwards). */
export const ImportDocument = z.looseObject({
  integrations: z.record(z.string(), object).optional(),
  webhooks: z.record(z.string(), object).optional(),
});

export const ImportResult = z
  .object({
    imported: z.object({ integrations: z.array(text), webhooks: z.array(text) }).strict(),
    secretsToReenter: z.record(z.string(), z.array(text)),
  })
  .strict();

/** A throughput policy with the slots in use across processes. */
export const PolicyInUse = z
  .object({
    name: text,
    concurrency: count,
    rate: z.number().optional(),
    inUse: count.describe("slots taken now, across processes"),
  })
  .strict();

export const PolicyList = z.object({ policies: z.array(PolicyInUse) }).strict();

export const PolicyWritten = z
  .object({ name: text, concurrency: count, rate: z.number().nullable().optional() })
  .strict();

/** A webhook or integration body for the admin API: a config entry as in hookline.yaml. */
export const ConfigEntry = z.looseObject({}).describe("the entry as it is written in hookline.yaml");
