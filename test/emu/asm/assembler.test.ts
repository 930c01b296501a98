// The assembler as a whole: error reporting (located, all of them, never a throw), and the
// relocatable objects it writes, which GNU ld must link into the same image as GNU as's.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../src/emu/asm/assembler';
import { writeObject } from '../../../src/emu/asm/elf-writer';
import { gnuOnFile, loadedImage, run, withTemp, writeFiles } from '../../support/gnu-link';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** 10 statements GNU as rejects with an Error (not a warning), spread over 50 lines. */
const BAD: Record<number, string> = {
  3: 'movl %eax',
  8: 'foo: nop',
  11: '.unknowndirective 1',
  15: 'movl $1, %eax, %ebx',
  19: '.balign 3',
  24: 'movl %rax, %ebx',
  30: 'bogusinsn %eax',
  36: 'movb $1, (%eax, %ebx, 3)',
  41: 'movl (%rax,%rsp), %eax',
  47: '.long undefined_thing * 2',
};

function fiftyLines(): string {
  const lines: string[] = [];
  for (let i = 1; i <= 50; i++) {
    if (i === 1) lines.push('.text');
    else if (i === 2) lines.push('foo: nop');
    else lines.push(BAD[i] ?? ['nop', 'movl $1, %eax', 'addq %rax, %rbx', '.byte 1, 2', 'ret'][i % 5]);
  }
  return `${lines.join('\n')}\n`;
}

describe('error reporting', () => {
  it('a 50-line file with 10 errors gets 10 located messages, on the lines GNU as reports', () => {
    const src = fiftyLines();
    const gasLines = withTemp((dir) => {
      writeFiles(dir, { 'bad.s': src });
      const r = run('as', ['--64', '-o', 'bad.o', 'bad.s'], dir);
      return [...r.stderr.matchAll(/^bad\.s:(\d+): Error:/gm)].map((m) => Number(m[1])).sort((a, b) => a - b);
    });
    const r = assemble(src, { file: 'bad.s' });
    const errors = r.diagnostics.filter((d) => d.severity === 'error');
    expect(gasLines).toHaveLength(10);
    expect(errors.map((d) => d.line).sort((a, b) => a - b)).toEqual(gasLines);
    const lines = src.split('\n');
    for (const d of errors) {
      expect(d.file).toBe('bad.s');
      expect(d.col).toBeGreaterThanOrEqual(1);
      expect(d.col).toBeLessThanOrEqual(lines[d.line - 1].length + 1);
      expect(d.message.length).toBeGreaterThan(5);
    }
  });

  it('reports errors in included files and macros at their own lines', () => {
    const files: Record<string, string> = { 'inc.s': 'nop\nbadinsn\n' };
    const r = assemble('.include "inc.s"\n.macro m\nnop\nalsobad %eax\n.endm\nm\n', { file: 'main.s', readFile: (p) => files[p] });
    expect(r.diagnostics.map((d) => `${d.file}:${d.line}`)).toEqual(['inc.s:2', 'main.s:4']);
  });

  it('explains unsupported syntax and unterminated blocks', () => {
    const r = assemble('.intel_syntax noprefix\nmov eax, 1\n.macro x\nnop\n', { file: 'i.s' });
    const msgs = r.diagnostics.map((d) => `${d.line}: ${d.message}`);
    expect(msgs[0]).toMatch(/^1: \.intel_syntax is not supported yet/);
    expect(msgs.some((m) => /^3: missing \.endm/.test(m))).toBe(true);
  });

  it('never throws, whatever the input (fuzz)', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const atoms = ['mov', 'movl', '%eax', '%rax', '$', '(', ')', ',', ':', '1', '0x10', 'foo', '.byte', '.long', '.rept', '.endr',
      '.macro', '.endm', '.if', '.endif', '.else', '"s"', "'a", '+', '-', '*', '/', '%', '<<', '1b', '1f', '.', '=', ';', '#', '/*', '*/',
      '.section', '.align', '.org', '.space', 'jmp', 'call', 'lock', 'rep', '\\', '@', '.irp', '.set', '.equ', '%cs', '.code16', '\t'];
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(Array.from({ length: 1 + rnd(8) }, () => atoms[rnd(atoms.length)]).join(rnd(2) ? ' ' : ''));
    for (let k = 0; k < 6; k++) {
      const chunk = lines.slice(k * 500, (k + 1) * 500).join('\n');
      expect(() => assemble(chunk, { file: 'fuzz.s' })).not.toThrow();
      expect(() => assemble(chunk, { file: 'fuzz.S' })).not.toThrow();
    }
  });
});

const PROGRAM_A = `
        .globl _start, shared
        .text
_start: movq $message, %rsi
        leaq message(%rip), %rdi
        call helper
        call external_fn
        jmp external_fn
        movl table+8, %eax
        movl $end_of_data - table, %ecx
        jmp local_far
        .section .text.other, "ax"
local_far:
        movabsq $table, %rax
        jmp _start
        .section .rodata
message: .asciz "hi"
        .data
table:  .quad _start, message, helper, external_fn
        .long message - .
        .word 7
end_of_data:
shared: .long 42
        .bss
        .lcomm buffer, 64
`;
const PROGRAM_B = `
        .globl helper, external_fn
        .text
helper: movl shared(%rip), %eax
        ret
external_fn:
        ret
`;

