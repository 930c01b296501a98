// Binary arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP, TEST, NOT, NEG, INC, DEC, MUL,
// IMUL, DIV, IDIV, XADD, CMPXCHG, CMPXCHG8B/16B, and the BCD adjustments (SDM Vol. 2 under
// each mnemonic). Every handler computes the result first, writes it (which may fault), and
// only then records flags, so a faulting instruction changes nothing.
//
// Undefined flags: MUL/IMUL leave SF ZF AF PF undefined; DIV/IDIV leave all six undefined.
// Here MUL/IMUL compute SF/ZF/PF from the low half of the result and clear AF, DIV/IDIV leave
// the flags unchanged; the differential test masks them (its host is not an Intel core).
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoder';
import { CpuFault, DE } from '../fault';
import {
  AF, CF, OF, OP_ADC, OP_ADD, OP_DEC, OP_INC, OP_LOGIC, OP_SBB, OP_SUB, SF, ZF, PF,
  getAF, getCF, materialize, setArith, setIncDec, setLazy, setLazyNarrow, setResultFlags, parityOf,
} from '../flags';
import type { OpcodeForm } from '../isa/opcodes';
import { W, divU128by64, divU64by32, mulS32, mulS64, mulU32, mulU64 } from '../arith64';
import { isByteForm, type Handler } from './common';

/** The group-1 operations in their ModRM.reg order (SDM Vol. 2 Table A-6), and the lazy-flag kind of each (also blocks.ts). */
export const ALU_NAMES: readonly string[] = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
export const ALU_KIND: readonly number[] = [OP_ADD, OP_LOGIC, OP_ADC, OP_SBB, OP_LOGIC, OP_SUB, OP_LOGIC, OP_SUB];
const KIND = ALU_KIND;
const CMP = 7;

/** Group-1 operation `op` on (a, aHi) and (b, bHi) at `s` bytes: low half returned, high in c.vHi. */
function aluOp(c: Cpu, op: number, s: number, a: number, aHi: number, b: number, bHi: number): number {
  switch (op) {
    case 0: case 2: {
      const cin = op === 2 ? getCF(c) : 0;
      if (s === 8) {
        const t = (a >>> 0) + (b >>> 0) + cin;
        c.vHi = (aHi + bHi + (t > 0xffffffff ? 1 : 0)) | 0;
        return t | 0;
      }
      return (a + b + cin) | 0;
    }
    case 3: case 5: case 7: {
      const bin = op === 3 ? getCF(c) : 0;
      if (s === 8) {
        const t = (a >>> 0) - (b >>> 0) - bin;
        c.vHi = (aHi - bHi - (t < 0 ? 1 : 0)) | 0;
        return t | 0;
      }
      return (a - b - bin) | 0;
    }
    case 1: c.vHi = aHi | bHi; return a | b;
    case 4: c.vHi = aHi & bHi; return a & b;
    default: c.vHi = aHi ^ bHi; return a ^ b;
  }
}

/** op r/m, (b, bHi): read-modify-write of the ModRM r/m operand. */
function aluRm(c: Cpu, d: DecodedInsn, op: number, s: number, b: number, bHi: number): void {
  if (d.mod === 3) {
    const a = c.getReg(d.rm, s, d.rex);
    const aHi = c.vHi;
    const r = aluOp(c, op, s, a, aHi, b, bHi);
    const rHi = c.vHi;
    if (op !== CMP) c.setReg(d.rm, s, d.rex, r, rHi);
    setLazy(c, KIND[op], s, r, rHi, a, aHi, b, bHi);
    return;
  }
  aluMem(c, d, op, s, b, bHi);
}

