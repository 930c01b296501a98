// The software TLB's banks (cpu-memory.ts): one per (MMU translation context, CPL). With "enable
// VPID" a VM exit and the VMRESUME after it invalidate nothing (SDM Vol. 3C §28.3.3.1), so a
// CPL-3 guest's cached pages and fetch window must survive the round trip; and because pages
// are cached with one privilege level's permissions (SDM Vol. 3A §4.6), a page cached at CPL 0
// must never serve an access at CPL 3 in the same context.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { GUEST_CODE, HOST_EXIT, PML4, Rig, SCRATCH } from '../vmx/rig';

const SEC_VPID = 1 << 5;
/** A 2-MiB page the guest reads, user-accessible (the rig maps everything so). */
const DATA = SCRATCH + 0x200;
/** A supervisor-only 2-MiB page (PDE 3), and a read-only user one (PDE 4). */
const SUPER = 0x600000, READ_ONLY = 0x800000;
const PD = PML4 + 0x2000;
const CR0_WP = 1 << 16;

let rig: Rig;
/** Linear addresses the MMU was asked to translate, with the CPL of the access. */
let translated: { linear: number; cpl: number }[];
let restore: (() => void) | undefined;

/** A fresh rig in VMX operation with SUPER and READ_ONLY mapped, the translation log empty. */
function prepare(): void {
  restore?.();
  rig ??= new Rig();
  rig.reset();
  rig.mem.write64(PD + 8 * 3, SUPER | 0x83, 0); // P, RW, PS; U/S = 0
  rig.mem.write64(PD + 8 * 4, READ_ONLY | 0x85, 0); // P, U/S, PS; R/W = 0
  rig.cpu.mmu.flushAll();
  rig.cpu.pagingChanged(true);
  rig.enterVmx();
  const mmu = rig.cpu.mmu;
  const translate = mmu.translate;
  translated = [];
  mmu.translate = (linear: number, access: number, cpl: number): number => {
    translated.push({ linear, cpl });
    return translate.call(mmu, linear, access, cpl);
  };
  restore = () => { mmu.translate = translate; };
}
beforeEach(prepare);
afterEach(() => restore?.());

/** Guest segments for `cpl` (0 or 3), 64-bit, as the entry checks want them (SDM §26.3.1.2). */
function guestAtCpl(cpl: number): void {
  const dpl = cpl << 5;
  rig.write('GUEST_CS_SELECTOR', cpl === 3 ? 0x2b : 0x08);
  rig.write('GUEST_CS_AR_BYTES', 0xa09b | dpl);
  for (const s of ['SS', 'DS', 'ES']) {
    rig.write(`GUEST_${s}_SELECTOR`, cpl === 3 ? 0x23 : 0x10);
    rig.write(`GUEST_${s}_AR_BYTES`, 0xc093 | dpl);
  }
}

