// One scenario across every authentication plugin of this folder's siblings (oauth2, responsys, mtls,
// apikey, bearer, signature): distinctive secrets written literally in the config (so that only the
// plugins' own `secrets()` can protect them, not the environment's redaction), peers that echo what
// they receive, and failures whose messages would carry secrets if anything let them through.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { apikey } from "../../../plugins/apikey/index.ts";
import { bearer } from "../../../plugins/bearer/index.ts";
import { mtls } from "../../../plugins/mtls/index.ts";
import { oauth2 } from "../../../plugins/oauth2/index.ts";
import { responsys } from "../../../plugins/responsys/index.ts";
import { signature } from "../../../plugins/signature/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink, testPki } from "../../support/http-sink.ts";
import { startTokenServer, type TokenServer } from "../../support/oauth-server.ts";
import { type ResponsysServer, startResponsysServer } from "../../support/responsys-server.ts";
import { yamlBlock } from "../mtls/certs.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const CLIENT_SECRET = "OAUTH-S3CRET §7f3a:+%";
const WRONG_CLIENT_SECRET = "OAUTH-WRONG-S3CRET §e4d1";
const RSYS_PASSWORD = "RSYS-PASSW0RD §91b2&=";
const API_KEY = "APIKEY-VALUE §55c1/+";
const BEARER_TOKEN = "BEARER-TOKEN-a83f0c2e9b";
const SIGNING_SECRET = `whsec_${Buffer.from("SIGNING-SECRET-BYTES-2f6d9e1a7c").toString("base64")}`;