/** op m, (b, bHi): the memory form; an aligned dword or qword in a cached writable page is updated in place. */
function aluMem(c: Cpu, d: DecodedInsn, op: number, s: number, b: number, bHi: number): void {
  c.ea(d, s, op !== CMP);
  const lo = c.linLo, hi = c.linHi;
  const w = s >= 4 && op !== CMP ? c.writeWords(lo, hi, s) : undefined;
  if (w === undefined) { aluMemSlow(c, op, s, lo, hi, b, bHi); return; }
  const k = (lo & 0xfff) >> 2;
  const a = w[k];
  if (s === 4) {
    const r = aluOp32(c, op, a, b);
    w[k] = r;
    setLazyNarrow(c, KIND[op], 4, r, a, b);
    return;
  }
  const aHi = w[k + 1];
  const r = aluOp(c, op, 8, a, aHi, b, bHi);
  const rHi = c.vHi;
  w[k] = r; w[k + 1] = rHi;
  setLazy(c, KIND[op], 8, r, rHi, a, aHi, b, bHi);
}

/** aluMem through the generic read and write (any size, alignment and page; may fault or fill the TLB). */
function aluMemSlow(c: Cpu, op: number, s: number, lo: number, hi: number, b: number, bHi: number): void {
  const a = c.rdSize(lo, hi, s);
  const aHi = c.vHi;
  const r = aluOp(c, op, s, a, aHi, b, bHi);
  const rHi = c.vHi;
  if (op !== CMP) c.wrSize(lo, hi, s, r, rHi);
  setLazy(c, KIND[op], s, r, rHi, a, aHi, b, bHi);
}

/** op reg, (b, bHi). */
function aluReg(c: Cpu, d: DecodedInsn, reg: number, op: number, s: number, b: number, bHi: number): void {
  const a = c.getReg(reg, s, d.rex);
  const aHi = c.vHi;
  const r = aluOp(c, op, s, a, aHi, b, bHi);
  const rHi = c.vHi;
  if (op !== CMP) c.setReg(reg, s, d.rex, r, rHi);
  setLazy(c, KIND[op], s, r, rHi, a, aHi, b, bHi);
}

/** Group-1 operation `op` at 32 bits or less on int32 values (the low bits are what count). */
function aluOp32(c: Cpu, op: number, a: number, b: number): number {
  switch (op) {
    case 0: return (a + b) | 0;
    case 1: return a | b;
    case 2: return (a + b + getCF(c)) | 0;
    case 3: return (a - b - getCF(c)) | 0;
    case 4: return a & b;
    case 6: return a ^ b;
    default: return (a - b) | 0;
  }
}

/**
 * Register-to-register form at 32 or 64 bits, the common case, without the generic operand
 * helpers: dst = dst op src on GPR numbers (the caller checked mod = 3 and the size).
 */
function aluRegReg(c: Cpu, op: number, s: number, dst: number, src: number): void {
  const regs = c.regs;
  if (s === 4) {
    const a = regs[2 * dst], b = regs[2 * src];
    const r = aluOp32(c, op, a, b);
    if (op !== CMP) { regs[2 * dst] = r; regs[2 * dst + 1] = 0; }
    setLazyNarrow(c, KIND[op], 4, r, a, b);
    return;
  }
  const a = regs[2 * dst], b = regs[2 * src];
  const aHi = regs[2 * dst + 1], bHi = regs[2 * src + 1];
  const r = aluOp(c, op, 8, a, aHi, b, bHi);
  const rHi = c.vHi;
  if (op !== CMP) { regs[2 * dst] = r; regs[2 * dst + 1] = rHi; }
  setLazy(c, KIND[op], 8, r, rHi, a, aHi, b, bHi);
}

/** Register-immediate form at 32 or 64 bits (op r32/r64, imm): as aluRegReg with the immediate as source. */
function aluRegImm(c: Cpu, op: number, s: number, dst: number, b: number, bHi: number): void {
  const regs = c.regs;
  if (s === 4) {
    const a = regs[2 * dst];
    const r = aluOp32(c, op, a, b);
    if (op !== CMP) { regs[2 * dst] = r; regs[2 * dst + 1] = 0; }
    setLazyNarrow(c, KIND[op], 4, r, a, b);
    return;
  }
  const a = regs[2 * dst], aHi = regs[2 * dst + 1];
  const r = aluOp(c, op, 8, a, aHi, b, bHi);
  const rHi = c.vHi;
  if (op !== CMP) { regs[2 * dst] = r; regs[2 * dst + 1] = rHi; }
  setLazy(c, KIND[op], 8, r, rHi, a, aHi, b, bHi);
}

