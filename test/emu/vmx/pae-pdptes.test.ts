// A PAE guest under EPT: VM entry loads the PDPTE registers from GUEST_PDPTR0-3, not from
// the memory GUEST_CR3 points at (SDM 26.3.2.4), and VM exit saves the registers back to
// those fields (SDM 27.3.4). The test's page tables make the two sources map the same
// linear address to different memory, so which one the CPU used is visible in what it reads.
import { beforeEach, describe, expect, it } from 'vitest';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { GUEST_CODE, Rig, writeIdentityEpt } from './rig';

const EPML4 = 0x800000;
const EPTP = EPML4 | 6 | (3 << 3);
const SEC_EPT = 1 << 1;
/** Guest paging: CR3 -> PDPT in memory; PD_VMCS and PD_MEM map linear 6 MiB to different pages. */
const PDPT = 0x500000, PD_VMCS = 0x501000, PD_MEM = 0x502000;
const LINEAR = 0x600000, OTHER = 0xa00000;

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
  const m = rig.mem;
  writeIdentityEpt(m, EPML4);
  m.fill(PDPT, 0x3000, 0);
  for (let i = 0; i < 512; i++) {
    m.write64(PD_VMCS + 8 * i, (i << 21) | 0x83, 0); // identity, 2-MiB pages
    m.write64(PD_MEM + 8 * i, ((i === LINEAR >>> 21 ? OTHER : i << 21) | 0x83), 0);
  }
  m.write64(PDPT, PD_MEM | 1, 0);
  m.write32(LINEAR, 0x1111);
  m.write32(OTHER, 0x2222);
});

/** A 32-bit protected-mode guest with PAE paging on EPT, PDPTE0 in the VMCS pointing at PD_VMCS. */
function setupPaeGuest(code: string): void {
  rig.setupGuest('nop', { proc2: SEC_EPT });
  rig.load(GUEST_CODE, code, 32);
  rig.write('VM_ENTRY_CONTROLS', rig.ctl(0x490, 0)); // not an IA-32e-mode guest
  rig.write('EPT_POINTER', EPTP);
  rig.write('GUEST_CR0', 0x80000031); // PG NE ET PE
  rig.write('GUEST_CR4', 0x2020); // VMXE PAE
  rig.write('GUEST_CR3', PDPT);
  rig.write('GUEST_CS_SELECTOR', 0x18);
  rig.write('GUEST_CS_AR_BYTES', 0xc09b);
  rig.write('GUEST_PDPTR0', PD_VMCS | 1);
  for (let i = 1; i < 4; i++) rig.write(`GUEST_PDPTR${i}`, 0);
}

describe('PAE PDPTEs with EPT (SDM 26.3.2.4, 27.3.4)', () => {
  it('SDM 26.3.2.4: VM entry loads the PDPTE registers from GUEST_PDPTR0-3, not from guest memory', () => {
    setupPaeGuest(`movl ${LINEAR}, %ebx\nvmcall`);
    rig.launch();
    expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
    expect(rig.exitReason()).toBe(R.VMCALL);
    expect(rig.reg(3)).toBe(0x1111);
    expect(rig.read('GUEST_PDPTR0')).toBe(PD_VMCS | 1); // saved unchanged
  });

  it('SDM 27.3.4: a guest MOV to CR3 reloads them from memory, and the VM exit saves what it loaded', () => {
    setupPaeGuest(`movl ${LINEAR}, %ebx\nmovl %cr3, %eax\nmovl %eax, %cr3\nmovl ${LINEAR}, %ecx\nvmcall`);
    rig.write('GUEST_PDPTR3', PD_VMCS | 1); // memory has PDPTE3 = 0: the exit must save 0
    rig.launch();
    expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
    expect(rig.exitReason()).toBe(R.VMCALL);
    expect(rig.reg(3)).toBe(0x1111);
    expect(rig.reg(1)).toBe(0x2222);
    expect(rig.read('GUEST_PDPTR0')).toBe(PD_MEM | 1);
    expect(rig.read('GUEST_PDPTR3')).toBe(0);
  });

  it('the page walk says where the PDPTE came from', () => {
    setupPaeGuest('hlt');
    rig.launch(1000);
    expect(rig.vmx.nonRoot).toBe(true);
    const walk = rig.m.explainWalk(LINEAR);
    expect(walk.physical).toBe(LINEAR);
    expect(walk.steps[0].note).toMatch(/loaded from GUEST_PDPTR0 at VM entry/);
  });
});
