// x87/SSE behaviour the host-CPU differential test (simd-differential.test.ts) and the QEMU
// comparison (guests/tests/fpu.S) cannot show: faults a user-mode harness cannot provoke or
// QEMU does not model, checked against the SDM by hand (expected values in the comments).
import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../../src/emu/cpu/cpu';
import { CR0_MP, CR0_NE, CR4_OSFXSR, CR4_OSXMMEXCPT } from '../../../src/emu/cpu/state';
import { Mmu } from '../../../src/emu/mmu/mmu';
import type { PhysicalMemory } from '../../../src/emu/memory/physical-memory';
import { enterLong64, identityPageTables, makeCpu } from '../../support/cpu-setup';
import { gnuFlatBinary } from '../../support/gnu-link';

const BASE = 0x100000;
const DATA = 0x200000;

function run(source: string, cr4 = 0): { cpu: Cpu; mem: PhysicalMemory; stop: string } {
  const { cpu, mem } = makeCpu({ ramSize: 16 * 1024 * 1024, mmu: (m) => new Mmu(m) });
  const pages: number[] = [];
  for (let a = 0; a < 0x400000; a += 0x1000) pages.push(a);
  for (let a = 0x800000; a < 0x808000; a += 0x1000) pages.push(a);
  cpu.cr3Lo = identityPageTables(mem, 0x800000, pages);
  mem.writeBytes(BASE, gnuFlatBinary(source, BASE, 64));
  enterLong64(cpu, 0);
  cpu.cr0 |= CR0_MP | CR0_NE;
  cpu.cr4 |= CR4_OSFXSR | cr4;
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

  // SIMD floating-point exceptions (SDM Vol. 1 §11.5.2.1; Vol. 3 §6.15 interrupt 19): the
  // host-CPU harness sees only SIGFPE, so the vector, the MXCSR flags and the untouched
  // destination are checked here. DIVSS 1/0 with ZM clear (MXCSR 0x1d80).
  const divByZero = `
      movl $0x1d80, ${DATA}
      ldmxcsr ${DATA}
      movl $0x3f800000, ${DATA + 4}
      movss ${DATA + 4}, %xmm0
      xorps %xmm1, %xmm1
      movl $0x12345678, %eax
      movd %eax, %xmm2
      divss %xmm1, %xmm0
      hlt`;

  it('an unmasked SIMD exception raises #XM with CR4.OSXMMEXCPT=1, records the flag, leaves the destination', () => {
    const { cpu, stop } = run(divByZero, CR4_OSXMMEXCPT);
    expect(stop).toBe('exception');
    expect(cpu.lastFault?.vector).toBe(19);
    expect(cpu.fpu.mxcsr & 0x3f).toBe(0x04); // ZE
    expect(cpu.fpu.xmm[0]).toBe(0x3f800000); // 1.0 still there
  });

  it('an unmasked SIMD exception raises #UD with CR4.OSXMMEXCPT=0', () => {
    const { cpu, stop } = run(divByZero);
    expect(stop).toBe('exception');
    expect(cpu.lastFault?.vector).toBe(6);
    expect(cpu.lastFault?.detail).toMatch(/unmasked SIMD floating-point exception.*OSXMMEXCPT=0/);
  });

  it('an unmasked pre-computation exception in one element suppresses every result of a packed operation (ADDPS)', () => {
    // Lane 0: an SNaN (IE, unmasked with MXCSR 0x1f00); lane 1: 1 + 2^-30 inexact (PE is masked).
    const { cpu, stop } = run(`
      movl $0x1f00, ${DATA}
      ldmxcsr ${DATA}
      movl $0x7f800001, ${DATA + 16}
      movl $0x3f800000, ${DATA + 20}
      movl $0, ${DATA + 24}
      movl $0, ${DATA + 28}
      movaps ${DATA + 16}, %xmm3
      movaps %xmm3, %xmm4
      movl $0x30800000, ${DATA + 20}
      addps ${DATA + 16}, %xmm4
      hlt`, CR4_OSXMMEXCPT);
    expect(stop).toBe('exception');
    expect(cpu.lastFault?.vector).toBe(19);
    expect(cpu.fpu.mxcsr & 0x3f).toBe(0x01); // IE only: no PE from the other lane
    expect(Array.from(cpu.fpu.xmm.subarray(16, 18))).toEqual([0x7f800001, 0x3f800000]);
  });

  it('x87: masked, FDIVR 1/0 gives +∞ with ZE; unmasked #Z leaves ST(0) and the stack alone and sets ES', () => {
    const { cpu, mem } = run(`
      fninit
      fld1
      fldz
      fdivr %st(1), %st
      fnstsw ${DATA}
      fstps ${DATA + 8}
      fldz
      fnclex
      movw $0x37b, ${DATA + 2}
      fldcw ${DATA + 2}
      fdivr %st(1), %st
      fnstsw ${DATA + 4}
      hlt`);
    expect(mem.read16(DATA) & 0xff).toBe(0x04); // ZE
    expect(mem.read32(DATA + 8)).toBe(0x7f800000); // +∞
    expect(mem.read16(DATA + 4) & 0xb8ff).toBe(0x8084 | (6 << 11)); // B ES ZE, TOP 6: nothing popped
    const r = cpu.fpu.phys(0);
    expect([cpu.fpu.se[r], cpu.fpu.mant[2 * r + 1], cpu.fpu.mant[2 * r]]).toEqual([0, 0, 0]); // still +0
  });

  it('the transcendental x87 instructions stay unemulated: #UD naming the instruction', () => {
    const { cpu, stop } = run(`fninit\n fld1\n fsin\n hlt`);
    expect(stop).toBe('exception');
    expect(cpu.lastFault?.vector).toBe(6);
    expect(cpu.lastFault?.detail).toMatch(/^fsin .* is not emulated$/);
  });
});