function group1(f: OpcodeForm, op: number): Handler | undefined {
  switch (f.ops.join(',')) {
    case 'Eb,Gb': return (c, d) => aluRm(c, d, op, 1, c.getReg(d.reg, 1, d.rex), 0);
    case 'Ev,Gv': return (c, d) => {
      const s = d.opSize;
      if (d.mod === 3 && s >= 4) { aluRegReg(c, op, s, d.rm, d.reg); return; }
      const b = c.getReg(d.reg, s, d.rex);
      if (d.mod === 3) aluRm(c, d, op, s, b, c.vHi);
      else aluMem(c, d, op, s, b, c.vHi);
    };
    case 'Gb,Eb': return (c, d) => aluReg(c, d, d.reg, op, 1, c.readE(d, 1), 0);
    case 'Gv,Ev': return (c, d) => {
      const s = d.opSize;
      if (d.mod === 3 && s >= 4) { aluRegReg(c, op, s, d.reg, d.rm); return; }
      const b = c.readE(d, s);
      aluReg(c, d, d.reg, op, s, b, c.vHi);
    };
    case 'AL,Ib': return (c, d) => aluReg(c, d, 0, op, 1, d.imm, 0);
    case 'rAX,Iz': return (c, d) => {
      const s = d.opSize;
      if (s >= 4) aluRegImm(c, op, s, 0, d.imm, d.immHi);
      else aluReg(c, d, 0, op, s, d.imm, d.immHi);
    };
    case 'Eb,Ib': return (c, d) => aluRm(c, d, op, 1, d.imm, 0);
    case 'Ev,Ibs': case 'Ev,Iz': return (c, d) => {
      const s = d.opSize;
      if (d.mod !== 3) aluMem(c, d, op, s, d.imm, d.immHi);
      else if (s >= 4) aluRegImm(c, op, s, d.rm, d.imm, d.immHi);
      else aluRm(c, d, op, s, d.imm, d.immHi);
    };
    default: return undefined;
  }
}

// ---- TEST, NOT, NEG, INC, DEC ----

function test(c: Cpu, d: DecodedInsn, s: number, b: number, bHi: number, rm: boolean): void {
  const a = rm ? c.readE(d, s) : c.getReg(0, s, d.rex);
  const aHi = c.vHi;
  setLazy(c, OP_LOGIC, s, a & b, aHi & bHi, a, aHi, b, bHi);
}

function notNeg(c: Cpu, d: DecodedInsn, s: number, neg: boolean): void {
  let lo = 0, hi = 0;
  if (d.mod !== 3) { c.ea(d, s, true); lo = c.linLo; hi = c.linHi; }
  const a = d.mod === 3 ? c.getReg(d.rm, s, d.rex) : c.rdSize(lo, hi, s);
  const aHi = c.vHi;
  let r: number, rHi: number;
  if (neg) { r = -a | 0; rHi = (~aHi + (a === 0 ? 1 : 0)) | 0; } else { r = ~a; rHi = ~aHi; }
  if (d.mod === 3) c.setReg(d.rm, s, d.rex, r, rHi); else c.wrSize(lo, hi, s, r, rHi);
  if (neg) setLazy(c, OP_SUB, s, r, rHi, 0, 0, a, aHi);
}

/** INC/DEC of a register (`n`: GPR number; byte registers as ModRM encodes them, with `rex`). */
function incDecReg(c: Cpu, s: number, dec: boolean, n: number, rex: number): void {
  if (s >= 4) {
    const regs = c.regs;
    const a = regs[2 * n], aHi = s === 8 ? regs[2 * n + 1] : 0;
    const r = dec ? (a - 1) | 0 : (a + 1) | 0;
    const rHi = s === 8 ? (dec ? (aHi - (a === 0 ? 1 : 0)) | 0 : (aHi + (a === -1 ? 1 : 0)) | 0) : 0;
    regs[2 * n] = r; regs[2 * n + 1] = rHi;
    setIncDec(c, dec ? OP_DEC : OP_INC, s, r, rHi, a, aHi);
    return;
  }
  const a = c.getReg(n, s, rex);
  const r = dec ? (a - 1) | 0 : (a + 1) | 0;
  c.setReg(n, s, rex, r, 0);
  setIncDec(c, dec ? OP_DEC : OP_INC, s, r, 0, a, 0);
}

