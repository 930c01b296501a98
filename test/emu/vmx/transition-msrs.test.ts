// The MSRs every VM entry and exit load (IA32_SYSENTER_CS/ESP/EIP: SDM Vol. 3C §26.3.2.1,
// §27.5.1; IA32_SYSENTER_CS saved by §27.3.1): a transition skips storing a value the MSR
// already holds (transition-msrs.ts), which must never hide a WRMSR made in between, by the
// VMM or by the guest.
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { Rig, SCRATCH } from './rig';

const MSR_BITMAP = SCRATCH + 0x1000;
const USE_MSR_BITMAPS = 1 << 28;
const SYSENTER_CS = 0x174;

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
  rig.mem.fill(MSR_BITMAP, 0x1000, 0); // RDMSR and WRMSR of every MSR run in the guest without exiting
});

/** Runs `guest` (RDMSR/WRMSR do not exit), both worlds with IA32_SYSENTER_CS = 0x10 in the VMCS. */
function launch(guest: string): void {
  rig.setupGuest(guest, { proc: USE_MSR_BITMAPS });
  rig.write('MSR_BITMAP', MSR_BITMAP);
  rig.write('GUEST_SYSENTER_CS', 0x10);
  rig.write('HOST_IA32_SYSENTER_CS', 0x10);
  rig.launch();
  expect(rig.exitReason()).toBe(R.VMCALL);
}

/** RDMSR IA32_SYSENTER_CS in the host. */
function hostSysenterCs(): number {
  rig.runHost(`movl $${SYSENTER_CS}, %ecx\nrdmsr`);
  return rig.reg(0);
}

describe('SDM 26.3.2.1 / 27.5.1 IA32_SYSENTER_CS across VM entries and exits', () => {
  it('a WRMSR by the VMM between the exit and VMRESUME does not leak into the guest', () => {
    launch(`1: movl $${SYSENTER_CS}, %ecx\nrdmsr\nmovl %eax, %ebx\nvmcall\njmp 1b`);
    expect(rig.reg(3)).toBe(0x10);
    rig.runHost(`movl $${SYSENTER_CS}, %ecx\nmovl $0x99, %eax\nxorl %edx, %edx\nwrmsr`);
    rig.resume();
    expect(rig.reg(3)).toBe(0x10);
    expect(hostSysenterCs()).toBe(0x10);
  });

  it('a WRMSR by the guest is saved by the exit, and the host\'s value comes back', () => {
    launch(`movl $${SYSENTER_CS}, %ecx\nmovl $0x55, %eax\nxorl %edx, %edx\nwrmsr\nvmcall`);
    expect(rig.read('GUEST_SYSENTER_CS')).toBe(0x55);
    expect(hostSysenterCs()).toBe(0x10);
  });
});
