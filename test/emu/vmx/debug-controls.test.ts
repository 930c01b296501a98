// "Load debug controls" / "save debug controls": IA32_DEBUGCTL travels with DR7 between the
// VMCS and the processor (SDM 26.3.2.1 on entry, 27.3.1 on exit) and the exit clears it for
// the host (SDM 27.5.1); the entry checks accept exactly the bits WRMSR accepts (SDM 26.3.1.1).
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { Rig, SCRATCH } from './rig';

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
});

const MSR_BITMAPS = 1 << 28, LOAD_DEBUG = 1 << 2, SAVE_DEBUG = 1 << 2;
const GUEST = 'movl $0x1d9, %ecx\nrdmsr\nmovl %eax, %ebx\nmovl $1, %eax\nxorl %edx, %edx\nwrmsr\nvmcall';

function launch(entry: number, exit: number, debugctl: number): void {
  rig.setupGuest(GUEST, { proc: MSR_BITMAPS, entry, exit });
  rig.mem.fill(SCRATCH, 4096, 0);
  rig.write('MSR_BITMAP', SCRATCH); // no MSR exits: the guest's RDMSR/WRMSR reach the processor
  rig.write('GUEST_IA32_DEBUGCTL', debugctl);
  rig.write('GUEST_DR7', 0x400);
  rig.launch();
  expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
  expect(rig.exitReason()).toBe(R.VMCALL);
}

describe('IA32_DEBUGCTL and the debug controls (SDM 26.3.2.1, 27.3.1, 27.5.1)', () => {
  it('SDM 26.3.2.1: "load debug controls" loads GUEST_IA32_DEBUGCTL; SDM 27.3.1: "save debug controls" saves it', () => {
    launch(LOAD_DEBUG, SAVE_DEBUG, 3);
    expect(rig.reg(3)).toBe(3); // the guest read LBR|BTF
    expect(rig.read('GUEST_IA32_DEBUGCTL')).toBe(1); // and wrote LBR
  });

  it('SDM 27.5.1: the VM exit clears IA32_DEBUGCTL for the host', () => {
    launch(LOAD_DEBUG, SAVE_DEBUG, 2);
    rig.cpu.regs[0] = -1;
    rig.runHost('movl $0x1d9, %ecx\nrdmsr\nhlt');
    expect(rig.reg(0)).toBe(0);
  });

  it('without "save debug controls" the field keeps what the host wrote', () => {
    launch(LOAD_DEBUG, 0, 2);
    expect(rig.reg(3)).toBe(2);
    expect(rig.read('GUEST_IA32_DEBUGCTL')).toBe(2);
  });

  it('SDM 26.3.1.1: a reserved GUEST_IA32_DEBUGCTL bit fails the entry (exit reason 33)', () => {
    rig.setupGuest('vmcall', { entry: LOAD_DEBUG });
    rig.write('GUEST_IA32_DEBUGCTL', 0x4);
    rig.launch();
    expect(rig.vmx.lastEntryFailure?.message).toMatch(/GUEST_IA32_DEBUGCTL/);
    expect(rig.read('VM_EXIT_REASON') >>> 0).toBe((0x80000000 | 33) >>> 0);
  });
});
