// SSE/SSE2 data movement, logic and integer operations on the XMM registers (SDM Vol. 1
// chapters 10-11; Vol. 2 under each instruction), and the SSE state instructions FXSAVE,
// FXRSTOR (and their REX.W forms), LDMXCSR, STMXCSR.
//
// Availability (SDM Vol. 3 §2.5 Table 2-2, §13.1; Vol. 2 "Protected Mode Exceptions"):
// - SSE instructions, LDMXCSR, STMXCSR: #UD when CR0.EM = 1 or CR4.OSFXSR = 0, then #NM when
//   CR0.TS = 1. FXSAVE/FXRSTOR: #NM when CR0.EM or CR0.TS is set (they work with OSFXSR = 0;
//   this CPU then still saves and restores MXCSR and the XMM registers, as Intel cores do).
// - 16-byte operands of MOVAPS/MOVAPD/MOVDQA/MOVNT* and of FXSAVE/FXRSTOR must be 16-byte
//   aligned (#GP(0)); other SSE memory operands may be unaligned (CR0.AM alignment checks
//   are not modelled, as with the integer instructions).
// Floating-point arithmetic, compares and conversions (ADD..MAX, SQRT, UCOMIS/COMIS, CVT*)
// run through src/emu/cpu/float/sse-float.ts, bit-exact in every MXCSR mode. SIMD
// floating-point exceptions (SDM Vol. 1 §11.5): all elements are computed first; when a flag
// is raised whose mask is clear, MXCSR records the flags (only the pre-computation ones, IE
// DE ZE, when one of those is unmasked: §11.5.2.1), the destination is left alone and the
// instruction raises #XM (CR4.OSXMMEXCPT = 1) or #UD (= 0) (SDM Vol. 3 §6.15 interrupt 19).
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoder';
import { CpuFault, GP, NM, UD, XM } from '../fault';
import { ARITH, CF, PF, setArith, ZF } from '../flags';
import { MX_PRE, SSEF } from '../float/sse-float';
import { MXCSR_MASK, type FpuState } from '../fpu';
import type { OpcodeForm } from '../isa/opcodes';
import { CR0_EM, CR0_TS, CR4_OSFXSR, CR4_OSXMMEXCPT } from '../state';
import type { Handler } from './common';

/** The source operand of the instruction being executed (16 bytes), and its byte/word views. */
const T = new Int32Array(4);
const TB = new Uint8Array(T.buffer);
const TW = new Int16Array(T.buffer);
/** A copy of the destination for operations that read it while writing it. */
const U = new Int32Array(4);
const UB = new Uint8Array(U.buffer);
const UW = new Int16Array(U.buffer);

function sseEnter(c: Cpu): void {
  if ((c.cr0 & CR0_EM) !== 0) throw new CpuFault(UD, -1, 'SSE instruction with CR0.EM=1');
  if ((c.cr4 & CR4_OSFXSR) === 0) throw new CpuFault(UD, -1, 'SSE instruction with CR4.OSFXSR=0');
  if ((c.cr0 & CR0_TS) !== 0) throw new CpuFault(NM, -1, 'SSE instruction with CR0.TS=1');
}

/** Linear address of the memory operand, checked for `size` bytes and, if `align`, 16-byte alignment. */
function mem(c: Cpu, d: DecodedInsn, size: number, write: boolean, align: boolean): void {
  c.ea(d, size, write);
  if (align && (c.linLo & 15) !== 0) throw new CpuFault(GP, 0, 'misaligned 16-byte SSE memory operand');
}

function at(c: Cpu, base: number, baseHi: number, off: number): void {
  c.linLo = (base + off) | 0;
  c.linHi = c.long64 && (base >>> 0) + off > 0xffffffff ? (baseHi + 1) | 0 : baseHi;
}

function read128(c: Cpu, lo: number, hi: number, out: Int32Array): void {
  out[0] = c.rd64(lo, hi); out[1] = c.vHi;
  at(c, lo, hi, 8);
  out[2] = c.rd64(c.linLo, c.linHi); out[3] = c.vHi;
}

function write128(c: Cpu, lo: number, hi: number, x: Int32Array, o: number): void {
  at(c, lo, hi, 15);
  c.probeWrite(c.linLo, c.linHi);
  c.wr64(lo, hi, x[o], x[o + 1]);
  at(c, lo, hi, 8);
  c.wr64(c.linLo, c.linHi, x[o + 2], x[o + 3]);
}

/** Loads the W operand (XMM r/m or `size` bytes of memory, zero-filled above) into T. */
function loadW(c: Cpu, d: DecodedInsn, size: number, align: boolean): void {
  if (d.mod === 3) {
    const x = c.fpu.xmm, o = d.rm * 4;
    T[0] = x[o]; T[1] = x[o + 1]; T[2] = x[o + 2]; T[3] = x[o + 3];
    return;
  }
  mem(c, d, size, false, align);
  T[1] = 0; T[2] = 0; T[3] = 0;
  if (size === 16) read128(c, c.linLo, c.linHi, T);
  else if (size === 8) { T[0] = c.rd64(c.linLo, c.linHi); T[1] = c.vHi; } else T[0] = c.rd32(c.linLo, c.linHi);
}

