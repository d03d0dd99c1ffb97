// Makes package-lock.json self-consistent where the registry serves only this platform's binaries:
// optional dependency edges that point to packages the lock has no entry for (because the registry
// answered 404 for them) are dropped, so that `npm ci` accepts the lock. Run after `npm install`.
import { readFileSync, writeFileSync } from "node:fs";

const path = process.argv[2] ?? "package-lock.json";
const lock = JSON.parse(readFileSync(path, "utf8"));
const has = (name) =>
  Object.keys(lock.packages).some((k) => k === `node_modules/${name}` || k.endsWith(`/node_modules/${name}`));
let dropped = 0;
for (const [key, pkg] of Object.entries(lock.packages)) {
  if (key === "" || !pkg.optionalDependencies) continue;
  for (const dep of Object.keys(pkg.optionalDependencies)) {
    if (!has(dep)) {
      delete pkg.optionalDependencies[dep];
      dropped++;
    }
  }
  if (Object.keys(pkg.optionalDependencies).length === 0) delete pkg.optionalDependencies;
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fix-lock: dropped ${dropped} optional edges to packages this registry does not serve`);
