// What each assembler directive does, for hover and completion: documentation, written
// once here. The meaning follows the GNU as manual ("Assembler Directives"); `example` is
// a complete snippet that GNU as and our assembler both accept, which the tests check, so
// this table cannot drift into documenting a directive we do not have.

export interface DirectiveDoc {
  /** The directive without its dot, as written (`p2align`). */
  readonly name: string;
  /** Operand syntax in the manual's notation. */
  readonly syntax: string;
  readonly summary: string;
  /** A snippet using it (a line or a block); `.include`/`.incbin` name `defs.inc` / `blob.bin` next to it. */
  readonly example: string;
}

const DIRECTIVES: readonly DirectiveDoc[] = [
  { name: 'text', syntax: '.text', summary: 'Continue in the `.text` (code) section.', example: '.text\nnop' },
  { name: 'data', syntax: '.data', summary: 'Continue in the `.data` (initialized data) section.', example: '.data\n.long 1' },
  { name: 'bss', syntax: '.bss', summary: 'Continue in the `.bss` section: zero-initialized data that takes no room in the file.', example: '.bss\n.skip 16' },
  { name: 'section', syntax: '.section name[, "flags"[, @type]]', summary: 'Continue in section `name`. Flags: `a` allocatable, `w` writable, `x` executable; type `@progbits` or `@nobits`.', example: '.section .rodata, "a"\n.byte 1' },
  { name: 'globl', syntax: '.globl symbol', summary: 'Make `symbol` visible to the linker (other objects can refer to it).', example: '.globl _start\n_start: nop' },
  { name: 'global', syntax: '.global symbol', summary: 'Same as `.globl`: make `symbol` visible to the linker.', example: '.global _start\n_start: nop' },
  { name: 'local', syntax: '.local symbol', summary: 'Make `symbol` local to this object file.', example: '.local helper\nhelper: ret' },
  { name: 'type', syntax: '.type symbol, @function|@object', summary: 'Set the ELF symbol type of `symbol` (shown by objdump and debuggers).', example: '.type f, @function\nf: ret' },
  { name: 'size', syntax: '.size symbol, expression', summary: 'Set the ELF size of `symbol`, usually `. - symbol` after its last byte.', example: 'f: ret\n.size f, . - f' },
  { name: 'align', syntax: '.align bytes[, fill[, max]]', summary: 'Pad to a multiple of `bytes` (on x86 ELF the operand is a byte count, like `.balign`). Code sections pad with NOPs unless `fill` is given.', example: '.byte 1\n.align 8' },
  { name: 'balign', syntax: '.balign bytes[, fill[, max]]', summary: 'Pad the location counter to a multiple of `bytes`, with `fill` (NOPs in code by default); skip if more than `max` bytes would be needed.', example: '.byte 1\n.balign 4, 0xcc' },
  { name: 'p2align', syntax: '.p2align log2[, fill[, max]]', summary: 'Pad to a multiple of 2^`log2` bytes, like `.balign 1<<log2`.', example: '.byte 1\n.p2align 4' },
  { name: 'byte', syntax: '.byte expr[, expr...]', summary: 'Emit 8-bit values.', example: '.byte 1, 2, 0xff' },
  { name: 'word', syntax: '.word expr[, expr...]', summary: 'Emit 16-bit values (on x86 a word is 2 bytes).', example: '.word 0x1234' },
  { name: 'short', syntax: '.short expr[, expr...]', summary: 'Emit 16-bit values.', example: '.short 0x1234' },
  { name: 'long', syntax: '.long expr[, expr...]', summary: 'Emit 32-bit values.', example: '.long 0x12345678' },
  { name: 'int', syntax: '.int expr[, expr...]', summary: 'Emit 32-bit values (same as `.long` on x86).', example: '.int 42' },
  { name: 'quad', syntax: '.quad expr[, expr...]', summary: 'Emit 64-bit values.', example: '.quad 0x123456789abcdef0' },
  { name: 'ascii', syntax: '.ascii "string"[, "string"...]', summary: 'Emit the bytes of each string, without a terminating zero.', example: '.ascii "hi\\n"' },
  { name: 'asciz', syntax: '.asciz "string"[, "string"...]', summary: 'Emit each string followed by a zero byte.', example: '.asciz "hello"' },
  { name: 'string', syntax: '.string "string"[, "string"...]', summary: 'Emit each string followed by a zero byte (same as `.asciz`).', example: '.string "hello"' },
  { name: 'space', syntax: '.space size[, fill]', summary: 'Emit `size` bytes of `fill` (default 0).', example: '.space 8, 0x90' },
  { name: 'skip', syntax: '.skip size[, fill]', summary: 'Emit `size` bytes of `fill` (default 0); same as `.space`.', example: '.skip 8' },
  { name: 'zero', syntax: '.zero size', summary: 'Emit `size` zero bytes.', example: '.zero 8' },
  { name: 'fill', syntax: '.fill repeat[, size[, value]]', summary: 'Emit `repeat` copies of `value`, each `size` bytes wide (size at most 8, default 1; value default 0).', example: '.fill 4, 2, 0xabcd' },
  { name: 'org', syntax: '.org new-lc[, fill]', summary: 'Advance the location counter to offset `new-lc` in the current section, padding with `fill`. It cannot move backwards.', example: '.byte 1\n.org 16, 0' },
  { name: 'equ', syntax: '.equ symbol, expression', summary: 'Give `symbol` the value of `expression` (can be redefined).', example: '.equ PORT, 0x3f8\nmov $PORT, %dx' },
  { name: 'set', syntax: '.set symbol, expression', summary: 'Give `symbol` the value of `expression`; same as `.equ` and `symbol = expression`.', example: '.set COUNT, 4\n.byte COUNT' },
  { name: 'macro', syntax: '.macro name [arg[=default]][, ...]', summary: 'Define a macro up to `.endm`; inside it, `\\arg` stands for an argument.', example: '.macro out8 port, val=0\nmovb $\\val, %al\noutb %al, $\\port\n.endm\nout8 0x80, 1' },
  { name: 'endm', syntax: '.endm', summary: 'End a `.macro` definition.', example: '.macro nothing\n.endm' },
  { name: 'rept', syntax: '.rept count', summary: 'Repeat the lines up to `.endr` `count` times.', example: '.rept 3\nnop\n.endr' },
  { name: 'irp', syntax: '.irp symbol, value[, value...]', summary: 'Assemble the lines up to `.endr` once per value, with `\\symbol` replaced by the value.', example: '.irp r, rax, rbx\npush %\\r\n.endr' },
  { name: 'endr', syntax: '.endr', summary: 'End a `.rept` or `.irp` block.', example: '.rept 1\n.endr' },
  { name: 'if', syntax: '.if expression', summary: 'Assemble the following lines (up to `.else`/`.endif`) only if `expression` is non-zero.', example: '.if 1\nnop\n.endif' },
  { name: 'ifdef', syntax: '.ifdef symbol', summary: 'Assemble the following lines only if `symbol` is defined.', example: 'X = 1\n.ifdef X\nnop\n.endif' },
  { name: 'ifndef', syntax: '.ifndef symbol', summary: 'Assemble the following lines only if `symbol` is not defined.', example: '.ifndef Y\nnop\n.endif' },
  { name: 'else', syntax: '.else', summary: 'Start the alternative of an `.if` block.', example: '.if 0\nhlt\n.else\nnop\n.endif' },
  { name: 'endif', syntax: '.endif', summary: 'End an `.if` block.', example: '.if 1\n.endif' },
  { name: 'include', syntax: '.include "file"', summary: 'Assemble `file` here; it is looked up next to the current file, then in the `-I` directories.', example: '.include "defs.inc"' },
  { name: 'incbin', syntax: '.incbin "file"[, skip[, count]]', summary: 'Emit the bytes of `file` verbatim (optionally skipping `skip` bytes, at most `count` bytes).', example: '.incbin "blob.bin", 1, 2' },
  { name: 'code16', syntax: '.code16', summary: 'Assemble 16-bit code (real mode, or a 16-bit code segment).', example: '.code16\nmov %ax, %bx' },
  { name: 'code32', syntax: '.code32', summary: 'Assemble 32-bit code (protected mode); Multiboot entry points start here.', example: '.code32\nmov %eax, %ebx' },
  { name: 'code64', syntax: '.code64', summary: 'Assemble 64-bit code (long mode).', example: '.code64\nmov %rax, %rbx' },
];

/** Directive documentation by name without the dot. */
export const DIRECTIVE_DOCS: ReadonlyMap<string, DirectiveDoc> = new Map(DIRECTIVES.map((d) => [d.name, d]));