/** INC/DEC m: an aligned dword or qword in a cached writable page is updated in place. */
function incDecMem(c: Cpu, d: DecodedInsn, s: number, dec: boolean): void {
  c.ea(d, s, true);
  const lo = c.linLo, hi = c.linHi;
  const w = s >= 4 ? c.writeWords(lo, hi, s) : undefined;
  if (w === undefined) { incDecMemSlow(c, s, dec, lo, hi); return; }
  const k = (lo & 0xfff) >> 2;
  const a = w[k];
  const r = dec ? (a - 1) | 0 : (a + 1) | 0;
  w[k] = r;
  let aHi = 0, rHi = 0;
  if (s === 8) {
    aHi = w[k + 1];
    rHi = dec ? (aHi - (a === 0 ? 1 : 0)) | 0 : (aHi + (a === -1 ? 1 : 0)) | 0;
    w[k + 1] = rHi;
  }
  setIncDec(c, dec ? OP_DEC : OP_INC, s, r, rHi, a, aHi);
}

/** incDecMem through the generic read and write. */
function incDecMemSlow(c: Cpu, s: number, dec: boolean, lo: number, hi: number): void {
  const a = c.rdSize(lo, hi, s);
  let aHi = 0, r: number, rHi = 0;
  if (s === 8) {
    aHi = c.vHi;
    if (dec) { r = (a - 1) | 0; rHi = (aHi - (a === 0 ? 1 : 0)) | 0; } else { r = (a + 1) | 0; rHi = (aHi + (a === -1 ? 1 : 0)) | 0; }
  } else {
    r = dec ? (a - 1) | 0 : (a + 1) | 0;
  }
  c.wrSize(lo, hi, s, r, rHi);
  setIncDec(c, dec ? OP_DEC : OP_INC, s, r, rHi, a, aHi);
}

// ---- MUL / IMUL ----

/** Flags after a multiplication: CF = OF = `overflow`; SF/ZF/PF from the low result, AF = 0. */
function mulFlags(c: Cpu, s: number, lo: number, hi: number, overflow: boolean): void {
  setResultFlags(c, s, lo, hi, overflow ? CF | OF : 0);
}

/** MUL/IMUL with one operand: rDX:rAX = rAX * r/m (SDM Vol. 2 MUL, IMUL). */
function mul1(c: Cpu, d: DecodedInsn, s: number, signed: boolean): void {
  const b = c.readE(d, s);
  const bHi = c.vHi;
  const regs = c.regs;
  if (s === 1) {
    const a = regs[0] & 0xff;
    const p = signed ? ((a << 24) >> 24) * ((b << 24) >> 24) : a * (b & 0xff);
    regs[0] = (regs[0] & ~0xffff) | (p & 0xffff);
    mulFlags(c, 1, p, 0, signed ? p !== (p << 24) >> 24 : (p & 0xff00) !== 0);
  } else if (s === 2) {
    const a = regs[0] & 0xffff;
    const p = signed ? ((a << 16) >> 16) * ((b << 16) >> 16) : a * (b & 0xffff);
    regs[0] = (regs[0] & ~0xffff) | (p & 0xffff);
    regs[4] = (regs[4] & ~0xffff) | ((p >>> 16) & 0xffff);
    mulFlags(c, 2, p, 0, signed ? p !== (p << 16) >> 16 : (p & 0xffff0000) !== 0);
  } else if (s === 4) {
    const lo = signed ? mulS32(regs[0], b) : mulU32(regs[0], b);
    const hi = W[1];
    regs[0] = lo; regs[1] = 0; regs[4] = hi; regs[5] = 0;
    mulFlags(c, 4, lo, 0, signed ? hi !== lo >> 31 : hi !== 0);
  } else {
    if (signed) mulS64(regs[0], regs[1], b, bHi); else mulU64(regs[0], regs[1], b, bHi);
    const w0 = W[0], w1 = W[1], w2 = W[2], w3 = W[3];
    regs[0] = w0; regs[1] = w1; regs[4] = w2; regs[5] = w3;
    mulFlags(c, 8, w0, w1, signed ? w2 !== w1 >> 31 || w3 !== w1 >> 31 : (w2 | w3) !== 0);
  }
}

