// EPT (SDM Vol. 3C chapter 28): 4-level walks with 2-MiB, 1-GiB and 4-KiB mappings,
// read/write/execute permissions and execute-only translations, EPT violations (reason 48,
// qualification Table 27-7, guest-physical and guest-linear addresses, paging-structure
// accesses), EPT misconfigurations (reason 49), and unrestricted guests in real mode.
import { beforeEach, describe, expect, it } from 'vitest';
import { ACC_READ, ACC_WRITE } from '../../../src/emu/mmu/access';
import { EXIT_REASON as R, formatExit } from '../../../src/emu/vmx/exit-reasons';
import { GUEST_CODE, Rig, writeIdentityEpt } from './rig';

const EPML4 = 0x800000, EPDPT = 0x801000, EPD = 0x802000, EPT_PT = 0x803000;
const WB = 6 << 3;
const EPTP = EPML4 | 6 | (3 << 3);
const SEC_EPT = 1 << 1, SEC_UNRESTRICTED = 1 << 7;

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
  const m = rig.mem;
  writeIdentityEpt(m, EPML4);
  m.fill(EPT_PT, 0x1000, 0);
});

function pde(i: number, v: number): void {
  rig.mem.write64(EPD + 8 * i, v, 0);
}

function run(guest: string, proc2 = SEC_EPT, before?: () => void): number {
  rig.setupGuest(guest, { proc2 });
  rig.write('EPT_POINTER', EPTP);
  before?.();
  rig.launch();
  expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
  expect(rig.vmx.nonRoot).toBe(false);
  return rig.exitReason();
}

describe('SDM 28.2 EPT translation', () => {
  it('a guest runs on an identity EPT with 2-MiB pages', () => {
    expect(run('movq 0x400000, %rax\nmovq $1, 0x400008\ncpuid')).toBe(R.CPUID);
    expect(rig.mem.read32(0x400008)).toBe(1);
  });

  it('EPT maps guest-physical to other host-physical memory', () => {
    pde(2, (5 << 21) | 0x80 | WB | 7); // guest-physical 4 MiB..6 MiB -> host 10 MiB
    rig.mem.write32(0xa00000, 0xcafe);
    expect(run('movl 0x400000, %ebx\nvmcall')).toBe(R.VMCALL);
    expect(rig.reg(3)).toBe(0xcafe);
  });

  it('1-GiB pages', () => {
    rig.mem.write64(EPDPT, 0x80 | WB | 7, 0);
    expect(run('movq $7, 0x400000\ncpuid')).toBe(R.CPUID);
    const walk = rig.vmx.ept.explain(0x400000, ACC_WRITE, -1);
    expect([walk.ok, walk.pageSize, walk.steps.length]).toEqual([true, 2 ** 30, 2]);
  });
});

