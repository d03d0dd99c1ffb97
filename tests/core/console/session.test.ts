import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { SessionSigner } from "../../../core/console/session.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";

const TOKEN = "admin-token-for-console-session-0123456789";
const hour = 3_600_000;

describe("console session signing", () => {
  const session = {
    role: "viewer" as const,
    tokenHash: "ab".repeat(32),
    id: "s1",
    expires: Date.now() + hour,
  };

  it("verifies its own cookie and refuses one tampered with, expired or signed with another key", async () => {
    const signer = await SessionSigner.create("a-secret-key-of-32-bytes-or-so-000");
    const cookie = await signer.sign(session);
    expect(await signer.verify(cookie)).toEqual(session);
    const [payload, signature] = cookie.split(".") as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...session, role: "admin" })).toString("base64url");
    expect(await signer.verify(`${forged}.${signature}`)).toBeUndefined();
    expect(await signer.verify(`${payload}.${signature.slice(0, -2)}AA`)).toBeUndefined();
    expect(await signer.verify(cookie, session.expires + 1)).toBeUndefined();
    expect(
      await (await SessionSigner.create("another-key-000000000000000000000")).verify(cookie),
    ).toBeUndefined();
    expect(await (await SessionSigner.create()).verify(cookie)).toBeUndefined();
  });

  it("derives the same key from HOOKLINE_SECRET_KEY in every process, and a random one without it", async () => {
    const a = await SessionSigner.create("shared-secret-key-0000000000000000");
    const b = await SessionSigner.create("shared-secret-key-0000000000000000");
    expect(await b.verify(await a.sign(session))).toEqual(session);
    expect(a.fromSecretKey).toBe(true);
    const r1 = await SessionSigner.create();
    const r2 = await SessionSigner.create();
    expect(r1.fromSecretKey).toBe(false);
    expect(await r2.verify(await r1.sign(session))).toBeUndefined();
  });

  it("makes a CSRF token per session id, checked in constant time", async () => {
    const signer = await SessionSigner.create();
    const t = await signer.csrfToken("s1");
    expect(await signer.checkCsrf("s1", t)).toBe(true);
    expect(await signer.checkCsrf("s2", t)).toBe(false);
    expect(await signer.checkCsrf("s1", undefined)).toBe(false);
    expect(await signer.checkCsrf("s1", "")).toBe(false);
  });
});

describe("console sign-in over HTTP", () => {
  const kind = storeKinds[0]!;
  let driver: Awaited<ReturnType<typeof kind.open>>;
  let app: Awaited<ReturnType<typeof testApp>>;

  /** GET the sign-in form (its cookie and CSRF token), then POST `token` with them. */
  const signIn = async (
    token: string,
    origin = "http://hookline.test",
    headers: Record<string, string> = {},
  ) => {
    const form = await app.fetch(new Request(`${origin}/console/sign-in`, { headers }));
    const cookie = (form.headers.get("set-cookie") ?? "").split(";")[0]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? "";
    return app.fetch(
      new Request(`${origin}/console/sign-in`, {
        method: "POST",
        headers: { ...headers, cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf, token }),
      }),
    );
  };
  const sessionCookie = (r: Response) =>
    r.headers.getSetCookie().find((c) => c.startsWith("hookline_console="));

  beforeAll(async () => {
    driver = await kind.open();
    app = await testApp("webhooks: {}\n", driver, { adminToken: TOKEN });
  });
  afterAll(async () => {
    await app.stop(100);
    await driver.dispose();
  });

  it("sets an HttpOnly, SameSite=Strict session cookie with an expiry, Secure over https only", async () => {
    const plain = sessionCookie(await signIn(TOKEN));
    expect(plain).toContain("HttpOnly");
    expect(plain).toContain("SameSite=Strict");
    expect(plain).toContain("Path=/console");
    expect(plain).toMatch(/Max-Age=28800/);
    expect(plain).not.toContain("Secure");
    expect(sessionCookie(await signIn(TOKEN, "https://hookline.test"))).toContain("Secure");
    expect(
      sessionCookie(await signIn(TOKEN, "http://hookline.test", { "x-forwarded-proto": "https" })),
    ).toContain("Secure");
  });

  it("refuses a sign-in form posted without the form's own cookie and token (403)", async () => {
    const r = await app.fetch(
      new Request("http://hookline.test/console/sign-in", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: TOKEN }),
      }),
    );
    expect(r.status).toBe(403);
    expect(sessionCookie(r)).toBeUndefined();
  });

  it("refuses a publisher token, and ends a session whose token is revoked", async () => {
    const publisher = await app.store.createToken("pub", "publisher");
    const refused = await signIn(publisher.secret);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toContain("publisher token cannot sign in");

    const viewer = await app.store.createToken("v", "viewer");
    const ok = await signIn(viewer.secret);
    expect(ok.status).toBe(303);
    const cookie = sessionCookie(ok)!.split(";")[0]!;
    const overview = () => app.fetch(new Request("http://hookline.test/console", { headers: { cookie } }));
    expect((await overview()).status).toBe(200);
    await app.store.revokeToken(viewer.token.id);
    // The role cache keeps a token's role a few seconds, as the admin API's guard does.
    await Bun.sleep(5_100);
    const after = await overview();
    expect(after.status).toBe(303);
    expect(after.headers.get("location")).toBe("/console/sign-in");
  });

  it("is off without an admin token (503)", async () => {
    const open = await testApp("webhooks: {}\n", driver);
    const r = await open.fetch(new Request("http://hookline.test/console/sign-in"));
    expect(r.status).toBe(503);
    expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    await open.stop(100);
  });
});