// ---- moves ---------------------------------------------------------------------------------

/** MOVAPS/MOVUPS/MOVDQA/MOVDQU/...: the whole register, load or store. */
function move128(store: boolean, align: boolean): Handler {
  return (c, d) => {
    sseEnter(c);
    const x = c.fpu.xmm;
    if (!store) {
      loadW(c, d, 16, align);
      x.set(T, d.reg * 4);
    } else if (d.mod === 3) {
      x.copyWithin(d.rm * 4, d.reg * 4, d.reg * 4 + 4);
    } else {
      mem(c, d, 16, true, align);
      write128(c, c.linLo, c.linHi, x, d.reg * 4);
    }
  };
}

/**
 * Moves of the low `lanes` dwords (MOVSS 1, MOVSD/MOVQ 2): loads from memory zero the rest
 * of the register; register-to-register moves keep it (MOVSS/MOVSD) or zero it (`zeroReg`, MOVQ).
 */
function moveLow(store: boolean, lanes: number, zeroReg: boolean): Handler {
  return (c, d) => {
    sseEnter(c);
    const x = c.fpu.xmm;
    const src = store ? d.reg : d.rm, dst = store ? d.rm : d.reg;
    if (d.mod === 3) {
      for (let k = 0; k < lanes; k++) x[dst * 4 + k] = x[src * 4 + k];
      if (zeroReg) for (let k = lanes; k < 4; k++) x[dst * 4 + k] = 0;
      return;
    }
    mem(c, d, lanes * 4, store, false);
    if (store) {
      if (lanes === 1) c.wr32(c.linLo, c.linHi, x[src * 4]); else c.wr64(c.linLo, c.linHi, x[src * 4], x[src * 4 + 1]);
      return;
    }
    x[dst * 4] = lanes === 1 ? c.rd32(c.linLo, c.linHi) : c.rd64(c.linLo, c.linHi);
    x[dst * 4 + 1] = lanes === 1 ? 0 : c.vHi;
    x[dst * 4 + 2] = 0; x[dst * 4 + 3] = 0;
  };
}

/** MOVLPS/MOVLPD/MOVHPS/MOVHPD (memory forms) and MOVHLPS/MOVLHPS: one qword moved, the other kept. */
function moveHalf(store: boolean, high: boolean): Handler {
  return (c, d) => {
    sseEnter(c);
    const x = c.fpu.xmm;
    const q = d.reg * 4 + (high ? 2 : 0);
    mem(c, d, 8, store, false);
    if (store) { c.wr64(c.linLo, c.linHi, x[q], x[q + 1]); return; }
    x[q] = c.rd64(c.linLo, c.linHi);
    x[q + 1] = c.vHi;
  };
}

function movhlps(high: boolean): Handler {
  return (c, d) => {
    sseEnter(c);
    const x = c.fpu.xmm, s = d.rm * 4, t = d.reg * 4;
    if (high) { x[t + 2] = x[s]; x[t + 3] = x[s + 1]; } else { x[t] = x[s + 2]; x[t + 1] = x[s + 3]; }
  };
}

/** MOVD/MOVQ from a general register or memory: zero-extended into the XMM register. */
function movdToXmm(size: 4 | 8): Handler {
  return (c, d) => {
    sseEnter(c);
    const v = c.readE(d, size);
    const vHi = size === 8 ? c.vHi : 0;
    const x = c.fpu.xmm, t = d.reg * 4;
    x[t] = v; x[t + 1] = vHi; x[t + 2] = 0; x[t + 3] = 0;
  };
}

function movdFromXmm(size: 4 | 8): Handler {
  return (c, d) => {
    sseEnter(c);
    const x = c.fpu.xmm, s = d.reg * 4;
    c.writeE(d, size, x[s], size === 8 ? x[s + 1] : 0);
  };
}

// ---- logic and integer operations (destination XMM ⊕ source T) -----------------------------

/** An operation on the destination register (dword index t into `f.xmm`) and the source T. */
type Op128 = (f: FpuState, t: number) => void;

/** Legacy-encoded 128-bit memory operands must be 16-byte aligned (SDM Vol. 1 §11.6.8). */
function binary(op: Op128): Handler {
  return (c, d) => {
    sseEnter(c);
    loadW(c, d, 16, true);
    op(c.fpu, d.reg * 4);
  };
}

const LOGIC: Readonly<Record<string, Op128>> = {
  and: ({ xmm: x }, t) => { for (let k = 0; k < 4; k++) x[t + k] &= T[k]; },
  andn: ({ xmm: x }, t) => { for (let k = 0; k < 4; k++) x[t + k] = ~x[t + k] & T[k]; },
  or: ({ xmm: x }, t) => { for (let k = 0; k < 4; k++) x[t + k] |= T[k]; },
  xor: ({ xmm: x }, t) => { for (let k = 0; k < 4; k++) x[t + k] ^= T[k]; },
};

