import { describe, expect, it } from "bun:test";
import { idleSleep } from "../../../core/util/sleep.ts";

describe("idleSleep", () => {
  it("ends when the signal aborts during the wait", async () => {
    const abort = new AbortController();
    const waiting = idleSleep(3_600_000, abort.signal);
    abort.abort();
    expect(
      await Promise.race([waiting.then(() => "ended"), Bun.sleep(1000).then(() => "still waiting")]),
    ).toBe("ended");
  });

  it("ends at once when the signal was aborted before the wait began (an app stopped mid-sweep)", async () => {
    const abort = new AbortController();
    abort.abort();
    const waiting = idleSleep(3_600_000, abort.signal);
    expect(
      await Promise.race([waiting.then(() => "ended"), Bun.sleep(1000).then(() => "still waiting")]),
    ).toBe("ended");
  });
});