/** IMUL r, r/m (, imm): truncated signed product (SDM Vol. 2 IMUL forms 2 and 3). */
function imul2(c: Cpu, d: DecodedInsn, s: number, a: number, aHi: number, b: number, bHi: number): void {
  let r: number, rHi = 0, ovf: boolean;
  if (s === 2) {
    const p = ((a << 16) >> 16) * ((b << 16) >> 16);
    r = p; ovf = p !== (p << 16) >> 16;
  } else if (s === 4) {
    r = mulS32(a, b);
    ovf = W[1] !== r >> 31;
  } else {
    mulS64(a, aHi, b, bHi);
    r = W[0]; rHi = W[1];
    ovf = W[2] !== rHi >> 31 || W[3] !== rHi >> 31;
  }
  c.setReg(d.reg, s, d.rex, r, rHi);
  mulFlags(c, s, r, rHi, ovf);
}

// ---- DIV / IDIV ----

function divide(c: Cpu, d: DecodedInsn, s: number, signed: boolean): void {
  const b = c.readE(d, s);
  const bHi = c.vHi;
  const regs = c.regs;
  if (s === 8 ? (b | bHi) === 0 : (b & (s === 1 ? 0xff : s === 2 ? 0xffff : -1)) === 0) throw new CpuFault(DE, -1, 'divide by zero');
  if (s === 1 || s === 2) {
    const bits = s * 8;
    const n = s === 1 ? regs[0] & 0xffff : ((regs[4] & 0xffff) << 16) | (regs[0] & 0xffff);
    const dv = s === 1 ? b & 0xff : b & 0xffff;
    let q: number, r: number;
    if (signed) {
      const nn = s === 1 ? (n << 16) >> 16 : n | 0;
      const dd = (dv << (32 - bits)) >> (32 - bits);
      q = Math.trunc(nn / dd); r = nn - q * dd;
      if (q > (1 << (bits - 1)) - 1 || q < -(1 << (bits - 1))) throw new CpuFault(DE, -1, 'quotient overflow');
    } else {
      const nu = n >>> 0;
      q = Math.floor(nu / dv); r = nu - q * dv;
      if (q >= 1 << bits) throw new CpuFault(DE, -1, 'quotient overflow');
    }
    if (s === 1) regs[0] = (regs[0] & ~0xffff) | (q & 0xff) | ((r & 0xff) << 8);
    else {
      regs[0] = (regs[0] & ~0xffff) | (q & 0xffff);
      regs[4] = (regs[4] & ~0xffff) | (r & 0xffff);
    }
    return;
  }
  if (s === 4) {
    let nLo = regs[0], nHi = regs[4], dv = b;
    const negN = signed && nHi < 0, negD = signed && dv < 0;
    if (negN) { nLo = -nLo | 0; nHi = (~nHi + (nLo === 0 ? 1 : 0)) | 0; }
    if (negD) dv = -dv | 0;
    if ((nHi >>> 0) >= (dv >>> 0)) throw new CpuFault(DE, -1, 'quotient overflow');
    divU64by32(nLo, nHi, dv);
    let q = W[0], r = W[2];
    if (signed) {
      const neg = negN !== negD;
      if (neg ? (q >>> 0) > 0x80000000 : q < 0) throw new CpuFault(DE, -1, 'quotient overflow');
      if (neg) q = -q | 0;
      if (negN) r = -r | 0;
    }
    regs[0] = q; regs[1] = 0; regs[4] = r; regs[5] = 0;
    return;
  }
  let n0 = regs[0], n1 = regs[1], n2 = regs[4], n3 = regs[5];
  let dLo = b, dHi = bHi;
  const negN = signed && n3 < 0, negD = signed && dHi < 0;
  if (negN) {
    // 128-bit two's complement negation.
    n0 = ~n0; n1 = ~n1; n2 = ~n2; n3 = ~n3;
    n0 = (n0 + 1) | 0;
    if (n0 === 0) { n1 = (n1 + 1) | 0; if (n1 === 0) { n2 = (n2 + 1) | 0; if (n2 === 0) n3 = (n3 + 1) | 0; } }
  }
  if (negD) { dLo = -dLo | 0; dHi = (~dHi + (dLo === 0 ? 1 : 0)) | 0; }
  if ((n3 >>> 0) > (dHi >>> 0) || (n3 === dHi && (n2 >>> 0) >= (dLo >>> 0))) throw new CpuFault(DE, -1, 'quotient overflow');
  divU128by64(n0, n1, n2, n3, dLo, dHi);
  let q0 = W[0], q1 = W[1], r0 = W[2], r1 = W[3];
  if (signed) {
    const neg = negN !== negD;
    if (neg ? (q1 >>> 0) > 0x80000000 || (q1 === (0x80000000 | 0) && q0 !== 0) : q1 < 0) throw new CpuFault(DE, -1, 'quotient overflow');
    if (neg) { q0 = -q0 | 0; q1 = (~q1 + (q0 === 0 ? 1 : 0)) | 0; }
    if (negN) { r0 = -r0 | 0; r1 = (~r1 + (r0 === 0 ? 1 : 0)) | 0; }
  }
  regs[0] = q0; regs[1] = q1; regs[4] = r0; regs[5] = r1;
}

