// Where the Multiboot boot information goes when the kernel is loaded below 1 MiB. The
// specification leaves placement to the loader (Multiboot 0.6.96 §3.3: "anywhere in memory");
// we use QEMU's 0x9000 (memory map) / 0x9500 (info structure) unless a kernel segment lies
// there (kvm-unit-tests' realmode.flat loads at 0x8000-0xa86c), and then never overwrite a
// loaded segment. Kernels are linked by GNU ld; segments are read back with readelf's view
// through test/support/gnu-link.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMultiboot } from '../../../src/emu/loader/multiboot';
import { PhysicalMemory } from '../../../src/emu/memory/physical-memory';
import { loadSegments, run, withTemp, writeFiles } from '../../support/gnu-link';

function kernelAt(base: number, fill: number): Uint8Array {
  return withTemp((dir) => {
    writeFiles(dir, {
      'k.s': `
        .text
        .globl _start
        .p2align 2
mb:     .long 0x1BADB002, 0, -0x1BADB002
_start: cli
        hlt
        .fill ${fill}, 1, 0xa5
`,
    });
    const as = run('as', ['--32', '-o', 'k.o', 'k.s'], dir);
    if (as.status !== 0) throw new Error(as.stderr);
    const ld = run('ld', ['-m', 'elf_i386', '-z', 'max-page-size=0x1000', `-Ttext=0x${base.toString(16)}`, '-o', 'k.elf', 'k.o'], dir);
    if (ld.status !== 0) throw new Error(ld.stderr);
    return new Uint8Array(readFileSync(join(dir, 'k.elf')));
  });
}

function boot(kernel: Uint8Array, modules = 0) {
  const mem = new PhysicalMemory({ ramSize: 16 << 20 });
  const mods = Array.from({ length: modules }, (_, i) => ({ name: `m${i}`, data: new Uint8Array(5000).fill(i + 1), cmdline: `module ${i}` }));
  const boot = loadMultiboot(mem, { kernelName: 'k.elf', kernel, cmdline: 'k.elf arg', modules: mods });
  return { mem, boot };
}

function cString(mem: PhysicalMemory, addr: number): string {
  let s = '';
  for (let c = mem.read8(addr); c !== 0; c = mem.read8(++addr)) s += String.fromCharCode(c);
  return s;
}

describe('Multiboot boot information placement (Multiboot 0.6.96 §3.3)', () => {
  it('a kernel at 1 MiB gets QEMU\'s addresses: info at 0x9500, memory map at 0x9000', () => {
    const { mem, boot: b } = boot(kernelAt(0x100000, 0x1000));
    expect(b.infoAddress).toBe(0x9500);
    expect(b.entry.ebx).toBe(0x9500);
    expect(mem.read32(0x9500 + 48)).toBe(0x9000);
  });

  it('a kernel linked at 0x8000 (over 0x9000-0xa86c) keeps its bytes; the information lies outside every PT_LOAD segment', () => {
    const kernel = kernelAt(0x8000, 0x286c - 8);
    const segs = loadSegments(kernel).map((s) => ({ start: Number(s.vaddr), end: Number(s.vaddr) + s.memsz }));
    expect(segs.some((s) => s.start < 0xa000 && s.end > 0x9000)).toBe(true); // the case at hand
    const { mem, boot: b } = boot(kernel, 2);
    // The kernel's bytes in memory are the file's bytes (nothing wrote over them).
    for (let a = 0x9000; a < 0xa800; a++) expect(mem.read8(a)).toBe(0xa5);
    const info = b.infoAddress;
    expect(b.entry.ebx).toBe(info);
    const flags = mem.read32(info);
    const mmapAddr = mem.read32(info + 48), mmapLen = mem.read32(info + 44);
    const modsAddr = mem.read32(info + 24), cmdline = mem.read32(info + 16), loaderName = mem.read32(info + 64);
    const areas: [number, number][] = [[info, info + 0x78], [mmapAddr, mmapAddr + mmapLen], [modsAddr, modsAddr + 32], [b.entry.gdtr.base, b.entry.gdtr.base + 32]];
    for (const [s, e] of areas) for (const seg of segs) expect(s < seg.end && e > seg.start, `${s.toString(16)}-${e.toString(16)} overlaps a segment`).toBe(false);
    for (const [s, e] of areas) for (const m of b.modules) expect(s < m.end && e > m.start).toBe(false);
    expect(flags & 0x4c).toBe(0x4c); // cmdline, mods, mmap (§3.3 flags bits 2, 3, 6)
    expect(cString(mem, cmdline)).toBe('k.elf arg');
    expect(cString(mem, mem.read32(modsAddr + 8))).toBe('module 0');
    expect(mem.read32(modsAddr + 16)).toBe(b.modules[1].start);
    expect(cString(mem, loaderName)).toBe('VMX Lab');
    expect(mem.read32(mmapAddr)).toBe(20); // first entry's size field
    expect(info).toBeLessThan(0x9fc00); // below 640 KiB, reachable from real mode
  });
});
