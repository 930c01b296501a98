// The MSRs the machine's devices own (SDM Vol. 4; Vol. 3 ch. 11 for the APIC ones), as the
// CPU's RDMSR/WRMSR reach them through DeviceMsrs.
import { describe, expect, it } from 'vitest';
import { DeviceMsrs, IA32_APIC_BASE, IA32_TIME_STAMP_COUNTER, MSR_GP, MSR_OK, MSR_UNHANDLED } from '../../../src/emu/machine/device-msrs';
import { PcBoard } from '../../../src/emu/machine/pc-board';

function setup(): { msrs: DeviceMsrs; board: PcBoard; out: Int32Array } {
  const board = new PcBoard();
  return { msrs: new DeviceMsrs(board.clock, board.lapic), board, out: new Int32Array(2) };
}

describe('DeviceMsrs', () => {
  it('IA32_APIC_BASE reads the power-up value: base 0xFEE00000, BSP, globally enabled', () => {
    const { msrs, out } = setup();
    expect(msrs.rdmsr(IA32_APIC_BASE, out, 0)).toBe(MSR_OK);
    expect(out[0] >>> 0).toBe(0xFEE00900);
    expect(out[1]).toBe(0);
  });

  it('reserved IA32_APIC_BASE bits and invalid x2APIC transitions are #GP', () => {
    const { msrs } = setup();
    expect(msrs.wrmsr(IA32_APIC_BASE, 0xFEE00901, 0)).toBe(MSR_GP);
    expect(msrs.wrmsr(IA32_APIC_BASE, 0xFEE00500, 0)).toBe(MSR_GP); // EXTD without EN
  });

  it('x2APIC registers answer only in x2APIC mode', () => {
    const { msrs, out } = setup();
    expect(msrs.rdmsr(0x802, out, 0)).toBe(MSR_GP);
    expect(msrs.wrmsr(IA32_APIC_BASE, 0xFEE00D00, 0)).toBe(MSR_OK);
    expect(msrs.rdmsr(0x802, out, 0)).toBe(MSR_OK);
    expect(out[0]).toBe(0); // x2APIC ID of the BSP
  });

  it('the TSC reads and writes the virtual clock', () => {
    const { msrs, board, out } = setup();
    expect(msrs.wrmsr(IA32_TIME_STAMP_COUNTER, 0x1000, 1)).toBe(MSR_OK);
    expect(board.clock.tsc()).toBe(0x1_0000_1000);
    expect(msrs.rdmsr(IA32_TIME_STAMP_COUNTER, out, 0)).toBe(MSR_OK);
    expect([out[0], out[1]]).toEqual([0x1000, 1]);
  });

  it('other MSRs are left to the CPU', () => {
    const { msrs, out } = setup();
    expect(msrs.rdmsr(0xC0000080, out, 0)).toBe(MSR_UNHANDLED);
    expect(msrs.wrmsr(0x174, 0, 0)).toBe(MSR_UNHANDLED);
  });
});
