// Differential tests of the disassembler (and through it the decoder's lengths) against
// GNU objdump 2.40, the oracle: the generated corpus assembled by GNU as, and random bytes.
import { describe, expect, it } from 'vitest';
import { disassemble } from '../../../src/emu/asm/disasm';
import { OPCODES } from '../../../src/emu/cpu/isa/opcodes';
import { generateCorpus } from '../../support/corpus';
import { assembleLinesWithGas, objdumpFirstInstructions, objdumpText, type GasMode } from '../../support/binutils';

const hexBytes = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** "mnemonic: count" lines for failure messages, worst first, with a few examples each. */
function report(mismatches: { key: string; line: string }[]): string {
  const by = new Map<string, string[]>();
  for (const m of mismatches) by.set(m.key, [...(by.get(m.key) ?? []), m.line]);
  return [...by].sort((a, b) => b[1].length - a[1].length)
    .map(([k, ls]) => `${k}: ${ls.length}\n    ${ls.slice(0, 3).join('\n    ')}`).join('\n');
}

const MIN_CORPUS: Record<GasMode, number> = { 64: 3000, 32: 2000, 16: 2000 };

describe.each([64, 32, 16] as const)('corpus in %i-bit mode vs GNU as + objdump', (mode) => {
  const lines = generateCorpus(mode);
  const gas = assembleLinesWithGas(lines, mode);

  it(`has at least ${MIN_CORPUS[mode]} lines, all accepted by GNU as`, () => {
    expect(lines.length).toBeGreaterThanOrEqual(MIN_CORPUS[mode]);
    expect(gas.errors.map((e) => `${lines[e.line - 1]}: ${e.message}`)).toEqual([]);
  });

  it('disassembles every instruction with objdump -d\'s length and text', () => {
    const od = objdumpText(gas.bytes, mode);
    expect(od.length).toBeGreaterThanOrEqual(lines.length);
    const bad: { key: string; line: string }[] = [];
    for (const o of od) {
      const ours = disassemble(gas.bytes, o.offset, BigInt(o.offset), mode);
      if (ours.length !== o.bytes.length || ours.text !== o.text) {
        bad.push({ key: o.text.split(/\s+/)[0], line: `${hexBytes(o.bytes)}: objdump "${o.text}" ours [${ours.length}] "${ours.text}"` });
      }
    }
    expect(bad.length, `mismatches by objdump mnemonic:\n${report(bad)}`).toBe(0);
  });
});

/** xorshift32: deterministic random bytes. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s;
  };
}

/**
 * 15-byte windows: half pure random bytes, half starting with a random form of our table
 * (with random legacy/REX prefixes and ModRM) followed by random bytes.
 */
function randomWindows(mode: GasMode, n: number, seed: number): Uint8Array[] {
  const next = rng(seed);
  const prefixes = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e, 0x26, 0x64, 0x65, 0x36];
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const w = new Uint8Array(15);
    for (let j = 0; j < 15; j++) w[j] = next() & 0xff;
    if (i % 2 === 0) {
      const f = OPCODES[next() % OPCODES.length];
      const b: number[] = [];
      if (next() % 4 === 0) b.push(prefixes[next() % prefixes.length]);
      if (f.prefix) b.push(f.prefix);
      if (mode === 64 && (f.rexW || next() % 3 === 0)) b.push(0x40 | (next() & 15) | (f.rexW ? 8 : 0));
      if (f.map >= 1) b.push(0x0f);
      if (f.map === 2) b.push(0x38);
      if (f.map === 3) b.push(0x3a);
      b.push(f.opcode | (f.plusR ? next() & 7 : 0));
      if (f.modrm >= 0) b.push(f.modrm);
      else if (f.ext >= 0) b.push((next() & 0xc7) | (f.ext << 3));
      b.forEach((x, k) => { w[k] = x; });
    }
    out.push(w);
  }
  return out;
}

const FUZZ: Record<GasMode, number> = { 64: 20000, 32: 10000, 16: 10000 };

