// MMU figures: translate() on TLB hits (the path every guest memory access takes with
// paging on), page-walk cost on misses, and flush cost. Figures, not a test.
// Usage: node bench/mmu-bench.mjs
import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(mkdtempSync(join(tmpdir(), 'vmx-bench-')), 'mmu.mjs');
await build({
  stdin: {
    contents: "export { Mmu } from './src/emu/mmu/mmu.ts'; export { PhysicalMemory } from './src/emu/memory/physical-memory.ts';",
    resolveDir: root, loader: 'ts',
  },
  bundle: true, format: 'esm', platform: 'node', outfile: out, logLevel: 'silent',
});
const { Mmu, PhysicalMemory } = await import(pathToFileURL(out).href);

const P = 1, RW = 2, US = 4;
const mem = new PhysicalMemory({ ramSize: 64 << 20 });
const mmu = new Mmu(mem);
let next = 0x100000;
const table = () => { const t = next; next += 0x1000; mem.fill(t, 0x1000, 0); return t; };
const scale = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];
const cr3 = table();
function map(linear, phys) {
  let t = cr3;
  for (let l = 0; l < 3; l++) {
    const e = t + (Math.floor(linear / scale[l]) & 511) * 8;
    if ((mem.read32(e) & 1) === 0) mem.write64(e, table() | P | RW | US, 0);
    t = mem.read32(e) & ~0xFFF;
  }
  mem.write64(t + (Math.floor(linear / scale[3]) & 511) * 8, phys | P | RW | US, 0);
}
const PAGES = 256; // 1 MiB working set: what a small kernel touches in a loop
const LOW = 0x40_0000, HIGH = -(2 ** 31) + 0x40_0000; // identity-style and higher-half kernel addresses
for (let i = 0; i < PAGES; i++) { map(LOW + i * 4096, 0x200_0000 + i * 4096); map(HIGH + i * 4096, 0x200_0000 + i * 4096); }
mmu.setPagingState(0x8001_0001 | 0, cr3, 0, 0xA0, 0xD00); // PG|WP|PE, PAE|PGE, LME|LMA|NXE

const N = 50_000_000;
const load = (await import('node:os')).loadavg()[0];
console.log(`load average ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} CPUs (figures shrink when other work runs)`);
function time(name, fn, n = N) {
  fn(Math.max(1, n / 10)); // warm up
  const t0 = process.hrtime.bigint();
  const r = fn(n);
  const ns = Number(process.hrtime.bigint() - t0);
  const perSec = n / (ns / 1e9);
  const rate = perSec >= 1e6 ? `${(perSec / 1e6).toFixed(1)} M/s` : `${(perSec / 1e3).toFixed(1)} K/s`;
  console.log(`${name.padEnd(52)} ${rate.padStart(10)}  ${(ns / n).toFixed(1).padStart(9)} ns each   (${r})`);
}

time('baseline: the same loop without translate()', (n) => {
  let s = 0, a = 0;
  for (let i = 0; i < n; i++) s = (s + LOW + (a = (a + 68) & 0xF_FFFF)) | 0;
  return s;
});
time('translate hit: read, CPL 0, 256 pages', (n) => {
  let s = 0, a = 0; // int32 arithmetic only: a double loop counter would dominate
  for (let i = 0; i < n; i++) s = (s + mmu.translate(LOW + (a = (a + 68) & 0xF_FFFF), 0, 0)) | 0;
  return s;
});
time('translate hit: write, CPL 3, 256 pages', (n) => {
  let s = 0, a = 0;
  for (let i = 0; i < n; i++) s = (s + mmu.translate(LOW + (a = (a + 68) & 0xF_FFFF), 2, 3)) | 0;
  return s;
});
time('translate hit: fetch, higher-half (negative) addr', (n) => {
  let s = 0, a = 0;
  for (let i = 0; i < n; i++) s = (s + mmu.translate(HIGH + (a = (a + 68) & 0xF_FFFF), 16, 0)) | 0;
  return s;
});
time('translate hit: same page, read', (n) => {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + mmu.translate(LOW + (i & 0xFFC), 0, 0)) | 0;
  return s;
});
time('miss: INVLPG + 4-level 4 KiB walk (A already set)', (n) => {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const a = LOW + ((i & 255) << 12);
    mmu.invlpg(a);
    s = (s + mmu.translate(a, 0, 0)) | 0;
  }
  return s;
}, 2_000_000);
time('MOV CR3 (flush) + refill 256 pages', (n) => {
  let s = 0;
  for (let i = 0; i < n; i++) {
    mmu.setPagingState(0x8001_0001 | 0, cr3, 0, 0xA0, 0xD00);
    for (let p = 0; p < PAGES; p++) s = (s + mmu.translate(LOW + p * 4096, 0, 0)) | 0;
  }
  return s;
}, 20_000);
time('explainWalk (debugger, allocates)', (n) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += mmu.explainWalk(LOW + ((i & 255) << 12), 0, 0).steps.length;
  return s;
}, 200_000);
