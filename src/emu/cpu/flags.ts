// RFLAGS with lazily computed arithmetic flags (DESIGN.md "Designing for speed", item 3; the
// idea of Bochs cpu/lazy_flags.h and v86 arith.rs). An arithmetic instruction stores what it
// did (operation kind, operand size, result and operands as int32 halves) and marks the flags
// it defines as lazy; CF/PF/AF/ZF/SF/OF are computed only when something reads them (Jcc,
// SETcc, PUSHF, an interrupt, ...). Instructions that define only some flags (INC/DEC keep CF,
// shifts/rotates compute CF/OF eagerly) first materialize the flags they keep.
//
// Flag definitions: SDM Vol. 1 §3.4.3.1 and Appendix A; per instruction, SDM Vol. 2 "Flags
// Affected". Values an Intel core leaves in "undefined" flags are documented where the
// instruction sets them (alu.ts, shift.ts), checked against the host CPU by the differential test.
import type { CpuState } from './state';

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, TF = 0x100, IF = 0x200, DF = 0x400, OF = 0x800;
export const IOPL_MASK = 0x3000, NT = 0x4000, RF = 0x10000, VM = 0x20000, AC = 0x40000, VIF = 0x80000, VIP = 0x100000, ID = 0x200000;
/** Bit 1 of RFLAGS always reads as 1. */
export const RF_FIXED1 = 0x2;
export const ARITH = CF | PF | AF | ZF | SF | OF;

/** Slots of CpuState.lf. */
export const LF_OP = 0, LF_SIZE = 1, LF_RES = 2, LF_RES_HI = 3, LF_DST = 4, LF_DST_HI = 5, LF_SRC = 6, LF_SRC_HI = 7;

/** Lazy operation kinds. */
export const OP_ADD = 0, OP_ADC = 1, OP_SUB = 2, OP_SBB = 3, OP_LOGIC = 4, OP_INC = 5, OP_DEC = 6;

/** Parity of each byte value: PF = 1 when the low byte of the result has an even number of 1 bits. */
const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, n = 0;
  while (b !== 0) { n += b & 1; b >>= 1; }
  PARITY[i] = (n & 1) === 0 ? PF : 0;
}

/** Records a flag-setting operation that defines all six arithmetic flags. */
export function setLazy(s: CpuState, op: number, size: number, res: number, resHi: number, dst: number, dstHi: number, src: number, srcHi: number): void {
  const lf = s.lf;
  lf[LF_OP] = op; lf[LF_SIZE] = size;
  lf[LF_RES] = res; lf[LF_RES_HI] = resHi;
  lf[LF_DST] = dst; lf[LF_DST_HI] = dstHi;
  lf[LF_SRC] = src; lf[LF_SRC_HI] = srcHi;
  s.lazyMask = ARITH;
}

/**
 * setLazy for an operation of 1, 2 or 4 bytes: the high-half slots are read only for 8-byte
 * operations, so they are left as they are.
 */
export function setLazyNarrow(s: CpuState, op: number, size: number, res: number, dst: number, src: number): void {
  const lf = s.lf;
  lf[LF_OP] = op; lf[LF_SIZE] = size;
  lf[LF_RES] = res; lf[LF_DST] = dst; lf[LF_SRC] = src;
  s.lazyMask = ARITH;
}

/** Sign word of a lazy value: bit 31 holds the sign of the operand at the recorded size. */
function signWord(size: number, lo: number, hi: number): number {
  return size === 8 ? hi : size === 4 ? lo : size === 2 ? lo << 16 : lo << 24;
}

/** Unsigned a < b (orEqual: a <= b) at the lazy size. */
function below(size: number, a: number, aHi: number, b: number, bHi: number, orEqual: boolean): boolean {
  let x: number, y: number;
  if (size === 8) {
    if (aHi !== bHi) return (aHi >>> 0) < (bHi >>> 0);
    x = a >>> 0; y = b >>> 0;
  } else {
    const m = size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    x = (a & m) >>> 0; y = (b & m) >>> 0;
  }
  return orEqual ? x <= y : x < y;
}

