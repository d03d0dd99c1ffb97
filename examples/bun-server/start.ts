// `bun examples/bun-server/start.ts`: a CRM sink (Bun.serve), `hookline serve` on Bun from source with
// this folder's config, and one signup event whose delivery the sink prints. Ctrl-C stops both.
import { join } from "node:path";

const here = import.meta.dir;
const root = join(here, "..", "..");
const base = "http://127.0.0.1:8082";

const sink = Bun.serve({
  hostname: "127.0.0.1",
  port: 4102,
  async fetch(request) {
    const { pathname } = new URL(request.url);
    console.log(
      `[sink] ${request.method} ${pathname} ${request.headers.get("authorization")} ${await request.text()}`,
    );
    return Response.json({ ok: true });
  },
});

const server = Bun.spawn(
  [process.execPath, join(root, "adapters/bun/cli.ts"), "serve", "--config", join(here, "hookline.yaml")],
  {
    cwd: root,
    env: { CRM_PASSWORD: "demo-password", ...process.env },
    stdout: "inherit",
    stderr: "inherit",
  },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.kill("SIGTERM"));

for (let i = 0; ; i++) {
  if (i > 600) throw new Error("hookline did not answer /healthz within 60 s");
  if (
    await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  await Bun.sleep(100);
}
const published = await fetch(`${base}/v1/events`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ type: "signup", customer: { id: "c-bun", email: "ada@example.com" } }),
});
console.log(
  `[demo] POST /v1/events → ${published.status}; watch the sink, then: curl -s ${base}/v1/deliveries`,
);

const code = await server.exited;
sink.stop(true);
process.exit(code);
