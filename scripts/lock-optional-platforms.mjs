// Records, in package-lock.json, the optional platform packages (other OSes' binaries of biome,
// buf, rollup, …) that the registry this project installs from does not serve: `npm install`
// leaves them out of the lockfile, and `npm ci` then refuses the lockfile as out of sync.
// Each gets an entry with its version and `optional: true`; on a platform that needs one, npm
// fetches it as usual, and where it is missing the optional install is skipped.
// Run after `npm install` changes dependencies: node scripts/lock-optional-platforms.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
let added = 0;
for (const [where, pkg] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const nested = `${where}/node_modules/${name}`;
    if (lock.packages[key] || lock.packages[nested]) continue;
    lock.packages[key] = { version, ...(pkg.dev ? { dev: true } : {}), optional: true };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`recorded ${added} optional platform packages`);