/** Byte-wise operation on the destination (as bytes) and T. */
function bytes(op: (a: number, b: number) => number): Op128 {
  return ({ xmmB: xb }, t) => { for (let k = 0, o = t * 4; k < 16; k++) xb[o + k] = op(xb[o + k], TB[k]); };
}

/** Word-wise operation (signed 16-bit values). */
function words(op: (a: number, b: number) => number): Op128 {
  return ({ xmmW: xw }, t) => { for (let k = 0, o = t * 2; k < 8; k++) xw[o + k] = op(xw[o + k], TW[k]); };
}

function dwords(op: (a: number, b: number) => number): Op128 {
  return ({ xmm: x }, t) => { for (let k = 0; k < 4; k++) x[t + k] = op(x[t + k], T[k]); };
}

const sat = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);
const s8 = (v: number): number => (v << 24) >> 24;

/** 64-bit lane add/sub with carries between the halves (PADDQ/PSUBQ). */
function qwords(sub: boolean): Op128 {
  return ({ xmm: x }, t) => {
    for (let k = 0; k < 4; k += 2) {
      const a = x[t + k] >>> 0, b = T[k] >>> 0;
      const lo = sub ? a - b : a + b;
      const carry = sub ? (lo < 0 ? -1 : 0) : lo > 0xffffffff ? 1 : 0;
      x[t + k] = lo | 0;
      x[t + k + 1] = (sub ? x[t + k + 1] - T[k + 1] : x[t + k + 1] + T[k + 1]) + carry | 0;
    }
  };
}

/** Interleave (PUNPCKLxx, PUNPCKHxx, UNPCKLPS/PD...): elements of `size` bytes from the low or high half. */
function unpack(size: number, high: boolean): Op128 {
  return ({ xmm: x, xmmB: xb }, t) => {
    U.set(x.subarray(t, t + 4));
    const base = high ? 8 : 0, o = t * 4;
    for (let e = 0; e < 8 / size; e++) {
      for (let k = 0; k < size; k++) {
        xb[o + 2 * e * size + k] = UB[base + e * size + k];
        xb[o + (2 * e + 1) * size + k] = TB[base + e * size + k];
      }
    }
  };
}

/** PACKSSWB/PACKUSWB (words → bytes) and PACKSSDW (dwords → words), with saturation. */
function pack(from: 2 | 4, unsigned: boolean): Op128 {
  return ({ xmm: x, xmmB: xb, xmmW: xw }, t) => {
    U.set(x.subarray(t, t + 4));
    const ob = t * 4, ow = t * 2;
    if (from === 2) {
      for (let k = 0; k < 8; k++) {
        xb[ob + k] = unsigned ? sat(UW[k], 0, 255) : sat(UW[k], -128, 127);
        xb[ob + k + 8] = unsigned ? sat(TW[k], 0, 255) : sat(TW[k], -128, 127);
      }
    } else {
      for (let k = 0; k < 4; k++) { xw[ow + k] = sat(U[k], -32768, 32767); xw[ow + k + 4] = sat(T[k], -32768, 32767); }
    }
  };
}

