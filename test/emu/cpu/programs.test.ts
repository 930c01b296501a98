// Small programs with register and memory checks (unicorn's tests/unit style), one area per
// test: string instructions, the stack, wide multiplication and division, exception delivery
// through the IDT, privilege changes, SYSCALL/SYSRET, real mode, protected mode, the full
// real → protected → long mode switch, self-modifying code and page-crossing fetches.
// Programs are assembled and linked by GNU as/ld at test time; expected values are worked out
// from the SDM by hand (in the comments next to them).
import { describe, expect, it } from 'vitest';
import type { Cpu } from '../../../src/emu/cpu/cpu';
import { getFlags } from '../../../src/emu/cpu/flags';
import type { CpuFault } from '../../../src/emu/cpu/fault';
import { Mmu } from '../../../src/emu/mmu/mmu';
import { PhysicalMemory } from '../../../src/emu/memory/physical-memory';
import { enterLong64, enterProtected32, getReg64, identityPageTables, makeCpu } from '../../support/cpu-setup';
import { gnuFlatBinary } from '../../support/gnu-link';

const BASE = 0x100000;

/**
 * A 64-bit CPU (4-level paging identity-mapping the first 4 MiB and its own page tables at
 * 8 MiB, supervisor+user) running `source` at BASE.
 */
function long64(source: string, cpl = 0): { cpu: Cpu; mem: PhysicalMemory } {
  const { cpu, mem } = makeCpu({ ramSize: 16 * 1024 * 1024, mmu: (m) => new Mmu(m) });
  const pages: number[] = [];
  for (let a = 0; a < 0x400000; a += 0x1000) pages.push(a);
  for (let a = 0x800000; a < 0x808000; a += 0x1000) pages.push(a);
  cpu.cr3Lo = identityPageTables(mem, 0x800000, pages);
  mem.writeBytes(BASE, gnuFlatBinary(source, BASE, 64));
  enterLong64(cpu, cpl);
  cpu.rip = BASE;
  cpu.regs[8] = 0x300000;
  return { cpu, mem };
}

function runToHlt(cpu: Cpu, budget = 100_000): void {
  const r = cpu.run(budget);
  if (r !== 'halt') throw new Error(`stopped with ${r} at 0x${cpu.rip.toString(16)}${cpu.lastFault ? `: vector ${cpu.lastFault.vector} ${cpu.lastFault.detail}` : ''}`);
}

