#!/usr/bin/env node
// The published command runs the compiled JS: the tarball carries dist/ (built on prepack), and a
// checkout builds it in `prepare` when its dev dependencies are installed.
import { existsSync } from "node:fs";

const cli = new URL("../dist/adapters/node/cli.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    "hookline: dist/ is missing — this checkout was installed without building it (npm ci --omit=dev).\n" +
      "Build it with the dev dependencies (npm ci && npm prune --omit=dev), or install the packed tarball;\n" +
      "see docs/deployment.md, 'Installing for production'.\n",
  );
  process.exit(1);
}
const { main } = await import(cli.href);
await main();
