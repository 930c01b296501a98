// The linker against `ld -Ttext=BASE` (GNU ld 2.40, default script): every program built
// with GNU as + ld and with our assembler + linker must load the same bytes at the same
// addresses, with the same PT_LOAD segments (ld's extra segment holding only the ELF
// headers aside), and the same symbols.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../src/emu/asm/assembler';
import { link } from '../../../src/emu/asm/linker';
import type { ObjectFile } from '../../../src/emu/asm/object';
import { gnuBuild, gnuOnFile, loadedImage, loadedSections, loadSegments } from '../../support/gnu-link';

function ourBuild(files: Record<string, string>, mains: string[], base: bigint, format: 'elf' | 'bin' = 'elf', entry?: string) {
  const objects: ObjectFile[] = mains.map((m) => {
    const r = assemble(files[m], { file: m, readFile: (p) => files[p] });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return r.object;
  });
  const res = link(objects, { base, format, entry });
  expect(res.errors).toEqual([]);
  return res;
}

/** PT_LOAD segments that hold sections (ld also maps the ELF headers in a segment of their own). */
function contentSegments(elf: Uint8Array) {
  const secs = loadedSections(elf).filter((s) => s.size > 0);
  return loadSegments(elf).filter((seg) => secs.some((s) => s.address >= seg.vaddr && s.address < seg.vaddr + BigInt(Math.max(seg.memsz, 1))));
}

const nm = (elf: Uint8Array) => gnuOnFile('nm', [], 'x.elf', elf).split('\n').filter((l) => l).sort();

function compare(files: Record<string, string>, mains: string[], base: bigint, cpp = false) {
  const gnu = gnuBuild(files, mains, { base, cpp });
  const ours = ourBuild(files, mains, base).output!;
  expect(loadedImage(ours)).toEqual(loadedImage(gnu));
  expect(contentSegments(ours)).toEqual(contentSegments(gnu));
  expect(nm(ours)).toEqual(nm(gnu));
  return { gnu, ours };
}

const MULTI = {
  'a.s': `
        .globl _start
        .section .text.startup, "ax"
boot:   jmp _start
        .text
_start: call f
        movl $data_word, %eax
        movq rodata_ptr(%rip), %rbx
        jmp boot
        .p2align 4
loop:   decl %ecx
        jnz loop
        .section .rodata.str, "a"
str:    .asciz "string"
        .section .rodata
        .p2align 3
rodata_ptr: .quad str
        .section .mydata, "aw"
        .long 0x11111111
        .section .myrodata, "a"
        .long 0x22222222
        .section .mytext, "ax"
        ret
        .data
        .byte 1
        .p2align 4
data_word: .long 0xabcdef
        .section .data.more, "aw"
        .quad _start
        .bss
        .skip 3
        .section .bss.big, "aw", @nobits
        .p2align 5
        .skip 100
        .section .mybss, "aw", @nobits
        .skip 10
`,
  'b.s': `
        .globl f
        .text
        nop
f:      ret
        .data
        .word 0x3333
        .section .rodata
        .byte 0x44
`,
};