const INT_OPS: Readonly<Record<string, Op128>> = {
  paddb: bytes((a, b) => a + b), paddw: words((a, b) => a + b), paddd: dwords((a, b) => (a + b) | 0), paddq: qwords(false),
  psubb: bytes((a, b) => a - b), psubw: words((a, b) => a - b), psubd: dwords((a, b) => (a - b) | 0), psubq: qwords(true),
  paddusb: bytes((a, b) => sat(a + b, 0, 255)), psubusb: bytes((a, b) => sat(a - b, 0, 255)),
  paddsb: bytes((a, b) => sat(s8(a) + s8(b), -128, 127)), psubsb: bytes((a, b) => sat(s8(a) - s8(b), -128, 127)),
  paddusw: words((a, b) => sat((a & 0xffff) + (b & 0xffff), 0, 0xffff)), psubusw: words((a, b) => sat((a & 0xffff) - (b & 0xffff), 0, 0xffff)),
  paddsw: words((a, b) => sat(a + b, -32768, 32767)), psubsw: words((a, b) => sat(a - b, -32768, 32767)),
  pcmpeqb: bytes((a, b) => (a === b ? 0xff : 0)), pcmpeqw: words((a, b) => (a === b ? -1 : 0)), pcmpeqd: dwords((a, b) => (a === b ? -1 : 0)),
  pcmpgtb: bytes((a, b) => (s8(a) > s8(b) ? 0xff : 0)), pcmpgtw: words((a, b) => (a > b ? -1 : 0)), pcmpgtd: dwords((a, b) => (a > b ? -1 : 0)),
  pminub: bytes((a, b) => Math.min(a, b)), pmaxub: bytes((a, b) => Math.max(a, b)),
  pminsw: words((a, b) => Math.min(a, b)), pmaxsw: words((a, b) => Math.max(a, b)),
  pavgb: bytes((a, b) => (a + b + 1) >> 1), pavgw: words((a, b) => ((a & 0xffff) + (b & 0xffff) + 1) >> 1),
  pmullw: words((a, b) => Math.imul(a, b)), pmulhw: words((a, b) => Math.imul(a, b) >> 16),
  pmulhuw: words((a, b) => ((a & 0xffff) * (b & 0xffff)) >>> 16),
  pmuludq: ({ xmm: x }, t) => {
    for (let k = 0; k < 4; k += 2) {
      // 32×32 → 64 unsigned, from 16-bit pieces so every partial product is exact.
      const a = x[t + k] >>> 0, b = T[k] >>> 0;
      const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
      const mid = ah * bl + al * bh; // < 2^33
      const lo = al * bl + (mid % 65536) * 65536; // < 2^49
      x[t + k] = lo | 0;
      x[t + k + 1] = (ah * bh + Math.floor(mid / 65536) + Math.floor(lo / 4294967296)) | 0;
    }
  },
  pmaddwd: ({ xmm: x }, t) => {
    U.set(x.subarray(t, t + 4));
    for (let k = 0; k < 4; k++) x[t + k] = (UW[2 * k] * TW[2 * k] + UW[2 * k + 1] * TW[2 * k + 1]) | 0;
  },
  psadbw: ({ xmm: x }, t) => {
    U.set(x.subarray(t, t + 4));
    for (let h = 0; h < 2; h++) {
      let s = 0;
      for (let k = 0; k < 8; k++) s += Math.abs(UB[8 * h + k] - TB[8 * h + k]);
      x[t + 2 * h] = s; x[t + 2 * h + 1] = 0;
    }
  },
  punpcklbw: unpack(1, false), punpcklwd: unpack(2, false), punpckldq: unpack(4, false), punpcklqdq: unpack(8, false),
  punpckhbw: unpack(1, true), punpckhwd: unpack(2, true), punpckhdq: unpack(4, true), punpckhqdq: unpack(8, true),
  unpcklps: unpack(4, false), unpckhps: unpack(4, true), unpcklpd: unpack(8, false), unpckhpd: unpack(8, true),
  packsswb: pack(2, false), packuswb: pack(2, true), packssdw: pack(4, false),
};

/** PSHUFD/PSHUFHW/PSHUFLW (SDM Vol. 2): dwords, or the high/low four words, picked by imm8. */
function pshuf(kind: 'd' | 'hw' | 'lw'): Handler {
  return (c, d) => {
    sseEnter(c);
    loadW(c, d, 16, true);
    const x = c.fpu.xmm, t = d.reg * 4, n = d.imm & 0xff;
    if (kind === 'd') { for (let k = 0; k < 4; k++) x[t + k] = T[(n >> (2 * k)) & 3]; return; }
    x.set(T, t);
    const xw = c.fpu.xmmW;
    const o = kind === 'hw' ? 4 : 0;
    for (let k = 0; k < 4; k++) xw[t * 2 + o + k] = TW[o + ((n >> (2 * k)) & 3)];
  };
}

/** SHUFPS/SHUFPD: low half from the destination, high half from the source, picked by imm8. */
function shuf(pd: boolean): Handler {
  return (c, d) => {
    sseEnter(c);
    loadW(c, d, 16, true);
    const x = c.fpu.xmm, t = d.reg * 4, n = d.imm & 0xff;
    U.set(x.subarray(t, t + 4));
    if (pd) {
      const a = (n & 1) * 2, b = ((n >> 1) & 1) * 2;
      x[t] = U[a]; x[t + 1] = U[a + 1]; x[t + 2] = T[b]; x[t + 3] = T[b + 1];
    } else {
      x[t] = U[n & 3]; x[t + 1] = U[(n >> 2) & 3]; x[t + 2] = T[(n >> 4) & 3]; x[t + 3] = T[(n >> 6) & 3];
    }
  };
}

/** Shifts by an immediate of the words/dwords/qwords/whole register of XMM r/m (groups 12-14). */
function shiftImm(m: string): Handler {
  return (c, d) => {
    sseEnter(c);
    const x = c.fpu.xmm, xb = c.fpu.xmmB, xw = c.fpu.xmmW, t = d.rm * 4, n = d.imm & 0xff;
    const ob = t * 4, ow = t * 2;
    switch (m) {
      case 'psrlw': for (let k = ow; k < ow + 8; k++) xw[k] = n > 15 ? 0 : (xw[k] & 0xffff) >>> n; break;
      case 'psraw': for (let k = ow; k < ow + 8; k++) xw[k] = xw[k] >> Math.min(n, 15); break;
      case 'psllw': for (let k = ow; k < ow + 8; k++) xw[k] = n > 15 ? 0 : xw[k] << n; break;
      case 'psrld': for (let k = 0; k < 4; k++) x[t + k] = n > 31 ? 0 : x[t + k] >>> n; break;
      case 'psrad': for (let k = 0; k < 4; k++) x[t + k] = x[t + k] >> Math.min(n, 31); break;
      case 'pslld': for (let k = 0; k < 4; k++) x[t + k] = n > 31 ? 0 : x[t + k] << n; break;
      case 'psrlq': case 'psllq':
        for (let k = 0; k < 4; k += 2) {
          const lo = x[t + k], hi = x[t + k + 1];
          let rl = 0, rh = 0;
          if (n === 0) { rl = lo; rh = hi; } else if (n < 32) {
            if (m === 'psrlq') { rl = (lo >>> n) | (hi << (32 - n)); rh = hi >>> n; } else { rh = (hi << n) | (lo >>> (32 - n)); rl = lo << n; }
          } else if (n < 64) {
            if (m === 'psrlq') rl = hi >>> (n - 32); else rh = lo << (n - 32);
          }
          x[t + k] = rl; x[t + k + 1] = rh;
        }
        break;
      case 'psrldq': case 'pslldq': {
        U.set(x.subarray(t, t + 4));
        const s = Math.min(n, 16);
        for (let k = 0; k < 16; k++) {
          const from = m === 'psrldq' ? k + s : k - s;
          xb[ob + k] = from >= 0 && from < 16 ? UB[from] : 0;
        }
        break;
      }
    }
  };
}

