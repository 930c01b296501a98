// Round trip through our own toolchain: AT&T line → encodeInstruction → bytes → disassemble
// (objdump-style text) → parse → encodeInstruction → the same bytes. Lines are the table
// corpus with their constants (immediates, displacements) replaced by random values, so the
// encoder's size choices (imm8 vs imm32, disp8 vs disp32, rel8 vs rel32) are exercised on
// values nobody picked by hand.
import { describe, expect, it } from 'vitest';
import { EncodeError, type CodeMode, type Encoded, type Instruction } from '../../../src/emu/asm/ast';
import { disassemble } from '../../../src/emu/asm/disasm';
import { encodeInstruction, isRelaxableBranch } from '../../../src/emu/asm/encoder';
import { generateCorpus } from '../../support/corpus';
import { DOT, parseLine } from '../../support/parse-line';

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Replace each hex constant by a random one of a random width (1, 2, 4 or 8 bytes). */
function mutate(line: string, rand: () => number): string {
  return line.replace(/(-?)0x[0-9a-f]+/g, (m, sign: string) => {
    if (rand() < 0.3) return m;
    const bytes = [1, 1, 2, 4, 4, 8][Math.floor(rand() * 6)];
    let v = 0n;
    for (let i = 0; i < bytes; i++) v = (v << 8n) | BigInt(Math.floor(rand() * 256));
    if (bytes === 8) v &= 0x7fffffffffffffffn;
    return `${sign}0x${v.toString(16)}`;
  });
}

/**
 * Encode as the front end would at address `addr`: relaxable branches short when they reach.
 * Lines GNU as would warn about ("0x12345 shortened to 0x2345") lose information, so they
 * are not expected to round-trip: `lossy` reports them.
 */
function encodeAt(insn: Instruction, mode: CodeMode, addr: number, lossy?: { warned: boolean }): number[] {
  const near = encodeInstruction(insn, { mode, branch: 'near' });
  if (lossy) lossy.warned = near.warnings.some((w) => w.includes('shortened'));
  let enc: Encoded = near;
  if (isRelaxableBranch(insn)) {
    const short = encodeInstruction(insn, { mode, branch: 'short' });
    const f = short.fixups[0];
    const target = (f.value.symbol === DOT ? BigInt(addr) : 0n) + f.value.addend;
    const disp = target - BigInt(addr + short.bytes.length);
    if (f.value.symbol === DOT || f.value.symbol === undefined) {
      if (disp >= -128n && disp <= 127n) enc = short;
    }
  }
  const bytes = Array.from(enc.bytes);
  for (const f of enc.fixups) {
    if (f.value.symbol !== DOT && f.value.symbol !== undefined) throw new Error(`unexpected symbol ${f.value.symbol}`);
    const base = f.value.symbol === DOT ? BigInt(addr) : 0n;
    const v = base + f.value.addend - (f.pcrel ? BigInt(addr + bytes.length) : 0n);
    for (let i = 0; i < f.size; i++) bytes[f.offset + i] = Number((BigInt.asUintN(64, v) >> BigInt(8 * i)) & 0xffn);
  }
  return bytes;
}

const hex = (b: readonly number[]) => b.map((x) => x.toString(16).padStart(2, '0')).join(' ');
const ADDR = 0x1000;

describe('asm → bytes → disasm → asm round trip', () => {
  for (const mode of [16, 32, 64] as const) {
    it(`.code${mode}: random corpus instructions`, () => {
      const rand = rng(0x5eed + mode);
      const failures: string[] = [];
      let tried = 0;
      let roundTripped = 0;
      for (const original of generateCorpus(mode)) {
        const line = mutate(original, rand);
        let first: number[];
        const lossy = { warned: false };
        try {
          first = encodeAt(parseLine(line), mode, ADDR, lossy);
        } catch (e) {
          if (e instanceof EncodeError) continue; // the random value does not fit this form
          throw e;
        }
        if (lossy.warned) continue;
        tried++;
        const d = disassemble(Uint8Array.from(first), 0, BigInt(ADDR), mode);
        // objdump prints %eiz/%riz for a SIB without index; the shared register table has no such names.
        if (/%[er]iz/.test(d.text)) continue;
        const text = d.text.replace(/\s+#.*$/, '');
        let second: string;
        try {
          second = hex(encodeAt(parseLine(text), mode, ADDR));
        } catch (e) {
          second = `error: ${(e as Error).message}`;
        }
        if (d.length !== first.length || second !== hex(first)) {
          failures.push(`${line}\n    bytes: ${hex(first)}\n    disasm: ${d.text} (${d.length} bytes)\n    again: ${second}`);
        } else {
          roundTripped++;
        }
      }
      expect(failures, `${failures.length} of ${tried} failed:\n${failures.slice(0, 40).join('\n')}`).toEqual([]);
      expect(roundTripped).toBeGreaterThan(tried * 0.95);
    });
  }
});
