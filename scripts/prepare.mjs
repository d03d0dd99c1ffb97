// `prepare` (run by `npm ci` / `npm install` in a checkout): builds dist/ when the dev dependencies are
// installed. A production install (`npm ci --omit=dev`) has no TypeScript compiler, so it skips the
// build instead of failing; docs/deployment.md says how to get dist/ there. The published tarball
// is built by `prepack`, so an installed package never runs this.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
if (!existsSync(tsc)) {
  const built = existsSync(join(root, "dist", "adapters", "node", "cli.js"));
  console.log(
    `hookline: dev dependencies omitted, dist/ not rebuilt${built ? "" : " (and there is none yet: see docs/deployment.md)"}`,
  );
} else {
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
}