function pmovmskb(c: Cpu, d: DecodedInsn): void {
  sseEnter(c);
  const x = c.fpu.xmm, s = d.rm * 4;
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const w = x[s + k];
    v |= (((w >>> 7) & 1) | ((w >>> 14) & 2) | ((w >>> 21) & 4) | ((w >>> 28) & 8)) << (4 * k);
  }
  c.setReg(d.reg, d.opSize === 8 ? 8 : 4, d.rex, v, 0);
}

/** MOVNTI (SDM Vol. 2): a non-temporal store of a general register; the hint changes nothing here. */
function movnti(c: Cpu, d: DecodedInsn): void {
  const s = d.opSize === 8 ? 8 : 4;
  const v = c.getReg(d.reg, s, d.rex);
  c.writeE(d, s, v, c.vHi);
}

// ---- floating point ----------------------------------------------------------------------

/**
 * After all elements are computed (flags in SSEF.flags): records the flags in MXCSR and raises
 * #XM/#UD for an unmasked one (see the module comment); the caller then stores the results.
 */
function fpFinish(c: Cpu): void {
  const f = c.fpu;
  const flags = SSEF.flags;
  const unmasked = flags & ~(f.mxcsr >> 7) & 0x3f;
  if (unmasked === 0) { f.mxcsr |= flags; return; }
  const pre = flags & MX_PRE;
  f.mxcsr |= (pre & unmasked) !== 0 ? pre : flags;
  const vector = (c.cr4 & CR4_OSXMMEXCPT) !== 0 ? XM : UD;
  throw new CpuFault(vector, -1, `unmasked SIMD floating-point exception (MXCSR flags 0x${(flags & 0x3f).toString(16)})${vector === UD ? ' with CR4.OSXMMEXCPT=0' : ''}`);
}

/** Loads the source: a whole register or 16 aligned bytes (packed), or `size` bytes (scalar). */
function fpSource(c: Cpu, d: DecodedInsn, size: number): void {
  loadW(c, d, size, size === 16);
}

type Arith = 'add' | 'sub' | 'mul' | 'div' | 'sqrt' | 'min' | 'max';

function compute(op: Arith, p: number): void {
  switch (op) {
    case 'add': SSEF.add(p, false); break;
    case 'sub': SSEF.add(p, true); break;
    case 'mul': SSEF.mul(p); break;
    case 'div': SSEF.div(p); break;
    case 'sqrt': SSEF.sqrt(p); break;
    case 'min': SSEF.minMax(p, false); break;
    case 'max': SSEF.minMax(p, true); break;
  }
}

/**
 * ADD/SUB/MUL/DIV/SQRT/MIN/MAX PS/PD/SS/SD (SDM Vol. 2): p = 24 (single) or 53 (double);
 * scalar forms change only the low element (SQRT reads only the source).
 */
function fpArith(op: Arith, p: number, packed: boolean): Handler {
  const lanes = packed ? (p === 24 ? 4 : 2) : 1;
  const size = packed ? 16 : p === 24 ? 4 : 8;
  return (c, d) => {
    sseEnter(c);
    fpSource(c, d, size);
    const f = c.fpu, x = f.xmm, t = d.reg * 4;
    SSEF.begin(f.mxcsr);
    for (let k = 0; k < lanes; k++) {
      // SQRT has one source (operand a); the others compute destination ∘ source.
      if (p === 24) {
        if (op === 'sqrt') SSEF.decode32(SSEF.a, T[k]); else { SSEF.decode32(SSEF.a, x[t + k]); SSEF.decode32(SSEF.b, T[k]); }
        compute(op, p);
        U[k] = SSEF.lo;
      } else {
        const j = 2 * k;
        if (op === 'sqrt') SSEF.decode64(SSEF.a, T[j], T[j + 1]); else { SSEF.decode64(SSEF.a, x[t + j], x[t + j + 1]); SSEF.decode64(SSEF.b, T[j], T[j + 1]); }
        compute(op, p);
        U[j] = SSEF.lo; U[j + 1] = SSEF.hi;
      }
    }
    fpFinish(c);
    const n = p === 24 ? lanes : 2 * lanes;
    for (let k = 0; k < n; k++) x[t + k] = U[k];
  };
}

