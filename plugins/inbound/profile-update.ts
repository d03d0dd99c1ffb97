import {
  answer,
  applyMapping,
  type EventInput,
  formSource,
  JSON_LIMITS,
  jsonSource,
  type MappingIssue,
  type MappingRule,
  type MappingSource,
  type PluginHost,
  refusal,
  select,
  storeUnavailable,
  unstorable,
  unstorableJson,
  unstorableText,
} from "../../core/plugin/index.ts";
import { parseJson, type Received, sha256Hex } from "./body.ts";
import type { ProfileUpdateEndpoint } from "./config.ts";
import { type ConsentRule, consentChanges, isConsentRule } from "./consent-mapping.ts";
import { refusedData } from "./group-commit.ts";
import {
  type ProfileDecision,
  storedReceipt,
  type TimelineEvent,
  updateProfile,
} from "./profile-repository.ts";

const CURRENT_DATE = /^current date$/i;

/** The request body as a mapping source, or the 400 that explains why it is not one. */
function sourceOf(r: Received): { ok: true; source: MappingSource } | { ok: false; response: Response } {
  if (r.format === "form") {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(r.bytes);
    } catch {
      return { ok: false, response: refusal(400, "HOOKLINE_INBOUND_FORM", "form body is not UTF-8") };
    }
    const fields = new URLSearchParams(text);
    // %00 decodes to U+0000, which Postgres cannot keep (a lone surrogate cannot come out of UTF-8).
    for (const [name, value] of fields) {
      const problem = unstorableText(name);
      if (problem)
        return {
          ok: false,
          response: invalid("", `field name ${JSON.stringify(name.slice(0, 40))}: ${problem}`),
        };
      const inValue = unstorableText(value);
      if (inValue) return { ok: false, response: invalid(name, inValue) };
    }
    return { ok: true, source: formSource(fields) };
  }
  const json = parseJson(r.bytes);
  if (!json.ok) return { ok: false, response: refusal(400, "HOOKLINE_INBOUND_JSON", json.message) };
  if (json.value === null || typeof json.value !== "object" || Array.isArray(json.value))
    return {
      ok: false,
      response: refusal(400, "HOOKLINE_INBOUND_INVALID", "expected a JSON object describing one customer"),
    };
  // The whole body, mapped or not: one rule a sender can know, checked before any value is selected.
  const problem = unstorableJson(json.value, PROFILE_BODY_LIMITS);
  if (problem) return { ok: false, response: invalid(problem.path.join("."), problem.message) };
  return { ok: true, source: jsonSource(json.value) };
}

/**
 * A mapped value travels on in the `profile.changed` event as `data.properties.<name>` (two levels
 * further down than in the body) and `add-to-list` puts it in a list (one more), and events nest at
 * most `JSON_LIMITS.depth` levels: a body using every level would be stored, then fail to publish (a
 * 500 the sender retries forever). So a profile-update body nests three levels less.
 */
const PROFILE_BODY_LIMITS = Object.freeze({ ...JSON_LIMITS, depth: JSON_LIMITS.depth - 3 });

/** 400 for a body whose field at `path` holds a value the store cannot keep. */
const invalid = (path: string, message: string) =>
  refusal(400, "HOOKLINE_INBOUND_INVALID", "invalid profile update", { issues: [{ path, message }] });

/**
 * The most UTF-8 bytes an identifier may have: it is a key of a btree index, whose rows Postgres
 * caps at 2,704 bytes (property name included). Emails are at most 254.
 */
const MAX_IDENTIFIER_BYTES = 1024;

/** Why an identifier cannot be stored, or undefined. */
function unstorableIdentifier(value: string): string | undefined {
  const problem = unstorableText(value);
  if (problem) return problem;
  const bytes = new TextEncoder().encode(value).byteLength;
  return bytes > MAX_IDENTIFIER_BYTES
    ? `${bytes} bytes long; at most ${MAX_IDENTIFIER_BYTES} are taken`
    : undefined;
}

