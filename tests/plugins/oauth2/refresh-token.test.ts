// The refresh_token grant on its own (BlueConic's third OAuth flow): an operator pastes a refresh token
// they already hold; hookline exchanges it, keeps every rotated one sealed in the store, and prefers
// the stored one across restarts unless the operator pastes a new one.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Delivery } from "../../../core/contracts/store.ts";
import type { HooklineError } from "../../../core/errors.ts";
import { mustache } from "../../../plugins/mustache/index.ts";
import { OAuth2Options, OAuthReauthorizeError, oauth2 } from "../../../plugins/oauth2/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";
import { expectedBasicHeader, startTokenServer, type TokenServer } from "../../support/oauth-server.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
type App = Awaited<ReturnType<typeof testApp>>;

const KEY = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64");
const CLIENT_SECRET = "RT-CLIENT-S3CRET §a1:+%";

for (const kind of storeKinds) {
  describe(`oauth2 grantType refresh_token against the local token endpoint on ${kind.name}`, () => {
    let driver: Driver;
    // Rotates every refresh token it is given, and (carelessly) echoes a refused one in its error.
    let server: TokenServer;
    // A public client's server, which does not rotate.
    let publicServer: TokenServer;
    let api: Sink;
    let app: App;
    const allLogs: string[][] = [];
    const deliveryIds: string[] = [];
    let configured = "";

    // Three retries: a failure that is not retried shows as one attempt.
    const yaml = (refreshToken: string) => `
engine: { pollInterval: 20ms, timeout: 2s, retry: { delays: [20ms, 20ms, 20ms], jitter: 0 }, allowNetworks: ["127.0.0.1/32"] }
integrations:
  rt:
    kind: oauth2
    grantType: refresh_token
    endpointPrefix: ${api.url}/rt
    tokenEndpoint: ${server.tokenUrl}
    clientId: hookline
    clientSecret: "${CLIENT_SECRET}"
    refreshToken: "${refreshToken}"
    clientAuthentication: body
    extraFields: [{ name: scope, value: "profiles.write" }]
    allowedDomains: ["${api.url}"]
  pub:
    kind: oauth2
    grantType: refresh_token
    endpointPrefix: ${api.url}/pub
    tokenEndpoint: ${publicServer.tokenUrl}
    clientId: public-app
    refreshToken: "${publicServer.refreshTokens[0]}"
    allowedDomains: ["${api.url}"]
webhooks:
  rt: { url: "${api.url}/rt/profiles", integration: rt, body: "{}" }
  pub: { url: "${api.url}/pub/profiles", integration: pub, body: "{}" }
triggers:
  - { kind: event, events: [rt], webhooks: [rt] }
  - { kind: event, events: [pub], webhooks: [pub] }
`;

    /** A (re)started process on the same store and secret key, with this refresh token configured. */
    const start = async (refreshToken: string) => {
      if (app) await app.stop(1_000);
      configured = refreshToken;
      app = await testApp(yaml(refreshToken), driver, {
        plugins: [oauth2(), mustache()],
        env: { HOOKLINE_SECRET_KEY: KEY },
      });
      allLogs.push(app.logs);
      await app.start();
    };

    beforeAll(async () => {
      driver = await kind.open();
      server = await startTokenServer({
        clientId: "hookline",
        clientSecret: CLIENT_SECRET,
        rotateRefreshTokens: true,
        echoSecretInErrors: true,
        delayMs: 100,
      });
      publicServer = await startTokenServer({ clientId: "public-app" });
      publicServer.issueRefreshToken();
      api = await startSink((r) => {
        const bearer = /^Bearer (.+)$/.exec(r.headers.authorization ?? "")?.[1];
        return { status: server.isValid(bearer) || publicServer.isValid(bearer) ? 200 : 401 };
      });
      await start(server.issueRefreshToken());
    });
    afterAll(async () => {
      await app.stop(1_000);
      for (const s of [server, publicServer, api]) await s.close();
      await driver.dispose();
    });

    const publish = async (type: string) => {
      const id = (await app.publish({ type, customer: { id: crypto.randomUUID() } })).events[0]!
        .deliveries[0]!.id;
      deliveryIds.push(id);
      return id;
    };
    const settled = (id: string): Promise<Delivery> =>
      eventually(async () => {
        const d = await app.store.getDelivery(id);
        return d && ["succeeded", "failed", "halted"].includes(d.status) ? d : undefined;
      }, 20_000);
    const deliver = async (type = "rt") => settled(await publish(type));
    const hits = (prefix: string) => api.requests.filter((r) => r.url.startsWith(`/${prefix}/`));
    /** The refresh token each refresh_token request presented, in order. */
    const presented = () => server.requests.map((r) => r.form.get("refresh_token"));
    const stateRows = () =>
      driver.query<{ integration: string; key: string; sealed: string }>(
        "SELECT integration, key, sealed FROM hookline_integration_state ORDER BY integration, key",
      );
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await app.fetch(
        new Request(`http://h${path}`, {
          method,
          headers: { "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
      const text = await r.text();
      return { status: r.status, text, json: text ? JSON.parse(text) : undefined };
    };

    it("lets a public client (no clientSecret) refresh with client_id alone, storing nothing when nothing rotates", async () => {
      expect((await deliver("pub")).status).toBe("succeeded");
      const [seen] = publicServer.requests;
      expect(seen!.problems).toEqual([]);
      expect(seen!.clientAuth).toBe("none");
      expect(seen!.raw.headers.authorization).toBeUndefined();
      expect(Object.fromEntries(seen!.form)).toEqual({
        grant_type: "refresh_token",
        refresh_token: publicServer.refreshTokens[0]!,
        client_id: "public-app",
      });
      expect(hits("pub")[0]!.headers.authorization).toBe(`Bearer ${publicServer.issued[0]}`);
      expect((await stateRows()).filter((r) => r.integration === "pub")).toEqual([]);
    });

    it("exchanges the configured refresh token once for concurrent deliveries and sends Authorization: Bearer", async () => {
      const all = await Promise.all(Array.from({ length: 20 }, () => deliver()));
      expect(all.map((d) => d.status)).toEqual(Array(20).fill("succeeded"));
      expect(server.requests).toHaveLength(1);
      const [seen] = server.requests;
      expect(seen!.problems).toEqual([]);
      expect(seen!.clientAuth).toBe("body");
      expect(Object.fromEntries(seen!.form)).toMatchObject({
        grant_type: "refresh_token",
        refresh_token: configured,
        client_id: "hookline",
        client_secret: CLIENT_SECRET,
        scope: "profiles.write",
      });
      expect(new Set(hits("rt").map((r) => r.headers.authorization))).toEqual(
        new Set([`Bearer ${server.issued[0]}`]),
      );
      // Cached until it expires: the next delivery asks the token endpoint nothing.
      expect((await deliver()).status).toBe("succeeded");
      expect(server.requests).toHaveLength(1);
    });

    it("stores the refresh token the server rotated to sealed in the store, not in plaintext", async () => {
      const rotated = server.refreshTokens.at(-1)!;
      expect(rotated).not.toBe(configured);
      expect(server.isValidRefreshToken(configured)).toBe(false);
      const rows = (await stateRows()).filter((r) => r.integration === "rt");
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) expect(row.sealed).toStartWith("v1.");
      const dump = JSON.stringify(await stateRows());
      for (const token of server.refreshTokens) expect(dump).not.toContain(token);
    });

    it("on a 401 refreshes once with the rotated refresh token and sends the request again", async () => {
      const rotated = server.refreshTokens.at(-1)!;
      server.revokeAll();
      const id = await publish("rt");
      expect((await settled(id)).status).toBe("succeeded");
      expect(presented()).toEqual([configured, rotated]);
      expect(
        hits("rt")
          .slice(-2)
          .map((r) => r.headers.authorization),
      ).toEqual([`Bearer ${server.issued[0]}`, `Bearer ${server.issued[1]}`]);
      expect((await app.store.listAttempts(id)).map((a) => a.status)).toEqual([200]);
    });

    it("after a restart refreshes with the stored rotated refresh token, not the configured one", async () => {
      const latest = server.refreshTokens.at(-1)!;
      await start(configured);
      expect((await deliver()).status).toBe("succeeded");
      expect(presented().at(-1)).toBe(latest);
      expect(presented().filter((t) => t === configured)).toHaveLength(1);
    });

    it("takes a refresh_token integration through the admin API: sealed, shown only as set, left out of exports", async () => {
      const pasted = server.issueRefreshToken();
      const body = {
        kind: "oauth2",
        endpointPrefix: `${api.url}/api-rt`,
        grantType: "refresh_token",
        tokenEndpoint: server.tokenUrl,
        clientId: "hookline",
        clientSecret: CLIENT_SECRET,
        refreshToken: pasted,
        allowedDomains: [api.url],
      };
      const put = await call("PUT", "/v1/integrations/api-rt", body);
      expect(put.status).toBe(200);
      expect(put.json.secrets).toEqual({ clientSecret: "set", refreshToken: "set" });
      expect(put.text).not.toContain(pasted);
      expect(
        (
          await call("PUT", "/v1/webhooks/api-rt", {
            url: `${api.url}/api-rt/profiles`,
            integration: "api-rt",
            engine: "mustache",
            body: "{}",
            events: ["api-rt"],
          })
        ).status,
      ).toBe(200);
      const [row] = await driver.query<{ spec: Record<string, unknown>; sealed: string }>(
        "SELECT spec, sealed FROM hookline_managed WHERE kind = 'integration' AND name = 'api-rt'",
      );
      expect(row!.spec.refreshToken).toBeUndefined();
      expect(row!.sealed).toStartWith("v1.");
      expect(row!.sealed).not.toContain(pasted);
      const exported = await call("GET", "/v1/export");
      expect(exported.json.integrations["api-rt"].grantType).toBe("refresh_token");
      expect(exported.json.integrations["api-rt"].refreshToken).toBeUndefined();
      expect(exported.json.secretsRequired["api-rt"]).toContain("refreshToken");
      expect(exported.text).not.toContain(pasted);

      expect((await deliver("api-rt")).status).toBe("succeeded");
      const seen = server.requests.at(-1)!;
      expect(seen.form.get("refresh_token")).toBe(pasted);
      expect(seen.raw.headers.authorization).toBe(expectedBasicHeader("hookline", CLIENT_SECRET));

      // A newly pasted refresh token wins over the one stored after the last rotation…
      const repasted = server.issueRefreshToken();
      expect((await call("PUT", "/v1/integrations/api-rt", { ...body, refreshToken: repasted })).status).toBe(
        200,
      );
      expect((await deliver("api-rt")).status).toBe("succeeded");
      expect(presented().at(-1)).toBe(repasted);
      // …while a change that leaves the refresh token out keeps it, and the rotated one stays in use.
      const rotated = server.refreshTokens.at(-1)!;
      const { clientSecret: _, refreshToken: __, ...withoutSecrets } = body;
      expect(
        (await call("PUT", "/v1/integrations/api-rt", { ...withoutSecrets, clientAuthentication: "body" }))
          .status,
      ).toBe(200);
      expect((await deliver("api-rt")).status).toBe("succeeded");
      expect(presented().at(-1)).toBe(rotated);
    });

    it("asks again, when a token endpoint changes through the admin API, only for the secrets the integration holds", async () => {
      const cc = {
        kind: "oauth2",
        endpointPrefix: `${api.url}/cc`,
        tokenEndpoint: server.tokenUrl,
        clientId: "hookline",
        clientSecret: CLIENT_SECRET,
        allowedDomains: [api.url],
      };
      expect((await call("PUT", "/v1/integrations/cc", cc)).status).toBe(200);
      const moved = { ...cc, tokenEndpoint: publicServer.tokenUrl };
      const { clientSecret: _, ...movedWithoutSecret } = moved;
      const refused = await call("PUT", "/v1/integrations/cc", movedWithoutSecret);
      expect(refused.status).toBe(400);
      expect(refused.json.error).toBe("changing tokenEndpoint requires the secrets again: clientSecret");
      // A client_credentials integration holds no refresh token: its secret alone is enough.
      expect((await call("PUT", "/v1/integrations/cc", moved)).status).toBe(200);

      // A public client holds no client secret: its refresh token alone is enough.
      const pub = {
        kind: "oauth2",
        grantType: "refresh_token",
        endpointPrefix: `${api.url}/pub-api`,
        tokenEndpoint: publicServer.tokenUrl,
        clientId: "public-app",
        refreshToken: publicServer.issueRefreshToken(),
        allowedDomains: [api.url],
      };
      expect((await call("PUT", "/v1/integrations/pub-api", pub)).status).toBe(200);
      const again = await call("PUT", "/v1/integrations/pub-api", {
        ...pub,
        tokenEndpoint: `${publicServer.tokenUrl}?tenant=2`,
      });
      expect(again.json.error).toBeUndefined();
      expect(again.status).toBe(200);
      for (const name of ["cc", "pub-api"])
        expect((await call("DELETE", `/v1/integrations/${name}`)).status).toBe(204);
    });

    it("fails the delivery once, not retried, when the refresh token was revoked, saying to paste a new one", async () => {
      server.revokeRefreshTokens();
      // The cached access token is dropped, so that this delivery asks for a new one.
      await app.integrations.get("rt")!.instance.onUnauthorized!({ method: "POST", url: "", headers: {} });
      const id = await publish("rt");
      const d = await settled(id);
      expect(d.status).toBe("failed");
      expect(d.reason).toContain('integration "rt"');
      expect(d.reason).toContain("the token endpoint refused the refresh token (invalid_grant");
      expect(d.reason).toContain("revoked or has expired");
      expect(d.reason).toContain("paste a new refresh token into refreshToken");
      const attempts = await app.store.listAttempts(id);
      expect(attempts).toHaveLength(1);
      expect(attempts[0]!.errorClass).toBe("auth");
      expect(attempts[0]!.outcome).toBe("failed");

      // Later deliveries fail the same way without presenting the refused token again.
      const asked = server.requests.length;
      const again = await deliver();
      expect(again.status).toBe("failed");
      expect(again.reason).toContain("paste a new refresh token");
      const error = await app.integrations
        .get("rt")!
        .instance.authorize({ method: "POST", url: `${api.url}/rt/x`, headers: {}, body: "{}" }, {})
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OAuthReauthorizeError);
      expect((error as HooklineError).code).toBe("HOOKLINE_OAUTH_REAUTHORIZE");
      expect(server.requests.length).toBe(asked);
    });

    it("uses a newly configured refresh token over the stored one, then its rotations across restarts", async () => {
      const pasted = server.issueRefreshToken();
      await start(pasted);
      expect((await deliver()).status).toBe("succeeded");
      expect(presented().at(-1)).toBe(pasted);
      const rotated = server.refreshTokens.at(-1)!;
      expect(rotated).not.toBe(pasted);
      // Same configuration again: the stored rotation wins over the (now rotated-away) pasted token.
      await start(pasted);
      expect((await deliver()).status).toBe("succeeded");
      expect(presented().at(-1)).toBe(rotated);
      expect(presented().filter((t) => t === pasted)).toHaveLength(1);
    });

    it("fails the delivery once, not retried, when a 401's refresh is refused, saying to paste a new token", async () => {
      await start(server.issueRefreshToken());
      expect((await deliver()).status).toBe("succeeded");
      // The cached access token is now refused by the API (401), and the refresh that follows is refused too.
      server.revokeAll();
      server.revokeRefreshTokens();
      const id = await publish("rt");
      const d = await settled(id);
      expect(d.status).toBe("failed");
      expect(d.reason).toContain("paste a new refresh token");
      const attempts = await app.store.listAttempts(id);
      expect(attempts).toHaveLength(1);
      expect(attempts[0]!.errorClass).toBe("auth");
    });

    it("keeps every refresh token out of logs, API answers, attempt records, exports and the store", async () => {
      const texts: string[] = allLogs.map((l) => l.join("\n"));
      texts.push((await call("GET", "/v1/integrations")).text);
      for (const name of ["rt", "pub", "api-rt"])
        texts.push((await call("GET", `/v1/integrations/${name}`)).text);
      texts.push((await call("GET", "/v1/export")).text);
      texts.push((await call("GET", "/v1/deliveries?limit=1000")).text);
      for (const id of deliveryIds) {
        texts.push((await call("GET", `/v1/deliveries/${id}`)).text);
        texts.push(JSON.stringify(await app.store.listAttempts(id)));
      }
      texts.push(JSON.stringify(await stateRows()));
      texts.push(JSON.stringify(await driver.query("SELECT * FROM hookline_managed")));
      const all = texts.join("\n");
      // The scenario did reach the places that would leak: a refusal the server echoed the token in.
      expect(all).toContain("invalid_grant");
      expect(server.requests.some((r) => r.problems.includes("invalid_grant"))).toBe(true);
      const secrets = [...server.refreshTokens, ...publicServer.refreshTokens, CLIENT_SECRET];
      expect(secrets.length).toBeGreaterThan(6);
      for (const secret of secrets)
        expect({ secret, found: all.includes(secret) }).toEqual({ secret, found: false });
    });
  });
}

describe("oauth2 grantType refresh_token options", () => {
  const base = {
    tokenEndpoint: "https://auth.example.com/oauth2/token",
    clientId: "hookline",
    grantType: "refresh_token",
  };
  const issues = (o: object) => {
    const r = OAuth2Options.safeParse(o);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };

  it("needs a refreshToken with grantType refresh_token, and a clientSecret only for client_credentials and authorization_code", () => {
    expect(issues(base)).toEqual(["refreshToken: required with grantType refresh_token"]);
    expect(issues({ ...base, refreshToken: "rt" })).toEqual([]);
    expect(issues({ ...base, grantType: "client_credentials" })).toEqual([
      "clientSecret: required with grantType client_credentials",
    ]);
  });

  it("refuses a refreshToken with another grant, where it would be ignored", () => {
    expect(
      issues({ ...base, grantType: "client_credentials", clientSecret: "s", refreshToken: "rt" }),
    ).toEqual(["refreshToken: only grantType refresh_token takes a refreshToken"]);
  });
});

describe("oauth2 grantType refresh_token without HOOKLINE_SECRET_KEY", () => {
  let driver: Driver;
  let server: TokenServer;
  let api: Sink;
  let app: App;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    server = await startTokenServer({
      clientId: "c",
      clientSecret: "s3cret-nokey",
      rotateRefreshTokens: true,
    });
    api = await startSink((r) => ({
      status: server.isValid(/^Bearer (.+)$/.exec(r.headers.authorization ?? "")?.[1]) ? 200 : 401,
    }));
    app = await testApp(
      `
engine: { pollInterval: 20ms, timeout: 2s, retry: { delays: [20ms], jitter: 0 }, allowNetworks: ["127.0.0.1/32"] }
integrations:
  rt:
    kind: oauth2
    grantType: refresh_token
    endpointPrefix: ${api.url}/rt
    tokenEndpoint: ${server.tokenUrl}
    clientId: c
    clientSecret: s3cret-nokey
    refreshToken: ${server.issueRefreshToken()}
    allowedDomains: ["${api.url}"]
webhooks:
  rt: { url: "${api.url}/rt/x", integration: rt, body: "{}" }
triggers:
  - { kind: event, events: [rt], webhooks: [rt] }
`,
      driver,
      { plugins: [oauth2()] },
    );
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    await server.close();
    await api.close();
    await driver.dispose();
  });

  const deliver = async () => {
    const id = (await app.publish({ type: "rt", customer: { id: "c" } })).events[0]!.deliveries[0]!.id;
    return eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d && ["succeeded", "failed"].includes(d.status) ? d : undefined;
    });
  };

  it("keeps a rotated refresh token in memory, and logs that a restart will need a new one", async () => {
    expect((await deliver()).status).toBe("succeeded");
    const rotated = server.refreshTokens.at(-1)!;
    expect(app.logs.join("\n")).toContain("HOOKLINE_SECRET_KEY");
    expect(app.logs.some((l) => l.includes('"level":"error"') && l.includes("restart"))).toBe(true);
    // The API refuses the token: the next refresh presents the rotated token kept in memory.
    server.revokeAll();
    expect((await deliver()).status).toBe("succeeded");
    expect(server.requests.at(-1)!.form.get("refresh_token")).toBe(rotated);
    expect(app.logs.join("\n")).not.toContain(rotated);
  });
});