/** UCOMISS/UCOMISD/COMISS/COMISD (SDM Vol. 2): ZF PF CF from the relation, OF SF AF cleared. */
function comis(p: number, signalQuiet: boolean): Handler {
  return (c, d) => {
    sseEnter(c);
    fpSource(c, d, p === 24 ? 4 : 8);
    const f = c.fpu, x = f.xmm, t = d.reg * 4;
    SSEF.begin(f.mxcsr);
    if (p === 24) { SSEF.decode32(SSEF.a, x[t]); SSEF.decode32(SSEF.b, T[0]); } else { SSEF.decode64(SSEF.a, x[t], x[t + 1]); SSEF.decode64(SSEF.b, T[0], T[1]); }
    const rel = SSEF.relation(p, signalQuiet);
    fpFinish(c);
    setArith(c, ARITH, rel === 3 ? ZF | PF | CF : rel === 0 ? CF : rel === 1 ? ZF : 0);
  };
}

/** CVTSI2SS/CVTSI2SD (SDM Vol. 2): a 32- or 64-bit (REX.W) signed integer into the low element. */
function cvtsi2(p: number): Handler {
  return (c, d) => {
    sseEnter(c);
    const size = d.opSize === 8 ? 8 : 4;
    const v = c.readE(d, size);
    const vHi = size === 8 ? c.vHi : v >> 31;
    const f = c.fpu, x = f.xmm, t = d.reg * 4;
    SSEF.begin(f.mxcsr);
    SSEF.fromInt(v, vHi, p);
    fpFinish(c);
    x[t] = SSEF.lo;
    if (p === 53) x[t + 1] = SSEF.hi;
  };
}

/** CVTSS2SI/CVTSD2SI/CVTTSS2SI/CVTTSD2SI (SDM Vol. 2): the low element into a 32/64-bit register. */
function cvt2si(p: number, truncate: boolean): Handler {
  return (c, d) => {
    sseEnter(c);
    fpSource(c, d, p === 24 ? 4 : 8);
    const size = d.opSize === 8 ? 8 : 4;
    SSEF.begin(c.fpu.mxcsr);
    if (p === 24) SSEF.decode32(SSEF.a, T[0]); else SSEF.decode64(SSEF.a, T[0], T[1]);
    SSEF.toInt(size * 8, truncate);
    fpFinish(c);
    c.setReg(d.reg, size, d.rex, SSEF.lo, size === 8 ? SSEF.hi : 0);
  };
}

/** CVTSS2SD (to = 53) and CVTSD2SS (to = 24): the low element; the rest of the destination stays. */
function cvtScalar(to: number): Handler {
  return (c, d) => {
    sseEnter(c);
    fpSource(c, d, to === 53 ? 4 : 8);
    const f = c.fpu, x = f.xmm, t = d.reg * 4;
    SSEF.begin(f.mxcsr);
    if (to === 53) SSEF.decode32(SSEF.a, T[0]); else SSEF.decode64(SSEF.a, T[0], T[1]);
    SSEF.convert(to);
    fpFinish(c);
    x[t] = SSEF.lo;
    if (to === 53) x[t + 1] = SSEF.hi;
  };
}

type PackedCvt = 'dq2ps' | 'ps2dq' | 'tps2dq' | 'ps2pd' | 'pd2ps' | 'dq2pd' | 'pd2dq' | 'tpd2dq';

/**
 * The packed conversions (SDM Vol. 2 CVTDQ2PS, CVTPS2DQ, CVTTPS2DQ, CVTPS2PD, CVTPD2PS,
 * CVTDQ2PD, CVTPD2DQ, CVTTPD2DQ): from two doubles, the two results fill the low half and
 * the high half is zeroed; to two doubles, the source is the low 64 bits (m64).
 */
function cvtPacked(kind: PackedCvt): Handler {
  const toDouble = kind === 'ps2pd' || kind === 'dq2pd';
  const fromDouble = kind === 'pd2ps' || kind === 'pd2dq' || kind === 'tpd2dq';
  return (c, d) => {
    sseEnter(c);
    fpSource(c, d, toDouble ? 8 : 16);
    const f = c.fpu, x = f.xmm, t = d.reg * 4;
    SSEF.begin(f.mxcsr);
    const lanes = toDouble || fromDouble ? 2 : 4;
    for (let k = 0; k < lanes; k++) {
      switch (kind) {
        case 'dq2ps': SSEF.fromInt(T[k], T[k] >> 31, 24); U[k] = SSEF.lo; break;
        case 'ps2dq': case 'tps2dq': SSEF.decode32(SSEF.a, T[k]); SSEF.toInt(32, kind === 'tps2dq'); U[k] = SSEF.lo; break;
        case 'ps2pd': SSEF.decode32(SSEF.a, T[k]); SSEF.convert(53); U[2 * k] = SSEF.lo; U[2 * k + 1] = SSEF.hi; break;
        case 'dq2pd': SSEF.fromInt(T[k], T[k] >> 31, 53); U[2 * k] = SSEF.lo; U[2 * k + 1] = SSEF.hi; break;
        case 'pd2ps': SSEF.decode64(SSEF.a, T[2 * k], T[2 * k + 1]); SSEF.convert(24); U[k] = SSEF.lo; break;
        default: SSEF.decode64(SSEF.a, T[2 * k], T[2 * k + 1]); SSEF.toInt(32, kind === 'tpd2dq'); U[k] = SSEF.lo; break;
      }
    }
    fpFinish(c);
    if (fromDouble) { U[2] = 0; U[3] = 0; }
    x.set(U, t);
  };
}

