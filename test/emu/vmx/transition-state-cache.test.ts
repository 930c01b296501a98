// The decoded copies of the host-state area and of the guest's segment registers that VM
// exits and entries load (src/emu/vmx/state-cache.ts), and the exit's skipping of unchanged
// guest segment registers (vm-exit.ts): none of it may hide a VMWRITE made by the VMM through
// the instruction, a segment register the guest or the VMM loaded in between, or a WRMSR to
// FS.base. Every expected value is the architectural one the SDM sections give.
import { beforeEach, describe, expect, it } from 'vitest';
import { AR_UNUSABLE, DS, ES, FS, GS } from '../../../src/emu/cpu/state';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { fieldByName } from '../../../src/emu/vmx/vmcs-fields';
import { HOST_CODE, HOST_EXIT, Rig } from './rig';

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
});

const enc = (name: string): number => fieldByName(name)!.field.encoding;
/** Host code after HOST_CODE's own (runHost uses HOST_CODE). */
const ALT_EXIT = HOST_CODE + 0x8000;

/** VMWRITE `value` to `name` through the instruction (64-bit operands). */
function vmwrite(name: string, value: number): string {
  return `movl $${enc(name)}, %edx\nmovabsq $${value}, %rax\nvmwrite %rax, %rdx`;
}

/** Host code: GUEST_RIP += VM_EXIT_INSTRUCTION_LEN with VMREAD/VMWRITE, then `extra` and VMRESUME. */
function resumeWith(extra: string): void {
  rig.runHost([
    `movl $${enc('GUEST_RIP')}, %edx\nvmread %rdx, %rax`,
    `movl $${enc('VM_EXIT_INSTRUCTION_LEN')}, %ecx\nvmread %rcx, %rbx`,
    'addq %rbx, %rax\nvmwrite %rax, %rdx',
    extra,
    'vmresume',
  ].join('\n'));
  expect(rig.exitReason()).toBe(R.VMCALL);
}

describe('SDM 27.5 loading host state after VMWRITEs to the host-state area', () => {
  it('a VMWRITE to HOST_RIP, a host selector and HOST_FS_BASE between two exits takes effect at the second', () => {
    rig.load(ALT_EXIT, 'movl $0x1234, %ebx\nhlt');
    rig.setupGuest('vmcall\nvmcall\nvmcall');
    rig.launch();
    expect(rig.cpu.rip).toBe(HOST_EXIT + 1); // the first exit used the host state setupGuest wrote
    expect(rig.cpu.segSel[DS]).toBe(0x10);
    resumeWith([vmwrite('HOST_RIP', ALT_EXIT), vmwrite('HOST_DS_SELECTOR', 0), vmwrite('HOST_FS_BASE', 0x7000_1000)].join('\n'));
    expect(rig.reg(3)).toBe(0x1234); // RIP := HOST_RIP
    // A null data selector leaves the register unusable (SDM 27.5.2); FS.base := HOST_FS_BASE.
    expect(rig.cpu.segSel[DS]).toBe(0);
    expect(rig.cpu.segAr[DS] & AR_UNUSABLE).toBe(AR_UNUSABLE);
    expect(rig.cpu.segBase(FS)).toBe(0x7000_1000);
    resumeWith(vmwrite('HOST_DS_SELECTOR', 0x10));
    expect(rig.cpu.segSel[DS]).toBe(0x10);
    expect(rig.cpu.segAr[DS] & AR_UNUSABLE).toBe(0);
  });
});

describe('SDM 27.3.2 saving the guest segment registers', () => {
  it('a guest that loads a segment register gets it saved, the next exit after none still saves FS.base written by WRMSR', () => {
    rig.setupGuest([
      'vmcall',
      'movw $0x10, %ax\nmovw %ax, %gs\nvmcall',
      'movl $0xc0000100, %ecx\nmovl $0x5000, %eax\nxorl %edx, %edx\nwrmsr\nvmcall',
      'vmcall',
    ].join('\n'), { proc: 1 << 28 }); // MSR bitmap 0 (below): WRMSR does not exit
    rig.write('MSR_BITMAP', 0x410000);
    rig.mem.fill(0x410000, 0x1000, 0);
    rig.launch();
    expect(rig.read('GUEST_GS_SELECTOR')).toBe(0);
    resumeWith('');
    expect(rig.read('GUEST_GS_SELECTOR')).toBe(0x10);
    expect(rig.read('GUEST_GS_AR_BYTES') & AR_UNUSABLE).toBe(0);
    expect(rig.read('GUEST_GS_LIMIT')).toBe(0xffffffff);
    resumeWith('');
    expect(rig.read('GUEST_FS_BASE')).toBe(0x5000); // MSR_FS_BASE changes FS.base without a segment load
    resumeWith('');
    expect(rig.read('GUEST_FS_BASE')).toBe(0x5000);
    expect(rig.read('GUEST_GS_SELECTOR')).toBe(0x10);
  });

  it('the guest runs with its own segment registers after the VMM loaded its own or VMWRITE changed the guest\'s', () => {
    // The guest stores ES and DS selectors in RBX/RCX at each VM exit's VMCALL.
    rig.setupGuest('1: movw %es, %bx\nmovw %ds, %cx\nvmcall\njmp 1b');
    rig.launch();
    expect(rig.reg(3) & 0xffff).toBe(0x10);
    // The VMM loads ES with a null selector: the entry must still load the guest's 0x10.
    resumeWith('xorl %eax, %eax\nmovw %ax, %es');
    expect(rig.reg(3) & 0xffff).toBe(0x10);
    expect(rig.cpu.segSel[ES]).toBe(0x10); // the host's ES (HOST_ES_SELECTOR) again after the exit
    // A VMWRITE of GUEST_DS_SELECTOR (same descriptor, RPL 3 would not pass the checks: use a null one)
    // takes effect at the next entry.
    resumeWith([vmwrite('GUEST_DS_SELECTOR', 0), vmwrite('GUEST_DS_AR_BYTES', 0x10000)].join('\n'));
    expect(rig.reg(1) & 0xffff).toBe(0);
    expect(rig.read('GUEST_DS_SELECTOR')).toBe(0);
    resumeWith('');
    expect(rig.reg(1) & 0xffff).toBe(0);
    expect(rig.cpu.segSel[GS]).toBe(0); // the host's GS: null selector
  });
});