describe.each([64, 32, 16] as const)('random bytes in %i-bit mode vs objdump', (mode) => {
  it(`first instruction of ${FUZZ[mode]} random 15-byte windows: same length and text wherever our table decodes it, and (bad) wherever objdump says (bad) (MMX, AVX and other forms outside the table excluded)`, () => {
    const windows = randomWindows(mode, FUZZ[mode], 0x5eed + mode);
    const od = objdumpFirstInstructions(windows, mode);
    const bad: { key: string; line: string }[] = [];
    let compared = 0;
    windows.forEach((w, i) => {
      const o = od[i];
      const ours = disassemble(w, 0, 0n, mode);
      const oursBad = ours.text.endsWith('(bad)');
      const theirsBad = o.text.includes('(bad)');
      if (oursBad && theirsBad) { compared++; return; }
      if (oursBad) return; // outside our table (x87, SSE, AVX, ...): not compared
      compared++;
      if (ours.length !== o.bytes.length || ours.text !== o.text) {
        bad.push({ key: o.text.split(/\s+/)[0], line: `${hexBytes(w.subarray(0, Math.max(ours.length, o.bytes.length)))}: objdump "${o.text}" ours [${ours.length}] "${ours.text}"` });
      }
    });
    expect(compared).toBeGreaterThan(FUZZ[mode] * 0.8);
    expect(bad.length, `mismatches by objdump mnemonic:\n${report(bad)}`).toBe(0);
  });
});

describe('disassembler robustness', () => {
  it('never throws on 100k random byte sequences, lengths 1..15, in every mode', () => {
    const next = rng(42);
    const buf = new Uint8Array(15);
    for (let i = 0; i < 100000; i++) {
      const n = 1 + (next() % 15);
      for (let j = 0; j < n; j++) buf[j] = next() & 0xff;
      const view = buf.subarray(0, n);
      const mode = ([16, 32, 64] as const)[i % 3];
      const r = disassemble(view, 0, BigInt(next()), mode);
      if (r.length < 1 || r.length > 15 || r.text.length === 0) throw new Error(`bad result for ${hexBytes(view)}: ${JSON.stringify(r)}`);
    }
  });

  it('prints symbolized branch targets and RIP-relative comments as objdump does on an ELF', () => {
    const sym = (a: bigint): string | undefined => (a >= 0x401000n ? `foo+0x${(a - 0x401000n).toString(16)}` : undefined);
    const call = Uint8Array.from([0xe8, 0x0b, 0, 0, 0]);
    expect(disassemble(call, 0, 0x401000n, 64, sym).text).toBe('call   401010 <foo+0x10>');
    const lea = Uint8Array.from([0x48, 0x8d, 0x05, 0x09, 0, 0, 0]);
    expect(disassemble(lea, 0, 0x401000n, 64, sym).text).toBe('lea    0x9(%rip),%rax        # 401010 <foo+0x10>');
  });
});

describe('branch targets at high addresses vs objdump', () => {
  // rel8/rel16/rel32 jmp, call and jcc, forward and backward, with and without 66: in 16-bit
  // code a rel16 target wraps inside the 64 KiB segment of the instruction's address.
  const code = Uint8Array.from([
    0xe8, 0x16, 0x00, 0xe8, 0x00, 0x80, 0xe9, 0x30, 0xff, 0xeb, 0x80, 0x75, 0x10,
    0x0f, 0x85, 0x00, 0xf0, 0x66, 0xe8, 0x00, 0x00, 0x00, 0x80, 0x66, 0xe9, 0xf0, 0xff, 0xff, 0xff,
    0xe2, 0xfe, 0xe3, 0x05,
  ]);
  it.each([
    [16, 0x1000aa], [16, 0x10fff0], [16, 0xfffff0], [32, 0x1000aa], [32, 0x7ffffff0], [64, 0x1000aa],
  ] as const)('%i-bit code at 0x%s', (mode, vma) => {
    const od = objdumpText(code, mode, vma);
    expect(od.length).toBeGreaterThan(8);
    const bad: string[] = [];
    for (const o of od) {
      const ours = disassemble(code, o.offset - vma, BigInt(o.offset), mode);
      if (ours.length !== o.bytes.length || ours.text !== o.text) bad.push(`${o.offset.toString(16)}: objdump "${o.text}" ours "${ours.text}"`);
    }
    expect(bad).toEqual([]);
  });
});
