// Decoder tests: lengths against GNU as for the whole generated corpus, decoded fields for
// hand-checked encodings (bytes from GNU as, expectations from the source text), every table
// form reachable, and robustness on random bytes.
import { describe, expect, it } from 'vitest';
import { decode, DecodedInsn, formOf, REG_RIP, SEG_FS, SEG_GS, PFX_LOCK, PFX_REP } from '../../../src/emu/cpu/decoder';
import { OPCODES } from '../../../src/emu/cpu/isa/opcodes';
import { generateCorpus } from '../../support/corpus';
import { assembleLinesWithGas, assembleWithGas } from '../../support/binutils';

const insn = new DecodedInsn();

describe.each([64, 32, 16] as const)('corpus lengths in %i-bit mode', (mode) => {
  it('decodes every corpus line to a valid form with the length GNU as emitted', () => {
    const lines = generateCorpus(mode);
    const gas = assembleLinesWithGas(lines, mode);
    expect(gas.errors).toEqual([]);
    const wrong: string[] = [];
    lines.forEach((line, i) => {
      const start = gas.offsets[i];
      const len = gas.offsets[i + 1] - start;
      let ok = decode(gas.bytes, start, mode, insn);
      let got = insn.length;
      // The waiting x87 spellings (finit, fstsw, ...) are FWAIT and the x87 instruction: two for the CPU.
      if (ok && got < len && insn.map === 0 && insn.opcode === 0x9b) {
        ok = decode(gas.bytes, start + got, mode, insn);
        got += insn.length;
      }
      if (!ok || got !== len) wrong.push(`${line}: gas ${len} bytes, decoder ${ok ? got : 'invalid'}`);
    });
    expect(wrong.slice(0, 20), `${wrong.length} wrong`).toEqual([]);
  });
});

/** Decode the single instruction GNU as makes of `line`. */
function decodeLine(line: string, mode: 16 | 32 | 64): DecodedInsn {
  const bytes = assembleWithGas(line, mode);
  const out = new DecodedInsn();
  expect(decode(bytes, 0, mode, out), line).toBe(true);
  expect(out.length, line).toBe(bytes.length);
  return out;
}