describe('64-bit programs', () => {
  it('string instructions: rep movsb, rep stosq, repne scasb, repe cmpsb, DF=1', () => {
    const { cpu, mem } = long64(`
      lea src(%rip), %rsi
      mov $0x200000, %rdi
      mov $12, %ecx
      rep movsb                 # copy "hello, world"
      mov $0x200100, %rdi
      mov $0x1122334455667788, %rax
      mov $3, %ecx
      rep stosq                 # three qwords
      mov $0x200000, %rdi
      xor %eax, %eax
      mov $-1, %rcx
      mov $'w', %al
      repne scasb               # find 'w': RDI ends one past it
      mov %rdi, %r8
      lea src(%rip), %rsi
      mov $0x200000, %rdi
      mov $12, %ecx
      repe cmpsb                # equal: RCX = 0, ZF = 1
      setz %r9b
      std
      lea src+11(%rip), %rsi
      mov $0x200300, %rdi
      mov $12, %ecx
      rep movsb                 # backwards copy of the same 12 bytes, ending at 0x200300
      cld
      hlt
    src: .ascii "hello, world"
    `);
    runToHlt(cpu);
    expect(new TextDecoder().decode(mem.readBytes(0x200000, 12))).toBe('hello, world');
    for (let i = 0; i < 3; i++) expect([mem.read32(0x200100 + 8 * i) >>> 0, mem.read32(0x200104 + 8 * i) >>> 0]).toEqual([0x55667788, 0x11223344]);
    expect(mem.read32(0x200118)).toBe(0);
    expect(getReg64(cpu, 8)).toBe(0x200008n); // 'w' is at offset 7
    expect(getReg64(cpu, 9) & 0xffn).toBe(1n);
    expect(getReg64(cpu, 1)).toBe(0n);
    expect(new TextDecoder().decode(mem.readBytes(0x200300 - 11, 12))).toBe('hello, world');
  });

  it('stack: call/ret recursion, push/pop, enter/leave', () => {
    const { cpu } = long64(`
      mov $10, %edi
      call fact                 # 10! = 3628800
      mov %rax, %rbx
      enter $16, $0
      movq $42, -8(%rbp)
      mov -8(%rbp), %rcx
      leave
      hlt
    fact:
      cmp $1, %rdi
      jbe 1f
      push %rdi
      dec %rdi
      call fact
      pop %rdi
      imul %rdi, %rax
      ret
    1: mov $1, %eax
      ret
    `);
    runToHlt(cpu);
    expect(getReg64(cpu, 3)).toBe(3628800n);
    expect(getReg64(cpu, 1)).toBe(42n);
    expect(getReg64(cpu, 4)).toBe(0x300000n); // balanced stack
  });

  it('wide arithmetic: 128/64 division, 64x64 products, #DE on overflow', () => {
    const { cpu } = long64(`
      mov $1, %rdx
      xor %eax, %eax            # RDX:RAX = 2^64
      mov $3, %rcx
      div %rcx                  # q = 0x5555555555555555, r = 1
      mov %rax, %r8
      mov %rdx, %r9
      mov $-1, %rax
      mov $-1, %rcx
      mul %rcx                  # (2^64-1)^2 = 0xFFFFFFFFFFFFFFFE_0000000000000001
      mov %rax, %r10
      mov %rdx, %r11
      mov $-7, %rax
      cqo
      mov $2, %rcx
      idiv %rcx                 # -7 / 2 = -3 rem -1 (truncation toward zero)
      mov %rax, %r12
      mov %rdx, %r13
      mov $0x8000000000000000, %rax
      cqo
      mov $-1, %rcx
      idiv %rcx                 # -2^63 / -1 overflows: #DE
      hlt
    `);
    cpu.stopOnException = true;
    expect(cpu.run(1000)).toBe('exception');
    expect((cpu.lastFault as CpuFault).vector).toBe(0);
    expect(getReg64(cpu, 8)).toBe(0x5555555555555555n);
    expect(getReg64(cpu, 9)).toBe(1n);
    expect(getReg64(cpu, 10)).toBe(1n);
    expect(getReg64(cpu, 11)).toBe(0xfffffffffffffffen);
    expect(getReg64(cpu, 12)).toBe(BigInt.asUintN(64, -3n));
    expect(getReg64(cpu, 13)).toBe(BigInt.asUintN(64, -1n));
  });

  it('without BMI1 in CPUID, F3 0F BC (tzcnt) executes as BSF; LZCNT is advertised and executed', () => {
    // SDM Vol. 2 TZCNT: "on processors that do not support TZCNT, the instruction byte encoding
    // is executed as BSF". Our CPUID.(07H,0):EBX[3] (BMI1) is 0; CPUID.80000001H:ECX[5] is 1.
    const { cpu } = long64(`
      mov $7, %eax
      xor %ecx, %ecx
      cpuid
      mov %ebx, %r8d            # leaf 7 EBX
      mov $0x80000001, %eax
      cpuid
      mov %ecx, %r9d            # extended leaf 1 ECX
      mov $0x100, %ecx
      mov $0x77, %eax
      tzcnt %rcx, %rax          # BSF: 8
      xor %ecx, %ecx
      mov $0x55, %edx
      stc
      tzcnt %rcx, %rdx          # BSF of 0: ZF=1, destination unchanged (Intel), CF unchanged
      pushf
      pop %r10
      mov $1, %ecx
      lzcnt %rcx, %r11          # 63
      hlt
    `);
    runToHlt(cpu);
    expect(getReg64(cpu, 8) & 8n).toBe(0n);
    expect(getReg64(cpu, 9) & 0x20n).toBe(0x20n);
    expect(getReg64(cpu, 0)).toBe(8n);
    expect(getReg64(cpu, 2)).toBe(0x55n);
    expect(getReg64(cpu, 10) & 0x41n).toBe(0x41n); // ZF=1 (TZCNT would give ZF=0), CF=1 (TZCNT would set it too)
    expect(getReg64(cpu, 11)).toBe(63n);
  });

  it('Intel reading of 66 on near branches in 64-bit mode: operand size stays 64, rel32', () => {
    // 66 E8 rel32 is a 6-byte CALL that pushes an 8-byte return address (SDM Vol. 2 CALL, 64-bit mode).
    const { cpu } = long64(`
      .byte 0x66, 0xe8
      .long target - 1f
    1: hlt
    target:
      pop %rbx                  # the return address: label 1
      hlt
    `);
    runToHlt(cpu);
    expect(getReg64(cpu, 3)).toBe(BigInt(BASE + 6));
    expect(getReg64(cpu, 4)).toBe(0x300000n);
  });

  it('delivers exceptions through the IDT and returns with IRETQ; CPL 3 → 0 with the TSS stack, SYSCALL/SYSRET', () => {
    const { cpu } = long64(`
      lgdt gdtr(%rip)
      lidt idtr(%rip)
      # TSS descriptor at GDT+0x28 (16 bytes), base = tss
      lea tss(%rip), %rax
      lea gdt(%rip), %rdx
      mov %ax, 0x2a(%rdx)
      shr $16, %rax
      mov %al, 0x2c(%rdx)
      mov %ah, 0x2f(%rdx)
      mov $0x28, %ax
      ltr %ax
      # IDT entries: #UD (6) skips the faulting ud2, vector 0x80 is a DPL-3 trap gate
      lea ud_handler(%rip), %rax
      lea idt+6*16(%rip), %rdx
      call set_gate
      lea int80(%rip), %rax
      lea idt+0x80*16(%rip), %rdx
      call set_gate
      orb $0x61, 5(%rdx)        # type 0xF trap gate with DPL 3: 0x8E -> 0xEF
      ud2                       # handler adds 2 to the saved RIP
      mov $1, %r12
      # to CPL 3 with IRETQ: SS=0x1b, RSP, RFLAGS, CS=0x23, RIP
      pushq $0x1b
      pushq $0x280000
      pushq $0x202
      pushq $0x23
      lea user(%rip), %rax
      push %rax
      iretq
    user:
      int $0x80                 # trap to CPL 0 on TSS.RSP0, back with IRETQ
      mov %rsp, %r14            # unchanged user stack
      mov %cs, %r15
      syscall                   # STAR/LSTAR set below: to CPL 0 kernel_entry
    back:
      hlt                       # #GP at CPL 3: the test stops on it
    kernel_entry:
      mov %rcx, %r10            # return RIP
      mov $0x5a, %r11d
      hlt
    set_gate:                   # RAX = handler, RDX = gate address; selector 8, type 0x8E
      mov %ax, (%rdx)
      movw $8, 2(%rdx)
      movw $0x8e00, 4(%rdx)
      shr $16, %rax
      mov %ax, 6(%rdx)
      shr $16, %rax
      mov %eax, 8(%rdx)
      movl $0, 12(%rdx)
      ret
    ud_handler:
      addq $2, (%rsp)
      iretq
    int80:
      mov %rsp, %r13            # kernel stack: TSS.RSP0 - 5*8
      mov 8(%rsp), %rbx         # saved CS
      iretq
      .balign 16
    # null, 64-bit code DPL 0, data DPL 0, data DPL 3, 64-bit code DPL 3 (the SYSRET layout), TSS
    gdt: .quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff, 0x00cff2000000ffff, 0x00affa000000ffff
         .quad 0x0000890000000067, 0
    gdtr: .word gdtr - gdt - 1
          .quad gdt
      .balign 16
    idt: .fill 256, 16, 0
    idtr: .word 256*16 - 1
          .quad idt
    tss: .long 0
         .quad 0x2f0000         # RSP0
         .fill 23, 4, 0
    `);
    // STAR: SYSCALL CS = 0x08 (SS 0x10), SYSRET base 0x10 (CS 0x23 for 64-bit returns); LSTAR = kernel_entry.
    cpu.msrHi.set(0xc0000081, (0x10 << 16) | 0x08);
    const code = cpu.mem.readBytes(BASE, 0x400);
    let off = -1;
    for (let i = 0; i + 9 < code.length; i++) {
      // kernel_entry: 49 89 ca (mov %rcx,%r10) 41 bb 5a 00 00 00
      if (code[i] === 0x49 && code[i + 1] === 0x89 && code[i + 2] === 0xca && code[i + 3] === 0x41 && code[i + 4] === 0xbb) { off = i; break; }
    }
    expect(off).toBeGreaterThan(0);
    cpu.msrLo.set(0xc0000082, BASE + off);
    cpu.msrHi.set(0xc0000082, 0);
    runToHlt(cpu);
    expect(getReg64(cpu, 12)).toBe(1n); // #UD handler skipped the ud2
    expect(getReg64(cpu, 13)).toBe(0x2f0000n - 40n); // SS, RSP, RFLAGS, CS, RIP on the TSS stack
    expect(getReg64(cpu, 3)).toBe(0x23n); // CS pushed by the interrupt: the user selector
    expect(getReg64(cpu, 14)).toBe(0x280000n);
    expect(getReg64(cpu, 15)).toBe(0x23n);
    expect(cpu.cpl).toBe(0); // SYSCALL
    expect(cpu.segSel[1]).toBe(0x08);
    expect(getReg64(cpu, 11)).toBe(0x5an);
    expect(getReg64(cpu, 10)).toBe(BigInt(BASE + off - 1)); // RCX = the hlt after syscall ('back')
  });

  it('self-modifying code: a store into decoded code is seen by the next fetch', () => {
    const { cpu } = long64(`
      mov $1, %eax
    1: movb $2, patch+1(%rip)   # rewrite the immediate of the instruction below
      jmp 2f
    2:
    patch: mov $1, %bl
      hlt
    `);
    runToHlt(cpu);
    expect(cpu.regs[6] & 0xff).toBe(2);
  });

  it('an instruction crossing into an unmapped page faults with CR2 = the second page', () => {
    const { cpu, mem } = makeCpu({ ramSize: 16 * 1024 * 1024, mmu: (m) => new Mmu(m) });
    cpu.cr3Lo = identityPageTables(mem, 0x800000, [0x300000]); // 0x301000 not mapped
    mem.writeBytes(0x300ffe, Uint8Array.from([0x48, 0xb8])); // movabs $imm64, %rax: 8 immediate bytes on the next page
    enterLong64(cpu, 0);
    cpu.rip = 0x300ffe;
    cpu.stopOnException = true;
    expect(cpu.run(10)).toBe('exception');
    expect((cpu.lastFault as CpuFault).vector).toBe(14);
    expect((cpu.lastFault as CpuFault).errorCode & 0x10).toBe(0x10); // instruction fetch (NXE=1)
    expect(cpu.cr2).toBe(0x301000);
    expect(cpu.rip).toBe(0x300ffe);
  });
});

