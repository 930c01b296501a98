// Runs every benchmark in bench/ (files named *-bench.mjs) one after another and prints
// their figures. Benchmarks are never tests: they report, they do not fail on slow machines.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
for (const f of readdirSync(here).filter((n) => n.endsWith('-bench.mjs')).sort()) {
  if (only && !f.includes(only)) continue;
  console.log(`== ${f}`);
  const r = spawnSync(process.execPath, [join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) console.log(`   (${f} exited with status ${r.status})`);
}
