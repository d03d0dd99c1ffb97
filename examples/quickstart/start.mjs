// `npm start`: the sink, `hookline serve` with the quickstart config, and a few signup events.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSink } from "./sink.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const base = "http://127.0.0.1:8080";
// The console (and the admin API) take this token; a new one each start unless you set your own.
const token = process.env.HOOKLINE_ADMIN_TOKEN ?? `demo-${randomBytes(18).toString("base64url")}`;
const auth = { authorization: `Bearer ${token}` };

await startSink(4001);
console.log("[demo] sink listening on http://127.0.0.1:4001");

const server = spawn(
  process.execPath,
  [join(root, "bin", "hookline.js"), "serve", "--config", join(here, "hookline.yaml")],
  {
    cwd: root,
    // A demo's secret key (seals integrations' secrets made in the console, signs its sessions):
    // fixed so that they survive a restart of the demo. Never use this one anywhere else.
    env: {
      CRM_PASSWORD: "demo-password",
      HOOKLINE_SECRET_KEY: "ZGVtby1vbmx5LWRvLW5vdC11c2UtdGhpcy1rZXktMDE=",
      ...process.env,
      HOOKLINE_ADMIN_TOKEN: token,
    },
    stdio: ["ignore", "inherit", "pipe"],
  },
);
// hookline logs JSON lines on stderr; show them compactly.
server.stderr.on("data", (chunk) => {
  for (const line of chunk.toString().split("\n").filter(Boolean)) {
    try {
      const { time, level, message, requestId, ...fields } = JSON.parse(line);
      // The message is a fixed key (docs/operations.md); what it is about is in the fields.
      const about = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" ");
      console.log(`[hookline] ${level} ${message}${about ? ` ${about}` : ""}`);
    } catch {
      console.log(`[hookline] ${line}`);
    }
  }
});
server.on("exit", (code) => {
  console.log(`[demo] hookline exited (${code})`);
  process.exit(code ?? 0);
});
for (const s of ["SIGINT", "SIGTERM"]) process.on(s, () => server.kill("SIGTERM"));

for (let i = 0; i < 200; i++) {
  try {
    if ((await fetch(`${base}/healthz`)).ok) break;
  } catch {}
  await new Promise((r) => setTimeout(r, 100));
}

const people = [
  { id: "c-1001", email: "ada@example.com", first_name: "Ada" },
  { id: "c-1002", email: "grace@example.com", first_name: "Grace" },
  { id: "c-1003", email: "linus@example.com", first_name: "Linus" },
];
for (const customer of people) {
  const r = await fetch(`${base}/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    // A fresh id per run: an event id sent again creates no new delivery (that is its point).
    body: JSON.stringify({
      id: `signup-${customer.id}-${Date.now()}`,
      type: "signup",
      customer,
      data: { source: "landing-page" },
    }),
  });
  console.log(
    `[demo] POST /v1/events signup ${customer.id} -> ${r.status} ${JSON.stringify(await r.json())}`,
  );
}
console.log(`[demo] the third contact is refused once (503) and retried after ~2 s.
[demo] The console: ${base}/console — sign in with the token ${token}
[demo] Or the API (TOKEN=${token}):
  curl -s ${base}/v1/deliveries -H "authorization: Bearer $TOKEN" | jq
  curl -s -X POST ${base}/v1/webhooks/welcome-contact/test -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{}' | jq
  curl -s -X POST ${base}/v1/events -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"type":"signup","customer":{"id":"c-9","email":"you@example.com","first_name":"You"}}'
Ctrl-C stops both.`);
