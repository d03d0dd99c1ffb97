import {
  applyMapping,
  formSource,
  jsonSource,
  type MappingIssue,
  type MappingSource,
  select,
} from "../../core/mapping/index.ts";
import type { EventInput } from "../../core/model/event.ts";
import type { Received } from "./activity-status.ts";
import { parseJson, sha256Hex } from "./body.ts";
import type { ProfileUpdateEndpoint } from "./config.ts";
import { type ProfileDecision, storedReceipt, type TimelineEvent, updateProfile } from "./profiles.ts";
import type { InboundHost } from "./receive.ts";
import { answer, refusal, storeUnavailable } from "./respond.ts";

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
    return { ok: true, source: formSource(new URLSearchParams(text)) };
  }
  const json = parseJson(r.bytes);
  if (!json.ok) return { ok: false, response: refusal(400, "HOOKLINE_INBOUND_JSON", json.message) };
  if (json.value === null || typeof json.value !== "object" || Array.isArray(json.value))
    return {
      ok: false,
      response: refusal(400, "HOOKLINE_INBOUND_INVALID", "expected a JSON object describing one customer"),
    };
  return { ok: true, source: jsonSource(json.value) };
}

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
    if (!at || Number.isNaN(at.getTime())) {
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

/** The identifier value: the query parameter (BlueConic's `?email=…`), else the body expression. */
function identifierOf(config: ProfileUpdateEndpoint, url: URL, source: MappingSource): string | undefined {
  const fromQuery = url.searchParams.get(config.identifier.query ?? config.identifier.property);
  if (fromQuery) return fromQuery;
  if (!config.identifier.from) return undefined;
  const v = select(source, config.identifier.from)[0];
  return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
}

/**
 * Handles a profile update (BlueConic's "request sent to"): finds the profile by its identifier
 * (creating it when `createProfiles` is on, else answering 200 with `success: false`), maps the body
 * into properties, adds timeline events, and publishes `profile.changed` naming the properties whose
 * value changed. Answers 200 once committed and published; a replay answers the stored answer.
 *
 * @example return handleProfileUpdate(app, "crm", endpointConfig, received)
 */
export async function handleProfileUpdate(
  app: InboundHost,
  config: ProfileUpdateEndpoint,
  r: Received,
): Promise<Response> {
  const src = sourceOf(r);
  if (!src.ok) return src.response;
  const source = src.source;
  const value = identifierOf(config, r.url, source);
  if (!value)
    return refusal(
      400,
      "HOOKLINE_PROFILE_IDENTIFIER",
      `missing the identifier: add ?${config.identifier.query ?? config.identifier.property}=… to the URL` +
        (config.identifier.from ? ` or send ${config.identifier.from} in the body` : ""),
    );
  const now = new Date();
  const timeline = buildTimeline(source, config.timeline, now);
  const eventId = `prof.${r.endpoint}.${sha256Hex(r.requestKey).slice(0, 40)}`;
  const identifier = { property: config.identifier.property, value };

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
    const mapped = applyMapping(profile.properties, source, config.mappings);
    const changed = profile.created
      ? Object.keys(mapped.properties).filter((k) => k in before === false)
      : mapped.changed;
    const errors: Array<{ code: string; description: string }> = [
      ...mapped.errors.map((e: MappingIssue) => ({ code: e.code, description: e.description })),
      ...timeline.errors,
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
    };
    return {
      response: errors.length > 0 ? { success: false, errors, result } : { success: true, result },
      properties: changed.length > 0 || profile.created ? mapped.properties : undefined,
      timeline: timeline.events,
      events,
    };
  };

  try {
    const out = await updateProfile(
      app.store.sql,
      { endpoint: r.endpoint, requestKey: r.requestKey, identifier, create: config.createProfiles },
      decide,
    );
    if (out.replay) {
      const stored = await storedReceipt(app.store.sql, r.endpoint, r.requestKey);
      // Published again in case the first answer was a 500 after the commit (event ids make it a no-op otherwise).
      if (stored?.events.length) await app.publish(stored.events);
      return answer(200, { ...(stored?.response ?? { success: true }), replayed: true });
    }
    if (out.decision.events.length > 0) await app.publish(out.decision.events);
    return answer(200, out.decision.response);
  } catch (e) {
    app.logger.log("error", "inbound profile update not stored", {
      endpoint: r.endpoint,
      error: (e as Error).message,
    });
    return storeUnavailable();
  }
}