describe('SDM 28.3.3.2 EPT violations (exit reason 48)', () => {
  it('a write to a read/execute page: qualification bits, guest-physical and guest-linear address', () => {
    pde(2, (2 << 21) | 0x80 | WB | 5);
    expect(run('movq 0x400000, %rax\nmovq $1, 0x400010')).toBe(R.EPT_VIOLATION);
    expect(rig.read('EXIT_QUALIFICATION')).toBe(0x2 | 0x8 | 0x20 | 0x80 | 0x100);
    expect(rig.read('GUEST_PHYSICAL_ADDRESS')).toBe(0x400010);
    expect(rig.read('GUEST_LINEAR_ADDRESS')).toBe(0x400010);
    expect(rig.read('GUEST_RIP')).toBe(GUEST_CODE + 8); // the faulting instruction
    expect(formatExit(rig.read('VM_EXIT_REASON'), rig.read('EXIT_QUALIFICATION'))).toBe('EPT_VIOLATION (48): write not permitted (EPT r-x), guest-linear valid');
  });

  it('a read of a not-present page', () => {
    pde(3, 0);
    expect(run('movq 0x600010, %rax')).toBe(R.EPT_VIOLATION);
    expect(rig.read('EXIT_QUALIFICATION')).toBe(0x1 | 0x80 | 0x100);
    expect(rig.read('GUEST_PHYSICAL_ADDRESS')).toBe(0x600010);
  });

  it('execute-only pages: fetches succeed, reads exit (IA32_VMX_EPT_VPID_CAP bit 0)', () => {
    pde(3, (3 << 21) | 0x80 | WB | 4);
    rig.load(0x600000, 'movq 0x600000, %rax');
    expect(run('movq $0x600000, %rbx\njmp *%rbx')).toBe(R.EPT_VIOLATION);
    expect(rig.read('GUEST_RIP')).toBe(0x600000);
    expect(rig.read('EXIT_QUALIFICATION')).toBe(0x1 | 0x20 | 0x80 | 0x100);
  });

  it('an access to a guest paging-structure entry: guest-linear valid, bit 8 clear', () => {
    const m = rig.mem;
    pde(0, EPT_PT | 7);
    for (let i = 0; i < 512; i++) m.write64(EPT_PT + 8 * i, (i << 12) | WB | 7, 0);
    m.write64(EPT_PT + 8 * 0x72, 0, 0); // the guest's page directory
    expect(run('cpuid')).toBe(R.EPT_VIOLATION);
    expect(rig.read('EXIT_QUALIFICATION')).toBe(0x1 | 0x80);
    expect(rig.read('GUEST_PHYSICAL_ADDRESS')).toBe(0x72000 + 8 * 1);
    expect(rig.read('GUEST_LINEAR_ADDRESS')).toBe(GUEST_CODE);
  });

  it('the nested walk explains itself for the debugger (no side effects)', () => {
    pde(2, (2 << 21) | 0x80 | WB | 1);
    run('cpuid');
    const w = rig.vmx.ept.explain(0x400000, ACC_WRITE, 0x400000);
    expect(w.ok).toBe(false);
    expect(w.summary).toMatch(/EPT violation: write of guest-physical 0x400000 not permitted/);
    expect(rig.vmx.ept.explain(0x400000, ACC_READ, 0x400000).physical).toBe(0x400000);
  });
});

describe('SDM 25.5.6 VMFUNC: EPTP switching', () => {
  it('switches to an EPTP from the list; an out-of-range index or a disabled function exits with reason 59', () => {
    // A second EPT whose 4-6 MiB maps host 10 MiB.
    const m = rig.mem;
    const L4 = 0x810000, L3 = 0x811000, L2 = 0x812000, LIST = 0x820000;
    m.fill(L4, 0x3000, 0);
    m.write64(L4, L3 | 7, 0);
    m.write64(L3, L2 | 7, 0);
    for (let i = 0; i < 512; i++) m.write64(L2 + 8 * i, ((i === 2 ? 5 : i) << 21) | 0x80 | WB | 7, 0);
    m.fill(LIST, 0x1000, 0);
    m.write64(LIST, EPTP, 0);
    m.write64(LIST + 8, L4 | 6 | (3 << 3), 0);
    m.write32(0xa00000, 0xbeef);
    const vmfunc = (): void => { rig.write('VM_FUNCTION_CONTROL', 1); rig.write('EPTP_LIST_ADDRESS', LIST); };
    expect(run('xorl %eax, %eax\nmovl $1, %ecx\nvmfunc\nmovl 0x400000, %ebx\nvmcall', SEC_EPT | (1 << 13), vmfunc)).toBe(R.VMCALL);
    expect(rig.reg(3)).toBe(0xbeef);
    expect(rig.read('EPT_POINTER')).toBe(L4 | 6 | (3 << 3));
    expect(run('xorl %eax, %eax\nmovl $600, %ecx\nvmfunc', SEC_EPT | (1 << 13), vmfunc)).toBe(R.VMFUNC);
    expect(run('movl $1, %eax\nxorl %ecx, %ecx\nvmfunc', SEC_EPT | (1 << 13), vmfunc)).toBe(R.VMFUNC);
  });
});

