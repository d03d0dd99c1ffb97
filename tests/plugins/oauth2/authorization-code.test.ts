import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { OAuth2Server } from "oauth2-mock-server";
import type { Delivery } from "../../../core/contracts/store.ts";
import type { HooklineError } from "../../../core/errors.ts";
import {
  buildAuthorizationUrl,
  exchangeCode,
  type OAuth2Integration,
  OAuthError,
  OAuthReauthorizeError,
  oauth2,
  refresh,
} from "../../../plugins/oauth2/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const REDIRECT = "https://hooks.example.com/oauth/callback";

describe("oauth2 authorization_code with PKCE and refresh_token against oauth2-mock-server", () => {
  let server: OAuth2Server;
  let base: string;
  const tokenRequests: Record<string, string>[] = [];

  beforeAll(async () => {
    server = new OAuth2Server();
    await server.issuer.keys.generate("RS256");
    await server.start(0, "127.0.0.1");
    base = `http://127.0.0.1:${server.address().port}`;
    server.issuer.url = base;
    server.service.on("beforeResponse", (_r: unknown, req: any) => tokenRequests.push({ ...req.body }));
  });
  afterAll(() => server.stop());

  const endpoint = () => ({
    tokenEndpoint: `${base}/token`,
    clientId: "blueconic",
    clientSecret: "bc-secret",
    clientAuthentication: "body" as const,
    fetch: (r: Request) => fetch(r),
  });

  /** Follows the authorization URL the way a browser would after the person consents. */
  const consent = async (url: string) => {
    const r = await fetch(url, { redirect: "manual" });
    expect(r.status).toBe(302);
    return r.headers.get("location")!;
  };

  it("builds an authorization URL with an S256 challenge and a fresh state", async () => {
    const a = await buildAuthorizationUrl({
      authorizationEndpoint: `${base}/authorize`,
      clientId: "blueconic",
      redirectUri: REDIRECT,
      scope: "profiles",
    });
    const u = new URL(a.url);
    expect(Object.fromEntries(u.searchParams)).toMatchObject({
      response_type: "code",
      client_id: "blueconic",
      redirect_uri: REDIRECT,
      scope: "profiles",
      state: a.state,
      code_challenge_method: "S256",
    });
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(a.codeVerifier));
    expect(u.searchParams.get("code_challenge")).toBe(Buffer.from(digest).toString("base64url"));
    expect(
      (
        await buildAuthorizationUrl({
          authorizationEndpoint: `${base}/authorize`,
          clientId: "x",
          redirectUri: REDIRECT,
        })
      ).state,
    ).not.toBe(a.state);
  });

  it("exchanges the code with its verifier, then refreshes and returns the rotated refresh token", async () => {
    const a = await buildAuthorizationUrl({
      authorizationEndpoint: `${base}/authorize`,
      clientId: "blueconic",
      redirectUri: REDIRECT,
    });
    const callbackUrl = await consent(a.url);
    const tokens = await exchangeCode({
      ...endpoint(),
      redirectUri: REDIRECT,
      callbackUrl,
      codeVerifier: a.codeVerifier,
      state: a.state,
    });
    expect(tokens.accessToken.split(".")).toHaveLength(3);
    expect(tokens.refreshToken).toBeString();
    expect(tokens.expiresAt).toBeGreaterThan(Date.now());
    const sent = tokenRequests.at(-1)!;
    expect(sent).toMatchObject({
      grant_type: "authorization_code",
      code_verifier: a.codeVerifier,
      redirect_uri: REDIRECT,
      client_secret: "bc-secret",
    });

    const next = await refresh({ ...endpoint(), refreshToken: tokens.refreshToken! });
    expect(tokenRequests.at(-1)).toMatchObject({
      grant_type: "refresh_token",
      refresh_token: tokens.refreshToken,
    });
    expect(next.rotated).toBe(true);
    expect(next.refreshToken).not.toBe(tokens.refreshToken);
    expect(next.accessToken.split(".")).toHaveLength(3);
  });

  it("keeps the old refresh token when the server does not rotate it", async () => {
    server.service.once("beforeResponse", (r: { body: Record<string, unknown> }) => {
      delete r.body.refresh_token;
    });
    const next = await refresh({ ...endpoint(), refreshToken: "kept-refresh-token" });
    expect(next.rotated).toBe(false);
    expect(next.refreshToken).toBe("kept-refresh-token");
  });

  it("reports a revoked refresh token as HOOKLINE_OAUTH_REAUTHORIZE", async () => {
    server.service.once("beforeResponse", (r: { statusCode: number; body: unknown }) => {
      r.statusCode = 400;
      r.body = { error: "invalid_grant", error_description: "refresh token revoked" };
    });
    const error = await refresh({ ...endpoint(), refreshToken: "revoked-one" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthReauthorizeError);
    expect((error as HooklineError).code).toBe("HOOKLINE_OAUTH_REAUTHORIZE");
    expect((error as Error).message).toContain("invalid_grant");
    expect((error as Error).message).not.toContain("bc-secret");
  });

  it("refuses a callback whose state does not match", async () => {
    const a = await buildAuthorizationUrl({
      authorizationEndpoint: `${base}/authorize`,
      clientId: "blueconic",
      redirectUri: REDIRECT,
    });
    const callbackUrl = await consent(a.url);
    const before = tokenRequests.length;
    const error = await exchangeCode({
      ...endpoint(),
      redirectUri: REDIRECT,
      callbackUrl,
      codeVerifier: a.codeVerifier,
      state: "forged",
    }).catch((e: unknown) => e);
    expect((error as HooklineError).code).toBe("HOOKLINE_OAUTH_STATE");
    expect(tokenRequests.length).toBe(before);
  });

  it("reports the server's refusal of a wrong PKCE verifier", async () => {
    const a = await buildAuthorizationUrl({
      authorizationEndpoint: `${base}/authorize`,
      clientId: "blueconic",
      redirectUri: REDIRECT,
    });
    const callbackUrl = await consent(a.url);
    const other = (
      await buildAuthorizationUrl({
        authorizationEndpoint: `${base}/authorize`,
        clientId: "blueconic",
        redirectUri: REDIRECT,
      })
    ).codeVerifier;
    const error = await exchangeCode({
      ...endpoint(),
      redirectUri: REDIRECT,
      callbackUrl,
      codeVerifier: other,
      state: a.state,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as HooklineError).code).toBe("HOOKLINE_OAUTH_INVALID_REQUEST");
    expect((error as Error).message).toContain("code_verifier");
  });

  it("reports an authorization the person refused as the OAuth error", async () => {
    const a = await buildAuthorizationUrl({
      authorizationEndpoint: `${base}/authorize`,
      clientId: "blueconic",
      redirectUri: REDIRECT,
    });
    const callbackUrl = `${REDIRECT}?error=access_denied&error_description=user+said+no&state=${a.state}`;
    const error = await exchangeCode({
      ...endpoint(),
      redirectUri: REDIRECT,
      callbackUrl,
      codeVerifier: a.codeVerifier,
      state: a.state,
    }).catch((e: unknown) => e);
    expect((error as HooklineError).code).toBe("HOOKLINE_OAUTH_ACCESS_DENIED");
    expect((error as Error).message).toContain("user said no");
  });
});