function lazyCF(s: CpuState): number {
  const lf = s.lf;
  const sz = lf[LF_SIZE];
  switch (lf[LF_OP]) {
    case OP_ADD: return below(sz, lf[LF_RES], lf[LF_RES_HI], lf[LF_DST], lf[LF_DST_HI], false) ? CF : 0;
    case OP_ADC: {
      const cin = (lf[LF_RES] - lf[LF_DST] - lf[LF_SRC]) & 1;
      return below(sz, lf[LF_RES], lf[LF_RES_HI], lf[LF_DST], lf[LF_DST_HI], cin !== 0) ? CF : 0;
    }
    case OP_SUB: return below(sz, lf[LF_DST], lf[LF_DST_HI], lf[LF_SRC], lf[LF_SRC_HI], false) ? CF : 0;
    case OP_SBB: {
      const cin = (lf[LF_DST] - lf[LF_SRC] - lf[LF_RES]) & 1;
      return below(sz, lf[LF_DST], lf[LF_DST_HI], lf[LF_SRC], lf[LF_SRC_HI], cin !== 0) ? CF : 0;
    }
    default: return 0; // logic: CF = 0; INC/DEC never leave CF lazy
  }
}

function lazyOF(s: CpuState): number {
  const lf = s.lf;
  let w: number;
  switch (lf[LF_OP]) {
    case OP_ADD: case OP_ADC:
      w = signWord(lf[LF_SIZE], (lf[LF_DST] ^ lf[LF_RES]) & (lf[LF_SRC] ^ lf[LF_RES]), (lf[LF_DST_HI] ^ lf[LF_RES_HI]) & (lf[LF_SRC_HI] ^ lf[LF_RES_HI]));
      break;
    case OP_SUB: case OP_SBB:
      w = signWord(lf[LF_SIZE], (lf[LF_DST] ^ lf[LF_SRC]) & (lf[LF_DST] ^ lf[LF_RES]), (lf[LF_DST_HI] ^ lf[LF_SRC_HI]) & (lf[LF_DST_HI] ^ lf[LF_RES_HI]));
      break;
    // INC/DEC record no source (it is 1): the ADD/SUB formulas above with src = 1 reduce to these.
    case OP_INC: w = signWord(lf[LF_SIZE], ~lf[LF_DST] & lf[LF_RES], ~lf[LF_DST_HI] & lf[LF_RES_HI]); break;
    case OP_DEC: w = signWord(lf[LF_SIZE], lf[LF_DST] & ~lf[LF_RES], lf[LF_DST_HI] & ~lf[LF_RES_HI]); break;
    default: return 0;
  }
  return w < 0 ? OF : 0;
}

function lazyAF(s: CpuState): number {
  const lf = s.lf;
  const op = lf[LF_OP];
  // Logic operations leave AF undefined; Intel cores clear it. INC/DEC: the source (1) has no bit 4.
  if (op === OP_LOGIC) return 0;
  return (op === OP_INC || op === OP_DEC ? lf[LF_DST] ^ lf[LF_RES] : lf[LF_DST] ^ lf[LF_SRC] ^ lf[LF_RES]) & AF;
}

function lazyZF(s: CpuState): number {
  const lf = s.lf;
  const sz = lf[LF_SIZE];
  const r = lf[LF_RES];
  if (sz === 8) return (r | lf[LF_RES_HI]) === 0 ? ZF : 0;
  return (sz === 4 ? r : sz === 2 ? r & 0xffff : r & 0xff) === 0 ? ZF : 0;
}

function lazySF(s: CpuState): number {
  const lf = s.lf;
  return signWord(lf[LF_SIZE], lf[LF_RES], lf[LF_RES_HI]) < 0 ? SF : 0;
}