describe('SDM 27.2.4 IDT-vectoring information', () => {
  it('an EPT violation while delivering a guest #UD reports the #UD being delivered', () => {
    pde(0, (0 << 21) | 0x80 | WB | 5); // the guest stack (GUEST_STACK, first 2 MiB) becomes read-only
    // So do the guest's page tables: set A and D in the guest PDE that maps the stack, or
    // setting D would be the refused write (an EPT data write too, SDM 28.3.3.2).
    rig.mem.write32(0x72000, rig.mem.read32(0x72000) | 0x60);
    rig.mem.write32(0x62000 + 16 * 6, (0x08 << 16) | 0x1000);
    rig.mem.write32(0x62000 + 16 * 6 + 4, 0x00308e00);
    expect(run('nop\nud2')).toBe(R.EPT_VIOLATION);
    expect(rig.read('IDT_VECTORING_INFO_FIELD')).toBe(0x80000306);
    expect(rig.read('GUEST_RIP')).toBe(GUEST_CODE + 1);
    expect(rig.read('EXIT_QUALIFICATION') & 7).toBe(2);
    expect(run('cpuid')).toBe(R.CPUID);
    expect(rig.read('IDT_VECTORING_INFO_FIELD')).toBe(0);
  });
});

describe('SDM 28.3.3.1 EPT misconfigurations (exit reason 49)', () => {
  it('write permission without read permission', () => {
    pde(3, (3 << 21) | 0x80 | WB | 2);
    expect(run('movq 0x600000, %rax')).toBe(R.EPT_MISCONFIG);
    expect(rig.read('GUEST_PHYSICAL_ADDRESS')).toBe(0x600000);
  });

  it('a reserved memory type (2) in a leaf, reserved bits in a non-leaf entry', () => {
    pde(3, (3 << 21) | 0x80 | (2 << 3) | 7);
    expect(run('movq 0x600000, %rax')).toBe(R.EPT_MISCONFIG);
    rig.reset();
    rig.enterVmx();
    rig.mem.write64(EPDPT, EPD | 7 | 0x8, 0);
    expect(run('cpuid')).toBe(R.EPT_MISCONFIG);
  });
});

describe('SDM 25.6 / 26.3.1.1 unrestricted guest', () => {
  it('a real-mode guest with paging off runs under EPT and exits on VMCALL', () => {
    rig.setupGuest('nop', { proc2: SEC_EPT | SEC_UNRESTRICTED, entry: 0 });
    rig.load(0x7000, 'movw $0x1234, %ax\nmovw %cs, %bx\nvmcall', 16);
    rig.write('VM_ENTRY_CONTROLS', rig.ctl(0x490, 0));
    rig.write('EPT_POINTER', EPTP);
    rig.write('GUEST_CR0', 0x30);
    rig.write('GUEST_CR4', 0x2000);
    rig.write('GUEST_CR3', 0);
    for (const s of ['ES', 'SS', 'DS', 'FS', 'GS']) {
      rig.write(`GUEST_${s}_SELECTOR`, 0); rig.write(`GUEST_${s}_BASE`, 0); rig.write(`GUEST_${s}_LIMIT`, 0xffff); rig.write(`GUEST_${s}_AR_BYTES`, 0x93);
    }
    rig.write('GUEST_CS_SELECTOR', 0x700); rig.write('GUEST_CS_BASE', 0x7000); rig.write('GUEST_CS_LIMIT', 0xffff); rig.write('GUEST_CS_AR_BYTES', 0x9b);
    rig.write('GUEST_TR_SELECTOR', 0); rig.write('GUEST_TR_BASE', 0); rig.write('GUEST_TR_LIMIT', 0xffff); rig.write('GUEST_TR_AR_BYTES', 0x8b);
    rig.write('GUEST_RIP', 0);
    rig.write('GUEST_RSP', 0x6000);
    rig.launch();
    expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
    expect(rig.exitReason()).toBe(R.VMCALL);
    expect(rig.reg(0) & 0xffff).toBe(0x1234);
    expect(rig.reg(3) & 0xffff).toBe(0x700);
    expect(rig.read('GUEST_RIP')).toBe(5); // mov $imm16 (3 bytes) + mov %cs (2 bytes)
    expect(rig.read('GUEST_CR0') & 0x80000001).toBe(0);
  });
});
