// The accessed bit of a segment descriptor is set in memory AND in the loaded segment's
// cached attributes on every descriptor load (SDM Vol. 3 §3.4.5.1, type field bit 0).
// VM entry checks the cached attributes (SDM 26.3.1.2: CS and SS types must be "accessed"),
// so a CPU that sets the bit in memory but caches the old attributes makes a hypervisor's
// second VM entry fail; the reference hypervisor hit exactly that.
import { describe, expect, it } from 'vitest';
import { CS, SS } from '../../../src/emu/cpu/state';
import { Mmu } from '../../../src/emu/mmu/mmu';
import { enterLong64, identityPageTables, makeCpu } from '../../support/cpu-setup';
import { gnuFlatBinary } from '../../support/gnu-link';

const BASE = 0x100000;


describe('descriptor accessed bit (SDM Vol. 3 §3.4.5.1)', () => {
  it('a far return to a code descriptor and an SS load with the accessed bit clear set it in the GDT and in the cached attributes', () => {
    const { cpu, mem } = makeCpu({ ramSize: 16 * 1024 * 1024, mmu: (m) => new Mmu(m) });
    const pages: number[] = [];
    for (let a = 0; a < 0x400000; a += 0x1000) pages.push(a);
    for (let a = 0x800000; a < 0x808000; a += 0x1000) pages.push(a);
    cpu.cr3Lo = identityPageTables(mem, 0x800000, pages);
    mem.writeBytes(BASE, gnuFlatBinary(`
      lgdt gdtr(%rip)
      mov $0x10, %ax
      mov %ax, %ss              # data descriptor 0x10, accessed bit clear
      lea 1f(%rip), %rax
      pushq $0x08               # code descriptor 0x08, accessed bit clear
      push %rax
      lretq
1:    hlt
      .org 0x40
gdt:  .quad 0
      .quad 0x00209a0000000000  # 64-bit code, type 0xa (execute/read, not accessed)
      .quad 0x0000920000000000  # data, type 0x2 (read/write, not accessed)
gdtr: .word 23
      .quad gdt
    `, BASE, 64));
    enterLong64(cpu, 0);
    cpu.rip = BASE;
    cpu.regs[8] = 0x300000;
    expect(cpu.run(1000)).toBe('halt');
    const gdt = BASE + 0x40;
    expect(mem.read8(gdt + 8 + 5)).toBe(0x9b);
    expect(mem.read8(gdt + 16 + 5)).toBe(0x93);
    expect(cpu.segAr[CS] & 0xf).toBe(0xb);
    expect(cpu.segAr[SS] & 0xf).toBe(0x3);
  });
});