// ---- FXSAVE / FXRSTOR / LDMXCSR / STMXCSR ----------------------------------------------------

/** #NM for FXSAVE/FXRSTOR (SDM Vol. 2 FXSAVE "Protected Mode Exceptions"). */
function fxEnter(c: Cpu): void {
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0) throw new CpuFault(NM, -1, `FXSAVE/FXRSTOR with CR0.${(c.cr0 & CR0_EM) !== 0 ? 'EM' : 'TS'}=1`);
}

/**
 * FXSAVE (SDM Vol. 1 §10.5.1, Table 10-2): FCW, FSW, abridged FTW (bit r = R(r) not empty),
 * FOP, FIP/FCS and FDP/FDS (REX.W: 64-bit FIP and FDP), MXCSR, MXCSR_MASK, ST(0)-ST(7) in
 * 16-byte slots, XMM0-7 (XMM0-15 in 64-bit mode); the reserved bytes are left as they are.
 */
function fxsave(wide: boolean): Handler {
  return (c, d) => {
    fxEnter(c);
    mem(c, d, 512, true, true);
    const lo = c.linLo, hi = c.linHi, f = c.fpu;
    at(c, lo, hi, 511);
    c.probeWrite(c.linLo, c.linHi);
    c.wr32(lo, hi, f.fcw | (f.statusWord() << 16));
    at(c, lo, hi, 4);
    c.wr32(c.linLo, c.linHi, (f.valid & 0xff) | (f.fop << 16));
    at(c, lo, hi, 8);
    c.wr64(c.linLo, c.linHi, f.fipLo, wide ? f.fipHi : f.fcs);
    at(c, lo, hi, 16);
    c.wr64(c.linLo, c.linHi, f.fdpLo, wide ? f.fdpHi : f.fds);
    at(c, lo, hi, 24);
    c.wr64(c.linLo, c.linHi, f.mxcsr, MXCSR_MASK);
    for (let i = 0; i < 8; i++) {
      const r = f.phys(i);
      at(c, lo, hi, 32 + 16 * i);
      const a = c.linLo, ah = c.linHi;
      c.wr64(a, ah, f.mant[2 * r], f.mant[2 * r + 1]);
      at(c, a, ah, 8);
      c.wr64(c.linLo, c.linHi, f.se[r], 0);
    }
    const n = c.long64 ? 16 : 8;
    for (let k = 0; k < n; k++) {
      at(c, lo, hi, 160 + 16 * k);
      write128(c, c.linLo, c.linHi, f.xmm, 4 * k);
    }
  };
}

/** FXRSTOR: the image back; #GP(0) for MXCSR bits outside MXCSR_MASK (SDM Vol. 2 FXRSTOR). */
function fxrstor(wide: boolean): Handler {
  return (c, d) => {
    fxEnter(c);
    mem(c, d, 512, false, true);
    const lo = c.linLo, hi = c.linHi, f = c.fpu;
    at(c, lo, hi, 24);
    const mx = c.rd32(c.linLo, c.linHi);
    if ((mx & ~MXCSR_MASK) !== 0) throw new CpuFault(GP, 0, `FXRSTOR of MXCSR 0x${(mx >>> 0).toString(16)}: reserved bits set`);
    const w0 = c.rd32(lo, hi);
    at(c, lo, hi, 4);
    const w1 = c.rd32(c.linLo, c.linHi);
    at(c, lo, hi, 8);
    const ip = c.rd64(c.linLo, c.linHi), ipHi = c.vHi;
    at(c, lo, hi, 16);
    const dp = c.rd64(c.linLo, c.linHi), dpHi = c.vHi;
    for (let i = 0; i < 8; i++) {
      at(c, lo, hi, 32 + 16 * i);
      const a = c.linLo, ah = c.linHi;
      T[2 * (i & 1)] = c.rd64(a, ah); T[2 * (i & 1) + 1] = c.vHi;
      at(c, a, ah, 8);
      const se = c.rd16(c.linLo, c.linHi);
      // Stack order ST(i) → physical register, with the TOP of the image.
      const r = (((w0 >>> 16) >> 11) + i) & 7;
      f.se[r] = se; f.mant[2 * r] = T[2 * (i & 1)]; f.mant[2 * r + 1] = T[2 * (i & 1) + 1];
    }
    const n = c.long64 ? 16 : 8;
    for (let k = 0; k < n; k++) {
      at(c, lo, hi, 160 + 16 * k);
      read128(c, c.linLo, c.linHi, T);
      f.xmm.set(T, 4 * k);
    }
    f.fcw = (w0 & 0x1f7f) | 0x40;
    f.setStatusWord(w0 >>> 16);
    f.valid = w1 & 0xff;
    f.fop = (w1 >>> 16) & 0x7ff;
    f.fipLo = ip; f.fipHi = wide ? ipHi : 0; f.fcs = wide ? 0 : ipHi & 0xffff;
    f.fdpLo = dp; f.fdpHi = wide ? dpHi : 0; f.fds = wide ? 0 : dpHi & 0xffff;
    f.mxcsr = mx;
    f.updateSummary();
  };
}

