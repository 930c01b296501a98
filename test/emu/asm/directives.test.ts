// Directives, expressions, macros and alignment against GNU as 2.40: every case is put in a
// section of its own, the whole file is assembled once by `as --64` and once by us, and the
// section contents must be identical.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../src/emu/asm/assembler';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gnuAssemble, run, withTemp, writeFiles } from '../../support/gnu-link';

/** Each case: [section kind, source]. Code cases go in "ax" sections, data in "aw". */
const CASES: readonly (readonly ['code' | 'data', string])[] = [
  ['data', `.byte 1, 2, 0xff, -1, 'a, 'b', '\\n, 0b101, 017, 255
            .word 0x1234, -2, 65535
            .short 7
            .hword 8
            .value 9
            .2byte 10
            .long 0xdeadbeef, -1, 1 << 31
            .int 11
            .4byte 12
            .quad 0x123456789abcdef0, -2
            .8byte 13`],
  ['data', `.ascii "abc", "d\\te\\x41\\101\\"\\\\"
            .asciz "x", ""
            .string "hello, world"`],
  ['data', `.long 3 < 4, 3 > 4, 1 == 1, 2 + 3 == 5, 1 && 2, 0 || 3, -1 >> 60, 7 / -2, -7 % 3
            .long 1 | 2 + 4, 2 ! 1, 1 <> 2, 6 & 3 << 1, ~0, !0, !5, -(3), 10 - 2 - 3, 2 * 3 + 4 * 5, 100 / 10 / 5
            .long 3 >= 3, 3 <= 2, 5 != 5, 0x10 ^ 0x11, (1 + 2) * 3
            .quad 0x7fffffffffffffff + 1, 1 << 63 >> 63`],
  ['data', `.equ A, 5
            .set B, A * 2
            C = B + A
            .equiv D, C - 1
            .long A, B, C, D
            .set A, A + 1
            .long A
            .byte (A > 5) & 1, C / A`],
  ['data', `start: .byte 1, 2, 3
            here: .long here - start, . - start, end - start
            .quad end - here
            .space 5
            .space 3, 0xaa
            .skip 2, 7
            .zero 4
            .fill 3, 2, 0x1234
            .fill 2, 8, 0x11223344
            .fill 2
            .fill 1, 3, -1
            end: .byte end - start`],
  ['data', `.byte 1
            .balign 8
            .byte 2
            .balign 16, 0x55
            .byte 3
            .p2align 3
            .byte 4
            .p2align 4, 0xee
            .byte 5
            .align 8
            .byte 6
            .p2align 5, 0, 3
            .byte 7
            .p2align 4, 0x11, 10
            .byte 8, 0
            .balignw 8, 0x1234
            .byte 9, 0, 0, 0
            .balignl 16, 0xdeadbeef
            .byte 10`],
  ['data', `.byte 1
            .org 16
            .byte 2
            .org 24, 0x77
            .byte 3
            x: .org x + 4, 0x66
            .byte 4`],
  ['data', `.macro twice a, b=7
            .byte \\a, \\b, \\a
            .endm
            twice 1
            twice 2, 3
            twice b=9, a=8
            twice 4 5
            .macro str s
            .ascii "\\s"
            .endm
            str "hi there"
            str plain
            .macro counted
            .byte \\@
            .endm
            counted
            counted
            .macro paste x
            .byte 0x\\x\\()0
            .endm
            paste 1
            paste a
            .macro vararg first, rest:vararg
            .byte \\first
            .byte \\rest
            .endm
            vararg 1, 2, 3, 4
            .macro nested n
            .if \\n
            .byte \\n
            nested (\\n - 1)
            .endif
            .endm
            nested 4
            .macro early x
            .byte 0x11
            .ifeq \\x
            .exitm
            .endif
            .byte 0x22
            .endm
            early 0
            early 1
            .purgem early`],
  ['data', `.rept 3
            .byte 0xab
            .endr
            .rept 0
            .byte 0xcd
            .endr
            .irp r, 1, 2, 3
            .byte \\r * 2
            .endr
            .irpc c, 123
            .byte \\c
            .endr
            .rept 2
            .irp x, 5, 6
            .byte \\x
            .endr
            .endr`],
  ['data', `.if 1
            .byte 1
            .else
            .byte 2
            .endif
            .if 0
            .byte 3
            .elseif 1
            .byte 4
            .else
            .byte 5
            .endif
            .ifdef undefined_sym
            .byte 6
            .endif
            defined_sym = 1
            .ifdef defined_sym
            .byte 7
            .endif
            .ifndef undefined_sym
            .byte 8
            .endif
            .ifeq 0
            .byte 9
            .endif
            .ifne 0
            .byte 10
            .endif
            .ifgt 1
            .byte 11
            .endif
            .iflt -1
            .byte 12
            .endif
            .ifge 0
            .byte 13
            .endif
            .ifle 1
            .byte 14
            .endif
            .ifc abc, abc
            .byte 15
            .endif
            .ifnc abc, abd
            .byte 16
            .endif
            .ifb
            .byte 17
            .endif
            .ifnb x
            .byte 18
            .endif
            .if 0
            .if 1
            .byte 19
            .else
            .byte 20
            .endif
            .endif
            .byte 21 ; .byte 22 # comment ; .byte 23
            /* block
               comment */ .byte 24
            / line comment .byte 25`],
  ['data', `1: .byte 1
            .long 1b
            1: .byte 2
            .long 1b, 1f
            1: .byte 3
            2: .long 2b, 1b`],
  ['code', `nop
            .p2align 4
            ret
            .p2align 3
            ret
            .balign 16
            .byte 0xcc
            .skip 3
            .p2align 5
            .byte 0xcc
            .p2align 8
            .byte 0xcc
            .p2align 4, 0x90
            .byte 0xcc
            .p2align 6, , 20
            .byte 0xcc
            .p2align 6, , 60
            .byte 0xcc
            .nops 7
            .nops 30
            .nops 100`],
  ['code', `.code32
            ret
            .p2align 4
            ret
            .p2align 7
            .code16
            ret
            .p2align 3
            ret
            .p2align 5
            ret
            .p2align 8
            .code64`],
  ['code', `a: jmp b
            jne a
            jmp a
            .skip 120
            b: jmp a
            jz c
            .skip 200, 0x90
            c: loop c
            jmp .
            call c
            je 1f
            .rept 40
            movl $1, %eax
            .endr
            1: ret`],
  ['code', `.code32
            d: jmp e
            jc d
            .skip 130
            e: jmp d
            .code16
            jmp f
            jnz f
            .skip 300
            f: jmp f
            jmp d
            .code64`],
  ['code', `movl $(fin - begin), %eax
            begin: addl $(fin - begin), %eax
            subq $3, %rsp
            movl $'A', %ebx
            cmpb $'z' - 'a', %al
            fin: movabsq $0x1122334455667788, %rax
            .equ K, 0x40
            movl K(%rbx), %eax
            movl $K * 2, (%rdi,%rsi,4)
            lea -K(%rbp), %rcx
            later = 7
            leaq later(%rip), %rax`],
  ['data', `.uleb128 0, 1, 127, 128, 255, 624485, 0xffffffff, -1, 1 << 63
            .sleb128 0, 1, -1, 63, 64, -64, -65, 127, -128, -123456, 0x7fffffffffffffff, -0x8000000000000000
            leb_a: .byte 1, 2, 3
            leb_b: .uleb128 leb_b - leb_a, 300 * 2
            .sleb128 leb_a - leb_b`],
];

