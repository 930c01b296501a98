// VPID-tagged translations across VM exits and entries (SDM Vol. 3C §28.1, §28.3.3.1, Vol. 2
// INVVPID/INVEPT): a guest reads a linear address, exits with VMCALL, the VMM changes the
// guest's page tables without telling the processor, and resumes it. With "enable VPID" the
// guest's stale translation is still used after the round trip, until INVVPID (or INVEPT for
// combined mappings, or the guest's own INVLPG) removes it; without VPID every VM entry and
// exit invalidates VPID 0's mappings and the guest sees the change at once.
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { Rig, SCRATCH, writeIdentityEpt } from './rig';
import type { MachineStop } from '../../../src/emu/machine';

const SEC_EPT = 1 << 1, SEC_VPID = 1 << 5;
/** The guest's own 4-level tables (2-MiB pages identity-mapping the first GiB but one). */
const GPML4 = 0x430000, GPDPT = 0x431000, GPD = 0x432000;
/** The guest reads linear LIN = 0xa00000 (PDE 5) and 0x800000 (PDE 4); each maps one of two frames. */
const LIN = 0xa00000;
const OLD = 0xc00000, NEW = 0xe00000, OLD2 = 0x1000000, NEW2 = 0x1200000;
const PDE_LARGE = 0x87, PDE_G = 0x100;
const DESC = SCRATCH + 0x40;
/** An identity EPT with 2-MiB pages (write-back), for the combined-mapping cases. */
const EPML4 = 0x440000, EPD = EPML4 + 0x2000;
const EPTP = EPML4 | 6 | (3 << 3);

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
  const m = rig.mem;
  m.fill(GPML4, 0x3000, 0);
  m.write64(GPML4, GPDPT | 7, 0);
  m.write64(GPDPT, GPD | 7, 0);
  for (let i = 0; i < 512; i++) m.write64(GPD + 8 * i, (i << 21) | PDE_LARGE, 0);
  m.write32(OLD, 0x1111); m.write32(NEW, 0x2222);
  m.write32(OLD2, 0x3333); m.write32(NEW2, 0x4444);
  mapGuest(OLD, OLD2);
  writeIdentityEpt(m, EPML4);
});

/** The guest's PDEs for LIN (global when `global`) and LIN2, written in memory only. */
function mapGuest(frame: number, frame2: number, global = false): void {
  rig.mem.write64(GPD + 8 * 5, frame | PDE_LARGE | (global ? PDE_G : 0), 0);
  rig.mem.write64(GPD + 8 * 4, frame2 | PDE_LARGE, 0);
}

/** The guest: read LIN into EBX and LIN2 into ECX, VMCALL, and again forever. */
const GUEST = '1: movl 0xa00000, %ebx\nmovl 0x800000, %ecx\nvmcall\njmp 1b';

/** Launches the guest with `proc2` (and VPID `vpid` when enabled); returns what it read. */
function launch(proc2: number, vpid = 1, guest = GUEST, cr4Extra = 0): [number, number] {
  rig.setupGuest(guest, { proc2 });
  rig.write('GUEST_CR3', GPML4);
  rig.write('GUEST_CR4', rig.read('GUEST_CR4') | cr4Extra);
  if ((proc2 & SEC_VPID) !== 0) rig.write('VIRTUAL_PROCESSOR_ID', vpid);
  if ((proc2 & SEC_EPT) !== 0) rig.write('EPT_POINTER', EPTP);
  rig.launch();
  expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
  expect(rig.exitReason()).toBe(R.VMCALL);
  return [rig.reg(3), rig.reg(1)];
}

/** VMRESUME past the VMCALL; the guest reads again. */
function resume(): [number, number] {
  rig.resume();
  expect(rig.exitReason()).toBe(R.VMCALL);
  return [rig.reg(3), rig.reg(1)];
}

/** The host executes `insn` (INVVPID or INVEPT) of `type` with the 128-bit descriptor (lo, hi); it must succeed. */
function invalidate(insn: 'invvpid' | 'invept', type: number, lo: number, hi = 0): void {
  rig.mem.write64(DESC, lo, 0);
  rig.mem.write64(DESC + 8, hi, 0);
  rig.runHost(`movl $${type}, %eax\n${insn} ${DESC}, %rax`);
  expect(rig.outcome()).toBe('succeed');
}

