// Guest-physical memory throughput: read32/write32 on touched RAM pages (the hot path the
// CPU's memory accesses take) plus page-crossing and MMIO accesses. Figures, not a test.
// Usage: node bench/memory-bench.mjs
import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const out = join(mkdtempSync(join(tmpdir(), 'vmx-bench-')), 'memory.mjs');
await build({ entryPoints: [new URL('../src/emu/memory/physical-memory.ts', import.meta.url).pathname], bundle: true, format: 'esm', platform: 'node', outfile: out, logLevel: 'silent' });
const { PhysicalMemory } = await import(pathToFileURL(out).href);

const mem = new PhysicalMemory({ ramSize: 64 << 20 });
const SPAN = 16 << 20; // 16 MiB working set: 4096 pages
mem.fill(0x100000, SPAN, 1);
const N = 50_000_000;

function time(name, fn, n = N) {
  fn(n / 10); // warm up
  const t0 = process.hrtime.bigint();
  const r = fn(n);
  const ns = Number(process.hrtime.bigint() - t0);
  console.log(`${name.padEnd(34)} ${(n / (ns / 1e3)).toFixed(1).padStart(7)} M ops/s   (${r})`);
}

time('read32 aligned, sequential', (n) => {
  let s = 0;
  for (let i = 0, a = 0x100000; i < n; i++) {
    s = (s + mem.read32(a)) | 0;
    a = 0x100000 + ((a + 4) & (SPAN - 1));
  }
  return s;
});
time('write32 aligned, sequential', (n) => {
  for (let i = 0, a = 0x100000; i < n; i++) {
    mem.write32(a, i);
    a = 0x100000 + ((a + 4) & (SPAN - 1));
  }
  return mem.read32(0x100000);
});
time('read32 random (LCG) over 16 MiB', (n) => {
  let s = 0;
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    s = (s + mem.read32(0x100000 + (x & (SPAN - 4)))) | 0;
  }
  return s;
});
time('read8 sequential', (n) => {
  let s = 0;
  for (let i = 0, a = 0x100000; i < n; i++) {
    s = (s + mem.read8(a)) | 0;
    a = 0x100000 + ((a + 1) & (SPAN - 1));
  }
  return s;
});
time('read32 page-crossing (slow path)', (n) => {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + mem.read32(0x100FFE + ((i & 255) << 12))) | 0;
  return s;
}, N / 10);
const dev = { mmioRead: (o) => o, mmioWrite: () => {} };
mem.addMmio('bench', 0xFEB00000, 0x1000, dev);
time('read32 MMIO dispatch', (n) => {
  let s = 0;
  for (let i = 0; i < n; i++) s = (s + mem.read32(0xFEB00000 + ((i & 255) << 2))) | 0;
  return s;
}, N / 10);
