/**
 * Inbound authentication as a seam: a kind a plugin registers under `Tokens.InboundAuth` is checked,
 * verified, sealed and masked like a built-in one, for endpoints of the config file and of the API.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { z } from "zod";
import { type InboundAuthKind, type Plugin, Tokens, timingSafeEqual } from "../../../core/plugin/index.ts";
import { compileAuthKinds, inbound } from "../../../plugins/inbound/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { ESPUTNIK_EXAMPLE } from "../../support/esputnik-example.ts";

const TOKEN = "partner-token-3f9a71c2";
const SECRET_KEY = btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)));

/** A partner's scheme: a token in X-Partner-Token, per partner (nested secrets), 403 for a known partner disabled. */
const partnerToken: InboundAuthKind<{ partners: Array<{ id: string; token: string; disabled: boolean }> }> = {
  kind: "partner-token",
  schema: z
    .object({
      partners: z
        .array(
          z
            .object({
              id: z.string().min(1),
              token: z.string().min(16),
              disabled: z.boolean().default(false),
            })
            .strict(),
        )
        .min(1),
    })
    .strict(),
  secrets: (o) => o.partners.map((p) => p.token),
  create: (o) => ({
    headers(request) {
      const given = request.headers.get("x-partner-token") ?? "";
      const partner = o.partners.find((p) => timingSafeEqual(given, p.token));
      if (!partner)
        return { ok: false, code: "PARTNER_TOKEN", description: "missing or wrong X-Partner-Token" };
      if (partner.disabled)
        return {
          ok: false,
          status: 403,
          code: "PARTNER_DISABLED",
          description: `partner ${partner.id} is disabled`,
        };
      return { ok: true };
    },
  }),
};

/** A verifier that claims a status a refusal cannot have. */
const confused: InboundAuthKind<Record<string, never>> = {
  kind: "confused",
  schema: z.object({}).strict(),
  secrets: () => [],
  create: () => ({ headers: () => ({ ok: false, status: 200, code: "CONFUSED", description: "nope" }) }),
};

const kinds = (...list: InboundAuthKind[]): Plugin => ({
  name: "partner-kinds",
  register(c) {
    for (const k of list) c.register(Tokens.InboundAuth, { useValue: k });
  },
});

const config = `
inbound:
  endpoints:
    partner:
      kind: activity-status
      auth: { kind: partner-token, partners: [{ id: acme, token: ${TOKEN} }, { id: old, token: old-partner-token-0000, disabled: true }] }
    confused: { kind: activity-status, auth: { kind: confused } }
`;

describe("inbound authentication kinds of a plugin", () => {
  let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    app = await testApp(config, driver, {
      plugins: [inbound(), kinds(partnerToken, confused)],
      env: { HOOKLINE_SECRET_KEY: SECRET_KEY },
    });
  });
  afterAll(async () => {
    await app.stop(0);
    await driver.dispose();
  });

  const post = (path: string, token?: string) =>
    app.fetch(
      new Request(`http://h/in/${path}`, {
        method: "POST",
        body: ESPUTNIK_EXAMPLE,
        headers: { "content-type": "application/json", ...(token ? { "x-partner-token": token } : {}) },
      }),
    );
  const refusal = async (r: Response) =>
    ((await r.json()) as { errors: Array<{ code: string; description: string }> }).errors[0];

  it("serves an endpoint of the config file with the plugin's kind: 200, 401, and the verifier's own 403", async () => {
    expect((await post("partner", TOKEN)).status).toBe(200);
    const wrong = await post("partner", "not-a-partner-token");
    expect(wrong.status).toBe(401);
    expect(await refusal(wrong)).toEqual({
      code: "PARTNER_TOKEN",
      description: "missing or wrong X-Partner-Token",
    });
    const disabled = await post("partner", "old-partner-token-0000");
    expect(disabled.status).toBe(403);
    expect(await refusal(disabled)).toEqual({
      code: "PARTNER_DISABLED",
      description: "partner old is disabled",
    });
  });

  it("answers 401 when a verifier refuses with a status that is not a 4xx", async () => {
    const r = await post("confused");
    expect(r.status).toBe(401);
    expect((await refusal(r))!.code).toBe("CONFUSED");
  });

  it("keeps the kind's secrets out of logs and answers, nested ones included", async () => {
    const shown = (await (await app.fetch(new Request("http://h/v1/inbound/partner"))).json()) as {
      config: { auth: unknown };
    };
    expect(shown.config.auth).toEqual({
      kind: "partner-token",
      partners: [
        { id: "acme", token: "[REDACTED]", disabled: false },
        { id: "old", token: "[REDACTED]", disabled: true },
      ],
    });
    app.logger.log("info", `a line that names ${TOKEN}`);
    expect(app.logs.join("\n")).not.toContain(TOKEN);
  });

  it("checks an endpoint put through the admin API against the kind, seals its secrets and serves it", async () => {
    const put = (auth: unknown) =>
      app.fetch(
        new Request("http://h/v1/inbound/api-partner", {
          method: "PUT",
          body: JSON.stringify({ kind: "activity-status", auth }),
          headers: { "content-type": "application/json" },
        }),
      );
    const bad = await put({ kind: "partner-token", partners: [{ id: "x", token: "short" }] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain("auth.partners.0.token");
    const unknown = await put({ kind: "nobody-registered-this" });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain("unknown inbound auth kind");

    expect((await put({ kind: "partner-token", partners: [{ id: "api", token: TOKEN }] })).status).toBe(201);
    const [row] = await driver.query<{ config: string; sealed: string | null }>(
      "SELECT config::text AS config, sealed FROM hookline_inbound_endpoints WHERE name = 'api-partner'",
    );
    expect(row!.sealed).not.toBeNull();
    expect(row!.config).not.toContain(TOKEN);
    expect((await post("api-partner", TOKEN)).status).toBe(200);
    expect((await post("api-partner", "not-a-partner-token")).status).toBe(401);
  });

  it("refuses two kinds of one name at start-up, naming the kind", async () => {
    const twice = testApp(config, driver, {
      plugins: [inbound(), kinds(partnerToken, confused, partnerToken)],
    });
    await expect(twice).rejects.toThrow(/two inbound authentication kinds are named "partner-token"/);
    expect(() => compileAuthKinds([partnerToken, { ...confused, kind: "partner-token" }])).toThrow(
      expect.objectContaining({ code: "HOOKLINE_INBOUND_AUTH_KIND" }),
    );
  });
});