describe('relocatable objects', () => {
  it('GNU ld links our objects into the same image as GNU as objects', () => {
    const ours = [PROGRAM_A, PROGRAM_B].map((src, i) => {
      const r = assemble(src, { file: `p${i}.s` });
      expect(r.diagnostics).toEqual([]);
      return writeObject(r.object);
    });
    const images = withTemp((dir) => {
      writeFiles(dir, { 'a.s': PROGRAM_A, 'b.s': PROGRAM_B, 'oa.o': ours[0], 'ob.o': ours[1] });
      for (const [cmd, args] of [
        ['as', ['--64', '-o', 'ga.o', 'a.s']], ['as', ['--64', '-o', 'gb.o', 'b.s']],
        ['ld', ['-m', 'elf_x86_64', '-Ttext=0x200000', '-o', 'g.elf', 'ga.o', 'gb.o']],
        ['ld', ['-m', 'elf_x86_64', '-Ttext=0x200000', '-o', 'o.elf', 'oa.o', 'ob.o']],
      ] as const) {
        const r = run(cmd, args, dir);
        expect(r.status, `${cmd} ${args.join(' ')}: ${r.stderr}`).toBe(0);
      }
      return ['g.elf', 'o.elf'].map((f) => new Uint8Array(readFileSync(join(dir, f))));
    });
    expect(loadedImage(images[1])).toEqual(loadedImage(images[0]));
  });

  it('has the same symbols as GNU as (nm)', () => {
    const r = assemble(PROGRAM_A, { file: 'a.s' });
    const nm = (o: Uint8Array) => gnuOnFile('nm', [], 'x.o', o).split('\n').filter((l) => l).sort();
    const gas = withTemp((dir) => {
      writeFiles(dir, { 'a.s': PROGRAM_A });
      run('as', ['--64', '-o', 'a.o', 'a.s'], dir);
      return new Uint8Array(readFileSync(join(dir, 'a.o')));
    });
    expect(nm(writeObject(r.object))).toEqual(nm(gas));
  });

  it('ELF32 objects (as --32) link with ld -m elf_i386 to the same image', () => {
    const src = `.globl _start\n_start: movl $msg, %esi\ncall f\njmp _start\nf: ret\n.data\nmsg: .long msg, f\n.byte 1\n`;
    const r = assemble(src, { file: 'x.s', elfClass: 32 });
    expect(r.diagnostics).toEqual([]);
    const images = withTemp((dir) => {
      writeFiles(dir, { 'x.s': src, 'o.o': writeObject(r.object) });
      for (const [cmd, args] of [
        ['as', ['--32', '-o', 'g.o', 'x.s']],
        ['ld', ['-m', 'elf_i386', '-Ttext=0x100000', '-o', 'g.elf', 'g.o']],
        ['ld', ['-m', 'elf_i386', '-Ttext=0x100000', '-o', 'o.elf', 'o.o']],
      ] as const) expect(run(cmd, args, dir).status).toBe(0);
      return ['g.elf', 'o.elf'].map((f) => new Uint8Array(readFileSync(join(dir, f))));
    });
    expect(loadedImage(images[1])).toEqual(loadedImage(images[0]));
  });
});

/** `readelf -rW` relocation lines as "offset type symbol+addend", sorted by offset. */
function relocations(obj: Uint8Array): string[] {
  return gnuOnFile('readelf', ['-rW'], 'x.o', obj).split('\n')
    .map((l) => /^([0-9a-f]+)\s+[0-9a-f]+\s+(R_\S+)\s+[0-9a-f]+\s+(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2]} ${m[3].replace(/\s+/g, '')}`)
    .sort();
}

describe('relocation types', () => {
  // Direct branches to global, weak and undefined symbols (R_X86_64_PLT32 in 64-bit code with
  // no addend), indirect and RIP-relative operands (PC32), 16/32-bit code in an ELF64 object,
  // global symbols defined in this section (a call stays relocated, a relaxed jmp does not).
  const SRC = `.globl g
call foo
call foo+4
jmp foo
jne foo
jmp foo-4
call *foo(%rip)
jmp *foo(%rip)
call g
jmp g
je g
leaq g(%rip), %rax
call loc2
.weak w
call w
jmp w
.long g - .
.code32
call foo
jmp foo
.code16
call foo
jmp foo
.code64
g: ret
.section .text.other,"ax"
loc2: ret
`;
  it('are those GNU as 2.40 writes (readelf -r)', () => {
    const r = assemble(SRC, { file: 'r.s' });
    expect(r.diagnostics).toEqual([]);
    const gas = withTemp((dir) => {
      writeFiles(dir, { 'r.s': SRC });
      expect(run('as', ['--64', '-o', 'r.o', 'r.s'], dir).status).toBe(0);
      return new Uint8Array(readFileSync(join(dir, 'r.o')));
    });
    const theirs = relocations(gas);
    expect(theirs.some((l) => l.includes('R_X86_64_PLT32'))).toBe(true);
    expect(relocations(writeObject(r.object))).toEqual(theirs);
  });
});

describe('encoder warnings', () => {
  it('are reported as located warnings, as GNU as prints its "Warning:" lines', () => {
    const src = [
      '.text', 'movb $0x100, %al', 'addl $1, %eax', 'add $1, (%rax)', 'jmp %rax', 'call (%rbx)',
      'movw $0x12345, %ax', 'nop', 'stos', '1: jmp 1b', 'inc (%rcx)', '',
    ].join('\n');
    const gas = withTemp((dir) => {
      writeFiles(dir, { 'w.s': src });
      const r = run('as', ['--64', '-o', 'w.o', 'w.s'], dir);
      expect(r.status).toBe(0);
      return [...r.stderr.matchAll(/^w\.s:(\d+): Warning: (.*)$/gm)].map((m) => `${m[1]}: ${m[2]}`);
    });
    expect(gas.length).toBeGreaterThanOrEqual(5);
    const r = assemble(src, { file: 'w.s' });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ours = r.diagnostics.filter((d) => d.severity === 'warning');
    expect(ours.map((d) => `${d.line}: ${d.message}`)).toEqual(gas);
    for (const d of ours) expect(d.file).toBe('w.s');
  });
});