function sectionName(i: number, kind: 'code' | 'data'): string {
  return kind === 'code' ? `.text.case${i}` : `.data.case${i}`;
}

function buildSource(): string {
  return CASES.map(([kind, src], i) =>
    `.section ${sectionName(i, kind)}, "${kind === 'code' ? 'ax' : 'aw'}"\n${src.split('\n').map((l) => l.trim()).join('\n')}\n.code64\n`,
  ).join('');
}

describe('directives vs GNU as', () => {
  const source = buildSource();
  const names = CASES.map(([kind], i) => sectionName(i, kind));
  const gas = gnuAssemble(source, names);
  const ours = assemble(source, { file: 'cases.s' });

  it('assembles without errors', () => {
    expect(ours.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  CASES.forEach(([kind, src], i) => {
    it(`case ${i} (${kind}): ${src.trim().split('\n')[0].trim().slice(0, 50)}`, () => {
      const mine = ours.object.sections.find((s) => s.name === names[i]);
      expect(mine, `section ${names[i]}`).toBeDefined();
      expect(Buffer.from(mine!.bytes).toString('hex')).toBe(Buffer.from(gas.sections.get(names[i])!).toString('hex'));
    });
  });

  it('gives sections the alignment GNU as records', () => {
    const sec = ours.object.sections.find((s) => s.name === names[5])!;
    expect(sec.alignment).toBe(16);
  });
});

describe('.incbin vs GNU as', () => {
  it('includes a binary file whole, from an offset, and a counted slice, found through the include path', () => {
    const blob = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
    const src = '.data\n.byte 0xaa\n.incbin "blob.bin"\n.incbin "sub/blob.bin", 100\n.incbin "blob.bin", 7, 13\n.byte 0xbb\n';
    const gas = withTemp((dir) => {
      writeFiles(dir, { 'in.s': src, 'blob.bin': blob, 'sub/blob.bin': blob });
      const r = run('as', ['--64', '-o', 'in.o', 'in.s'], dir);
      expect(r.status, r.stderr).toBe(0);
      expect(run('objcopy', ['--dump-section', '.data=data.bin', 'in.o', 'out.o'], dir).status).toBe(0);
      return new Uint8Array(readFileSync(join(dir, 'data.bin')));
    });
    expect(gas.length).toBe(1 + 300 + 200 + 13 + 1);
    const files: Record<string, Uint8Array> = { 'blob.bin': blob, 'sub/blob.bin': blob };
    const ours = assemble(src, { file: 'in.s', readFile: (p) => files[p] });
    expect(ours.diagnostics).toEqual([]);
    const data = ours.object.sections.find((x) => x.name === '.data')!;
    expect(Buffer.from(data.bytes).toString('hex')).toBe(Buffer.from(gas).toString('hex'));
  });

  it('reports a missing file and a count past the end at the directive', () => {
    const r = assemble('.data\n.incbin "nope.bin"\n.incbin "b.bin", 2, 5\n', { file: 'x.s', readFile: (p) => (p === 'b.bin' ? new Uint8Array(4) : undefined) });
    expect(r.diagnostics.map((d) => `${d.line} ${d.severity}`)).toEqual(['2 error', '3 error']);
  });
});