describe('interrupts and the TLB', () => {
  it('an external interrupt wakes HLT, is delivered through the IDT after STI\'s shadow, and IRETQ returns', () => {
    let pending = false;
    let acks = 0;
    const intr = { get intrPending() { return pending; }, nmiPending: false, acknowledge: () => { acks++; pending = false; return 0x20; }, acknowledgeNmi: () => undefined };
    const { cpu, mem } = makeCpu({ ramSize: 16 * 1024 * 1024, mmu: (m) => new Mmu(m), interrupts: intr });
    const pages: number[] = [];
    for (let a = 0; a < 0x400000; a += 0x1000) pages.push(a);
    cpu.cr3Lo = identityPageTables(mem, 0x800000, pages);
    mem.writeBytes(BASE, gnuFlatBinary(`
      lgdt gdtr(%rip)
      lidt idtr(%rip)
      lea handler(%rip), %rax
      lea idt+0x20*16(%rip), %rdx
      mov %ax, (%rdx)
      movw $8, 2(%rdx)
      movw $0x8e00, 4(%rdx)
      shr $16, %rax
      mov %ax, 6(%rdx)
      sti
      hlt                       # woken by the interrupt; the handler returns after this HLT
      mov $7, %r13
      hlt
    handler:
      inc %r12
      iretq
      .balign 8
    gdt: .quad 0, 0x00af9a000000ffff, 0x00cf92000000ffff
    gdtr: .word gdtr - gdt - 1
          .quad gdt
      .balign 16
    idt: .fill 256, 16, 0
    idtr: .word 256*16 - 1
          .quad idt
    `, BASE, 64));
    enterLong64(cpu, 0);
    cpu.rip = BASE;
    cpu.regs[8] = 0x300000;
    expect(cpu.run(1000)).toBe('halt');
    expect(cpu.run(1000)).toBe('halt'); // nothing pending: still halted
    pending = true;
    expect(cpu.run(1000)).toBe('halt');
    expect(acks).toBe(1);
    expect(getReg64(cpu, 12)).toBe(1n);
    expect(getReg64(cpu, 13)).toBe(7n);
    expect(getReg64(cpu, 4)).toBe(0x300000n);
  });

  it('the TLB is visible: a changed PTE is not seen until INVLPG (SDM Vol. 3 §4.10.4)', () => {
    const { cpu, mem } = long64(`
      mov 0x200000, %eax        # through the TLB: frame 0x200000
      movq $0x201007, (%rdi)    # remap page 0x200000 to frame 0x201000 without INVLPG
      mov 0x200000, %ebx        # stale translation: still frame 0x200000
      invlpg 0x200000
      mov 0x200000, %ecx        # new translation: frame 0x201000
      hlt
    `);
    mem.write32(0x200000, 0x1111);
    mem.write32(0x201000, 0x2222);
    // The PTE of page 0x200000: identityPageTables allocates PDPT, PD, the PT of 0-2 MiB and
    // then the PT of 2-4 MiB in the frames after the PML4 (then the PT of 8 MiB).
    const pte = 0x800000 + 4 * 0x1000;
    expect(mem.read32(pte) >>> 0).toBe(0x200007);
    cpu.regs[14] = pte; // %rdi
    runToHlt(cpu);
    expect(cpu.regs[0]).toBe(0x1111);
    expect(cpu.regs[6]).toBe(0x1111);
    expect(cpu.regs[2]).toBe(0x2222);
  });
});

