// The raw POST ceiling: the same body POSTed to the same sink with a bare undici keep-alive client,
// 100 at once, for a fixed time — no queue, no record.
import { Agent, request } from "undici/index.js";
import type { BenchLeg } from "./leg.ts";
import { AUTHORIZATION, benchEvent, IN_FLIGHT, renderBody } from "./work.ts";

export const rawPost = (ms: number): BenchLeg => ({
  name: "raw_post",
  async prepare({ sink }) {
    const agent = new Agent({ connections: IN_FLIGHT, pipelining: 1 });
    const body = renderBody(benchEvent(0, "raw"));
    return {
      async run() {
        let done = 0;
        const end = performance.now() + ms;
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, async () => {
            while (performance.now() < end) {
              const r = await request(`${sink.url}/hooks/contacts`, {
                method: "POST",
                body,
                headers: { "content-type": "application/json", authorization: AUTHORIZATION },
                dispatcher: agent,
              });
              await r.body.text();
              done++;
            }
          }),
        );
        return done;
      },
      close: () => agent.close(),
    };
  },
});
