// The ELF reader against readelf on files GNU as/ld produced, and on broken input: every
// malformed file must end in an ElfError with a one-line message, never another exception.
import { describe, expect, it } from 'vitest';
import { ElfError, parseElf, SHT_NOBITS, STT_SECTION } from '../../../src/emu/loader/elf';
import { gnuBuild, gnuOnFile, withTemp, run, writeFiles } from '../../support/gnu-link';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const SRC = `.globl _start, value
.text
_start: call f
f: ret
.section .rodata
msg: .asciz "hello"
.data
value: .long msg
.bss
.skip 32
`;

const exec64 = gnuBuild({ 'a.s': SRC }, ['a.s'], { base: 0x100000n });
const [exec32, obj64] = withTemp((dir) => {
  writeFiles(dir, { 'a.s': SRC });
  for (const [c, a] of [['as', ['--32', '-o', 'a32.o', 'a.s']], ['ld', ['-m', 'elf_i386', '-Ttext=0x200000', '-o', 'a32.elf', 'a32.o']], ['as', ['--64', '-o', 'a64.o', 'a.s']]] as const) {
    expect(run(c, a, dir).status).toBe(0);
  }
  return ['a32.elf', 'a64.o'].map((f) => new Uint8Array(readFileSync(join(dir, f))));
});

function readelfSections(data: Uint8Array) {
  const out: { name: string; type: string; addr: bigint; offset: number; size: number }[] = [];
  for (const l of gnuOnFile('readelf', ['-SW'], 'f', data).split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(\S*)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(l);
    if (m && m[1] !== '0') out.push({ name: m[2], type: m[3], addr: BigInt(`0x${m[4]}`), offset: parseInt(m[5], 16), size: parseInt(m[6], 16) });
  }
  return out;
}

function readelfSymbols(data: Uint8Array) {
  const out: string[] = [];
  for (const l of gnuOnFile('readelf', ['-sW'], 'f', data).split('\n')) {
    const m = /^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+(\w+)\s+(\w+)\s+\w+\s+\S+\s*(\S*)$/.exec(l);
    if (m && m[2] !== 'SECTION' && !(m[1].match(/^0+$/) && m[4] === '' && m[2] === 'NOTYPE')) out.push(`${BigInt(`0x${m[1]}`).toString(16)} ${m[4]}`);
  }
  return out;
}

describe('ELF reader vs readelf', () => {
  for (const [name, data] of [['ELF64 executable', exec64], ['ELF32 executable', exec32], ['ELF64 relocatable', obj64]] as const) {
    it(name, () => {
      const elf = parseElf(data);
      expect(elf.elfClass).toBe(name.startsWith('ELF64') ? 64 : 32);
      const ours = elf.sections.slice(1).map((s) => ({ name: s.name, addr: s.addr, offset: s.offset, size: s.size, nobits: s.type === SHT_NOBITS }));
      expect(ours).toEqual(readelfSections(data).map((s) => ({ name: s.name, addr: s.addr, offset: s.offset, size: s.size, nobits: s.type === 'NOBITS' })));
      const symbols = elf.symbols.filter((s) => s.type !== STT_SECTION).map((s) => `${s.value.toString(16)} ${s.name}`).filter((x) => !/^0 $/.test(x));
      expect(symbols).toEqual(readelfSymbols(data));
      const loads = gnuOnFile('readelf', ['-lW'], 'f', data).split('\n').filter((l) => /^\s*LOAD/.test(l)).length;
      expect(elf.segments.filter((s) => s.type === 1)).toHaveLength(loads);
    });
  }
  it('reads the entry point', () => {
    expect(parseElf(exec64).entry).toBe(0x100000n);
    expect(parseElf(exec32).entry).toBe(0x200000n);
  });
});

describe('malformed input', () => {
  const expectElfError = (data: Uint8Array, re: RegExp) => {
    let err: unknown;
    try {
      parseElf(data);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ElfError);
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).not.toContain('\n');
  };

  it('says clearly that a file is not ELF', () => {
    expectElfError(new TextEncoder().encode('.text\nnop\n'), /^not an ELF file/);
    expectElfError(new Uint8Array(0), /^not an ELF file/);
  });

  it('rejects truncated files', () => {
    expectElfError(exec64.slice(0, 10), /truncated/);
    expectElfError(exec64.slice(0, 40), /truncated/);
    expectElfError(exec64.slice(0, 200), /truncated or malformed/);
    expectElfError(exec64.slice(0, exec64.length - 100), /truncated or malformed/);
  });

  it('rejects other machines and big-endian files', () => {
    const arm = new Uint8Array(exec64);
    arm[18] = 40;
    expectElfError(arm, /wrong machine: e_machine is 40/);
    const be = new Uint8Array(exec64);
    be[5] = 2;
    expectElfError(be, /big-endian/);
    const cls = new Uint8Array(exec64);
    cls[4] = 7;
    expectElfError(cls, /invalid ELF class 7/);
  });

  it('never throws anything but ElfError on corrupted files (fuzz)', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const src = [exec64, exec32, obj64][i % 3];
      const d = new Uint8Array(src.slice(0, rnd(4) === 0 ? rnd(src.length) : src.length));
      // Corrupt a few bytes, mostly in the headers where the offsets live.
      for (let k = 0; k < 1 + rnd(6); k++) {
        const at = rnd(3) === 0 ? rnd(d.length || 1) : rnd(Math.min(d.length, 64) || 1);
        if (at < d.length) d[at] = rnd(256);
      }
      try {
        parseElf(d);
        parsed++;
      } catch (e) {
        if (!(e instanceof ElfError)) throw new Error(`iteration ${i}: ${String(e)}`);
      }
    }
    expect(parsed).toBeGreaterThan(0);
  });
});
