// Blocking by NMI outside VMX (SDM Vol. 3A §6.7.1 "Handling Multiple NMIs"): while the NMI
// handler runs, further NMIs wait until the next IRET, even an IRET that faults; the NMI
// input holds at most one (the local APIC's latch, modelled here by a boolean). The handler
// raises NMIs itself through port 0x80 (a test device), so they arrive inside it.
// Programs are assembled and linked by GNU as/ld at test time.
import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../../src/emu/cpu/cpu';
import { Mmu } from '../../../src/emu/mmu/mmu';
import { enterLong64, getReg64, identityPageTables, makeCpu } from '../../support/cpu-setup';
import { gnuFlatBinary } from '../../support/gnu-link';

const BASE = 0x100000;

/** Interrupt-gate setup for `vector` → `label` (64-bit IDT at `idt`). */
function gate(vector: number, label: string): string {
  return `
      lea ${label}(%rip), %rax
      lea idt+${vector}*16(%rip), %rdx
      mov %ax, (%rdx)
      movw $8, 2(%rdx)
      movw $0x8e00, 4(%rdx)
      shr $16, %rax
      mov %ax, 6(%rdx)`;
}

const TABLES = `
      .balign 8
    gdt: .quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff
    gdtr: .word gdtr - gdt - 1
          .quad gdt
      .balign 16
    idt: .fill 256, 16, 0
    idtr: .word 256*16 - 1
          .quad idt`;

/** A 64-bit CPU running `body` (after LGDT/LIDT) with an NMI line that `out %al, $0x80` latches. */
function nmiMachine(body: string): { cpu: Cpu; raise: () => void; acks: () => number } {
  let latched = false;
  let acks = 0;
  const interrupts = {
    intrPending: false,
    get nmiPending() { return latched; },
    acknowledge: () => -1,
    acknowledgeNmi: () => { acks++; latched = false; },
  };
  const raise = (): void => { latched = true; };
  const io = { in: () => 0, out: (port: number) => { if (port === 0x80) raise(); } };
  const { cpu, mem } = makeCpu({ ramSize: 16 * 1024 * 1024, mmu: (m) => new Mmu(m), interrupts, io });
  const pages: number[] = [];
  for (let a = 0; a < 0x400000; a += 0x1000) pages.push(a);
  cpu.cr3Lo = identityPageTables(mem, 0x800000, pages);
  mem.writeBytes(BASE, gnuFlatBinary(`
      lgdt gdtr(%rip)
      lidt idtr(%rip)
      ${body}
      ${TABLES}`, BASE, 64));
  enterLong64(cpu, 0);
  cpu.rip = BASE;
  cpu.regs[8] = 0x300000;
  return { cpu, raise, acks: () => acks };
}

describe('blocking by NMI (SDM Vol. 3A §6.7.1)', () => {
  it('NMIs raised inside the handler wait for its IRET, and only one of them is held pending', () => {
    // %r12 counts handler entries, %r13 is the nesting depth, %r14 its maximum, %r15 the
    // entry count seen right after the first handler's IRET (by the code it returns to).
    const { cpu, raise, acks } = nmiMachine(`
      ${gate(2, 'nmi')}
      hlt                       # woken by the first NMI; its handler returns after this HLT
      mov %r12, %r15
      hlt
    nmi:
      inc %r12
      inc %r13
      cmp %r13, %r14
      jae 1f
      mov %r13, %r14
    1:
      cmp $1, %r12
      jne 2f
      out %al, $0x80            # a second NMI: blocked, latched
      nop
      out %al, $0x80            # a third: the latch already holds one
      nop
      nop
    2:
      dec %r13
      iretq`);
    expect(cpu.run(1000)).toBe('halt');
    expect(cpu.nmiBlocked).toBe(false);
    raise();
    expect(cpu.run(1000)).toBe('halt');
    expect(getReg64(cpu, 12)).toBe(2n); // two deliveries: the first and the one held pending
    expect(getReg64(cpu, 14)).toBe(1n); // never nested
    expect(getReg64(cpu, 15)).toBe(2n); // the held NMI came right after the IRET, before the next instruction
    expect(acks()).toBe(2);
    expect(cpu.nmiBlocked).toBe(false); // the second handler's IRET unblocked again
  });

  it('an IRET that faults still unblocks NMIs: one raised in the #GP handler is delivered inside it', () => {
    // The NMI handler IRETs to a null CS selector (#GP(0), SDM Vol. 2 IRET); the #GP handler
    // raises an NMI, which nests at once because the faulting IRET ended the blocking.
    const { cpu, raise } = nmiMachine(`
      ${gate(2, 'nmi')}
      ${gate(13, 'gp')}
      hlt
      hlt
    nmi:
      inc %r12
      cmp $1, %r12
      jne 3f
      movq $0, 8(%rsp)          # the return CS: null
      iretq
    3:
      mov %r13, %r14            # second NMI: was the #GP handler running? (1 = nested in it)
      iretq
    gp:
      inc %r13
      out %al, $0x80
      nop                       # the NMI is taken before this instruction
      dec %r13
      hlt`);
    expect(cpu.run(1000)).toBe('halt');
    raise();
    expect(cpu.run(1000)).toBe('halt');
    expect(getReg64(cpu, 12)).toBe(2n);
    expect(getReg64(cpu, 14)).toBe(1n);
    expect(getReg64(cpu, 13)).toBe(0n);
  });

  it('a halted CPU stays halted while the only pending NMI is blocked', () => {
    const { cpu, raise, acks } = nmiMachine(`
      ${gate(2, 'nmi')}
      hlt
    nmi:
      inc %r12
      out %al, $0x80
      hlt                       # still inside the handler: the new NMI cannot wake it
      iretq`);
    expect(cpu.run(1000)).toBe('halt');
    raise();
    expect(cpu.run(1000)).toBe('halt');
    expect(cpu.run(1000)).toBe('halt');
    expect(getReg64(cpu, 12)).toBe(1n);
    expect(acks()).toBe(1);
    expect(cpu.nmiBlocked).toBe(true);
  });
});
