/**
 * `bun:test` on Node: the conformance files are bundled with esbuild, `bun:test` aliased to this
 * module (tests/runtimes/run-node.ts), and run by node:test. Suites, tests and hooks map one to one;
 * `expect` is the portable one, failing with node:assert's AssertionError.
 */
import { AssertionError } from "node:assert";
import * as nodeTest from "node:test";
import { makeExpect } from "./expect.ts";

type Fn = () => unknown;
/** Bun's default is 5 s; suites here start servers on a busy 2-core machine (as `npm test` allows). */
const TIMEOUT = 60_000;

export const expect = makeExpect((message, { actual, expected, operator }) => {
  throw new AssertionError({ message, actual, expected, operator });
});

/**
 * A group of tests, as Bun's `describe`; its hooks apply inside it.
 *
 * @example describe("engine", () => { beforeAll(start); it("sends", async () => { … }); });
 */
export function describe(name: string, fn: () => void): void {
  void nodeTest.describe(name, () => fn());
}

/**
 * One test; `timeout` in ms as Bun's third argument.
 *
 * @example it("answers 200", async () => expect((await fetch(url)).status).toBe(200), 10_000);
 */
export function it(name: string, fn: Fn, timeout: number | { timeout?: number } = TIMEOUT): void {
  const ms = typeof timeout === "number" ? timeout : (timeout.timeout ?? TIMEOUT);
  void nodeTest.it(name, { timeout: ms }, async () => {
    await fn();
  });
}
export const test = it;

/**
 * Suite hooks, as Bun's, each with an optional timeout in ms.
 *
 * @example beforeAll(async () => { sink = await startSink(); });
 */
export const beforeAll = (fn: Fn, timeout = TIMEOUT) =>
  nodeTest.before(async () => void (await fn()), { timeout });
export const afterAll = (fn: Fn, timeout = TIMEOUT) =>
  nodeTest.after(async () => void (await fn()), { timeout });
export const beforeEach = (fn: Fn, timeout = TIMEOUT) =>
  nodeTest.beforeEach(async () => void (await fn()), { timeout });
export const afterEach = (fn: Fn, timeout = TIMEOUT) =>
  nodeTest.afterEach(async () => void (await fn()), { timeout });
