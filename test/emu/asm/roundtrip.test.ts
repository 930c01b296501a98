// Round trip through our own toolchain: AT&T line → encodeInstruction → bytes → disassemble
// (objdump-style text) → parse → encodeInstruction → the same bytes. Lines are the table
// corpus with their constants (immediates, displacements) replaced by random values, so the
// encoder's size choices (imm8 vs imm32, disp8 vs disp32, rel8 vs rel32) are exercised on
// values nobody picked by hand.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * %riz/%eiz, the "no index" SIB encoding objdump prints: GNU as accepts them with
 * -mindex-reg. Ours must assemble them to GNU as's bytes, and disassemble those bytes to text
 * that assembles back to them.
 */
describe('%riz / %eiz (SIB without index) vs GNU as -mindex-reg', () => {
  const LINES: Record<CodeMode, string[]> = {
    64: [
      'lea 0x0(%rsi,%riz,1),%rsi', 'lea 0x0(%esi,%eiz,1),%esi', 'nopw 0x0(%rax,%riz,2)', 'mov (%rax,%riz,4),%ecx',
      'mov 0x10(,%riz,1),%eax', 'mov 0x10(,%eiz,1),%eax', 'mov (%rsp,%riz,1),%eax', 'mov (%r12,%riz,8),%r9',
      'mov (%rbp,%riz,1),%eax', 'mov -0x80(%r13,%riz,1),%eax', 'addl $0x1,0x12345678(%r8,%riz,4)', 'mov %fs:0x0(,%riz,1),%rax',
      'nopl 0x0(%rax,%riz,1)', 'cs nopw 0x0(%rax,%riz,1)',
    ],
    32: ['lea 0x0(%esi,%eiz,1),%esi', 'mov (%esp,%eiz,2),%eax', 'mov 0x10(,%eiz,1),%eax', 'nopw 0x0(%eax,%eiz,1)', 'mov -0x4(%ebp,%eiz,8),%ecx'],
    16: ['lea 0x0(%esi,%eiz,1),%esi', 'mov (%esp,%eiz,2),%eax', 'mov 0x10(%ebx,%eiz,4),%ax', 'mov 0x10(,%eiz,2),%ax'],
  };
  function gas(lines: readonly string[], mode: CodeMode): Uint8Array {
    const dir = mkdtempSync(join(tmpdir(), 'vmxlab-riz-'));
    try {
      writeFileSync(join(dir, 'in.s'), `.code${mode}\n${lines.join('\n')}\n`);
      const as = spawnSync('as', [mode === 64 ? '--64' : '--32', '-mindex-reg', '-o', 'in.o', 'in.s'], { cwd: dir, encoding: 'utf8' });
      if (as.status !== 0) throw new Error(`GNU as failed:\n${as.stderr}`);
      const oc = spawnSync('objcopy', ['-O', 'binary', '--only-section=.text', 'in.o', 'text.bin'], { cwd: dir, encoding: 'utf8' });
      if (oc.status !== 0) throw new Error(`objcopy failed: ${oc.stderr}`);
      return new Uint8Array(readFileSync(join(dir, 'text.bin')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const mode of [64, 32, 16] as const) {
    it(`.code${mode}: same bytes as GNU as, and back through our disassembler`, () => {
      const expected = gas(LINES[mode], mode);
      const ours = LINES[mode].flatMap((l) => encodeAt(parseLine(l), mode, ADDR));
      expect(hex(ours)).toBe(hex(Array.from(expected)));
      let off = 0;
      let printed = 0;
      while (off < expected.length) {
        const d = disassemble(expected, off, BigInt(ADDR + off), mode);
        if (/%[er]iz/.test(d.text)) printed++;
        const again = encodeAt(parseLine(d.text), mode, ADDR + off);
        expect(hex(again), d.text).toBe(hex(Array.from(expected.subarray(off, off + d.length))));
        off += d.length;
      }
      expect(printed).toBeGreaterThan(0);
    });
  }

  it('rejects them anywhere but as an index, as GNU as does', () => {
    for (const line of ['mov %riz,%rax', 'mov (%riz),%eax', 'mov (%rax,%eiz),%eax', 'mov (%eax,%riz),%eax', 'push %riz']) {
      expect(() => encodeInstruction(parseLine(line), { mode: 64 }), line).toThrow(EncodeError);
    }
  });
});
