// bun examples/custom-auth-plugin/run.ts — a partner API that verifies the signature, hookline
// sending one event to it through the custom plugin, and the partner's signed callback to hookline's
// inbound endpoint verified by the same plugin (then one signed with another secret, refused).
import { createServer } from "node:http";
import { nodeTransportPlugin } from "../../adapters/node/index.ts";
import { createHookline } from "../../core/index.ts";
import { defaultPlugins } from "../../plugins/defaults.ts";
import { canonical, hmacHex, hmacSigning } from "./hmac-signing.ts";

const SECRET = "partner-shared-secret-0123456789";
const partner = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", async () => {
    const m = /^k=([^,]+),t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers["x-partner-signature"] ?? ""));
    const expected = m
      ? await hmacHex(SECRET, canonical(req.method!, `http://x${req.url}`, Number(m[2]), body))
      : "";
    const ok = m !== null && expected === m[3];
    console.log(`[partner] ${req.method} ${req.url} signature ${ok ? "valid" : "INVALID"} (key ${m?.[1]})`);
    res.writeHead(ok ? 200 : 401).end();
  });
});
await new Promise<void>((r) => partner.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${(partner.address() as { port: number }).port}`;

const app = await createHookline({
  config: {
    file: "example.yaml",
    text: `
store: { dataDir: .hookline/custom-auth-example }
engine: { allowNetworks: ["127.0.0.1/32"], pollInterval: 50ms }
integrations:
  partner: { kind: hmac-signing, endpointPrefix: ${url}/v2, keyId: k1, secret: "\${PARTNER_SECRET}" }
webhooks:
  order: { url: ${url}/v2/orders, integration: partner, body: '{"order": <%= json(it.event.data.order) %>}' }
triggers: [{ kind: event, events: [order.placed], webhooks: [order] }]
inbound:
  endpoints:
    partner: { kind: activity-status, auth: { kind: hmac-signing, keyId: k1, secret: "\${PARTNER_SECRET}" } }
`,
  },
  plugins: [...defaultPlugins(), hmacSigning(), nodeTransportPlugin()],
  env: { PARTNER_SECRET: SECRET },
});
await app.start();
const { events } = await app.publish({ type: "order.placed", data: { order: "A-1001" } });
const id = events[0]!.deliveries[0]!.id;
for (let i = 0; i < 100 && (await app.store.getDelivery(id))?.status !== "succeeded"; i++)
  await new Promise((r) => setTimeout(r, 50));
console.log(`[hookline] delivery ${id}: ${(await app.store.getDelivery(id))?.status}`);

// The partner calls back, signing as hookline did; the app is asked in process (no server needed).
const callback = JSON.stringify([
  { activityStatus: "DELIVERED", activityDateTime: "2024-05-01T10:00:00", contactId: 7 },
]);
for (const secret of [SECRET, "not-the-partner-secret-0123456789"]) {
  const inbound = "http://hookline.local/in/partner";
  const t = Math.floor(Date.now() / 1000);
  const v1 = await hmacHex(secret, canonical("POST", inbound, t, callback));
  const answer = await app.http.fetch(
    new Request(inbound, {
      method: "POST",
      headers: { "content-type": "application/json", "x-partner-signature": `k=k1,t=${t},v1=${v1}` },
      body: callback,
    }),
  );
  console.log(`[partner → hookline] ${answer.status} ${await answer.text()}`);
}
await app.stop();
partner.close();