// Postgres keeps timestamps of years 1 to 294276 but reads only 4-digit years back from ISO text
// (JavaScript writes year 0, negative and 6-digit years as "0000", "-000001", "+275760").
const FIRST_DATE = Date.parse("0001-01-01T00:00:00.000Z");
const LAST_DATE = Date.parse("9999-12-31T23:59:59.999Z");
const storableDate = (d: Date) => d.getTime() >= FIRST_DATE && d.getTime() <= LAST_DATE;

/** The value of one timeline field: "current date", or what the expression selects (one value or a list). */
function fieldValue(source: MappingSource, expr: string, now: string): unknown {
  if (CURRENT_DATE.test(expr.trim())) return now;
  const values = select(source, expr).filter((v) => v !== null && v !== undefined);
  return values.length === 0 ? undefined : values.length === 1 ? values[0] : values;
}

/**
 * Timeline events from the request (BlueConic's timeline import): one per configured event whose
 * fields found something, dated by its `date` expression or "current date".
 *
 * @example buildTimeline(jsonSource({ total: 5 }), [{ type: "order", date: "current date", fields: { total: "$.total" } }], new Date())
 */
export function buildTimeline(
  source: MappingSource,
  config: ProfileUpdateEndpoint["timeline"],
  now: Date,
): { events: TimelineEvent[]; errors: Array<{ code: string; description: string }> } {
  const events: TimelineEvent[] = [];
  const errors: Array<{ code: string; description: string }> = [];
  const nowIso = now.toISOString();
  for (const t of config) {
    const data: Record<string, unknown> = {};
    let found = Object.keys(t.fields).length === 0;
    for (const [name, expr] of Object.entries(t.fields)) {
      const v = fieldValue(source, expr, nowIso);
      if (v === undefined) continue;
      data[name] = v;
      if (!CURRENT_DATE.test(expr.trim())) found = true;
    }
    if (!found) continue;
    const date = fieldValue(source, t.date, nowIso);
    const at = typeof date === "string" || typeof date === "number" ? new Date(date) : undefined;
    if (!at || !storableDate(at)) {
      errors.push({
        code: "HOOKLINE_TIMELINE_DATE",
        description: `timeline event "${t.type}": ${t.date} gave no date (${JSON.stringify(date) ?? "nothing"})`,
      });
      continue;
    }
    events.push({ type: t.type, at: at.toISOString(), data });
  }
  return { events, errors };
}

/**
 * The identifier value and where it came from (`?email`, or the body expression): the query
 * parameter (BlueConic's `?email=…`), else the body expression.
 */
function identifierOf(
  config: ProfileUpdateEndpoint,
  url: URL,
  source: MappingSource,
): { value: string; from: string } | undefined {
  const param = config.identifier.query ?? config.identifier.property;
  const fromQuery = url.searchParams.get(param);
  if (fromQuery) return { value: fromQuery, from: `?${param}` };
  if (!config.identifier.from) return undefined;
  const v = select(source, config.identifier.from)[0];
  const value = typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
  return value === undefined ? undefined : { value, from: config.identifier.from };
}

/**
 * Handles a profile update (BlueConic's "request sent to"): finds the profile by its identifier
 * (creating it when `createProfiles` is on, else answering 200 with `success: false`), maps the body
 * into properties, adds timeline events, and publishes `profile.changed` naming the properties whose
 * value changed. Answers 200 once committed and published; a replay answers the stored answer.
 *
 * @example return handleProfileUpdate(host, endpointConfig, received)
 */
