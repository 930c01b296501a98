// IA32_DEBUGCTL (MSR 1D9H, SDM Vol. 3B §18.4.1): LBR (bit 0) and BTF (bit 1) are accepted and
// read back; every other bit is reserved and WRMSR of it raises #GP(0). kvm-unit-tests'
// vmx tests write LBR (1) to it.
import { describe, expect, it } from 'vitest';
import { CpuFault, GP } from '../../../src/emu/cpu/fault';
import { DEBUGCTL_SUPPORTED, readMsr, writeMsr } from '../../../src/emu/cpu/msrs';
import { makeCpu } from '../../support/cpu-setup';

function gpOf(f: () => void): number | undefined {
  try { f(); } catch (e) { if (e instanceof CpuFault) return e.vector; throw e; }
  return undefined;
}

describe('IA32_DEBUGCTL (SDM Vol. 3B §18.4.1)', () => {
  it('reads 0 after reset; LBR and BTF are stored and read back', () => {
    const { cpu } = makeCpu({ ramSize: 4 << 20 });
    cpu.regs[0] = -1; cpu.regs[4] = -1;
    readMsr(cpu, 0x1d9);
    expect([cpu.regs[0], cpu.regs[4]]).toEqual([0, 0]);
    for (const v of [1, 2, 3, 0]) {
      expect(gpOf(() => writeMsr(cpu, 0x1d9, v, 0))).toBeUndefined();
      readMsr(cpu, 0x1d9);
      expect(cpu.regs[0]).toBe(v);
    }
  });

  it('every other bit is reserved: #GP(0), and the value is kept', () => {
    const { cpu } = makeCpu({ ramSize: 4 << 20 });
    writeMsr(cpu, 0x1d9, 1, 0);
    for (let bit = 0; bit < 32; bit++) {
      const expected = ((DEBUGCTL_SUPPORTED >>> bit) & 1) !== 0 ? undefined : GP;
      expect(gpOf(() => writeMsr(cpu, 0x1d9, (1 << bit) | 1, 0))).toBe(expected);
    }
    expect(gpOf(() => writeMsr(cpu, 0x1d9, 1, 1))).toBe(GP);
    writeMsr(cpu, 0x1d9, 1, 0);
    expect(gpOf(() => writeMsr(cpu, 0x1d9, 0x40, 0))).toBe(GP);
    readMsr(cpu, 0x1d9);
    expect(cpu.regs[0]).toBe(1);
  });
});
