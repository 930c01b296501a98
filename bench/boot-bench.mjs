// Time from starting `vmx-lab run` to the guest's first serial byte on stdout (issue 3
// target: under 300 ms), for an ELF kernel and for an assembly source the command builds
// first, and the whole run to the guest's exit. Spawns the built CLI (dist/cli.js; `npm run
// bench` builds it). Prints the median of several runs; never fails on a slow machine.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');
const RUNS = 7;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One run: ms to the first stdout byte and to exit. */
function timeRun(args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = -1;
    const child = spawn(process.execPath, [cli, 'run', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', () => {
      if (first < 0) first = performance.now() - t0;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ first, total: performance.now() - t0, status }));
  });
}

async function bench(name, args) {
  const firsts = [];
  const totals = [];
  let status;
  for (let i = 0; i < RUNS; i++) {
    const r = await timeRun(args);
    firsts.push(r.first);
    totals.push(r.total);
    status = r.status;
  }
  console.log(`${name.padEnd(36)} first serial byte ${median(firsts).toFixed(0).padStart(5)} ms   whole run ${median(totals).toFixed(0).padStart(5)} ms   (exit status ${status}, median of ${RUNS})`);
}

const dir = mkdtempSync(join(tmpdir(), 'vmxlab-boot-bench-'));
try {
  const helloSrc = join(root, 'guests', 'hello', 'hello.S');
  const helloElf = join(dir, 'hello.elf');
  const built = spawnSync(process.execPath, [cli, 'asm', helloSrc, '-I', dirname(helloSrc), '-o', helloElf], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('building hello.elf failed');
  const node = await timeRun(['--help']);
  console.log(`${'node + CLI start-up (run --help)'.padEnd(36)} ${node.total.toFixed(0).padStart(5)} ms`);
  await bench('hello.elf (ELF kernel)', [helloElf]);
  await bench('hello.S (assembled on the fly)', [helloSrc]);
  await bench('teach-os.S (assembled on the fly)', [join(root, 'guests', 'teach-os', 'teach-os.S')]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