export async function handleProfileUpdate(
  host: Pick<PluginHost, "sql" | "publish" | "logger" | "config" | "catalogue">,
  config: ProfileUpdateEndpoint,
  r: Received,
): Promise<Response> {
  const src = sourceOf(r);
  if (!src.ok) return src.response;
  const source = src.source;
  const found = identifierOf(config, r.url, source);
  if (!found)
    return refusal(
      400,
      "HOOKLINE_PROFILE_IDENTIFIER",
      `missing the identifier: add ?${config.identifier.query ?? config.identifier.property}=… to the URL` +
        (config.identifier.from ? ` or send ${config.identifier.from} in the body` : ""),
    );
  const unusable = unstorableIdentifier(found.value);
  if (unusable)
    return refusal(
      400,
      "HOOKLINE_PROFILE_IDENTIFIER",
      `the identifier ${found.from} is not usable: ${unusable}`,
      {
        issues: [{ path: found.from, message: unusable }],
      },
    );
  const value = found.value;
  const now = new Date();
  const timeline = buildTimeline(source, config.timeline, now);
  const eventId = `prof.${r.endpoint}.${sha256Hex(r.requestKey).slice(0, 40)}`;
  const identifier = { property: config.identifier.property, value };
  // Rules that target a consent set it, dated now, from this endpoint; the others map properties.
  const consentRules = config.mappings.filter(isConsentRule) as ConsentRule[];
  const propertyRules =
    consentRules.length > 0 ? config.mappings.filter((m) => !isConsentRule(m)) : config.mappings;
  const consents =
    consentRules.length > 0 ? consentChanges(source, consentRules, now.toISOString(), r.endpoint) : undefined;

  const decide = (
    profile: { id: string; properties: Record<string, unknown>; created: boolean } | undefined,
  ): ProfileDecision => {
    if (!profile)
      return {
        response: {
          success: false,
          errors: [
            {
              code: "HOOKLINE_PROFILE_NOT_FOUND",
              description: `no profile has ${identifier.property} = ${JSON.stringify(value)}, and this endpoint does not create profiles`,
            },
          ],
        },
        timeline: [],
        events: [],
      };
    const before = profile.created ? {} : profile.properties;
    const mapped = applyMapping(profile.properties, source, propertyRules as MappingRule[]);
    const changed = profile.created
      ? Object.keys(mapped.properties).filter((k) => k in before === false)
      : mapped.changed;
    const errors: Array<{ code: string; description: string }> = [
      ...mapped.errors.map((e: MappingIssue) => ({ code: e.code, description: e.description })),
      ...timeline.errors,
      ...(consents?.errors ?? []),
    ];
    const events: EventInput[] =
      changed.length > 0
        ? [
            {
              id: eventId,
              type: "profile.changed",
              customer: { ...mapped.properties, id: profile.id },
              data: {
                profileId: profile.id,
                endpoint: r.endpoint,
                created: profile.created,
                changed,
                previous: Object.fromEntries(changed.map((k) => [k, before[k] ?? null])),
                properties: mapped.properties,
              },
            },
          ]
        : [];
    const result = {
      profileId: profile.id,
      created: profile.created,
      changed,
      timeline: timeline.events.length,
      ...(consents ? { consents: consents.changes.length } : {}),
    };
    return {
      response: errors.length > 0 ? { success: false, errors, result } : { success: true, result },
      properties: changed.length > 0 || profile.created ? mapped.properties : undefined,
      timeline: timeline.events,
      ...(consents?.changes.length ? { consents: consents.changes } : {}),
      events,
    };
  };

  try {
    const out = await updateProfile(
      host.sql,
      {
        endpoint: r.endpoint,
        requestKey: r.requestKey,
        identifier,
        create: config.createProfiles,
        segments: { source: host, cause: eventId, via: { type: "profile-update", endpoint: r.endpoint } },
      },
      decide,
    );
    if (out.replay) {
      const stored = await storedReceipt(host.sql, r.endpoint, r.requestKey);
      // Published again in case the first answer was a 500 after the commit (event ids make it a no-op otherwise).
      if (stored?.events.length) await host.publish(stored.events, { traceparent: r.traceparent });
      return answer(200, { ...(stored?.response ?? { success: true }), replayed: true });
    }
    if (out.decision.events.length > 0)
      await host.publish(out.decision.events, { traceparent: r.traceparent });
    return answer(200, out.decision.response);
  } catch (e) {
    // The transaction rolled back: a value the store refused is this request's own, and a retry
    // would fail the same way (400); anything else is the store's side (500, retry).
    const state = refusedData(e);
    host.logger.log(state ? "warn" : "error", "inbound.profile_not_stored", {
      endpoint: r.endpoint,
      error: (e as Error).message,
    });
    return state ? unstorable([], state) : storeUnavailable();
  }
}
