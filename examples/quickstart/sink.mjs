// A stand-in CRM: prints every request it gets; answers 503 to the first try of every third contact,
// so that you can watch hookline retry it with the same Idempotency-Key.
import http from "node:http";

const seen = new Map();
let contacts = 0;

export function startSink(port = 4001) {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const key = req.headers["idempotency-key"];
      const user = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64")
        .toString()
        .split(":")[0];
      const tries = (seen.get(key) ?? 0) + 1;
      seen.set(key, tries);
      if (tries === 1) contacts++;
      const fail = tries === 1 && contacts % 3 === 0;
      const status = fail ? 503 : 200;
      console.log(
        `[sink] ${req.method} ${req.url} user=${user} key=${key} try=${tries} -> ${status}\n[sink]   ${body.replace(/\s+/g, " ")}`,
      );
      res.writeHead(status, { "content-type": "application/json" });
      res.end(
        JSON.stringify(
          fail ? { success: false, error: "busy, try later" } : { success: true, id: `crm-${contacts}` },
        ),
      );
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await startSink(Number(process.env.SINK_PORT ?? 4001));
  console.log("[sink] listening on http://127.0.0.1:4001");
}
