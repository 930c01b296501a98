// x87/SSE behaviour the host-CPU differential test (simd-differential.test.ts) and the QEMU
// comparison (guests/tests/fpu.S) cannot show: faults a user-mode harness cannot provoke or
// QEMU does not model, checked against the SDM by hand (expected values in the comments).
import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../../src/emu/cpu/cpu';
import { CR0_MP, CR0_NE, CR4_OSFXSR } from '../../../src/emu/cpu/state';
import { Mmu } from '../../../src/emu/mmu/mmu';
import type { PhysicalMemory } from '../../../src/emu/memory/physical-memory';
import { enterLong64, identityPageTables, makeCpu } from '../../support/cpu-setup';
import { gnuFlatBinary } from '../../support/gnu-link';

const BASE = 0x100000;
const DATA = 0x200000;

function run(source: string): { cpu: Cpu; mem: PhysicalMemory; stop: string } {
  const { cpu, mem } = makeCpu({ ramSize: 16 * 1024 * 1024, mmu: (m) => new Mmu(m) });
  const pages: number[] = [];
  for (let a = 0; a < 0x400000; a += 0x1000) pages.push(a);
  for (let a = 0x800000; a < 0x808000; a += 0x1000) pages.push(a);
  cpu.cr3Lo = identityPageTables(mem, 0x800000, pages);
  mem.writeBytes(BASE, gnuFlatBinary(source, BASE, 64));
  enterLong64(cpu, 0);
  cpu.cr0 |= CR0_MP | CR0_NE;
  cpu.cr4 |= CR4_OSFXSR;
  cpu.pagingChanged();
  cpu.rip = BASE;
  cpu.regs[8] = 0x300000;
  cpu.stopOnException = true;
  const stop = cpu.run(10_000);
  return { cpu, mem, stop };
}

describe('x87 and SSE faults (SDM Vol. 2)', () => {
  it('LDMXCSR with a reserved bit (16) raises #GP(0) and leaves MXCSR alone', () => {
    const { cpu, stop } = run(`movl $0x10000, ${DATA}\n ldmxcsr ${DATA}\n hlt`);
    expect(stop).toBe('exception');
    expect(cpu.lastFault?.vector).toBe(13);
    expect(cpu.lastFault?.errorCode).toBe(0);
    expect(cpu.fpu.mxcsr).toBe(0x1f80);
  });

  it('LDMXCSR of DAZ (bit 6) is accepted: MXCSR_MASK is 0xffff', () => {
    const { cpu, stop } = run(`movl $0x1fc0, ${DATA}\n ldmxcsr ${DATA}\n hlt`);
    expect(stop).toBe('halt');
    expect(cpu.fpu.mxcsr).toBe(0x1fc0);
  });

  it('FXRSTOR of an image with a reserved MXCSR bit raises #GP(0); FXSAVE writes MXCSR_MASK 0xffff', () => {
    const { cpu, mem, stop } = run(`fxsave ${DATA}\n movl $0x20000, ${DATA + 24}\n fxrstor ${DATA}\n hlt`);
    expect(stop).toBe('exception');
    expect(cpu.lastFault?.vector).toBe(13);
    expect(mem.read32(DATA + 28)).toBe(0xffff);
  });

  it('an unmasked exception sets ES and B, stores nothing, and the next waiting x87 instruction raises #MF (CR0.NE=1)', () => {
    // FCW 0x37e: IM clear. FLDS of an SNaN is #IA: ES|B|IE, nothing pushed; FNSTSW (no wait)
    // still runs; FWAIT then raises #MF (vector 16) at its own RIP.
    const { cpu, mem, stop } = run(`
      fninit
      movw $0x37e, ${DATA}
      fldcw ${DATA}
      movl $0x7f800001, ${DATA + 4}
      flds ${DATA + 4}
      fnstsw ${DATA + 8}
      fwait
      hlt`);
    expect(stop).toBe('exception');
    expect(cpu.lastFault?.vector).toBe(16);
    expect(mem.read16(DATA + 8)).toBe(0x8081); // B | ES | IE, TOP = 0: nothing was pushed
    expect(cpu.fpu.valid).toBe(0);
  });

  it('FNSTENV with a 66 prefix writes the 14-byte 16-bit image and masks all exceptions', () => {
    const { mem, cpu } = run(`
      fninit
      fld1
      movw $0x1234, ${DATA + 14}
      fnstenvs ${DATA}
      hlt`);
    expect(mem.read16(DATA)).toBe(0x37f); // FCW
    expect(mem.read16(DATA + 2)).toBe(0x3800); // FSW: TOP = 7
    expect(mem.read16(DATA + 4)).toBe(0x3fff); // tags: R7 valid, others empty
    expect(mem.read16(DATA + 14)).toBe(0x1234); // nothing beyond 14 bytes
    expect(cpu.fpu.fcw & 0x3f).toBe(0x3f);
  });
});
