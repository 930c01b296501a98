// Machine-check architecture without banks: CPUID.01H:EDX advertises MCE (bit 7) and MCA
// (bit 14), IA32_MCG_CAP reads 0 and is read-only, IA32_MCG_STATUS reads 0 and accepts only
// 0 (SDM Vol. 3B §15.3.1.1, §15.3.1.2). kvm-unit-tests' msr test reads both MSRs.
import { describe, expect, it } from 'vitest';
import { cpuid } from '../../../src/emu/cpu/cpuid';
import { CpuFault, GP } from '../../../src/emu/cpu/fault';
import { readMsr, writeMsr } from '../../../src/emu/cpu/msrs';
import { makeCpu } from '../../support/cpu-setup';

function gpOf(f: () => void): number | undefined {
  try { f(); } catch (e) { if (e instanceof CpuFault) return e.vector; throw e; }
  return undefined;
}

describe('machine-check MSRs (SDM Vol. 3B §15.3.1)', () => {
  it('CPUID.01H:EDX has MCE and MCA', () => {
    const { cpu } = makeCpu({ ramSize: 4 << 20 });
    cpuid(cpu, 1, 0);
    expect((cpu.regs[4] >>> 7) & 1).toBe(1);
    expect((cpu.regs[4] >>> 14) & 1).toBe(1);
  });

  it('IA32_MCG_CAP (0x179) reads 0 (no banks) and writes raise #GP', () => {
    const { cpu } = makeCpu({ ramSize: 4 << 20 });
    cpu.regs[0] = -1; cpu.regs[4] = -1;
    readMsr(cpu, 0x179);
    expect([cpu.regs[0], cpu.regs[4]]).toEqual([0, 0]);
    expect(gpOf(() => writeMsr(cpu, 0x179, 0, 0))).toBe(GP);
  });

  it('IA32_MCG_STATUS (0x17A) reads 0, accepts 0, raises #GP for any 1 bit', () => {
    const { cpu } = makeCpu({ ramSize: 4 << 20 });
    cpu.regs[0] = -1; cpu.regs[4] = -1;
    readMsr(cpu, 0x17a);
    expect([cpu.regs[0], cpu.regs[4]]).toEqual([0, 0]);
    expect(gpOf(() => writeMsr(cpu, 0x17a, 0, 0))).toBeUndefined();
    expect(gpOf(() => writeMsr(cpu, 0x17a, 1, 0))).toBe(GP);
    expect(gpOf(() => writeMsr(cpu, 0x17a, 0, 1))).toBe(GP);
  });
});
