import { describe, expect, it } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import semver from "semver";

const root = join(import.meta.dir, "..", "..");
const read = (path: string) => JSON.parse(readFileSync(join(root, path), "utf8"));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

interface LockEntry {
  version: string;
  dev?: boolean;
  optional?: boolean;
  engines?: { node?: string };
  optionalDependencies?: Record<string, string>;
}
const entries = (lock: { packages: Record<string, LockEntry> }) =>
  Object.entries(lock.packages).filter(([key]) => key !== "");

describe("package.json and its locks", () => {
  it("declares a Node engine that every runtime dependency accepts", () => {
    const ours = read("package.json").engines.node as string;
    const refusing = entries(read("package-lock.json"))
      .filter(([, p]) => !p.dev && p.engines?.node)
      .filter(([, p]) => !semver.subset(ours, p.engines!.node!))
      .map(([key, p]) => `${key} wants node ${p.engines!.node}`);
    expect(refusing).toEqual([]);
  });

  // `npm ci` fails on a platform whose binary package a lock leaves out. A lock written by
  // `npm install --package-lock-only` lists every platform's and keeps every optional edge the
  // packages declare (the old hand-edited lock dropped the edges to other platforms' binaries).
  for (const dir of ["", "tests/runtimes/"]) {
    it(`${dir}package-lock.json keeps every platform's binary package its packages declare`, () => {
      const lock = read(`${dir}package-lock.json`);
      const problems: string[] = [];
      for (const [key, p] of entries(lock)) {
        const manifest = join(root, dir, key, "package.json");
        if (!existsSync(manifest)) continue; // another platform's binary: not installed here
        const declared = Object.keys(JSON.parse(readFileSync(manifest, "utf8")).optionalDependencies ?? {});
        for (const dep of declared) {
          if (!p.optionalDependencies?.[dep]) problems.push(`${key} lost its edge to ${dep}`);
          else if (!lock.packages[`node_modules/${dep}`] && !lock.packages[`${key}/node_modules/${dep}`])
            problems.push(`${key} → ${dep} has no entry`);
        }
      }
      expect(problems).toEqual([]);
    });
  }

  it("keeps the test runtimes out of the project's own dependencies", () => {
    const pkg = read("package.json");
    const all = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.optionalDependencies };
    for (const runtime of ["bun", "deno", "workerd"]) expect(all[runtime]).toBeUndefined();
    const runtimes = read("tests/runtimes/package.json");
    expect(Object.keys({ ...runtimes.devDependencies, ...runtimes.optionalDependencies }).sort()).toEqual([
      "bun",
      "deno",
      "workerd",
    ]);
  });

  it("installs from a checkout with production dependencies only (npm ci --omit=dev)", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookline-omit-dev-"));
    try {
      mkdirSync(join(dir, "scripts"));
      mkdirSync(join(dir, "bin"));
      for (const f of ["package.json", "package-lock.json", "scripts/prepare.mjs", "bin/hookline.js"])
        copyFileSync(join(root, f), join(dir, f));
      const out = execFileSync(npm, ["ci", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"], {
        cwd: dir,
        encoding: "utf8",
        stdio: "pipe",
      });
      expect(out).toContain("dev dependencies omitted");
      expect(existsSync(join(dir, "node_modules", "hono"))).toBe(true);
      expect(existsSync(join(dir, "node_modules", "typescript"))).toBe(false);
      // Without dist/ the command says what to do instead of failing on a missing module.
      const cli = spawnSync(process.env.NODE ?? "node", [join(dir, "bin", "hookline.js"), "--version"], {
        encoding: "utf8",
      });
      expect(cli.status).toBe(1);
      expect(cli.stderr).toContain("dist/ is missing");
      expect(cli.stderr).toContain("docs/deployment.md");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
