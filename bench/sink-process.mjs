// A bare keep-alive HTTP sink in its own process: answers every request 200 with a small JSON body.
import http from "node:http";

let count = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    count++;
    res.writeHead(200, { "content-type": "application/json", "content-length": "11" });
    res.end('{"ok":true}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.send?.({ port: server.address().port }));
process.on("message", (m) => m === "count" && process.send?.({ count }));
// Gone with the bench that forked it, even when that one crashed.
process.on("disconnect", () => process.exit(0));
