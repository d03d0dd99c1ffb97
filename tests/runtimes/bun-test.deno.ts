/**
 * `bun:test` on Deno, mapped by the import map tests/runtimes/deno-import-map.json: each `it` becomes
 * one `Deno.test`, named with its suites; Bun's suite hooks are run around them here (Deno.test has
 * no suites): a suite's `beforeAll` before its first test, its `afterAll` after its last. Sanitizers
 * are off: servers and pools live across the tests of a suite, as they do under Bun.
 */
import { makeExpect } from "./expect.ts";

type Fn = () => unknown;
const TIMEOUT = 60_000;

interface DenoTestApi {
  test(options: {
    name: string;
    fn: () => Promise<void>;
    sanitizeOps: boolean;
    sanitizeResources: boolean;
    sanitizeExit: boolean;
  }): void;
}
const deno = (globalThis as unknown as { Deno: DenoTestApi }).Deno;

class AssertionError extends Error {
  override name = "AssertionError";
}

export const expect = makeExpect((message) => {
  throw new AssertionError(message);
});

interface Suite {
  name: string;
  parent?: Suite;
  beforeAll: Array<{ fn: Fn; timeout: number }>;
  afterAll: Array<{ fn: Fn; timeout: number }>;
  beforeEach: Array<{ fn: Fn; timeout: number }>;
  afterEach: Array<{ fn: Fn; timeout: number }>;
  /** Tests in this suite and its children not yet run: at 0 its afterAll runs. */
  remaining: number;
  started: boolean;
  /** A failed beforeAll fails every test of the suite, as in Bun. */
  setupError?: unknown;
}

const suite = (name: string, parent?: Suite): Suite => ({
  name,
  parent,
  beforeAll: [],
  afterAll: [],
  beforeEach: [],
  afterEach: [],
  remaining: 0,
  started: false,
});

const root = suite("");
let current = root;

function chain(s: Suite): Suite[] {
  const list: Suite[] = [];
  for (let x: Suite | undefined = s; x; x = x.parent) list.unshift(x);
  return list;
}

function withTimeout(work: unknown, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([Promise.resolve(work), limit]).then(
    () => clearTimeout(timer),
    (e: unknown) => {
      clearTimeout(timer);
      throw e;
    },
  );
}

/**
 * A group of tests, as Bun's `describe`: its body runs now, registering tests and hooks.
 *
 * @example describe("engine", () => { beforeAll(start); it("sends", async () => { … }); });
 */
export function describe(name: string, fn: () => void): void {
  const parent = current;
  current = suite(name, parent);
  try {
    fn();
  } finally {
    current = parent;
  }
}

/**
 * One test, registered with Deno.test under its suites' names.
 *
 * @example it("answers 200", async () => expect((await fetch(url)).status).toBe(200));
 */
export function it(name: string, fn: Fn, timeout: number | { timeout?: number } = TIMEOUT): void {
  const ms = typeof timeout === "number" ? timeout : (timeout.timeout ?? TIMEOUT);
  const owner = current;
  const suites = chain(owner);
  for (const s of suites) s.remaining++;
  deno.test({
    name: [...suites.map((s) => s.name).filter(Boolean), name].join(" > "),
    sanitizeOps: false,
    sanitizeResources: false,
    sanitizeExit: false,
    fn: async () => {
      try {
        for (const s of suites) {
          if (!s.started) {
            s.started = true;
            try {
              for (const h of s.beforeAll) await withTimeout(h.fn(), h.timeout, `beforeAll of "${s.name}"`);
            } catch (e) {
              s.setupError = e;
            }
          }
          if (s.setupError) throw s.setupError;
        }
        for (const s of suites)
          for (const h of s.beforeEach) await withTimeout(h.fn(), h.timeout, "beforeEach");
        try {
          await withTimeout(fn(), ms, `test "${name}"`);
        } finally {
          for (const s of [...suites].reverse())
            for (const h of s.afterEach) await withTimeout(h.fn(), h.timeout, "afterEach");
        }
      } finally {
        for (const s of [...suites].reverse()) {
          s.remaining--;
          if (s.remaining === 0)
            for (const h of s.afterAll) await withTimeout(h.fn(), h.timeout, `afterAll of "${s.name}"`);
        }
      }
    },
  });
}
export const test = it;

const hook =
  (kind: "beforeAll" | "afterAll" | "beforeEach" | "afterEach") =>
  (fn: Fn, timeout = TIMEOUT): void => {
    current[kind].push({ fn, timeout });
  };
/**
 * Suite hooks, as Bun's, each with an optional timeout in ms: kept on the current suite and run by
 * its tests (see `it`).
 *
 * @example beforeAll(async () => { sink = await startSink(); });
 */
export const beforeAll = hook("beforeAll");
export const afterAll = hook("afterAll");
export const beforeEach = hook("beforeEach");
export const afterEach = hook("afterEach");
