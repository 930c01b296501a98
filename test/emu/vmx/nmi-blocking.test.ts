// Blocking by NMI across VMX transitions: the CPU's one NMI-blocking state is loaded from bit 3
// of the guest interruptibility-state field at VM entry (SDM Vol. 3C §26.7.1), released by a
// guest IRET only as §25.3 says, saved into that bit at VM exit (§27.3.4), and left to the host
// as §27.5.5 says (only an exit caused by an NMI blocks NMIs; with "virtual NMIs" the guest's
// blocking was virtual-NMI blocking and physical NMIs were unblocked, §26.7.1).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { assembleAt, GUEST_CODE, GUEST_STACK, IDT, Rig } from './rig';

let rig: Rig;
let pending = false;
let acks = 0;
let saved: Rig['cpu']['interrupts'];
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
  pending = false;
  acks = 0;
  saved = rig.cpu.interrupts;
  // The NMI line as the guest sees it (the host has no NMI handler: it never sees one pending).
  rig.cpu.interrupts = {
    intrPending: false,
    get nmiPending() { return pending && rig.vmx.nonRoot; },
    acknowledge: () => -1,
    acknowledgeNmi: () => { acks++; pending = false; },
  };
});
afterEach(() => { rig.cpu.interrupts = saved; });

const NMI_EXITING = 1 << 3, VIRTUAL_NMIS = 1 << 5;
const BLOCKING_BY_NMI = 8;
/** The guest's NMI handler (vector 2 of the IDT host and guest share): VMCALL at once. */
const NMI_HANDLER = GUEST_CODE + 0x800;
/** An IRETQ to the next instruction (label 1), at CPL 0 on the guest's stack. */
const IRET_TO_1 = 'movq %rsp, %rbx\npushq $0x10\npushq %rbx\npushfq\npushq $0x08\nleaq 1f(%rip), %rax\npushq %rax\niretq\n1:';

function launch(guest: string, pin: number, interruptibility: number): void {
  rig.setupGuest(guest, { pin });
  rig.write('GUEST_INTERRUPTIBILITY_INFO', interruptibility);
  rig.load(NMI_HANDLER, 'vmcall');
  rig.mem.write64(IDT + 2 * 16, (NMI_HANDLER & 0xffff) | (0x08 << 16), ((NMI_HANDLER >>> 16) << 16) | 0x8e00);
  rig.mem.write64(IDT + 2 * 16 + 8, 0, 0);
  const stop = rig.launch(100_000);
  expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
  expect(stop.kind).toBe('halted-forever');
  expect(rig.vmx.nonRoot).toBe(false);
}

describe('SDM 26.7.1 / 27.3.4: "NMI exiting" = 0, blocking by NMI is the guest\'s own', () => {
  it('bit 3 loaded as 1 holds an NMI back until the guest IRETs; the NMI handler runs blocked, saved as bit 3 = 1', () => {
    pending = true;
    launch(`nop\nnop\n${IRET_TO_1}\nud2`, 0, BLOCKING_BY_NMI);
    expect(acks).toBe(1);
    expect(rig.exitReason()).toBe(R.VMCALL);
    expect(rig.read('GUEST_RIP')).toBe(NMI_HANDLER);
    // Delivered right after the IRET, not before it: RAX holds the IRET's target (label 1).
    expect(rig.reg(0)).toBe(GUEST_CODE + assembleAt(`nop\nnop\n${IRET_TO_1}`, GUEST_CODE).length);
    expect(rig.read('GUEST_RSP')).toBe(GUEST_STACK - 40); // one NMI frame: no nesting
    expect(rig.read('GUEST_INTERRUPTIBILITY_INFO') & BLOCKING_BY_NMI).toBe(BLOCKING_BY_NMI);
    expect(rig.cpu.nmiBlocked).toBe(true); // a VMCALL exit leaves blocking by NMI as it was (SDM 27.5.5)
  });

  it('bit 3 loaded as 0: the guest takes the NMI at once', () => {
    pending = true;
    launch('nop\nvmcall', 0, 0);
    expect(rig.read('GUEST_RIP')).toBe(NMI_HANDLER);
    expect(rig.read('GUEST_INTERRUPTIBILITY_INFO') & BLOCKING_BY_NMI).toBe(BLOCKING_BY_NMI);
  });

  it('an exit while bit 3 is 0 saves 0 and leaves the host unblocked', () => {
    rig.cpu.nmiBlocked = true; // the host's own blocking is replaced by the guest's at entry
    launch('nop\nvmcall', 0, 0);
    expect(rig.exitReason()).toBe(R.VMCALL);
    expect(rig.read('GUEST_INTERRUPTIBILITY_INFO') & BLOCKING_BY_NMI).toBe(0);
    expect(rig.cpu.nmiBlocked).toBe(false);
  });
});

describe('SDM 25.3 IRET with "NMI exiting" = 1 and "virtual NMIs" = 0', () => {
  it('blocking by NMI holds NMI exits back and IRET does not end it; the VMCALL exit saves and keeps it', () => {
    pending = true;
    launch(`${IRET_TO_1}\nnop\nvmcall`, NMI_EXITING, BLOCKING_BY_NMI);
    expect(rig.exitReason()).toBe(R.VMCALL);
    expect(acks).toBe(0);
    expect(rig.read('GUEST_INTERRUPTIBILITY_INFO') & BLOCKING_BY_NMI).toBe(BLOCKING_BY_NMI);
    expect(rig.cpu.nmiBlocked).toBe(true);
  });

  it('an NMI exit saves the guest\'s bit 3 = 0 and blocks NMIs in the host after it (SDM 27.1, 27.5.5)', () => {
    pending = true;
    launch('nop\njmp .', NMI_EXITING, 0);
    expect(rig.exitReason()).toBe(R.EXCEPTION_NMI);
    expect(rig.read('VM_EXIT_INTR_INFO')).toBe(0x80000202);
    expect(rig.read('GUEST_INTERRUPTIBILITY_INFO') & BLOCKING_BY_NMI).toBe(0);
    expect(rig.cpu.nmiBlocked).toBe(true);
  });
});

describe('SDM 26.7.1 / 27.3.4 with "virtual NMIs" = 1: bit 3 is virtual-NMI blocking', () => {
  it('virtual-NMI blocking does not hold a physical NMI back: it exits, and bit 3 is saved as 1', () => {
    pending = true;
    launch('nop\njmp .', NMI_EXITING | VIRTUAL_NMIS, BLOCKING_BY_NMI);
    expect(rig.exitReason()).toBe(R.EXCEPTION_NMI);
    expect(rig.read('GUEST_INTERRUPTIBILITY_INFO') & BLOCKING_BY_NMI).toBe(BLOCKING_BY_NMI);
    expect(rig.cpu.nmiBlocked).toBe(true); // caused by an NMI
  });

  it('other exits leave the host unblocked whatever the guest\'s virtual-NMI blocking, and IRET ends that blocking', () => {
    rig.cpu.nmiBlocked = true;
    launch('nop\nvmcall', NMI_EXITING | VIRTUAL_NMIS, BLOCKING_BY_NMI);
    expect(rig.read('GUEST_INTERRUPTIBILITY_INFO') & BLOCKING_BY_NMI).toBe(BLOCKING_BY_NMI);
    expect(rig.cpu.nmiBlocked).toBe(false);
    launch(`${IRET_TO_1}\nvmcall`, NMI_EXITING | VIRTUAL_NMIS, BLOCKING_BY_NMI);
    expect(rig.read('GUEST_INTERRUPTIBILITY_INFO') & BLOCKING_BY_NMI).toBe(0);
  });
});
