import { HooklineError, type OutboundRequest } from "../../core/plugin/index.ts";

/** Where an access token travels to the API. */
export type TokenPlacement = "header" | "body" | "query";

type BodyKind = "json" | "form" | "other";

function bodyKind(request: OutboundRequest): BodyKind {
  const type = (request.headers["content-type"] ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (type === "application/json" || type.endsWith("+json")) return "json";
  if (type === "application/x-www-form-urlencoded") return "form";
  return "other";
}

function jsonObject(body: string | undefined): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body ?? "");
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Puts an access token where the API expects it: `Authorization: Bearer` (RFC 6750 §2.1), a field of
 * a JSON object or form body (§2.2), or a query parameter (§2.3). Setting, not appending: a request
 * authorized again after a 401 carries one token, the new one.
 *
 * @example placeToken(request, token, "query", "access_token")
 */
export function placeToken(
  request: OutboundRequest,
  token: string,
  placement: TokenPlacement,
  field: string,
): OutboundRequest {
  if (placement === "header")
    return { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } };
  if (placement === "query") {
    const url = new URL(request.url);
    url.searchParams.set(field, token);
    return { ...request, url: url.href };
  }
  const kind = bodyKind(request);
  if (kind === "form") {
    const form = new URLSearchParams(request.body ?? "");
    form.set(field, token);
    return { ...request, body: form.toString() };
  }
  const object = kind === "json" ? jsonObject(request.body) : undefined;
  if (!object) {
    const came =
      kind === "json"
        ? "a JSON body that is not an object"
        : `content type "${request.headers["content-type"] ?? "none"}"`;
    throw new HooklineError(
      "HOOKLINE_OAUTH_TOKEN_PLACEMENT",
      `tokenPlacement body needs a JSON object or an application/x-www-form-urlencoded body; the request has ${came}`,
    );
  }
  return { ...request, body: JSON.stringify({ ...object, [field]: token }) };
}

/**
 * The token a request carries where `placeToken` puts it, if any: for a refused request, the token
 * the API refused.
 *
 * @example carriedToken({ ...r, headers: { authorization: "Bearer abc" } }, "header", "access_token") // "abc"
 */
export function carriedToken(
  request: OutboundRequest,
  placement: TokenPlacement,
  field: string,
): string | undefined {
  if (placement === "header") return /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
  if (placement === "query") return new URL(request.url).searchParams.get(field) ?? undefined;
  const kind = bodyKind(request);
  if (kind === "form") return new URLSearchParams(request.body ?? "").get(field) ?? undefined;
  const value = kind === "json" ? jsonObject(request.body)?.[field] : undefined;
  return typeof value === "string" ? value : undefined;
}
