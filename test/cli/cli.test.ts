// The vmx-lab command line, run in-process: asm, disasm (against objdump -d on files GNU
// built), demo, usage and error handling (exit status, one-line messages, no stack traces).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliCaptured, type CliCapture } from '../support/cli-capture';
import { gnuBuild, gnuOnFile, loadedImage, normalizeListing, run, withTemp, writeFiles } from '../support/gnu-link';

const GUESTS = join(__dirname, '../../guests');

function cli(argv: string[], files: Record<string, Uint8Array | string> = {}): CliCapture {
  return runCliCaptured(argv, { files });
}

const helloDir = join(GUESTS, 'hello');
const helloSources = { 'hello.S': readFileSync(join(helloDir, 'hello.S'), 'utf8'), 'hello.h': readFileSync(join(helloDir, 'hello.h'), 'utf8') };
const gnuHello = gnuBuild(helloSources, ['hello.S'], { base: 0x100000n, cpp: true });

function objdump(args: string[], name: string, data: Uint8Array): string {
  return gnuOnFile('objdump', args, name, data);
}

describe('vmx-lab asm', () => {
  it('assembles and links the hello guest to the same loaded bytes as GNU as + ld', () => {
    const r = cli(['asm', join(helloDir, 'hello.S'), '-o', 'hello.elf']);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(loadedImage(r.written.get('hello.elf')!)).toEqual(loadedImage(gnuHello));
  });

  it('honours --base, --format bin, -D and -I', () => {
    const files = { 'm.S': '#include "c.h"\n.globl _start\n_start: movl $VALUE, %eax\n.long EXTRA\n', 'inc/c.h': '#define VALUE 0x1234\n' };
    const r = cli(['asm', 'm.S', '-o', 'm.bin', '--base', '0x7c00', '--format', 'bin', '-D', 'EXTRA=0x55', '-I', 'inc'], files);
    expect(r.err).toBe('');
    expect(Buffer.from(r.written.get('m.bin')!).toString('hex')).toBe('b83412000055000000');
  });

  it('links several files and writes relocatable objects with -c', () => {
    const files = { 'a.s': '.globl _start\n_start: call f\n', 'b.s': '.globl f\nf: ret\n' };
    const linked = cli(['asm', 'a.s', 'b.s', '-o', 'ab.elf', '--base=0x200000'], files);
    expect(linked.status).toBe(0);
    const obj = cli(['asm', '-c', 'a.s', '-o', 'a.o'], files);
    expect(obj.status).toBe(0);
    expect(gnuOnFile('nm', [], 'a.o', obj.written.get('a.o')!)).toMatch(/T _start[\s\S]*U f|U f[\s\S]*T _start/);
  });

  it('prints every located error and writes nothing', () => {
    const r = cli(['asm', 'bad.s', '-o', 'bad.elf'], { 'bad.s': 'nop\nbogus %eax\n.byte 1\nmovl %eax\n' });
    expect(r.status).toBe(1);
    expect(r.written.size).toBe(0);
    expect(r.err.split('\n').filter((l) => l)).toEqual([
      "bad.s:2:1: no such instruction: `bogus'",
      expect.stringMatching(/^bad\.s:4:1: /),
      'vmx-lab: 2 errors; nothing written',
    ]);
  });

  it('reports link errors, usage errors and unwritable output in one line each', () => {
    const undef = cli(['asm', 'u.s', '-o', 'u.elf'], { 'u.s': '.globl _start\n_start: jmp nowhere\n' });
    expect(undef.status).toBe(1);
    expect(undef.err).toContain("undefined reference to `nowhere'");
    expect(cli(['asm', 'u.s']).status).toBe(2);
    expect(cli(['asm', '-o', 'x']).err).toBe('vmx-lab: asm: no input files\n');
    expect(cli(['asm', 'x.s', '-o', 'x', '--base', 'zz']).err).toMatch(/^vmx-lab: --base: invalid address `zz'/);
    expect(cli(['asm', 'missing.s', '-o', 'x']).err).toBe('vmx-lab: missing.s: cannot read file\n');
    const nowrite = cli(['asm', 'ok.s', '-o', '/nonexistent/x'], { 'ok.s': '.globl _start\n_start: ret\n' });
    expect(nowrite.status).toBe(1);
    expect(nowrite.err).toBe('vmx-lab: /nonexistent/x: cannot write file (ENOENT)\n');
  });

  it('makes linker symbols visible to objdump', () => {
    const r = cli(['asm', join(helloDir, 'hello.S'), '-o', 'h.elf']);
    const syms = objdump(['-t'], 'h.elf', r.written.get('h.elf')!);
    const gnuSyms = objdump(['-t'], 'h.elf', gnuHello);
    const pick = (t: string) => t.split('\n').filter((l) => /\s(_start|long_mode|serial_puts|message|_end|_edata)$/.test(l)).map((l) => `${BigInt(`0x${l.split(' ')[0]}`)} ${l.split(/\s+/).pop()}`).sort();
    expect(pick(syms)).toHaveLength(6);
    expect(pick(syms)).toEqual(pick(gnuSyms));
  });
});

describe('vmx-lab disasm', () => {
  const same = (ours: string, theirs: string) => expect(normalizeListing(ours)).toBe(normalizeListing(theirs));

  it('prints a GNU-built ELF64 exactly as objdump -d', () => {
    const r = cli(['disasm', 'hello.elf'], { 'hello.elf': gnuHello });
    expect(r.status).toBe(0);
    same(r.out, objdump(['-d'], 'hello.elf', gnuHello));
  });

  it('prints GNU-built ELF32 executables and relocatable objects as objdump -d', () => {
    const src = '.globl _start\n_start: movl $msg, %esi\n1: loop 1b\ncall f\n.skip 20\nf: ret\n.byte 0, 0\n.section .text.b, "ax"\nnop\nlock incl (%ebx)\n.data\nmsg: .long 1\n';
    withTemp((dir) => {
      writeFiles(dir, { 's.s': src });
      for (const [c, a] of [['as', ['--32', '-o', 's.o', 's.s']], ['ld', ['-m', 'elf_i386', '-Ttext=0x8000', '-o', 's.elf', 's.o']], ['as', ['--64', '-o', 's64.o', 's.s']]] as const) {
        expect(run(c, a, dir).status).toBe(0);
      }
      for (const f of ['s.elf', 's.o', 's64.o']) {
        const data = new Uint8Array(readFileSync(join(dir, f)));
        same(cli(['disasm', f], { [f]: data }).out, objdump(['-d'], f, data));
      }
    });
  });

  it('--start and --stop select addresses like objdump --start-address/--stop-address', () => {
    const r = cli(['disasm', 'hello.elf', '--start', '0x100020', '--stop', '0x100040'], { 'hello.elf': gnuHello });
    same(r.out, objdump(['-d', '--start-address=0x100020', '--stop-address=0x100040'], 'hello.elf', gnuHello));
  });

  it('disassembles raw bytes from --base in each mode like objdump -b binary -D', () => {
    const text = cli(['asm', join(helloDir, 'hello.S'), '-o', 'h.bin', '--format', 'bin']).written.get('h.bin')!.subarray(0x20, 0x115);
    for (const [mode, arch] of [['64', 'i386:x86-64'], ['32', 'i386'], ['16', 'i8086']] as const) {
      const r = cli(['disasm', 'code.bin', '--base', '0x7c00', '--mode', mode], { 'code.bin': text });
      expect(r.status).toBe(0);
      same(r.out, objdump(['-b', 'binary', '-m', arch, '-D', '--adjust-vma=0x7c00'], 'code.bin', text));
    }
  });

  it('says clearly when a file is not ELF, and explains --base', () => {
    const r = cli(['disasm', 'notes.txt'], { 'notes.txt': 'hello\n' });
    expect(r.status).toBe(1);
    expect(r.err).toBe('vmx-lab: notes.txt: not an ELF file (to disassemble it as raw bytes, give the load address with --base ADDR)\n');
    const t = cli(['disasm', 'cut.elf'], { 'cut.elf': gnuHello.subarray(0, 300) });
    expect(t.status).toBe(1);
    expect(t.err).toMatch(/^vmx-lab: cut\.elf: truncated or malformed ELF file: .*\n$/);
  });

  it('survives random bytes (fuzz) in every mode', () => {
    let seed = 99;
    const bytes = new Uint8Array(20000).map(() => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 24;
    });
    for (const mode of ['16', '32', '64']) {
      const r = cli(['disasm', 'r.bin', '--base', '0', '--mode', mode], { 'r.bin': bytes });
      expect(r.err).toBe('');
      expect(r.status).toBe(0);
      expect(r.out.split('\n').length).toBeGreaterThan(1000);
    }
  });
});

describe('vmx-lab demo and help', () => {
  it('demo assembles the bundled guest and shows its disassembly', () => {
    const r = cli(['demo']);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/ELF32, entry 0x100020/);
    expect(r.out).toMatch(/<_start>:\n\s+100020:\s+fa\s+cli/);
  });

  it('--help lists the commands; unknown commands are usage errors', () => {
    const h = cli(['--help']);
    expect(h.status).toBe(0);
    expect(h.out).toMatch(/asm FILE\.\.\. -o OUT/);
    expect(h.out).toMatch(/disasm FILE/);
    const u = cli(['frobnicate']);
    expect(u.status).toBe(2);
    expect(u.err).toBe("vmx-lab: unknown command `frobnicate' (try vmx-lab --help)\n");
  });
});
