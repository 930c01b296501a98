// Event delivery and far transfers in 64-bit mode, each found wrong by kvm-unit-tests:
// - the 64-bit IDT gate holds offset[63:32] in bytes 8-11 (SDM Vol. 3A §6.14.1, Figure 6-8);
// - the RFLAGS image saved for a fault has RF set, for a trap it does not (SDM Vol. 3B §18.3.1.1);
// - REX.W FF /5 and FF /3 take an m16:64 pointer: 8-byte offset, then the selector (SDM Vol. 2A
//   JMP and CALL, "Operation", 64-bit mode with REX.W); LSS with REX.W likewise (SDM Vol. 2A LDS/LES/LFS/LGS/LSS).
// Programs are assembled and linked by GNU as/ld and run on our CPU with paging on.
import { describe, expect, it } from 'vitest';
import { Mmu } from '../../../src/emu/mmu/mmu';
import { enterLong64, getReg64, identityPageTables, makeCpu } from '../../support/cpu-setup';
import { gnuFlatBinary } from '../../support/gnu-link';

const BASE = 0x100000;
/** Where the page at BASE + 0x1000 is also mapped (the top of the linear address space but one page). */
const HIGH = 0xffffffffffffe000n;


/** Runs `source` at BASE in 64-bit mode at CPL 0 until HLT; returns the CPU. */
function run64(source: string): ReturnType<typeof makeCpu>['cpu'] {
  const { cpu, mem } = makeCpu({ ramSize: 16 * 1024 * 1024, mmu: (m) => new Mmu(m) });
  const pages: number[] = [];
  for (let a = 0; a < 0x400000; a += 0x1000) pages.push(a);
  const root = identityPageTables(mem, 0x800000, pages);
  // PML4[511] -> PDPT[511] -> PD[511] -> PT[510] = BASE + 0x1000.
  mem.write64(root + 511 * 8, 0x810000 | 3, 0);
  mem.write64(0x810000 + 511 * 8, 0x811000 | 3, 0);
  mem.write64(0x811000 + 511 * 8, 0x812000 | 3, 0);
  mem.write64(0x812000 + 510 * 8, (BASE + 0x1000) | 3, 0);
  cpu.cr3Lo = root;
  mem.writeBytes(BASE, gnuFlatBinary(source, BASE, 64));
  enterLong64(cpu, 0);
  cpu.rip = BASE;
  cpu.regs[8] = 0x300000;
  expect(cpu.run(10000)).toBe('halt');
  return cpu;
}

const GDT = `
      .balign 8
gdt:  .quad 0, 0x00af9b000000ffff, 0x00cf93000000ffff
gdtr: .word 23
      .quad gdt
idtr: .word 16*16-1
      .quad idt
`;

describe('64-bit IDT gates (SDM Vol. 3A §6.14.1, Figure 6-8)', () => {
  it('takes offset[63:32] from bytes 8-11 of the gate: a #UD handler at 0xffffffffffffe000 runs', () => {
    const cpu = run64(`
      lgdt gdtr(%rip)
      lidt idtr(%rip)
      ud2
      hlt
      ${GDT}
      .balign 16
idt:  .fill 6*16, 1, 0
      # vector 6: offset 0xffffffffffffe000, selector 8, present 64-bit interrupt gate
      .quad 0xffff8e000008e000, 0x00000000ffffffff
      .fill 9*16, 1, 0
      .org 0x1000
      mov $0x600d, %ebx
      hlt
    `);
    expect(getReg64(cpu, 3)).toBe(0x600dn);
    expect(BigInt(cpu.rip) & 0xffffffffffffffffn).toBe(HIGH + 6n); // after mov imm32 (5 bytes) and hlt (1 byte)
  });
});

describe('RF in the saved RFLAGS image (SDM Vol. 3B §18.3.1.1)', () => {
  it('is set for a fault (#UD) and clear for a trap (INT3)', () => {
    const cpu = run64(`
      lgdt gdtr(%rip)
      lea bp_handler(%rip), %rax
      lea idt+3*16(%rip), %rdi
      call setgate
      lea ud_handler(%rip), %rax
      lea idt+6*16(%rip), %rdi
      call setgate
      lidt idtr(%rip)
      mov $-1, %rcx
      mov $-1, %rbx
      int3
      ud2
setgate:                       # 64-bit interrupt gate to %rax at %rdi
      mov %ax, (%rdi)
      movw $8, 2(%rdi)
      movw $0x8e00, 4(%rdi)
      shr $16, %rax
      mov %eax, 6(%rdi)
      movl $0, 12(%rdi)
      ret
bp_handler:
      mov 16(%rsp), %rcx       # saved RFLAGS (no error code)
      iretq
ud_handler:
      mov 16(%rsp), %rbx
      hlt
      ${GDT}
      .balign 16
idt:  .fill 16*16, 1, 0
    `);
    expect((getReg64(cpu, 3) >> 16n) & 1n).toBe(1n);
    expect((getReg64(cpu, 1) >> 16n) & 1n).toBe(0n);
    expect(getReg64(cpu, 1) & 2n).toBe(2n); // a real RFLAGS image (bit 1 always set)
  });
});

describe('far pointers m16:64 with REX.W (SDM Vol. 2A JMP, CALL, LSS)', () => {
  it('REX.W FF /5 jumps to the 8-byte offset with the selector after it', () => {
    const cpu = run64(`
      lgdt gdtr(%rip)
      lea target(%rip), %rax
      mov %rax, ptr(%rip)
      movw %cs, ptr+8(%rip)
      rex64 ljmp *ptr(%rip)
      mov $1, %ebx
      hlt
target:
      mov $2, %ebx
      hlt
      ${GDT}
      .balign 8
ptr:  .quad 0
      .word 0
idt:
    `);
    expect(getReg64(cpu, 3)).toBe(2n);
  });

  it('REX.W FF /3 calls through m16:64 and pushes 8-byte CS and RIP; LRETQ returns', () => {
    const cpu = run64(`
      lgdt gdtr(%rip)
      lea target(%rip), %rax
      mov %rax, ptr(%rip)
      movw %cs, ptr+8(%rip)
      mov %rsp, %rbp
      rex64 lcall *ptr(%rip)
back: mov $3, %ecx
      hlt
target:
      mov %rbp, %rdx
      sub %rsp, %rdx           # bytes pushed: 16
      mov (%rsp), %rsi         # return RIP
      mov 8(%rsp), %rdi        # return CS
      mov $2, %ebx
      lretq
      ${GDT}
      .balign 8
ptr:  .quad 0
      .word 0
idt:
    `);
    expect(getReg64(cpu, 3)).toBe(2n);
    expect(getReg64(cpu, 1)).toBe(3n);
    expect(getReg64(cpu, 2)).toBe(16n);
    expect(getReg64(cpu, 7)).toBe(8n);
  });

  it('REX.W LSS loads an 8-byte RSP and then SS', () => {
    const cpu = run64(`
      lgdt gdtr(%rip)
      rex64 lss ptr(%rip), %esp  # REX.W 0F B2 /r: LSS r64, m16:64
      mov %rsp, %rbx
      mov %ss, %ecx
      hlt
      ${GDT}
      .balign 8
ptr:  .quad 0x0000000100203000
      .word 0x10
idt:
    `);
    expect(getReg64(cpu, 3)).toBe(0x100203000n);
    expect(getReg64(cpu, 1)).toBe(0x10n);
  });
});