describe('legacy modes', () => {
  it('real mode: segment arithmetic, the IVT, INT and IRET', () => {
    const { cpu, mem } = makeCpu({ ramSize: 2 * 1024 * 1024 });
    mem.writeBytes(0x7c00, gnuFlatBinary(`
      xor %ax, %ax
      mov %ax, %ss
      mov $0x7000, %sp
      movw $handler, 0x21*4     # IVT[0x21] = 0000:handler
      movw $0, 0x21*4+2
      mov $0x1000, %ax
      mov %ax, %ds
      movw $0x1234, 0x10        # linear 0x10010
      mov $5, %cx
      int $0x21
      mov 0x10, %dx
      hlt
    handler:
      add %cx, %cx              # 10
      iret
    `, 0x7c00, 16));
    cpu.loadSegmentCache(1, 0, 0, 0, 0xffff, cpu.segAr[1]);
    cpu.rip = 0x7c00;
    runToHlt(cpu);
    expect(mem.read16(0x10010)).toBe(0x1234);
    expect(cpu.regs[2] & 0xffff).toBe(10);
    expect(cpu.regs[4] & 0xffff).toBe(0x1234);
    expect(cpu.regs[8] & 0xffff).toBe(0x7000);
  });

  it('real → protected → long mode, as a Multiboot-less boot would do it', () => {
    const { cpu, mem } = makeCpu({ ramSize: 16 * 1024 * 1024, mmu: (m) => new Mmu(m) });
    mem.writeBytes(0x8000, gnuFlatBinary(`
      .code16
      cli
      lgdtl gdtr
      mov %cr0, %eax
      or $1, %eax
      mov %eax, %cr0
      ljmpl $0x08, $pm
      .code32
    pm:
      mov $0x10, %ax
      mov %ax, %ds
      mov %ax, %ss
      mov $0x9000, %esp
      # page tables: PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000 with 2 MiB identity pages
      movl $0x11003, 0x10000
      movl $0x12003, 0x11000
      movl $0x83, 0x12000
      movl $0x200083, 0x12008
      mov $0x10000, %eax
      mov %eax, %cr3
      mov %cr4, %eax
      or $0x20, %eax            # PAE
      mov %eax, %cr4
      mov $0xc0000080, %ecx
      rdmsr
      or $0x100, %eax           # LME
      wrmsr
      mov %cr0, %eax
      or $0x80000000, %eax      # PG: IA-32e mode active (LMA = 1)
      mov %eax, %cr0
      ljmp $0x18, $lm
      .code64
    lm:
      movabs $0x123456789, %rax
      mov $0xc0000080, %ecx
      push %rax
      rdmsr
      mov %eax, %ebx            # EFER: SCE=0, LME, LMA
      pop %rax
      hlt
      .balign 8
    gdt: .quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x00af9a000000ffff
    gdtr: .word gdtr - gdt - 1
          .long gdt
    `, 0x8000, 16));
    cpu.loadSegmentCache(1, 0, 0, 0, 0xffff, cpu.segAr[1]);
    cpu.rip = 0x8000;
    runToHlt(cpu);
    expect(cpu.codeBits).toBe(64);
    expect(getReg64(cpu, 0)).toBe(0x123456789n);
    expect(cpu.regs[6]).toBe(0x500); // LME | LMA
    expect(cpu.segSel[1]).toBe(0x18);
  });

  it('32-bit protected mode: flat code, a far return, and #GP on a write through a read-only segment', () => {
    const { cpu, mem } = makeCpu({ ramSize: 2 * 1024 * 1024 });
    mem.writeBytes(0x10000, gnuFlatBinary(`
      lgdt gdtr
      push $0x08
      push $1f
      lret                      # reloads CS from the GDT
    1: mov $0x18, %ax           # read-only data segment
      mov %ax, %es
      mov $7, %eax
      movl $1, %es:0x100        # #GP(0): write to a read-only data segment
      hlt
      .balign 8
    gdt: .quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x00cf90000000ffff
    gdtr: .word gdtr - gdt - 1
          .long gdt
    `, 0x10000, 32));
    enterProtected32(cpu);
    cpu.rip = 0x10000;
    cpu.regs[8] = 0x9000;
    cpu.stopOnException = true;
    expect(cpu.run(100)).toBe('exception');
    expect((cpu.lastFault as CpuFault).vector).toBe(13);
    expect((cpu.lastFault as CpuFault).errorCode).toBe(0);
    expect(cpu.regs[0]).toBe(7);
    expect(cpu.segSel[4 - 4]).toBe(0x18); // ES
    expect(getFlags(cpu) & 2).toBe(2);
  });

  it('a triple fault is reported with the chain of exceptions that caused it', () => {
    const { cpu } = long64(`
      lidt idtr(%rip)
      # #UD cannot be delivered (IDT limit 0): #GP(6*16+2+1); #UD is benign, so that #GP is
      # delivered serially and fails with a second #GP: contributory + contributory, #DF;
      # #DF fails: shutdown (SDM Vol. 3 §6.15 Table 6-5, "Interrupt 8—Double Fault Exception").
      ud2
    idtr: .word 0
          .quad 0
    `);
    expect(cpu.run(100)).toBe('triple-fault');
    expect(cpu.faultChain).toEqual([6, 13, 8]);
    expect(cpu.icount).toBe(1); // lidt retired; ud2 did not
  });
});
