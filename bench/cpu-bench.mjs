// CPU interpreter figures: guest MIPS for (a) a tight integer loop and (b) a memory-heavy
// loop, both in 64-bit mode with 4-level paging on through the real MMU. Figures, not a test.
// Usage: node bench/cpu-bench.mjs
import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(mkdtempSync(join(tmpdir(), 'vmx-bench-')), 'cpu.mjs');
await build({
  stdin: {
    contents: [
      "export { Cpu } from './src/emu/cpu/cpu.ts';",
      "export { Mmu } from './src/emu/mmu/mmu.ts';",
      "export { PhysicalMemory } from './src/emu/memory/physical-memory.ts';",
      "export * from './src/emu/cpu/state.ts';",
    ].join('\n'),
    resolveDir: root, loader: 'ts',
  },
  bundle: true, format: 'esm', platform: 'node', outfile: out, logLevel: 'silent',
});
const S = await import(pathToFileURL(out).href);
const { Cpu, Mmu, PhysicalMemory } = S;

const CODE = 0x100000, DATA = 0x200000;

/** Identity-maps [0, 4 MiB) with 4 KiB pages: PML4 at 0x1000, PDPT 0x2000, PD 0x3000, PTs 0x4000.. */
function pageTables(mem) {
  mem.write64(0x1000, 0x2000 | 7, 0);
  mem.write64(0x2000, 0x3000 | 7, 0);
  for (let pd = 0; pd < 2; pd++) {
    const pt = 0x4000 + pd * 0x1000;
    mem.write64(0x3000 + 8 * pd, pt | 7, 0);
    for (let i = 0; i < 512; i++) mem.write64(pt + 8 * i, (pd * 0x200000 + i * 0x1000) | 7, 0);
  }
  return 0x1000;
}

function machine(code) {
  const mem = new PhysicalMemory({ ramSize: 64 << 20 });
  const cpu = new Cpu(mem, new Mmu(mem));
  mem.writeBytes(CODE, Uint8Array.from(code));
  cpu.cr3Lo = pageTables(mem);
  cpu.cr0 = S.CR0_PE | S.CR0_PG | S.CR0_ET | S.CR0_NE;
  cpu.cr4 = S.CR4_PAE;
  cpu.efer = S.EFER_LME | S.EFER_LMA;
  const flat = S.AR_P | S.AR_S | S.AR_TYPE_RW | S.AR_TYPE_ACCESSED | S.AR_G;
  cpu.loadSegmentCache(S.CS, 8, 0, 0, 0xffffffff, flat | S.AR_TYPE_CODE | S.AR_L);
  cpu.loadSegmentCache(S.SS, 16, 0, 0, 0xffffffff, flat | S.AR_DB);
  cpu.pagingChanged(true);
  cpu.rip = CODE;
  cpu.regs[8] = 0x300000; // RSP
  return cpu;
}

/**
 * Runs `code` for `instructions` after a warm-up and prints MIPS by wall clock and by the
 * process's CPU time: on a shared machine the second is the figure to compare between runs.
 */
function measure(name, code, instructions) {
  const warm = machine(code);
  warm.run(3_000_000); // warm up (JIT tiers)
  const cpu = machine(code);
  const t0 = process.hrtime.bigint();
  const u0 = process.cpuUsage();
  const reason = cpu.run(instructions);
  const u = process.cpuUsage(u0);
  const ns = Number(process.hrtime.bigint() - t0);
  const wall = cpu.icount / (ns / 1e3);
  const cpuTime = cpu.icount / (u.user + u.system);
  console.log(`${name.padEnd(44)} ${wall.toFixed(1).padStart(6)} MIPS wall, ${cpuTime.toFixed(1).padStart(6)} MIPS cpu time  (${cpu.icount} instructions, stop: ${reason})`);
}

console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores`);
const N = 60_000_000;
// (a) mov $-1,%ecx; 1: add %ecx,%eax; lea 1(%rax),%rdx; xor %rdx,%rbx; dec %ecx; jnz 1b; hlt
measure('(a) tight integer loop (5 insns/iteration)', [
  0xb9, 0xff, 0xff, 0xff, 0x7f,
  0x01, 0xc8, 0x48, 0x8d, 0x50, 0x01, 0x48, 0x31, 0xd3, 0xff, 0xc9, 0x75, 0xf3,
  0xf4,
], N);
// (b) mov $DATA,%esi; mov $-1,%ecx; 1: mov (%rsi,%rdi,8),%rax; add %rax,%rbx; mov %rbx,8(%rsi,%rdi,8);
//     inc %edi; and $0x3fffe,%edi; dec %ecx; jnz 1b; hlt   — 2 MiB working set, 512 pages
measure('(b) memory loop, 2 MiB working set, paging', [
  0xbe, DATA & 0xff, (DATA >> 8) & 0xff, (DATA >> 16) & 0xff, 0,
  0xb9, 0xff, 0xff, 0xff, 0x7f,
  0x48, 0x8b, 0x04, 0xfe, 0x48, 0x01, 0xc3, 0x48, 0x89, 0x5c, 0xfe, 0x08,
  0xff, 0xc7, 0x81, 0xe7, 0xfe, 0xff, 0x03, 0x00, 0xff, 0xc9, 0x75, 0xe8,
  0xf4,
], N);
// (c) the same over 64 KiB (16 pages: every access hits the CPU's software TLB)
measure('(c) memory loop, 64 KiB working set, paging', [
  0xbe, DATA & 0xff, (DATA >> 8) & 0xff, (DATA >> 16) & 0xff, 0,
  0xb9, 0xff, 0xff, 0xff, 0x7f,
  0x48, 0x8b, 0x04, 0xfe, 0x48, 0x01, 0xc3, 0x48, 0x89, 0x5c, 0xfe, 0x08,
  0xff, 0xc7, 0x81, 0xe7, 0xff, 0x1f, 0x00, 0x00, 0xff, 0xc9, 0x75, 0xe8,
  0xf4,
], N);