describe("oauth2 integration with grantType authorization_code (refresh token sealed in integration state)", () => {
  let server: OAuth2Server;
  let api: Sink;
  let driver: Driver;
  let app: Awaited<ReturnType<typeof testApp>>;
  const seen: { request: Record<string, string>; response: Record<string, unknown> }[] = [];
  let nextExpiresIn: number | undefined;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    server = new OAuth2Server();
    await server.issuer.keys.generate("RS256");
    await server.start(0, "127.0.0.1");
    server.issuer.url = `http://127.0.0.1:${server.address().port}`;
    server.service.on("beforeResponse", (r: { body: Record<string, unknown> }, req: any) => {
      if (nextExpiresIn !== undefined) r.body.expires_in = nextExpiresIn;
      seen.push({ request: { ...req.body }, response: r.body });
    });
    api = await startSink((r) => ({
      status: /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/.test(r.headers.authorization ?? "") ? 200 : 401,
    }));
    app = await testApp(
      `
engine: { pollInterval: 20ms, timeout: 2s, retry: { delays: [20ms], jitter: 0 }, allowNetworks: ["127.0.0.1/32"] }
integrations:
  bc:
    kind: oauth2
    grantType: authorization_code
    endpointPrefix: ${api.url}/bc
    tokenEndpoint: ${server.issuer.url}/token
    authorizationEndpoint: ${server.issuer.url}/authorize
    redirectUri: ${REDIRECT}
    scope: profiles
    clientId: blueconic
    clientSecret: bc-secret
    clientAuthentication: body
    allowedDomains: ["${api.url}"]
webhooks:
  bc: { url: "${api.url}/bc/profiles", integration: bc, body: "{}" }
triggers:
  - { kind: event, events: [bc], webhooks: [bc] }
`,
      driver,
      {
        plugins: [oauth2()],
        env: {
          HOOKLINE_SECRET_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64"),
        },
      },
    );
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    await server.stop();
    await api.close();
    await driver.dispose();
  });

  const integration = () => app.integrations.get("bc")!.instance as OAuth2Integration;
  const deliver = async (): Promise<Delivery> => {
    const id = (await app.publish({ type: "bc", customer: { id: "c" } })).events[0]!.deliveries[0]!.id;
    return eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d && ["succeeded", "failed"].includes(d.status) ? d : undefined;
    });
  };

  it("fails deliveries with HOOKLINE_OAUTH_REAUTHORIZE until someone authorizes", async () => {
    const d = await deliver();
    expect(d.status).toBe("failed");
    expect(d.reason).toContain('integration "bc" needs authorizing: no refresh token is stored');
    expect(seen).toHaveLength(0);
  });

  it("authorizes through the authorization URL and callback, then delivers with a refreshed token", async () => {
    const url = await integration().authorizationUrl();
    expect(new URL(url).searchParams.get("code_challenge_method")).toBe("S256");
    await integration().completeAuthorization(
      await (await fetch(url, { redirect: "manual" })).headers.get("location")!,
    );
    expect(seen[0]!.request.grant_type).toBe("authorization_code");
    const issued = seen[0]!.response.refresh_token as string;
    expect((await deliver()).status).toBe("succeeded");
    expect(seen[1]!.request).toMatchObject({ grant_type: "refresh_token", refresh_token: issued });
  });

  it("persists the rotated refresh token and uses it for the next refresh", async () => {
    // Dropping the cached access token makes the next delivery refresh; the token it gets lives 1 s,
    // so that the test after next refreshes again.
    const rotated = seen.at(-1)!.response.refresh_token as string;
    nextExpiresIn = 1;
    await integration().onUnauthorized!();
    expect((await deliver()).status).toBe("succeeded");
    nextExpiresIn = undefined;
    expect(seen.at(-1)!.request).toMatchObject({ grant_type: "refresh_token", refresh_token: rotated });
  });

  it("refuses a callback whose state it did not issue", async () => {
    const error = await integration()
      .completeAuthorization(`${REDIRECT}?code=x&state=forged`)
      .catch((e: unknown) => e);
    expect((error as HooklineError).code).toBe("HOOKLINE_OAUTH_STATE");
  });

  it("forgets a revoked refresh token and asks for authorization on every later delivery", async () => {
    server.service.once("beforeResponse", (r: { statusCode: number; body: unknown }) => {
      r.statusCode = 400;
      r.body = { error: "invalid_grant", error_description: "revoked" };
    });
    await new Promise((r) => setTimeout(r, 1_100));
    const d = await deliver();
    expect(d.status).toBe("failed");
    expect(d.reason).toContain(
      "needs authorizing: the token endpoint refused the refresh token (invalid_grant)",
    );
    const before = seen.length;
    const again = await deliver();
    expect(again.reason).toContain("no refresh token is stored");
    expect(seen.length).toBe(before);
  });
  it("re-authorizes through the admin API and the callback route a browser is sent to", async () => {
    const asked = await app.fetch(new Request("http://h/v1/integrations/bc/authorize", { method: "POST" }));
    expect(asked.status).toBe(200);
    const { url } = (await asked.json()) as { url: string };
    const back = new URL((await fetch(url, { redirect: "manual" })).headers.get("location")!);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    const callback = await app.fetch(new Request(`http://hookline.test/oauth/callback/bc${back.search}`));
    expect(callback.status).toBe(200);
    expect(await callback.text()).toContain('integration "bc" is authorized');
    expect((await deliver()).status).toBe("succeeded");
    const forged = await app.fetch(new Request("http://hookline.test/oauth/callback/bc?code=x&state=forged"));
    expect(forged.status).toBe(400);
    expect((await app.fetch(new Request("http://hookline.test/oauth/callback/nope?code=x"))).status).toBe(
      404,
    );
  });
});