// ---- XADD, CMPXCHG ----

function xadd(c: Cpu, d: DecodedInsn, s: number): void {
  const b = c.getReg(d.reg, s, d.rex);
  const bHi = c.vHi;
  let lo = 0, hi = 0;
  if (d.mod !== 3) { c.ea(d, s, true); lo = c.linLo; hi = c.linHi; }
  const a = d.mod === 3 ? c.getReg(d.rm, s, d.rex) : c.rdSize(lo, hi, s);
  const aHi = c.vHi;
  const r = aluOp(c, 0, s, a, aHi, b, bHi);
  const rHi = c.vHi;
  // TEMP = SRC + DEST; SRC = DEST; DEST = TEMP (the register gets the old value first).
  if (d.mod === 3) { c.setReg(d.reg, s, d.rex, a, aHi); c.setReg(d.rm, s, d.rex, r, rHi); }
  else { c.wrSize(lo, hi, s, r, rHi); c.setReg(d.reg, s, d.rex, a, aHi); }
  setLazy(c, OP_ADD, s, r, rHi, a, aHi, b, bHi);
}

function cmpxchg(c: Cpu, d: DecodedInsn, s: number): void {
  let lo = 0, hi = 0;
  if (d.mod !== 3) { c.ea(d, s, true); lo = c.linLo; hi = c.linHi; }
  const dst = d.mod === 3 ? c.getReg(d.rm, s, d.rex) : c.rdSize(lo, hi, s);
  const dstHi = c.vHi;
  const acc = c.getReg(0, s, d.rex);
  const accHi = c.vHi;
  const r = aluOp(c, CMP, s, acc, accHi, dst, dstHi);
  const rHi = c.vHi;
  const m = s === 1 ? 0xff : s === 2 ? 0xffff : -1;
  const equal = ((acc ^ dst) & m) === 0 && (s !== 8 || accHi === dstHi);
  if (equal) {
    const src = c.getReg(d.reg, s, d.rex);
    const srcHi = c.vHi;
    if (d.mod === 3) c.setReg(d.rm, s, d.rex, src, srcHi); else c.wrSize(lo, hi, s, src, srcHi);
  } else {
    // The destination is written back with its own value (a locked RMW always writes, SDM Vol. 2 CMPXCHG).
    if (d.mod !== 3) c.wrSize(lo, hi, s, dst, dstHi);
    c.setReg(0, s, d.rex, dst, dstHi);
  }
  setLazy(c, OP_SUB, s, r, rHi, acc, accHi, dst, dstHi);
}

