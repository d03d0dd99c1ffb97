// `node examples/node-server/start.mjs`: a CRM sink (node:http), `hookline serve` on Node (the published
// command, bin/hookline.js; `npm ci` builds it) with this folder's config, and one signup event whose
// delivery the sink prints. Ctrl-C stops both.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const base = "http://127.0.0.1:8081";

const sink = createServer(async (req, res) => {
  let body = "";
  for await (const chunk of req) body += chunk;
  console.log(`[sink] ${req.method} ${req.url} ${req.headers.authorization} ${body}`);
  res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
});
await new Promise((resolve) => sink.listen(4101, "127.0.0.1", resolve));

const server = spawn(
  process.execPath,
  [join(root, "bin", "hookline.js"), "serve", "--config", join(here, "hookline.yaml")],
  {
    cwd: root,
    env: { CRM_PASSWORD: "demo-password", ...process.env },
    stdio: "inherit",
  },
);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill("SIGTERM"));
server.on("exit", (code) => {
  sink.close();
  process.exit(code ?? 0);
});

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
  body: JSON.stringify({ type: "signup", customer: { id: "c-node", email: "ada@example.com" } }),
});
console.log(
  `[demo] POST /v1/events → ${published.status}; watch the sink, then: curl -s ${base}/v1/deliveries`,
);