describe('SDM 28.3.3.1 VPID-tagged translations across VM exits and entries', () => {
  it('with VPID 1 the guest\'s stale translation survives the exit and VMRESUME; INVVPID single-context removes it', () => {
    expect(launch(SEC_VPID)).toEqual([0x1111, 0x3333]);
    mapGuest(NEW, NEW2);
    expect(resume()).toEqual([0x1111, 0x3333]);
    expect(resume()).toEqual([0x1111, 0x3333]);
    invalidate('invvpid', 1, 1);
    expect(resume()).toEqual([0x2222, 0x4444]);
  });

  it('with "enable VPID" = 0 every VM entry and exit invalidates VPID 0\'s mappings: the guest sees the change at once', () => {
    expect(launch(0)).toEqual([0x1111, 0x3333]);
    mapGuest(NEW, NEW2);
    expect(resume()).toEqual([0x2222, 0x4444]);
  });

  it('INVVPID of another VPID leaves the guest\'s translations; all-context (type 2) removes them', () => {
    launch(SEC_VPID);
    mapGuest(NEW, NEW2);
    invalidate('invvpid', 1, 2);
    expect(resume()).toEqual([0x1111, 0x3333]);
    invalidate('invvpid', 2, 0);
    expect(resume()).toEqual([0x2222, 0x4444]);
  });

  it('INVVPID individual-address (type 0) removes the translation of that address\'s page (all of a 2-MiB page), not the other one', () => {
    launch(SEC_VPID);
    mapGuest(NEW, NEW2);
    invalidate('invvpid', 0, 1, LIN + 0x1234);
    expect(resume()).toEqual([0x2222, 0x3333]);
  });

  it('INVVPID single-context-retaining-globals (type 3) keeps the guest\'s global translation (CR4.PGE, G = 1)', () => {
    rig.setupGuest(GUEST);
    mapGuest(OLD, OLD2, true);
    expect(launch(SEC_VPID, 1, GUEST, 0x80)).toEqual([0x1111, 0x3333]);
    mapGuest(NEW, NEW2, true);
    invalidate('invvpid', 3, 1);
    expect(resume()).toEqual([0x1111, 0x4444]);
    invalidate('invvpid', 1, 1);
    expect(resume()).toEqual([0x2222, 0x4444]);
  });

  it('translations are tagged by VPID: VPID 2 does not see VPID 1\'s entries, and VPID 1\'s outlive a run of VPID 2', () => {
    launch(SEC_VPID, 1);
    mapGuest(NEW, NEW2);
    rig.write('VIRTUAL_PROCESSOR_ID', 2);
    expect(resume()).toEqual([0x2222, 0x4444]);
    rig.write('VIRTUAL_PROCESSOR_ID', 1);
    expect(resume()).toEqual([0x1111, 0x3333]); // VPID 1's entries, cached before VPID 2 ran
    invalidate('invvpid', 1, 1);
    mapGuest(OLD, OLD2);
    rig.write('VIRTUAL_PROCESSOR_ID', 2);
    expect(resume()).toEqual([0x2222, 0x4444]); // VPID 2's own stale entries: INVVPID of VPID 1 left them
  });

  it('the guest\'s INVLPG invalidates its own VPID\'s translation (SDM 28.3.3.1, INVLPG exiting off)', () => {
    const guest = '1: movl 0xa00000, %ebx\nmovl 0x800000, %ecx\nvmcall\ninvlpg 0xa00000\njmp 1b';
    launch(SEC_VPID, 1, guest);
    mapGuest(NEW, NEW2);
    expect(resume()).toEqual([0x2222, 0x3333]);
  });

  it('with EPT, combined mappings survive the round trip; INVEPT single-context of another EPTP keeps them, of this EPTP removes them', () => {
    expect(launch(SEC_VPID | SEC_EPT)).toEqual([0x1111, 0x3333]);
    // Guest-physical OLD now maps host-physical NEW in EPT (PDE 6 -> frame 7): the combined mapping is stale.
    rig.mem.write64(EPD + 8 * 6, (7 << 21) | 0x80 | (6 << 3) | 7, 0);
    expect(resume()).toEqual([0x1111, 0x3333]);
    invalidate('invept', 1, EPTP + 0x1000);
    expect(resume()).toEqual([0x1111, 0x3333]);
    invalidate('invept', 1, EPTP);
    expect(resume()).toEqual([0x2222, 0x3333]);
  });

  it('a guest\'s write to a page the VMM has since decoded code from reaches the VMM (the CPU keeps page pointers per VPID)', () => {
    // fn: movl $imm8-in-a-dword, %eax; ret. The guest increments the immediate's low byte each time round.
    const FN = 0x250000, HOST = 0x260000;
    rig.load(FN, 'movl $1, %eax\nret');
    // The VMM: call fn, keep its result, skip the guest's VMCALL (GUEST_RIP += VM_EXIT_INSTRUCTION_LEN), VMRESUME.
    rig.load(HOST, `call ${FN}\nmovl %eax, %r15d\nmovl $0x681e, %edx\nvmread %rdx, %rax\nmovl $0x440c, %ecx\nvmread %rcx, %rbx\n`
      + 'addq %rbx, %rax\nvmwrite %rax, %rdx\nvmresume\nhlt');
    const runHost = (): MachineStop => {
      const c = rig.cpu;
      c.halted = false;
      c.rip = HOST;
      return rig.m.run({ maxInstructions: rig.m.instructions + 100_000 });
    };
    launch(SEC_VPID, 1, `1: incb ${FN + 1}\nvmcall\njmp 1b`); // the guest's page pointer to FN's page is cached now
    runHost(); // the VMM decodes FN (2), then resumes the guest, which makes it 3
    expect(rig.exitReason()).toBe(R.VMCALL);
    expect(rig.reg(15)).toBe(2);
    runHost();
    expect(rig.reg(15)).toBe(3);
  });
});
