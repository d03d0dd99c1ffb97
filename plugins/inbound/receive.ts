import {
  answer,
  type InboundRefused,
  type PluginHost,
  refusal,
  storeUnavailable,
} from "../../core/plugin/index.ts";
import { type ActivityStore, handleActivityStatus } from "./activity-status.ts";
import { bodyFormat, type Received, readLimited, sha256Hex } from "./body.ts";
import { allowed, clientAddress, socketAddress } from "./client-address.ts";
import { handleProfileUpdate } from "./profile-update.ts";
import type { CompiledEndpoint, EndpointRegistry } from "./registry.ts";

/** What the receivers use of the app they serve in. */
export type InboundHost = Pick<PluginHost, "sql" | "publish" | "logger" | "config" | "catalogue">;

/**
 * Serves `/in/<path>`: the endpoint at `path` (config file or API) receives the request; undefined
 * when there is none. A store that cannot say whether the path exists answers 500 (retry), not 404.
 *
 * `url` is the request's URL when the caller has parsed it already.
 *
 * @example http.all("/in/*", async (c, next) => (await receiveAt(host, registry, store, path, c.req.raw, c.env)) ?? next())
 */
export async function receiveAt(
  host: InboundHost,
  registry: EndpointRegistry,
  store: ActivityStore,
  path: string,
  request: Request,
  env: unknown,
  url?: URL,
): Promise<Response | undefined> {
  // A config-file endpoint is known without waiting on anything (the usual case, on every request).
  let endpoint = registry.configured(path);
  if (!endpoint)
    try {
      endpoint = await registry.find(path);
    } catch (e) {
      host.logger.log("error", "inbound.endpoints_unreadable", { error: (e as Error).message });
      return storeUnavailable();
    }
  return endpoint && receive(host, store, endpoint, request, env, url);
}

/** A sender's own id for a request, when it sends one: unsigned ids count only for dedupe. */
function senderIdOf(request: Request): string | undefined {
  const id = request.headers.get("webhook-id") ?? request.headers.get("idempotency-key");
  return id && id.length <= 200 ? id : undefined;
}

/**
 * The receiving pipeline for one inbound endpoint, in the order DESIGN.md gives: IP allowlist (403),
 * authentication from headers (401), content type (415), size limit (413), signature over the body
 * (401), then the kind's handler: parse and validate (400), dedupe, store, publish, answer (200, or
 * 500 when the store cannot take it). `env` is the server's per-request environment (socket address);
 * `url` the request's URL when the caller has parsed it already.
 *
 * @example http.post("/in/*", (c) => receive(host, store, endpoint, c.req.raw, c.env))
 */
export async function receive(
  host: InboundHost,
  store: ActivityStore,
  endpoint: CompiledEndpoint,
  request: Request,
  env: unknown,
  url: URL = new URL(request.url),
): Promise<Response> {
  const { config } = endpoint;
  if (endpoint.allowlist) {
    const forwarded = request.headers.get("x-forwarded-for") ?? undefined;
    const client = clientAddress(socketAddress(env), forwarded, endpoint.trustedProxies);
    if (!client)
      return refusal(
        403,
        "HOOKLINE_INBOUND_IP",
        "the client address is unknown, and this endpoint has an IP allowlist",
      );
    if (!allowed(client, endpoint.allowlist)) {
      host.logger.log("info", "inbound.refused_address", { endpoint: endpoint.name, client });
      return refusal(403, "HOOKLINE_INBOUND_IP", `address ${client} is not in this endpoint's IP allowlist`);
    }
  }
  const method = request.method;
  // Senders (eSputnik) test a callback URL with a GET when it is saved.
  if ((method === "GET" || method === "HEAD") && config.kind === "activity-status")
    return answer(200, { success: true, endpoint: endpoint.name });
  if (method !== "POST" && method !== "PUT")
    return refusal(
      405,
      "HOOKLINE_INBOUND_METHOD",
      `${method} is not accepted here; send POST`,
      {},
      {
        allow: config.kind === "activity-status" ? "GET, HEAD, POST, PUT" : "POST, PUT",
      },
    );

  // Most verifiers answer at once: awaiting a value that is not a promise would still yield a turn.
  const checking = endpoint.auth.headers?.(request, url);
  const viaHeaders = isPromiseLike(checking) ? await checking : checking;
  if (viaHeaders && !viaHeaders.ok) return unauthorized(host, endpoint, viaHeaders);

  const format = bodyFormat(
    request.headers.get("content-type"),
    config.kind === "activity-status" ? ["json"] : ["json", "form"],
  );
  if (!format)
    return refusal(
      415,
      "HOOKLINE_INBOUND_CONTENT_TYPE",
      `content type ${JSON.stringify(request.headers.get("content-type"))} is not accepted; send ${
        config.kind === "activity-status"
          ? "application/json"
          : "application/json or application/x-www-form-urlencoded"
      }`,
    );
  const body = await readLimited(request, config.bodyLimit);
  if (!body.ok) return refusal(413, "HOOKLINE_INBOUND_TOO_LARGE", body.message);

  const checkingBody = endpoint.auth.body?.(request, body.bytes);
  const viaBody = isPromiseLike(checkingBody) ? await checkingBody : checkingBody;
  if (viaBody && !viaBody.ok) return unauthorized(host, endpoint, viaBody);

  const senderId = (viaBody?.ok ? viaBody.senderId : undefined) ?? senderIdOf(request);
  // Activity receipts are kept only for requests the sender named: an unnamed one needs no random key.
  const once = () => (config.kind === "activity-status" ? "once" : `once:${crypto.randomUUID()}`);
  let requestKey: string;
  if (config.dedupe === "none" || (config.dedupe === "id" && !senderId)) requestKey = once();
  else if (senderId) requestKey = `id:${senderId}`;
  // Activities dedupe themselves, by their own keys: hashing the whole body would buy nothing.
  else if (config.kind === "activity-status") requestKey = once();
  // Profile updates depend on the URL too (the identifier travels in the query).
  else requestKey = `sha256:${sha256Hex(`${url.search}\n${sha256Hex(body.bytes)}`)}`;

  const received: Received = {
    endpoint: endpoint.name,
    bytes: body.bytes,
    format,
    url,
    requestKey,
    traceparent: request.headers.get("traceparent") ?? undefined,
  };
  return config.kind === "activity-status"
    ? handleActivityStatus(store, config, received, host.logger)
    : handleProfileUpdate(host, config, received);
}

/** Whether a verifier answered later (a promise, or any thenable) rather than at once. */
function isPromiseLike<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | null | undefined)?.then === "function";
}

function unauthorized(host: InboundHost, endpoint: CompiledEndpoint, v: InboundRefused): Response {
  host.logger.log("info", "inbound.refused", {
    endpoint: endpoint.name,
    code: v.code,
    reason: v.description,
  });
  // A refusal is a 4xx whatever a verifier says: anything else would tell the sender to retry, or that it was taken.
  const status = v.status !== undefined && v.status >= 400 && v.status < 500 ? v.status : 401;
  return refusal(status, v.code, v.description, {}, v.challenge ? { "www-authenticate": v.challenge } : {});
}
