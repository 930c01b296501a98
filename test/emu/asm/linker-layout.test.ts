// Section placement against GNU ld 2.40 over many random layouts: random sizes and
// alignments for .text, .rodata, .data and .bss (some absent), ELF64 and ELF32, aligned and
// unaligned -Ttext bases. This is what exercises ld's DATA_SEGMENT_ALIGN choice between its
// two forms (the "save a page" layout). The same object file (ours) goes to ld and to our
// linker; section addresses, sizes and the loaded bytes must agree.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../src/emu/asm/assembler';
import { writeObject } from '../../../src/emu/asm/elf-writer';
import { link } from '../../../src/emu/asm/linker';
import { run, withTemp, writeFiles } from '../../support/gnu-link';

const LAYOUTS = 200;
const NAMES = ['.text', '.rodata', '.data', '.bss'] as const;
const DIRECTIVE: Record<(typeof NAMES)[number], string> = { '.text': '.text', '.rodata': '.section .rodata', '.data': '.data', '.bss': '.bss' };

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

interface Layout {
  readonly source: string;
  readonly elfClass: 32 | 64;
  readonly base: bigint;
}

/** A program whose sections have random sizes, alignments and fill bytes, with cross-references so addresses show in the bytes. */
function randomLayout(r: (n: number) => number): Layout {
  const elfClass = r(2) ? 64 : 32;
  const bases = [0x100000n, 0x400000n, 0x200000n, 0x7c00n, 0x100000n + BigInt(r(0x1000))];
  const present = NAMES.filter((n) => n === '.text' || r(4) !== 0);
  const labels = present.map((n) => `sym_${n.slice(1)}`);
  const lines = ['.globl _start'];
  for (const name of present) {
    const sizes = [1 + r(0x40), 1 + r(0x1000), 1 + r(0x3000), 0x1000 + r(0x2f000)];
    const size = sizes[r(sizes.length)];
    const aligns = [0, 0, 1, 2, 3, 4, 6, 12, r(13)];
    lines.push(DIRECTIVE[name], `.p2align ${aligns[r(aligns.length)]}`, `sym_${name.slice(1)}:`);
    let used = 0;
    if (name === '.text') {
      lines.push('_start: movl $end_of_bss, %eax', 'ret');
      used = 6;
    } else if (name !== '.bss') {
      lines.push(`.long end_of_bss, ${labels.join(', ')}`);
      used = 4 + 4 * labels.length;
    }
    const rest = Math.max(1, size - used);
    lines.push(name === '.bss' ? `.skip ${rest}` : `.skip ${rest}, ${1 + r(255)}`);
  }
  lines.push('.bss', 'end_of_bss:');
  return { source: `${lines.join('\n')}\n`, elfClass, base: bases[r(bases.length)] };
}

interface Placed {
  readonly name: string;
  readonly address: string;
  readonly size: number;
  /** SHA-1 of the section's file contents (empty for NOBITS): short messages when they differ. */
  readonly bytes: string;
}

/** Allocated sections of each ELF file from one `readelf -SW` over all of them, bytes read from the files. */
function readPlacement(dir: string, files: string[]): Placed[][] {
  const text = run('readelf', ['-SW', ...files], dir).stdout;
  const out: Placed[][] = [];
  const chunks = files.length === 1 ? [text] : text.split(/^File: /m).slice(1);
  chunks.forEach((chunk, i) => {
    const data = readFileSync(join(dir, files[i]));
    const secs: Placed[] = [];
    for (const line of chunk.split('\n')) {
      const m = /^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([A-Za-z]*)\s/.exec(line);
      if (!m || !m[6].includes('A')) continue;
      const size = parseInt(m[5], 16);
      const off = parseInt(m[4], 16);
      const bytes = m[2] === 'NOBITS' ? '' : createHash('sha1').update(data.subarray(off, off + size)).digest('hex');
      if (size > 0) secs.push({ name: m[1], address: m[3].replace(/^0+(?=.)/, ''), size, bytes });
    }
    out.push(secs);
  });
  return out;
}

