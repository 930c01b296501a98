// EPT and the guest's own paging: the processor's accessed/dirty updates of guest
// paging-structure entries are EPT data writes (SDM Vol. 3C §28.3.3.2), reported with both
// bit 0 and bit 1 of the qualification (a locked read-modify-write, §27.2.1, Table 27-7);
// and the physical-address width (MAXPHYADDR, CPUID.80000008H:EAX[7:0]) that decides which
// bits of guest paging entries and EPT entries are address bits and which are reserved
// (SDM §4.5.4, §28.3.2, §28.3.3.1).
import { beforeEach, describe, expect, it } from 'vitest';
import { ACC_READ, MAXPHYADDR } from '../../../src/emu/mmu/access';
import type { PageWalk } from '../../../src/emu/mmu/page-walk';
import { PageWalker } from '../../../src/emu/mmu/page-walker';
import { PAGING_4LEVEL } from '../../../src/emu/mmu/paging-mode';
import { EXIT_REASON as R } from '../../../src/emu/vmx/exit-reasons';
import { PML4, Rig, writeIdentityEpt } from './rig';

const EPML4 = 0x800000, EPD = EPML4 + 0x2000, EPT_PT = 0x803000;
const WB = 6 << 3;
const EPTP = EPML4 | 6 | (3 << 3);
const SEC_EPT = 1 << 1;
/** The rig's guest page directory (2-MiB pages, identity), shared with the host. */
const GUEST_PD = PML4 + 0x2000;
const PTE_A = 0x20, PTE_D = 0x40;
// Exit-qualification bits (SDM Table 27-7).
const Q_READ = 0x1, Q_WRITE = 0x2, Q_PERM_R = 0x8, Q_PERM_X = 0x20, Q_LINEAR_VALID = 0x80, Q_TRANSLATION = 0x100;

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  rig.enterVmx();
  const m = rig.mem;
  writeIdentityEpt(m, EPML4);
  m.fill(EPT_PT, 0x1000, 0);
  // The first 2 MiB of guest-physical memory in 4-KiB EPT pages, so the page that holds
  // the guest's page directory can get its own permissions.
  m.write64(EPD, EPT_PT | 7, 0);
  for (let i = 0; i < 512; i++) m.write64(EPT_PT + 8 * i, (i << 12) | WB | 7, 0);
});

/** EPT permissions (bits 2:0) of the 4-KiB guest-physical page at `gpa` (< 2 MiB). */
function eptPage(gpa: number, rwx: number): void {
  rig.mem.write64(EPT_PT + 8 * (gpa >>> 12), (gpa & ~0xfff) | WB | rwx, 0);
}

function run(guest: string, exceptionBitmap = 0): number {
  rig.setupGuest(guest, { proc2: SEC_EPT });
  rig.write('EPT_POINTER', EPTP);
  rig.write('EXCEPTION_BITMAP', exceptionBitmap);
  rig.launch();
  expect(rig.vmx.lastEntryFailure?.message).toBeUndefined();
  expect(rig.vmx.nonRoot).toBe(false);
  return rig.exitReason();
}

describe('SDM 28.3.3.2: accessed/dirty updates of guest paging entries are EPT data writes', () => {
  it('setting A in a PDE that EPT maps read/execute-only: EPT violation, bits 0 and 1, at the entry', () => {
    eptPage(GUEST_PD, 5);
    // 0x600000 is mapped by PDE 3, which nothing has used yet: its A flag is clear.
    expect(rig.mem.read32(GUEST_PD + 8 * 3) & PTE_A).toBe(0);
    expect(run('movq 0x600000, %rax\nvmcall')).toBe(R.EPT_VIOLATION);
    expect(rig.read('EXIT_QUALIFICATION')).toBe(Q_READ | Q_WRITE | Q_PERM_R | Q_PERM_X | Q_LINEAR_VALID);
    expect(rig.read('GUEST_PHYSICAL_ADDRESS')).toBe(GUEST_PD + 8 * 3);
    expect(rig.read('GUEST_LINEAR_ADDRESS')).toBe(0x600000);
    expect(rig.mem.read32(GUEST_PD + 8 * 3) & PTE_A).toBe(0);
    // The debugger's explanation of the same access stops at the same update.
    const walker = new PageWalker(rig.mem);
    walker.mode = PAGING_4LEVEL;
    walker.root = PML4;
    walker.nested = rig.vmx.ept;
    const walk: PageWalk = {
      linear: 0x600000, access: ACC_READ, cpl: 0, mode: '4-level', steps: [], ok: false, physical: -1, guestPhysical: -1,
      pageSize: 0, tlb: null, memoryAccesses: 0, updates: [], summary: '',
    };
    expect(walker.walk(0x600000, ACC_READ, false, walk)).toBe(-1);
    expect(walk.ok).toBe(false);
    expect(rig.mem.read32(GUEST_PD + 8 * 3) & PTE_A).toBe(0);
    expect(walk.summary).toMatch(/setting A in the PDE at guest-physical 0x72018 leaves the guest: EPT violation/);
  });

  it('with A already set a read needs no write and succeeds; a write still needs D and exits', () => {
    eptPage(GUEST_PD, 5);
    rig.mem.write32(GUEST_PD + 8 * 3, rig.mem.read32(GUEST_PD + 8 * 3) | PTE_A);
    expect(run('movq 0x600000, %rax\nvmcall')).toBe(R.VMCALL);
    expect(run('movq $1, 0x600008\nvmcall')).toBe(R.EPT_VIOLATION);
    expect(rig.read('EXIT_QUALIFICATION')).toBe(Q_READ | Q_WRITE | Q_PERM_R | Q_PERM_X | Q_LINEAR_VALID);
    expect(rig.read('GUEST_PHYSICAL_ADDRESS')).toBe(GUEST_PD + 8 * 3);
    expect(rig.read('GUEST_LINEAR_ADDRESS')).toBe(0x600008);
    expect(rig.mem.read32(0x600008)).toBe(0);
  });

  it('with A and D set, reads and writes through a read-only paging structure succeed', () => {
    eptPage(GUEST_PD, 5);
    rig.mem.write32(GUEST_PD + 8 * 3, rig.mem.read32(GUEST_PD + 8 * 3) | PTE_A | PTE_D);
    expect(run('movq $7, 0x600008\nmovq 0x600008, %rbx\nvmcall')).toBe(R.VMCALL);
    expect(rig.reg(3)).toBe(7);
  });

  it('a plain data write to a read-only page still reports bit 1 alone (bit 8: the translation)', () => {
    eptPage(0x1000, 5);
    expect(run('movq $1, 0x1000')).toBe(R.EPT_VIOLATION);
    expect(rig.read('EXIT_QUALIFICATION')).toBe(Q_WRITE | Q_PERM_R | Q_PERM_X | Q_LINEAR_VALID | Q_TRANSLATION);
  });
});