describe('software TLB banks across VM exits and entries (SDM 28.3.3.1)', () => {
  it('keeps a CPL-3 guest\'s pages and code page cached across round trips with VPID', () => {
    // The guest reads DATA and exits by VMCALL; the VMM (at HOST_EXIT) skips the VMCALL and
    // resumes it, `rounds` times, then halts. Returns the translations the run asked for.
    const run = (rounds: number): { linear: number; cpl: number }[] => {
      prepare();
      rig.setupGuest(`1: movl ${DATA}, %ebx\nvmcall\njmp 1b`, { proc2: SEC_VPID });
      rig.write('VIRTUAL_PROCESSOR_ID', 1);
      guestAtCpl(3);
      rig.load(HOST_EXIT, [
        'dec %r15', 'jz 2f',
        'mov $0x440c, %ecx', 'vmread %rcx, %rdx', // VM_EXIT_INSTRUCTION_LEN
        'mov $0x681e, %eax', 'vmread %rax, %rbx', 'add %rdx, %rbx', 'vmwrite %rbx, %rax', // GUEST_RIP
        'vmresume', '2: hlt',
      ].join('\n'));
      rig.setReg(15, rounds);
      translated = [];
      const exits = rig.vmx.exitCounts[R.VMCALL];
      rig.launch();
      expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
      expect(rig.exitReason()).toBe(R.VMCALL);
      expect(rig.vmx.exitCounts[R.VMCALL] - exits).toBe(rounds);
      expect(rig.cpu.cpl).toBe(0);
      return translated;
    };
    // Each instruction is translated once, when first decoded; the guest's data once. Without
    // banks per CPL and kept fetch windows, every round would translate them again.
    const two = run(2), many = run(10);
    expect(many.filter((t) => t.cpl === 3 && t.linear === DATA)).toHaveLength(1);
    expect(many.filter((t) => t.cpl === 3).map((t) => t.linear)).toEqual([GUEST_CODE, DATA, GUEST_CODE + 7, GUEST_CODE + 10]);
    expect(many).toEqual(two);
  });

  it('does not reopen a kept fetch window on code the VMM rewrote meanwhile', () => {
    // The guest loads 1 into EBX and exits; the VMM patches the immediate to 2 (a write to a
    // page holding decoded code: cpu.ts dropCodePage empties its decoded-instruction array for
    // reuse) and continues on a fresh code page, which reuses that array with an instruction
    // at the offset where the guest resumes. The guest's JMP back must run its own new bytes.
    const fresh = HOST_EXIT - 0x1000;
    rig.setupGuest('1: movl $1, %ebx\nvmcall\njmp 1b', { proc2: SEC_VPID });
    rig.write('VIRTUAL_PROCESSOR_ID', 1);
    guestAtCpl(3);
    rig.load(HOST_EXIT, ['dec %r15', 'jz 2f', `movb $2, ${GUEST_CODE + 1}`, `jmp ${fresh}`, '2: hlt'].join('\n'));
    rig.load(fresh, [
      ...new Array<string>(10).fill('nop'), 'movl $0x99, %ebx', // offset 10: where the guest's JMP is
      'mov $0x440c, %ecx', 'vmread %rcx, %rdx',
      'mov $0x681e, %eax', 'vmread %rax, %rbx', 'add %rdx, %rbx', 'vmwrite %rbx, %rax',
      'vmresume',
    ].join('\n'));
    rig.setReg(15, 2);
    rig.launch();
    expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
    expect(rig.exitReason()).toBe(R.VMCALL);
    expect(rig.read('GUEST_RIP')).toBe(GUEST_CODE + 5);
    expect(rig.reg(3)).toBe(2);
  });

  it('never lets CPL 3 use a supervisor-only page cached at CPL 0 in the same context', () => {
    rig.setupGuest(`movl ${SUPER}, %ebx\nvmcall`, { proc2: SEC_VPID });
    rig.write('VIRTUAL_PROCESSOR_ID', 1);
    rig.write('EXCEPTION_BITMAP', 1 << 14); // #PF exits
    rig.mem.write32(SUPER, 0x5a5a);
    const enter = (cpl: number, first: boolean): void => {
      guestAtCpl(cpl);
      rig.write('GUEST_RIP', GUEST_CODE);
      rig.setReg(3, 0);
      if (first) rig.launch(); else rig.resume(false);
      expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
    };
    for (let round = 0; round < 2; round++) {
      enter(0, round === 0); // cached at CPL 0 in the guest's context (VPID 1)
      expect(rig.exitReason()).toBe(R.VMCALL);
      expect(rig.reg(3)).toBe(0x5a5a);
      enter(3, false); // same context, CPL 3: the U/S check must run (SDM §4.6.1)
      expect(rig.exitReason()).toBe(R.EXCEPTION_NMI);
      expect(rig.read('VM_EXIT_INTR_INFO') & 0xff).toBe(14);
      expect(rig.read('EXIT_QUALIFICATION')).toBe(SUPER); // CR2 of the #PF
      expect(rig.reg(3)).toBe(0);
    }
  });

  it('never lets CPL 3 write a read-only page that CPL 0 wrote with CR0.WP = 0', () => {
    rig.setupGuest(`movl $0x77, ${READ_ONLY}\nvmcall`, { proc2: SEC_VPID });
    rig.write('VIRTUAL_PROCESSOR_ID', 1);
    rig.write('EXCEPTION_BITMAP', 1 << 14);
    rig.write('GUEST_CR0', (rig.read('GUEST_CR0') & ~CR0_WP) >>> 0);
    const enter = (cpl: number, first: boolean): void => {
      guestAtCpl(cpl);
      rig.write('GUEST_RIP', GUEST_CODE);
      if (first) rig.launch(); else rig.resume(false);
      expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
    };
    enter(3, true); // CPL 3 first: its bank holds nothing writable there
    expect(rig.exitReason()).toBe(R.EXCEPTION_NMI);
    enter(0, false); // WP = 0: a supervisor write to a read-only page succeeds (SDM §4.6.1)
    expect(rig.exitReason()).toBe(R.VMCALL);
    expect(rig.mem.read32(READ_ONLY)).toBe(0x77);
    rig.mem.write32(READ_ONLY, 0);
    enter(3, false);
    expect(rig.exitReason()).toBe(R.EXCEPTION_NMI);
    expect(rig.read('VM_EXIT_INTR_INFO') & 0xff).toBe(14);
    expect(rig.mem.read32(READ_ONLY)).toBe(0);
  });
});