describe("secrets stay out of logs, API answers, attempt records and error messages", () => {
  const pki = testPki();
  let driver: Driver;
  let auth: TokenServer;
  let hostile: TokenServer;
  let rsys: ResponsysServer;
  let echo: Sink;
  let bank: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;
  const forms = (s: string) => [
    s,
    encodeURIComponent(s),
    new URLSearchParams({ s }).toString().slice(2),
    Buffer.from(s).toString("base64"),
  ];
  const secretForms = () => [
    ...[CLIENT_SECRET, WRONG_CLIENT_SECRET, RSYS_PASSWORD, API_KEY, BEARER_TOKEN, SIGNING_SECRET].flatMap(
      forms,
    ),
    SIGNING_SECRET.slice("whsec_".length),
    ...pki.client.key.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----")),
  ];

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    auth = await startTokenServer({ clientId: "hookline", clientSecret: CLIENT_SECRET });
    // A careless server that repeats the secret it was given in its error description.
    hostile = await startTokenServer({
      clientId: "hookline",
      clientSecret: "something-else",
      echoSecretInErrors: true,
    });
    rsys = await startResponsysServer({ users: { api: RSYS_PASSWORD } });
    // Answers with everything it received, as some APIs do in their errors.
    echo = await startSink((r) => ({ status: r.url.includes("fail") ? 422 : 200, body: JSON.stringify(r) }));
    bank = await startSink(undefined, { tls: { ...pki.server, ca: pki.ca, requestCert: true } });
    const oauth = (name: string, server: TokenServer, secret: string, extra = "") => `
  ${name}:
    kind: oauth2
    endpointPrefix: ${echo.url}/${name}
    tokenEndpoint: ${server.tokenUrl}
    clientId: hookline
    clientSecret: "${secret}"
    allowedDomains: ["${echo.url}"]${extra}`;
    const hooks = [
      "oauth",
      "oauthQuery",
      "oauthWrong",
      "rsys",
      "rsysWrong",
      "bank",
      "key",
      "keyQuery",
      "bear",
      "sign",
    ];
    const url = (h: string) =>
      h.startsWith("rsys")
        ? `${rsys.loginEndpoint}rest/api/v1.3/lists/l/members`
        : h === "bank"
          ? `${bank.url}/api/pay`
          : `${echo.url}/${h}/fail/x`;
    app = await testApp(
      `
engine:
  pollInterval: 20ms
  timeout: 2s
  retry: { delays: [20ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
integrations:${oauth("oauth", auth, CLIENT_SECRET)}${oauth("oauthQuery", auth, CLIENT_SECRET, "\n    clientAuthentication: query")}${oauth("oauthWrong", hostile, WRONG_CLIENT_SECRET)}
  rsys: { kind: responsys, endpointPrefix: "${rsys.endPoint}/rest", loginEndpoint: "${rsys.loginEndpoint}", username: api, password: "${RSYS_PASSWORD}" }
  rsysWrong: { kind: responsys, endpointPrefix: "${rsys.endPoint}/rest", loginEndpoint: "${rsys.loginEndpoint}", username: api, password: "${RSYS_PASSWORD}x" }
  bank:
    kind: mtls
    endpointPrefix: ${bank.url}/api
    certificate: ${yamlBlock(pki.client.cert)}
    privateKey: ${yamlBlock(pki.client.key)}
    ca: ${yamlBlock(pki.ca)}
  key: { kind: apikey, endpointPrefix: "${echo.url}/key", name: X-Api-Key, value: "${API_KEY}" }
  keyQuery: { kind: apikey, endpointPrefix: "${echo.url}/keyQuery", in: query, name: key, value: "${API_KEY}" }
  bear: { kind: bearer, endpointPrefix: "${echo.url}/bear", token: "${BEARER_TOKEN}" }
  sign: { kind: signature, endpointPrefix: "${echo.url}/sign", secrets: ["${SIGNING_SECRET}"] }
webhooks:
${hooks.map((h) => `  ${h}: { url: "${url(h)}", integration: ${h}, body: '{"customer": <%= json(it.customer.id) %>}' }`).join("\n")}
triggers:
  - { kind: event, events: [all], webhooks: [${hooks.join(", ")}] }
`,
      driver,
      { plugins: [oauth2(), responsys(), mtls(), apikey(), bearer(), signature()] },
    );
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    for (const s of [auth, hostile, rsys, echo, bank]) await s.close();
    await driver.dispose();
  });

  it("runs every kind, failing ones included, without a secret in any text hookline keeps or shows", async () => {
    // Echoing peers, refused logins and retries: this scenario takes a few seconds.
    const published = await app.publish({ type: "all", customer: { id: "secret-scenario" } });
    const ids = published.events[0]!.deliveries.map((d) => d.id);
    expect(ids).toHaveLength(10);
    const deliveries = await Promise.all(
      ids.map((id) =>
        eventually(async () => {
          const d = await app.store.getDelivery(id);
          return d && ["succeeded", "failed", "halted"].includes(d.status) ? d : undefined;
        }, 20_000),
      ),
    );
    const byHook = Object.fromEntries(deliveries.map((d) => [d.webhook, d]));
    // The scenario did what it says: peers were reached and failures carried their causes.
    expect(byHook.oauthWrong!.reason).toContain("invalid_client");
    expect(hostile.requests[0]!.clientSecret).toBe(WRONG_CLIENT_SECRET);
    expect(byHook.rsysWrong!.reason).toContain("AUTHENTICATION_FAILED");
    expect(byHook.rsys!.status).toBe("succeeded");
    expect(byHook.bank!.status).toBe("succeeded");
    expect(echo.requests.some((r) => r.headers["x-api-key"] === API_KEY)).toBe(true);
    expect(
      echo.requests.some(
        (r) => r.url.includes(encodeURIComponent(API_KEY).replace(/%20/g, "+")) || r.url.includes("key="),
      ),
    ).toBe(true);
    expect(echo.requests.some((r) => r.headers.authorization === `Bearer ${BEARER_TOKEN}`)).toBe(true);

    const texts: string[] = [app.logs.join("\n")];
    const get = async (path: string, init?: RequestInit) =>
      texts.push(await (await app.fetch(new Request(`http://hookline${path}`, init))).text());
    for (const id of ids) {
      await get(`/v1/deliveries/${id}`);
      texts.push(JSON.stringify(await app.store.listAttempts(id)));
    }
    await get("/v1/deliveries?limit=1000");
    await get("/v1/webhooks");
    for (const d of deliveries) {
      await get(`/v1/webhooks/${d.webhook}`);
      await get(`/v1/webhooks/${d.webhook}/test`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ send: true }),
      });
    }
    const all = texts.join("\n");
    expect(all).toContain("invalid_client");
    for (const secret of secretForms())
      expect({ secret, found: all.includes(secret) }).toEqual({ secret, found: false });
  }, 30_000);
});