/** CMPXCHG8B / CMPXCHG16B m: compare rDX:rAX with m, store rCX:rBX if equal; only ZF changes. */
function cmpxchgWide(c: Cpu, d: DecodedInsn, wide: boolean): void {
  const regs = c.regs;
  if (wide) {
    c.ea(d, 16, true);
    if ((c.linLo & 15) !== 0) throw new CpuFault(13, 0, 'cmpxchg16b operand not 16-byte aligned');
    const lo = c.linLo, hi = c.linHi;
    const m0 = c.rd64(lo, hi), m1 = c.vHi;
    const m2 = c.rd64((lo + 8) | 0, hi), m3 = c.vHi;
    const eq = m0 === regs[0] && m1 === regs[1] && m2 === regs[4] && m3 === regs[5];
    if (eq) {
      c.probeWrite(lo, hi);
      c.wr64(lo, hi, regs[6], regs[7]);
      c.wr64((lo + 8) | 0, hi, regs[2], regs[3]);
    } else {
      c.probeWrite(lo, hi);
      c.wr64(lo, hi, m0, m1);
      c.wr64((lo + 8) | 0, hi, m2, m3);
      regs[0] = m0; regs[1] = m1; regs[4] = m2; regs[5] = m3;
    }
    setArith(c, ZF, eq ? ZF : 0);
    return;
  }
  c.ea(d, 8, true);
  const lo = c.linLo, hi = c.linHi;
  const m0 = c.rd64(lo, hi), m1 = c.vHi;
  const eq = m0 === regs[0] && m1 === regs[4];
  if (eq) c.wr64(lo, hi, regs[6], regs[2]);
  else {
    c.wr64(lo, hi, m0, m1);
    regs[0] = m0; regs[1] = 0; regs[4] = m1; regs[5] = 0;
  }
  setArith(c, ZF, eq ? ZF : 0);
}

// ---- BCD (legacy modes only; SDM Vol. 2 DAA DAS AAA AAS AAM AAD) ----

function daaDas(c: Cpu, sub: boolean): void {
  const regs = c.regs;
  const oldAl = regs[0] & 0xff;
  const oldCf = getCF(c);
  let al = oldAl, cf = 0, af = 0;
  if ((al & 0xf) > 9 || getAF(c) !== 0) {
    al = sub ? al - 6 : al + 6;
    cf = oldCf | (sub ? (oldAl < 6 ? 1 : 0) : (oldAl + 6 > 0xff ? 1 : 0));
    af = AF;
  }
  if (oldAl > 0x99 || oldCf !== 0) { al = sub ? al - 0x60 : al + 0x60; cf = 1; }
  al &= 0xff;
  regs[0] = (regs[0] & ~0xff) | al;
  // OF is undefined; Intel cores leave it as computed from the last adjustment (here cleared).
  materialize(c);
  c.flagsVal = (c.flagsVal & ~(CF | AF | SF | ZF | PF | OF)) | cf | af | (al & 0x80 ? SF : 0) | (al === 0 ? ZF : 0) | parityOf(al);
}

function aaaAas(c: Cpu, sub: boolean): void {
  const regs = c.regs;
  let ax = regs[0] & 0xffff;
  let f = 0;
  if ((ax & 0xf) > 9 || getAF(c) !== 0) {
    ax = sub ? ((ax - 6) & 0xff) | (((ax >> 8) - 1) & 0xff) << 8 : (ax + 0x106) & 0xffff;
    f = AF | CF;
  }
  ax &= 0xff0f;
  regs[0] = (regs[0] & ~0xffff) | ax;
  setArith(c, CF | AF | OF | SF | ZF | PF, f);
}

