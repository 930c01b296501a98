// Tiny Multiboot kernels for machine tests, written in assembly and built with our own
// toolchain (the toolchain is tested byte for byte against GNU as/ld elsewhere). Each is a
// 32-bit a.out-kludge image: the boot loader jumps to `_start` in protected mode.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { assemble } from '../../src/emu/asm/assembler';
import { formatDiagnostic } from '../../src/emu/asm/diagnostic';
import { link } from '../../src/emu/asm/linker';

const HEADER = `
        .text
        .code32
        .globl  _start
        .p2align 2
mb_header:
        .long   0x1BADB002
        .long   0x00010003
        .long   -(0x1BADB002 + 0x00010003)
        .long   mb_header, mb_header, 0, 0, _start
`;

/** Assemble `source` (AT&T, may include files relative to `file`) and link it at 0x100000. */
export function buildSource(source: string, file = 'kernel.S'): Uint8Array {
  const res = assemble(source, {
    file,
    includeDirs: [dirname(file)],
    readFile: (p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
  });
  const errors = res.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map(formatDiagnostic).join('\n'));
  const linked = link([res.object], { base: 0x100000n, format: 'elf', names: [file] });
  if (!linked.output) throw new Error(linked.errors.join('\n'));
  return linked.output;
}

/** A 32-bit Multiboot kernel whose entry code is `body`. */
export function miniKernel(body: string): Uint8Array {
  return buildSource(`${HEADER}\n_start:\n${body}\n`);
}

/** Assembly that writes the bytes of `text` to COM1 (no polling: our UART never holds a byte). */
export function putsAsm(text: string): string {
  const lines = ['        movw $0x3f8, %dx'];
  for (const ch of Buffer.from(text, 'latin1')) lines.push(`        movb $${ch}, %al`, '        outb %al, %dx');
  return lines.join('\n');
}

/** Assembly that ends the run through isa-debug-exit with value `v`. */
export function exitAsm(v: number, port = 0xf4): string {
  return `        movw $${port}, %dx\n        movb $${v}, %al\n        outb %al, %dx\n1:      jmp 1b`;
}

/**
 * A kernel that sleeps in HLT with interrupts enabled until the PIT's IRQ0 (the 8259A
 * remapped to vector 0x20, everything else masked), then prints "tick" and exits with 0.
 */
export function pitTickKernel(): Uint8Array {
  return miniKernel(`
        movl    $tick, %eax
        movw    %ax, idt + 0x20 * 8
        movw    $0x10, idt + 0x20 * 8 + 2
        movw    $0x8e00, idt + 0x20 * 8 + 4
        shrl    $16, %eax
        movw    %ax, idt + 0x20 * 8 + 6
        lidt    idt_descriptor
        movb    $0x11, %al
        outb    %al, $0x20
        movb    $0x20, %al
        outb    %al, $0x21
        movb    $0x04, %al
        outb    %al, $0x21
        movb    $0x01, %al
        outb    %al, $0x21
        movb    $0xfe, %al
        outb    %al, $0x21
        sti
1:      hlt
        jmp     1b
tick:
${putsAsm('tick\n')}
${exitAsm(0)}
        .p2align 3
idt:    .fill   0x21 * 8, 1, 0
idt_descriptor:
        .word   0x21 * 8 - 1
        .long   idt`);
}