describe(`linker vs GNU ld on ${LAYOUTS} random section layouts`, () => {
  it('places every section at ld\'s address with ld\'s bytes (DATA_SEGMENT_ALIGN included)', () => {
    const r = rng(20240607);
    const layouts = Array.from({ length: LAYOUTS }, () => randomLayout(r));
    withTemp((dir) => {
      const files: Record<string, Uint8Array> = {};
      const ours: Uint8Array[] = [];
      const script: string[] = ['set -e'];
      layouts.forEach((l, i) => {
        const a = assemble(l.source, { file: `l${i}.s`, elfClass: l.elfClass });
        expect(a.diagnostics.filter((d) => d.severity === 'error'), l.source).toEqual([]);
        files[`l${i}.o`] = writeObject(a.object);
        const res = link([a.object], { base: l.base, format: 'elf' });
        expect(res.errors).toEqual([]);
        ours.push(res.output!);
        files[`ours${i}.elf`] = res.output!;
        script.push(`ld -m ${l.elfClass === 64 ? 'elf_x86_64' : 'elf_i386'} -Ttext=0x${l.base.toString(16)} -o gnu${i}.elf l${i}.o`);
      });
      writeFiles(dir, { ...files, 'link.sh': `${script.join('\n')}\n` });
      const ld = run('sh', ['link.sh'], dir);
      expect(ld.status, ld.stderr).toBe(0);
      const gnu = readPlacement(dir, layouts.map((_, i) => `gnu${i}.elf`));
      const mine = readPlacement(dir, layouts.map((_, i) => `ours${i}.elf`));
      let savedPage = 0;
      layouts.forEach((l, i) => {
        expect(mine[i], `layout ${i} (ELF${l.elfClass}, base 0x${l.base.toString(16)}):\n${l.source}`).toEqual(gnu[i]);
        // Count the layouts where ld chose the page-saving form: the data segment's first
        // section below where ALIGN(MAXPAGESIZE) + (. & (MAXPAGESIZE - 1)) would have put it.
        const ro = [...gnu[i]].reverse().find((s) => s.name === '.text' || s.name === '.rodata')!;
        const roEnd = BigInt(`0x${ro.address}`) + BigInt(ro.size);
        const formA = ((roEnd + 0xfffn) & ~0xfffn) + (roEnd & 0xfffn);
        const data = gnu[i].find((s) => s.name === '.data' || s.name === '.bss');
        if (data && BigInt(`0x${data.address}`) < formA) savedPage++;
      });
      // The random layouts must actually exercise both forms of DATA_SEGMENT_ALIGN.
      expect(savedPage).toBeGreaterThan(10);
      expect(savedPage).toBeLessThan(LAYOUTS - 10);
    });
  });

  it('puts .bss one page lower when that saves a page (issue reproducer)', () => {
    const src = '.globl _start\n.text\n_start: ret\n.skip 0xdee\n.section .rodata\n.skip 0x3d3\n.bss\n.p2align 12\nx: .skip 0x10288\n';
    const a = assemble(src, { file: 'r.s' });
    const res = link([a.object], { base: 0x100000n, format: 'elf' });
    const gnu = withTemp((dir) => {
      writeFiles(dir, { 'r.o': writeObject(a.object) });
      const ld = run('ld', ['-m', 'elf_x86_64', '-Ttext=0x100000', '-o', 'r.elf', 'r.o'], dir);
      expect(ld.status, ld.stderr).toBe(0);
      return readPlacement(dir, ['r.elf'])[0];
    });
    const bss = res.sections.find((s) => s.name === '.bss');
    expect(gnu.find((s) => s.name === '.bss')?.address).toBe('102000');
    expect(bss?.address).toBe(0x102000n);
  });
});
