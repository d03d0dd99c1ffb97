// A keep-alive sink in its own process: answers 200 after a fixed latency; reports requests and the
// peak number in flight since the last report (reset on each report).
import http from "node:http";

const latency = Number(process.argv[2] ?? 5);
let count = 0;
let now = 0;
let peak = 0;
const server = http.createServer((req, res) => {
  now++;
  peak = Math.max(peak, now);
  req.resume();
  req.on("end", () =>
    setTimeout(() => {
      count++;
      now--;
      res.end('{"ok":true}');
    }, latency),
  );
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.send?.({ port: server.address().port }));
process.on("message", (m) => {
  if (m !== "stats") return;
  process.send?.({ count, peak });
  peak = 0;
});