function aam(c: Cpu, d: DecodedInsn): void {
  const base = d.imm & 0xff;
  if (base === 0) throw new CpuFault(DE, -1, 'aam with base 0');
  const regs = c.regs;
  const al = regs[0] & 0xff;
  const r = al % base;
  regs[0] = (regs[0] & ~0xffff) | ((Math.floor(al / base) & 0xff) << 8) | r;
  setResultFlags(c, 1, r, 0, 0);
}

function aad(c: Cpu, d: DecodedInsn): void {
  const regs = c.regs;
  const al = regs[0] & 0xff, ah = (regs[0] >> 8) & 0xff;
  const r = (al + ah * (d.imm & 0xff)) & 0xff;
  regs[0] = (regs[0] & ~0xffff) | r;
  setResultFlags(c, 1, r, 0, 0);
}

/** Handlers for the arithmetic family, or undefined when `f` belongs to another family. */
export function aluHandler(f: OpcodeForm): Handler | undefined {
  const op = ALU_NAMES.indexOf(f.mnem);
  if (op >= 0) return group1(f, op);
  const byte = isByteForm(f);
  const ops = f.ops.join(',');
  switch (f.mnem) {
    case 'test':
      if (ops === 'Eb,Gb') return (c, d) => test(c, d, 1, c.getReg(d.reg, 1, d.rex), 0, true);
      if (ops === 'Ev,Gv') return (c, d) => { const s = d.opSize; const b = c.getReg(d.reg, s, d.rex); test(c, d, s, b, c.vHi, true); };
      if (ops === 'AL,Ib') return (c, d) => test(c, d, 1, d.imm, 0, false);
      if (ops === 'rAX,Iz') return (c, d) => test(c, d, d.opSize, d.imm, d.immHi, false);
      if (ops === 'Eb,Ib') return (c, d) => test(c, d, 1, d.imm, 0, true);
      return (c, d) => test(c, d, d.opSize, d.imm, d.immHi, true);
    case 'not': return (c, d) => notNeg(c, d, byte ? 1 : d.opSize, false);
    case 'neg': return (c, d) => notNeg(c, d, byte ? 1 : d.opSize, true);
    case 'inc': case 'dec': {
      const dec = f.mnem === 'dec';
      if (f.plusR) return (c, d) => incDecReg(c, d.opSize, dec, d.opReg, 0);
      return (c, d) => {
        const s = byte ? 1 : d.opSize;
        if (d.mod === 3) incDecReg(c, s, dec, d.rm, d.rex);
        else incDecMem(c, d, s, dec);
      };
    }
    case 'mul': return (c, d) => mul1(c, d, byte ? 1 : d.opSize, false);
    case 'div': return (c, d) => divide(c, d, byte ? 1 : d.opSize, false);
    case 'idiv': return (c, d) => divide(c, d, byte ? 1 : d.opSize, true);
    case 'imul':
      if (ops === 'Eb' || ops === 'Ev') return (c, d) => mul1(c, d, byte ? 1 : d.opSize, true);
      if (ops === 'Gv,Ev') return (c, d) => { const s = d.opSize; const b = c.readE(d, s); const bHi = c.vHi; const a = c.getReg(d.reg, s, d.rex); imul2(c, d, s, a, c.vHi, b, bHi); };
      return (c, d) => { const s = d.opSize; const a = c.readE(d, s); imul2(c, d, s, a, c.vHi, d.imm, d.immHi); };
    case 'xadd': return (c, d) => xadd(c, d, byte ? 1 : d.opSize);
    case 'cmpxchg': return (c, d) => cmpxchg(c, d, byte ? 1 : d.opSize);
    case 'cmpxchg8b': return (c, d) => cmpxchgWide(c, d, false);
    case 'cmpxchg16b': return (c, d) => cmpxchgWide(c, d, true);
    case 'daa': return (c) => daaDas(c, false);
    case 'das': return (c) => daaDas(c, true);
    case 'aaa': return (c) => aaaAas(c, false);
    case 'aas': return (c) => aaaAas(c, true);
    case 'aam': return aam;
    case 'aad': return aad;
    default: return undefined;
  }
}