export function getCF(s: CpuState): number {
  return (s.lazyMask & CF) !== 0 ? lazyCF(s) : s.flagsVal & CF;
}
export function getZF(s: CpuState): number {
  return (s.lazyMask & ZF) !== 0 ? lazyZF(s) : s.flagsVal & ZF;
}
export function getSF(s: CpuState): number {
  return (s.lazyMask & SF) !== 0 ? lazySF(s) : s.flagsVal & SF;
}
export function getOF(s: CpuState): number {
  return (s.lazyMask & OF) !== 0 ? lazyOF(s) : s.flagsVal & OF;
}
export function getPF(s: CpuState): number {
  const lf = s.lf;
  return (s.lazyMask & PF) !== 0 ? PARITY[lf[LF_RES] & 0xff] : s.flagsVal & PF;
}
export function getAF(s: CpuState): number {
  return (s.lazyMask & AF) !== 0 ? lazyAF(s) : s.flagsVal & AF;
}

/** The full RFLAGS value (low 32 bits; the upper half is reserved and zero). */
export function getFlags(s: CpuState): number {
  const lf = s.lf;
  const m = s.lazyMask;
  if (m === 0) return s.flagsVal;
  let f = s.flagsVal & ~m;
  if ((m & CF) !== 0) f |= lazyCF(s);
  if ((m & PF) !== 0) f |= PARITY[lf[LF_RES] & 0xff];
  if ((m & AF) !== 0) f |= lazyAF(s);
  if ((m & ZF) !== 0) f |= lazyZF(s);
  if ((m & SF) !== 0) f |= lazySF(s);
  if ((m & OF) !== 0) f |= lazyOF(s);
  return f;
}

/** Computes the lazy flags into flagsVal (before a partial update, or before replacing all flags). */
export function materialize(s: CpuState): void {
  if (s.lazyMask !== 0) {
    s.flagsVal = getFlags(s);
    s.lazyMask = 0;
  }
}

/** Sets the arithmetic flags in `mask` to the bits of `value` (eagerly), leaving the others. */
export function setArith(s: CpuState, mask: number, value: number): void {
  if ((s.lazyMask & ~mask) !== 0) materialize(s);
  s.flagsVal = (s.flagsVal & ~mask) | (value & mask);
  s.lazyMask &= ~mask;
}

/**
 * Records a result whose SF/ZF/PF are computed lazily from `res` while CF, OF and AF are
 * given eagerly (shifts, rotates through the lazy path, multiplications, bit scans).
 */
export function setResultFlags(s: CpuState, size: number, res: number, resHi: number, eager: number): void {
  const lf = s.lf;
  if (s.lazyMask !== 0) materialize(s);
  s.flagsVal = (s.flagsVal & ~(CF | OF | AF)) | eager;
  lf[LF_OP] = OP_LOGIC; lf[LF_SIZE] = size;
  lf[LF_RES] = res; lf[LF_RES_HI] = resHi;
  s.lazyMask = PF | ZF | SF;
}

/** INC/DEC: all arithmetic flags but CF (SDM Vol. 2 INC, DEC "Flags Affected"); the source (1) is implied by the kind. */
export function setIncDec(s: CpuState, op: number, size: number, res: number, resHi: number, dst: number, dstHi: number): void {
  const lf = s.lf;
  if ((s.lazyMask & CF) !== 0) s.flagsVal = (s.flagsVal & ~CF) | lazyCF(s);
  lf[LF_OP] = op; lf[LF_SIZE] = size;
  lf[LF_RES] = res; lf[LF_RES_HI] = resHi;
  lf[LF_DST] = dst; lf[LF_DST_HI] = dstHi;
  s.lazyMask = ARITH & ~CF;
}

/** Evaluates condition code `cc` (0-15, SDM Vol. 1 Table B-1). */
export function testCC(s: CpuState, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = getOF(s) !== 0; break;
    case 1: r = getCF(s) !== 0; break;
    case 2: r = getZF(s) !== 0; break;
    case 3: r = getCF(s) !== 0 || getZF(s) !== 0; break;
    case 4: r = getSF(s) !== 0; break;
    case 5: r = getPF(s) !== 0; break;
    case 6: r = (getSF(s) !== 0) !== (getOF(s) !== 0); break;
    default: r = getZF(s) !== 0 || (getSF(s) !== 0) !== (getOF(s) !== 0); break;
  }
  return (cc & 1) !== 0 ? !r : r;
}

/** Parity flag value for a byte (for eager flag computations). */
export function parityOf(b: number): number {
  return PARITY[b & 0xff];
}
