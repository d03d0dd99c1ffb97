// `deno run -A examples/deno-server/start.ts`: a CRM sink (Deno.serve), `hookline serve` on Deno from
// source with this folder's config, and one signup event whose delivery the sink prints. Ctrl-C stops both.
const here = new URL(".", import.meta.url).pathname;
const root = new URL("../../", import.meta.url).pathname;
const base = "http://127.0.0.1:8083";

const sink = Deno.serve({ hostname: "127.0.0.1", port: 4103, onListen: () => {} }, async (request) => {
  const { pathname } = new URL(request.url);
  console.log(
    `[sink] ${request.method} ${pathname} ${request.headers.get("authorization")} ${await request.text()}`,
  );
  return Response.json({ ok: true });
});

const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `${root}adapters/deno/cli.ts`, "serve", "--config", `${here}hookline.yaml`],
  cwd: root,
  env: { CRM_PASSWORD: Deno.env.get("CRM_PASSWORD") ?? "demo-password" },
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
for (const signal of ["SIGINT", "SIGTERM"] as const)
  Deno.addSignalListener(signal, () => server.kill("SIGTERM"));

for (let i = 0; ; i++) {
  if (i > 600) throw new Error("hookline did not answer /healthz within 60 s");
  if (
    await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  await new Promise((r) => setTimeout(r, 100));
}
const published = await fetch(`${base}/v1/events`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ type: "signup", customer: { id: "c-deno", email: "ada@example.com" } }),
});
await published.body?.cancel();
console.log(
  `[demo] POST /v1/events → ${published.status}; watch the sink, then: curl -s ${base}/v1/deliveries`,
);

const { code } = await server.status;
await sink.shutdown();
Deno.exit(code);