describe('linker vs GNU ld -Ttext', () => {
  it('places text, rodata, data, bss and orphans like ld (two objects)', () => {
    compare(MULTI, ['a.s', 'b.s'], 0x400000n);
  });

  it('handles a program with only .text, and an unaligned base', () => {
    compare({ 't.s': '.globl _start\n_start: jmp _start\n.long _end, _edata, __bss_start\n' }, ['t.s'], 0x100010n);
  });

  it('resolves ld-script symbols (_edata, _end, __bss_start, etext)', () => {
    compare({ 's.s': '.globl _start\n_start: .quad _edata, _end, __bss_start, etext\n.data\n.byte 1\n.bss\n.skip 13\n' }, ['s.s'], 0x100000n);
  });

  it('raw binary output equals objcopy -O binary of the GNU executable', () => {
    const files = { 'a.s': MULTI['a.s'], 'b.s': MULTI['b.s'] };
    const gnu = gnuBuild(files, ['a.s', 'b.s'], { base: 0x400000n });
    const gnuBin = Buffer.from(gnuOnFile('sh', ['-c', 'objcopy -O binary "$0" out.bin && od -An -v -tx1 out.bin'], 'x.elf', gnu).replace(/\s+/g, ''), 'hex');
    const ours = ourBuild(files, ['a.s', 'b.s'], 0x400000n, 'bin').output!;
    expect(Buffer.from(ours).toString('hex')).toBe(gnuBin.toString('hex'));
  });

  it('reports undefined and duplicate symbols without writing anything', () => {
    const a = assemble('.globl _start, dup\n_start: call missing\ndup: ret\n', { file: 'a.s' }).object;
    const b = assemble('.globl dup\ndup: ret\n', { file: 'b.s' }).object;
    const res = link([a, b], { base: 0x100000n, format: 'elf', names: ['a.o', 'b.o'] });
    expect(res.output).toBeUndefined();
    expect(res.errors).toEqual([
      "b.o: multiple definition of `dup'; first defined in a.o",
      "a.o:(.text+0x1): undefined reference to `missing'",
    ]);
  });

  it('warns like ld when there is no entry symbol, and honours --entry', () => {
    const o = assemble('foo: nop\nbar: ret\n', { file: 'a.s' }).object;
    expect(link([o], { base: 0x100000n, format: 'elf' }).warnings).toEqual(['cannot find entry symbol _start; defaulting to 0x0000000000100000']);
    const res = link([o], { base: 0x100000n, format: 'elf', entry: 'bar' });
    expect(res.warnings).toEqual([]);
    expect(res.entry).toBe(0x100001n);
  });
});

describe('guests/ build identically with GNU as + ld and with ours', () => {
  // A guest program is a .S file that no other .S includes, outside guests/lib (shared parts).
  const root = join(__dirname, '../../../guests');
  const files: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const f of readdirSync(join(root, rel))) {
      const p = rel ? `${rel}/${f}` : f;
      if (statSync(join(root, p)).isDirectory()) walk(p);
      else if (/\.(S|s|h|inc)$/.test(f)) files[p] = readFileSync(join(root, p), 'utf8');
    }
  };
  walk('');
  const included = new Set<string>();
  for (const [p, text] of Object.entries(files)) {
    for (const m of text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) included.add(join(p, '..', m[1]).replace(/^\.\//, ''));
  }
  const mains = Object.keys(files).filter((p) => /\.S$/.test(p) && !included.has(p) && !p.startsWith('lib/')).sort();

  it('has guest programs, hello among them', () => expect(mains).toContain('hello/hello.S'));
  for (const main of mains) {
    it(main, () => {
      const gnu = gnuBuild(files, [main], { base: 0x100000n, cpp: true });
      const r = assemble(files[main], { file: main, readFile: (p) => files[p] });
      expect(r.diagnostics).toEqual([]);
      const res = link([r.object], { base: 0x100000n, format: 'elf' });
      expect(res.errors).toEqual([]);
      expect(loadedImage(res.output!)).toEqual(loadedImage(gnu));
      expect(contentSegments(res.output!).map((s) => [s.vaddr, s.memsz])).toEqual(contentSegments(gnu).map((s) => [s.vaddr, s.memsz]));
      // A Multiboot kernel entered in 32-bit code comes out as ELF32 (what GRUB and QEMU load).
      const entryMode = r.object.symbols.find((s) => s.name === '_start')?.mode;
      expect(res.elfClass).toBe(entryMode === 32 ? 32 : 64);
      expect(gnuOnFile('readelf', ['-h'], 'x.elf', res.output!)).toMatch(entryMode === 32 ? /Class:\s+ELF32/ : /Class:\s+ELF64/);
    });
  }
});