function ldmxcsr(c: Cpu, d: DecodedInsn): void {
  sseEnter(c);
  mem(c, d, 4, false, false);
  const v = c.rd32(c.linLo, c.linHi);
  if ((v & ~MXCSR_MASK) !== 0) throw new CpuFault(GP, 0, `LDMXCSR 0x${(v >>> 0).toString(16)}: reserved bits set`);
  c.fpu.mxcsr = v;
}

function stmxcsr(c: Cpu, d: DecodedInsn): void {
  sseEnter(c);
  mem(c, d, 4, true, false);
  c.wr32(c.linLo, c.linHi, c.fpu.mxcsr);
}

/** The SSE handlers by table form; undefined for the floating-point arithmetic, compare and conversion forms. */
export function sseHandler(f: OpcodeForm): Handler | undefined {
  const m = f.mnem;
  const first = f.ops.length > 0 ? f.ops[0][0] : '';
  const store = first !== 'V' && first !== 'G';
  switch (m) {
    case 'movaps': case 'movapd': case 'movdqa': return move128(store, true);
    case 'movups': case 'movupd': case 'movdqu': return move128(store, false);
    case 'movntps': case 'movntpd': case 'movntdq': return move128(true, true);
    case 'movss': return moveLow(store, 1, false);
    case 'movsd': return moveLow(store, 2, false);
    case 'movq':
      if (f.ops.includes('Eq')) return store ? movdFromXmm(8) : movdToXmm(8);
      return moveLow(store, 2, true);
    case 'movd': return store ? movdFromXmm(4) : movdToXmm(4);
    case 'movlps': case 'movlpd': return moveHalf(store, false);
    case 'movhps': case 'movhpd': return moveHalf(store, true);
    case 'movhlps': return movhlps(false);
    case 'movlhps': return movhlps(true);
    case 'andps': case 'andpd': case 'pand': return binary(LOGIC.and);
    case 'andnps': case 'andnpd': case 'pandn': return binary(LOGIC.andn);
    case 'orps': case 'orpd': case 'por': return binary(LOGIC.or);
    case 'xorps': case 'xorpd': case 'pxor': return binary(LOGIC.xor);
    case 'pshufd': return pshuf('d');
    case 'pshufhw': return pshuf('hw');
    case 'pshuflw': return pshuf('lw');
    case 'shufps': return shuf(false);
    case 'shufpd': return shuf(true);
    case 'pmovmskb': return pmovmskb;
    case 'movnti': return movnti;
    case 'fxsave': return fxsave(false);
    case 'fxsave64': return fxsave(true);
    case 'fxrstor': return fxrstor(false);
    case 'fxrstor64': return fxrstor(true);
    case 'ldmxcsr': return ldmxcsr;
    case 'stmxcsr': return stmxcsr;
    case 'ucomiss': return comis(24, false);
    case 'ucomisd': return comis(53, false);
    case 'comiss': return comis(24, true);
    case 'comisd': return comis(53, true);
    case 'cvtsi2ss': return cvtsi2(24);
    case 'cvtsi2sd': return cvtsi2(53);
    case 'cvtss2si': return cvt2si(24, false);
    case 'cvttss2si': return cvt2si(24, true);
    case 'cvtsd2si': return cvt2si(53, false);
    case 'cvttsd2si': return cvt2si(53, true);
    case 'cvtss2sd': return cvtScalar(53);
    case 'cvtsd2ss': return cvtScalar(24);
    default: {
      const arith = /^(add|sub|mul|div|sqrt|min|max)(p|s)(s|d)$/.exec(m);
      if (arith) return fpArith(arith[1] as Arith, arith[3] === 's' ? 24 : 53, arith[2] === 'p');
      const cvt = /^cvt(dq2ps|ps2dq|tps2dq|ps2pd|pd2ps|dq2pd|pd2dq|tpd2dq)$/.exec(m);
      if (cvt) return cvtPacked(cvt[1] as PackedCvt);
    }
      if (f.ops.length === 2 && f.ops[0] === 'Ux' && f.ops[1] === 'Ib') return shiftImm(m);
      return m in INT_OPS ? binary(INT_OPS[m]) : undefined;
  }
}