describe('decoded fields', () => {
  it('ModRM/SIB memory operands, displacement and register numbers (64-bit)', () => {
    const d = decodeLine('mov 0x12345678(%rax,%rbx,4),%ecx', 64);
    expect(formOf(d).mnem).toBe('mov');
    expect([d.base, d.index, d.scale, d.disp, d.reg, d.opSize, d.addrSize]).toEqual([0, 3, 2, 0x12345678, 1, 4, 8]);
    const e = decodeLine('lea -0x80(%r13,%r14,8),%r8', 64);
    expect([e.base, e.index, e.scale, e.disp, e.reg, e.opSize]).toEqual([13, 14, 3, -0x80, 8, 8]);
    const r = decodeLine('mov 0x10(%rip),%eax', 64);
    expect([r.base, r.index, r.disp]).toEqual([REG_RIP, -1, 0x10]);
    const f = decodeLine('mov %fs:0x28,%rax', 64);
    expect([f.seg, f.base, f.index, f.disp]).toEqual([SEG_FS, -1, -1, 0x28]);
    const g = decodeLine('addw $0x1234,%gs:(%esi)', 64);
    expect([g.seg, g.base, g.opSize, g.addrSize, g.imm & 0xffff]).toEqual([SEG_GS, 6, 2, 4, 0x1234]);
  });

  it('immediates: imm64, sign-extended imm8, enter and far pointers', () => {
    const m = decodeLine('movabs $0x123456789abcdef0,%r9', 64);
    expect([m.opReg, m.imm >>> 0, m.immHi >>> 0, m.opSize]).toEqual([9, 0x9abcdef0, 0x12345678, 8]);
    const a = decodeLine('add $-2,%rdx', 64);
    expect([a.rm, a.imm, a.immHi, formOf(a).ops.join()]).toEqual([2, -2, -1, 'Ev,Ibs']);
    const e = decodeLine('enter $0x10,$0x2', 64);
    expect([e.imm, e.imm2]).toEqual([0x10, 2]);
    const j = decodeLine('ljmp $0x8,$0x100000', 32);
    expect([j.imm, j.imm2, formOf(j).mnem]).toEqual([0x100000, 8, 'ljmp']);
  });

  it('16-bit addressing and prefixes', () => {
    const d = decodeLine('mov 0x10(%bp,%di),%ax', 16);
    expect([d.base, d.index, d.disp, d.opSize, d.addrSize]).toEqual([5, 7, 0x10, 2, 2]);
    const l = decodeLine('lock incl (%ebx)', 32);
    expect([(l.prefixes & PFX_LOCK) !== 0, l.base, formOf(l).mnem]).toEqual([true, 3, 'inc']);
    const s = decodeLine('rep stosq', 64);
    expect([(s.prefixes & PFX_REP) !== 0, s.opSize, formOf(s).mnem]).toEqual([true, 8, 'stos']);
  });

  it('mode-dependent validity (SDM Vol. 2 Table A-1 i64/o64)', () => {
    expect(decode(Uint8Array.of(0x06), 0, 64, insn)).toBe(false); // push %es
    expect(decode(Uint8Array.of(0x06), 0, 32, insn)).toBe(true);
    expect(decode(Uint8Array.of(0x0f, 0x01, 0xf8), 0, 32, insn)).toBe(false); // swapgs
    expect(decode(Uint8Array.of(0x0f, 0x01, 0xf8), 0, 64, insn)).toBe(true);
    expect(decode(Uint8Array.of(0x40), 0, 32, insn) && formOf(insn).mnem).toBe('inc');
  });

  it('enforces the 15-byte limit (SDM Vol. 2 §2.3.11)', () => {
    const bytes = new Uint8Array(16).fill(0x66);
    bytes[15] = 0x90;
    expect(decode(bytes, 0, 32, insn)).toBe(false);
    expect(insn.length).toBeGreaterThanOrEqual(1);
    expect(insn.length).toBeLessThanOrEqual(15);
  });
});

describe('instruction table', () => {
  it('every form is reachable: its canonical encoding decodes back to it', () => {
    const unreachable: string[] = [];
    for (const f of OPCODES) {
      const mode = f.i64 ? 32 : 64;
      const b: number[] = [];
      if (f.prefix) b.push(f.prefix);
      if (f.rexW) b.push(0x48);
      if (f.map >= 1) b.push(0x0f);
      if (f.map === 2) b.push(0x38);
      if (f.map === 3) b.push(0x3a);
      b.push(f.opcode + (f.plusR ? 1 : 0));
      if (f.hasModrm) b.push(f.modrm >= 0 ? f.modrm : (f.mod === 'mem' ? 0x00 : 0xc0) | (Math.max(f.ext, 0) << 3) | (f.mod === 'mem' ? 0 : 1));
      const bytes = Uint8Array.from([...b, ...new Array(10).fill(0)]);
      if (!decode(bytes, 0, mode, insn) || insn.entry !== f.index) unreachable.push(`${f.spec} -> ${insn.entry >= 0 ? OPCODES[insn.entry].spec : 'invalid'}`);
    }
    expect(unreachable).toEqual([]);
  });
});

describe('robustness', () => {
  it('never throws on 100k random byte sequences; lengths stay within 1..15', () => {
    let s = 12345;
    const next = (): number => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
    const buf = new Uint8Array(15);
    for (let i = 0; i < 100000; i++) {
      const n = 1 + (next() % 15);
      for (let j = 0; j < n; j++) buf[j] = next() & 0xff;
      const ok = decode(buf.subarray(0, n), 0, ([16, 32, 64] as const)[i % 3], insn);
      if (insn.length < 1 || insn.length > n) throw new Error(`length ${insn.length} of ${n} bytes`);
      if (ok !== (insn.entry >= 0)) throw new Error('entry/ok disagree');
    }
  });
});
