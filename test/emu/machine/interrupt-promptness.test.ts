// An interrupt made pending by a device register write is recognized at the next
// instruction boundary (SDM Vol. 3A §6.6: interrupts are taken between instructions; §10.6.1:
// a self-IPI through the ICR; §10.8.3.1: lowering the TPR unmasks a pending interrupt), not
// at the end of the emulator's instruction slice. kvm-unit-tests' eventinj ("vec 33", "TPR")
// sends self-IPIs with IF=1 and executes CLI a few instructions later.
// The kernels are built by GNU as/ld and booted through Multiboot in 32-bit protected mode.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMachine } from '../../../src/emu/machine';
import { run, withTemp, writeFiles } from '../../support/gnu-link';

function gnuKernel(body: string): Uint8Array {
  const source = `
        .code32
        .globl _start
        .text
        .p2align 2
mb:     .long 0x1BADB002, 0, -0x1BADB002
_start: lgdt gdtr
        ljmp $8, $1f
1:      movl $0x10, %eax
        movl %eax, %ds
        movl %eax, %es
        movl %eax, %ss
        movl $0x200000, %esp
        lidt idtr
        movl $0x1ff, 0xfee000f0      # SVR: APIC software-enabled, spurious vector 0xff
        xorl %edi, %edi
        movl $-1, %ebx
${body}
        cli
        hlt
handler:                             # vector 0x40: how many INCs ran before it
        movl %edi, %ebx
        movl $0, 0xfee000b0          # EOI
        iret
        .p2align 3
gdt:    .quad 0, 0x00cf9b000000ffff, 0x00cf93000000ffff
gdtr:   .word 23
        .long gdt
idtr:   .word 0x41*8-1
        .long idt
        .p2align 3
idt:    .fill 0x40*8, 1, 0
        .word handler - mb             # offset[15:0]: mb is at 0x100000, the kernel is under 64 KiB
        .word 8, 0x8e00, 0x10          # selector, 32-bit interrupt gate, offset[31:16] = 0x0010
`;
  return withTemp((dir) => {
    writeFiles(dir, { 'k.s': source });
    const as = run('as', ['--32', '-o', 'k.o', 'k.s'], dir);
    if (as.status !== 0) throw new Error(as.stderr);
    const ld = run('ld', ['-m', 'elf_i386', '-Ttext=0x100000', '-o', 'k.elf', 'k.o'], dir);
    if (ld.status !== 0) throw new Error(ld.stderr);
    return new Uint8Array(readFileSync(join(dir, 'k.elf')));
  });
}

function handlerSaw(body: string): number {
  const m = createMachine({});
  m.boot({ kernel: gnuKernel(body), kernelName: 'k.elf' });
  m.cpu.stopOnException = true;
  expect(m.run({ maxInstructions: 10000 }).kind).toBe('halted-forever');
  return Number(m.registers().gprs.rbx & 0xffffffffn);
}

describe('interrupts pending after device register writes (SDM Vol. 3A §6.6, §10.6.1, §10.8.3.1)', () => {
  it('a self-IPI through the xAPIC ICR with IF=1 is taken right after the ICR write', () => {
    expect(handlerSaw(`
        sti
        nop                          # past the STI shadow (SDM Vol. 2B STI)
        nop
        movl $0x40040, 0xfee00300    # ICR: fixed, vector 0x40, shorthand self
        incl %edi
        incl %edi
        incl %edi`)).toBe(0);
  });

  it('a self-IPI held back by the TPR is taken right after the TPR write that lowers it', () => {
    expect(handlerSaw(`
        movl $0xf0, 0xfee00080       # TPR 0xF0 masks vector 0x40
        sti
        movl $0x40040, 0xfee00300
        incl %edi
        movl $0x20, 0xfee00080       # TPR 0x20: class 4 > 2, deliverable now
        incl %edi
        incl %edi`)).toBe(1);
  });

  it('an x2APIC self-IPI through WRMSR to the ICR (MSR 0x830) is taken right after the WRMSR', () => {
    expect(handlerSaw(`
        movl $0x1b, %ecx
        rdmsr
        orl $0x400, %eax             # IA32_APIC_BASE.EXTD: x2APIC mode
        wrmsr
        movl $0x80f, %ecx            # x2APIC SVR
        movl $0x1ff, %eax
        xorl %edx, %edx
        wrmsr
        sti
        movl $0x830, %ecx
        movl $0x40040, %eax
        wrmsr
        incl %edi
        incl %edi
        incl %edi`)).toBe(0);
  });
});
