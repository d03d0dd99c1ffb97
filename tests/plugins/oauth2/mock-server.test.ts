import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { OAuth2Server } from "oauth2-mock-server";
import type { Delivery } from "../../../core/contracts/store.ts";
import { oauth2 } from "../../../plugins/oauth2/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const CLIENT_ID = "mock-client";
const CLIENT_SECRET = "mock secret+/=:%";
const placements = ["header", "body", "query"] as const;

/** Verifies an RS256 JWT against the mock server's published keys (WebCrypto), returning its payload. */
async function verifiedClaims(server: OAuth2Server, jwt: string): Promise<Record<string, unknown>> {
  const [h, p, s] = jwt.split(".");
  const header = JSON.parse(Buffer.from(h!, "base64url").toString()) as { kid: string };
  const jwk = server.issuer.keys.toJSON().find((k: { kid?: string }) => k.kid === header.kid);
  const key = await crypto.subtle.importKey(
    "jwk",
    jwk,
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const ok = await crypto.subtle.verify(
    "RSASSA-PKCS1-v1_5",
    key,
    Buffer.from(s!, "base64url"),
    new TextEncoder().encode(`${h}.${p}`),
  );
  if (!ok) throw new Error("JWT signature does not verify");
  return JSON.parse(Buffer.from(p!, "base64url").toString()) as Record<string, unknown>;
}

const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, " "));

describe("oauth2 client_credentials against oauth2-mock-server", () => {
  let driver: Driver;
  let server: OAuth2Server;
  let api: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;
  /** How the mock server saw each token request's client authentication. */
  const seen: { via: string; id?: string; secret?: string; scope?: string; audience?: string }[] = [];

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    server = new OAuth2Server();
    await server.issuer.keys.generate("RS256");
    await server.start(0, "127.0.0.1");
    server.issuer.url = `http://127.0.0.1:${server.address().port}`;
    // The mock issues a token to anyone; this hook makes it check the client like a real server.
    server.service.on("beforeResponse", (response: { statusCode: number; body: unknown }, req: any) => {
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      let entry: (typeof seen)[number];
      if (basic) {
        const [id, secret] = Buffer.from(basic, "base64").toString().split(":").map(formDecode);
        entry = { via: "header", id, secret };
      } else if (req.body.client_secret !== undefined)
        entry = { via: "body", id: req.body.client_id, secret: req.body.client_secret };
      else entry = { via: "query", id: req.query.client_id, secret: req.query.client_secret };
      seen.push({ ...entry, scope: req.body.scope, audience: req.query.audience });
      if (entry.id !== CLIENT_ID || entry.secret !== CLIENT_SECRET) {
        response.statusCode = 401;
        response.body = { error: "invalid_client", error_description: "client authentication failed" };
      }
    });
    api = await startSink(async (req) => {
      const jwt = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      if (!jwt) return { status: 401 };
      return verifiedClaims(server, jwt).then(
        (claims) => ({ status: 200, body: JSON.stringify(claims) }),
        () => ({ status: 401 }),
      );
    });
    const yaml = `
engine:
  pollInterval: 20ms
  timeout: 2s
  retry: { delays: [30ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
integrations:
${[...placements, "bad"]
  .map(
    (p) => `  ${p}:
    kind: oauth2
    endpointPrefix: ${api.url}/${p}
    tokenEndpoint: ${server.issuer.url}/token
    clientId: ${CLIENT_ID}
    clientSecret: \${${p === "bad" ? "BAD_SECRET" : "SECRET"}}
    clientAuthentication: ${p === "bad" ? "header" : p}
    allowedDomains: ["${api.url}"]
    extraFields: [{ name: scope, value: "contacts:write" }, { name: audience, value: crm, in: query }]`,
  )
  .join("\n")}
webhooks:
${[...placements, "bad"].map((p) => `  ${p}: { url: "${api.url}/${p}/contacts", integration: ${p}, body: "{}" }`).join("\n")}
triggers:
${[...placements, "bad"].map((p) => `  - { kind: event, events: [${p}], webhooks: [${p}] }`).join("\n")}
`;
    app = await testApp(yaml, driver, {
      plugins: [oauth2()],
      env: { SECRET: CLIENT_SECRET, BAD_SECRET: "wrong-mock-secret" },
    });
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    await server.stop();
    await api.close();
    await driver.dispose();
  });

  const deliver = async (type: string): Promise<Delivery> => {
    const id = (await app.publish({ type, customer: { id: "c-1" } })).events[0]!.deliveries[0]!.id;
    return eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d && ["succeeded", "failed"].includes(d.status) ? d : undefined;
    });
  };

  for (const placement of placements) {
    it(`gets a signed token with the client authentication in the ${placement}, and the API accepts it`, async () => {
      const before = seen.length;
      const d = await deliver(placement);
      expect(d.status).toBe("succeeded");
      expect(seen.slice(before)).toEqual([
        { via: placement, id: CLIENT_ID, secret: CLIENT_SECRET, scope: "contacts:write", audience: "crm" },
      ]);
      const [attempt] = await app.store.listAttempts(d.id);
      // The API answered with the verified claims of the token hookline sent.
      const claims = JSON.parse(attempt!.responseBody!) as Record<string, unknown>;
      expect(claims.iss).toBe(server.issuer.url);
      expect(claims.scope).toBe("contacts:write");
    });
  }

  it("records the mock server's invalid_client for a wrong secret", async () => {
    const d = await deliver("bad");
    expect(d.status).toBe("failed");
    expect(d.reason).toContain("invalid_client");
    expect(d.reason).toContain("client authentication failed");
    expect(d.reason).not.toContain("wrong-mock-secret");
    expect(api.requests.filter((r) => r.url.startsWith("/bad/"))).toHaveLength(0);
  });
});
