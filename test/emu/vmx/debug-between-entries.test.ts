// Debug registers changed between VM entries take effect at the next entry: every entry and
// exit decodes DR7 and DR0-DR3 (SDM 26.3.2.1 "load debug controls" loads DR7; 27.5.1 the exit
// sets DR7 to 400H), and the decoder skips the work when nothing changed (debug-registers.ts),
// so these tests change one input at a time, including through direct writes that bypass
// MOV DR (a debugger's register edit).
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { GUEST_CODE, Rig } from './rig';

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
});

const LOAD_DEBUG = 1 << 2;
const DB_EXCEPTION = 0x80000301;

function exit(): { reason: number; rip: number; qual: number; info: number } {
  expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
  return { reason: rig.exitReason(), rip: rig.read('GUEST_RIP'), qual: rig.read('EXIT_QUALIFICATION'), info: rig.read('VM_EXIT_INTR_INFO') };
}

/** VMRESUME at GUEST_CODE again (the guest re-runs from its first instruction). */
function rerun(): void {
  rig.write('GUEST_RIP', GUEST_CODE);
  rig.resume(false);
}

describe('SDM 26.3.2.1 / 27.5.1: DR7 and DR0-DR3 changed between entries', () => {
  it('GUEST_DR7 enabling, then disabling, an instruction breakpoint between two VMRESUMEs', () => {
    rig.setupGuest('nop\nnop\nnop\nvmcall', { entry: LOAD_DEBUG });
    rig.write('EXCEPTION_BITMAP', 1 << 1);
    rig.cpu.dr[2] = GUEST_CODE + 1;
    rig.write('GUEST_DR7', 0x400); // DR2 set up but not enabled
    rig.launch();
    expect(exit().reason).toBe(R.VMCALL);
    rig.write('GUEST_DR7', 0x400 | 0x20); // G2, R/W2 = 00 (execution)
    rerun();
    expect(exit()).toEqual({ reason: R.EXCEPTION_NMI, rip: GUEST_CODE + 1, qual: 0x4, info: DB_EXCEPTION });
    rig.write('GUEST_DR7', 0x400);
    rerun();
    expect(exit().reason).toBe(R.VMCALL);
  });

  it('only DR2 moves (a direct register write after MOV DR7, same DR7): the entry uses the new address', () => {
    rig.setupGuest('nop\nnop\nnop\nvmcall');
    rig.write('EXCEPTION_BITMAP', 1 << 1);
    rig.setReg(0, GUEST_CODE + 1);
    rig.setReg(1, 0x400 | 0x20); // G2, R/W2 = 00 (execution)
    rig.runHost('movq %rax, %dr2\nmovq %rcx, %dr7\nhlt'); // the host's DR7 enables DR2 at GUEST_CODE+1
    rig.cpu.dr[2] = GUEST_CODE + 2; // a debugger moves it: DR7 is unchanged
    rig.launch(); // no "load debug controls": the guest keeps the host's DR7
    expect(exit()).toEqual({ reason: R.EXCEPTION_NMI, rip: GUEST_CODE + 2, qual: 0x4, info: DB_EXCEPTION });
  });

  it('without "load debug controls" the guest runs with the DR7 the host holds at VMRESUME', () => {
    rig.setupGuest('nop\nnop\nnop\nvmcall');
    rig.write('EXCEPTION_BITMAP', 1 << 1);
    rig.cpu.dr[2] = GUEST_CODE + 1;
    rig.launch();
    expect(exit().reason).toBe(R.VMCALL);
    expect(rig.cpu.dr7).toBe(0x400); // the exit's DR7 (27.5.1)
    rig.cpu.dr7 = 0x400 | 0x20; // the host's DR7 now enables DR2
    rerun();
    expect(exit()).toEqual({ reason: R.EXCEPTION_NMI, rip: GUEST_CODE + 1, qual: 0x4, info: DB_EXCEPTION });
    expect(rig.cpu.dr7).toBe(0x400);
  });
});