describe('MAXPHYADDR (CPUID.80000008H) and the address bits it makes valid', () => {
  it(`CPUID.80000008H:EAX reports ${MAXPHYADDR} physical and 48 linear address bits`, () => {
    rig.setReg(0, 0x80000008);
    rig.runHost('cpuid\nhlt');
    expect(rig.reg(0) & 0xffff).toBe((48 << 8) | MAXPHYADDR);
  });

  it('SDM 28.3.3.1: an EPT entry bit below MAXPHYADDR is an address bit; bit MAXPHYADDR is reserved (misconfiguration)', () => {
    const below = 1 << (MAXPHYADDR - 1 - 32), at = 1 << (MAXPHYADDR - 32);
    // Guest-physical 6 MiB maps host-physical 2^(MAXPHYADDR-1) + 6 MiB: no RAM there, reads float high.
    rig.mem.write64(EPD + 8 * 3, (3 << 21) | 0x80 | WB | 7, below);
    expect(run('movq 0x600000, %rax\nvmcall')).toBe(R.VMCALL);
    expect(rig.reg(0) | 0).toBe(-1);
    rig.mem.write64(EPD + 8 * 3, (3 << 21) | 0x80 | WB | 7, at);
    expect(run('movq 0x600000, %rax\nvmcall')).toBe(R.EPT_MISCONFIG);
    expect(rig.read('GUEST_PHYSICAL_ADDRESS')).toBe(0x600000);
  });

  it('SDM 4.5.4: a guest PDE may address guest-physical 2^(MAXPHYADDR-1), which EPT then translates', () => {
    const top = 2 ** (MAXPHYADDR - 1);
    // Guest PDE 3 maps guest-physical `top`; EPT maps `top` (its own PML4 entry) to host 10 MiB.
    rig.mem.write64(GUEST_PD + 8 * 3, 0x87 | PTE_A | PTE_D, 1 << (MAXPHYADDR - 1 - 32));
    const L3 = 0x804000, L2 = 0x805000;
    rig.mem.fill(L3, 0x2000, 0);
    rig.mem.write64(EPML4 + 8 * Math.floor(top / 2 ** 39), L3 | 7, 0);
    rig.mem.write64(L3 + 8 * (Math.floor(top / 2 ** 30) & 511), L2 | 7, 0);
    rig.mem.write64(L2, (5 << 21) | 0x80 | WB | 7, 0);
    rig.mem.write32(0xa00010, 0x1234);
    expect(run('movq 0x600010, %rax\nvmcall')).toBe(R.VMCALL);
    expect(rig.reg(0)).toBe(0x1234);
    // One bit higher is reserved in the guest's own entry: #PF with RSVD, which no EPT sees.
    rig.mem.write64(GUEST_PD + 8 * 3, 0x87 | PTE_A | PTE_D, 1 << (MAXPHYADDR - 32));
    expect(run('movq 0x600010, %rax\nvmcall', 1 << 14)).toBe(R.EXCEPTION_NMI);
    expect(rig.read('VM_EXIT_INTR_ERROR_CODE')).toBe(0x9); // P | RSVD, read, supervisor
  });
});
