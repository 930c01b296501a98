// x87 arithmetic on the 80-bit double extended-precision format, bit-exact (SDM Vol. 1
// §4.2.2, §4.8 real numbers, §8.1.5 precision and rounding control, §8.5 x87 exceptions;
// Vol. 2 FADD..FSQRT). Significands are exact integers held as 16-bit limbs (least
// significant first) in preallocated Int32Arrays, so every product, quotient digit and
// square-root digit is exact in JS arithmetic: no BigInt, no allocation per instruction.
//
// Operands are decoded from (sign|exponent, significand hi, lo) into `XF.a` / `XF.b`; an
// operation leaves the 80-bit result in se/hi/lo and its exception bits (FSW bits 5:0, and
// C1 = "rounded up") in `exc`. Rounding (`round`) follows FCW.PC for the operations that
// precision control affects (§8.1.5.2) and FCW.RC; the exponent range is always the
// extended one. Underflow is detected after rounding (tininess after rounding, which the
// host-CPU differential test shows); unmasked overflow/underflow deliver the result with the
// exponent biased by ∓24576 (§8.5.4, §8.5.5), the caller then stores it and raises ES.

import { FSW_C1, FSW_DE, FSW_IE, FSW_OE, FSW_PE, FSW_UE, FSW_ZE, RC_DOWN, RC_NEAREST, RC_UP } from '../fpu';

/** Operand classes. */
export const X_ZERO = 0, X_FINITE = 1, X_INF = 2, X_QNAN = 3, X_SNAN = 4, X_UNSUPPORTED = 5;

/** An operand: class, sign, and for X_FINITE the unbiased exponent of its leading bit and the normalized significand. */
export class XOperand {
  cls = X_ZERO;
  neg = false;
  /** value = sig × 2^(exp - 63), sig with bit 63 set. */
  exp = 0;
  /** Significand, 4 limbs of 16 bits, least significant first. */
  readonly sig = new Int32Array(4);
  /** The encoding as given (NaN propagation). */
  se = 0;
  hi = 0;
  lo = 0;
  /** Was a denormal (or pseudo-denormal) in the register/memory format it came from. */
  denormal = false;
}

const N = 10; // limbs of the working registers (160 bits)
const R = new Int32Array(N);
const T1 = new Int32Array(N);
const T2 = new Int32Array(N);
const T3 = new Int32Array(N);

function clear(a: Int32Array): void { a.fill(0); }

function isZero(a: Int32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (a[i] !== 0) return false;
  return true;
}

/** a <=> b over n limbs. */
function cmp(a: Int32Array, b: Int32Array, n: number): number {
  for (let i = n - 1; i >= 0; i--) if (a[i] !== b[i]) return a[i] > b[i] ? 1 : -1;
  return 0;
}

/** a += b (n limbs); returns the carry out. */
function add(a: Int32Array, b: Int32Array, n: number): number {
  let c = 0;
  for (let i = 0; i < n; i++) { const s = a[i] + b[i] + c; a[i] = s & 0xffff; c = s >>> 16; }
  return c;
}

/** a -= b (n limbs, a >= b). */
function sub(a: Int32Array, b: Int32Array, n: number): void {
  let borrow = 0;
  for (let i = 0; i < n; i++) { const s = a[i] - b[i] - borrow; a[i] = s & 0xffff; borrow = s < 0 ? 1 : 0; }
}

/** a <<= k (n limbs, bits shifted out are lost). */
function shl(a: Int32Array, n: number, k: number): void {
  const w = k >> 4, b = k & 15;
  for (let i = n - 1; i >= 0; i--) {
    const j = i - w;
    const v = j >= 0 ? (a[j] << b) | (b !== 0 && j > 0 ? a[j - 1] >>> (16 - b) : 0) : 0;
    a[i] = v & 0xffff;
  }
}

/** a >>= k (n limbs); returns true when a nonzero bit was shifted out. */
function shr(a: Int32Array, n: number, k: number): boolean {
  let lost = false;
  for (let i = 0; i < n && i * 16 < k; i++) {
    if (k >= (i + 1) * 16) { if (a[i] !== 0) lost = true; } else if ((a[i] & ((1 << (k - i * 16)) - 1)) !== 0) lost = true;
  }
  const w = k >> 4, b = k & 15;
  for (let i = 0; i < n; i++) {
    const j = i + w;
    const v = j < n ? (a[j] >>> b) | (b !== 0 && j + 1 < n ? a[j + 1] << (16 - b) : 0) : 0;
    a[i] = v & 0xffff;
  }
  return lost;
}

/** Index of the highest set bit over n limbs, or -1. */
function topBit(a: Int32Array, n: number): number {
  for (let i = n - 1; i >= 0; i--) if (a[i] !== 0) return i * 16 + 31 - Math.clz32(a[i]);
  return -1;
}

function bit(a: Int32Array, i: number): number { return (a[i >> 4] >>> (i & 15)) & 1; }

/** Any bit set below position i. */
function anyBelow(a: Int32Array, i: number): boolean {
  const w = i >> 4;
  for (let k = 0; k < w; k++) if (a[k] !== 0) return true;
  return (a[w] & ((1 << (i & 15)) - 1)) !== 0;
}

/** Loads a 64-bit significand (hi:lo) into limbs 0-3 of a (the rest cleared). */
function load64(a: Int32Array, hi: number, lo: number): void {
  clear(a);
  a[0] = lo & 0xffff; a[1] = lo >>> 16; a[2] = hi & 0xffff; a[3] = hi >>> 16;
}

export class ExtFloat {
  se = 0;
  hi = 0;
  lo = 0;
  exc = 0;
  /** FCW fields for the current instruction. */
  rc = 0;
  /** Significand precision (24, 53 or 64). */
  pc = 64;
  /** FCW exception masks (bits 5:0). */
  masks = 0x3f;
  readonly a = new XOperand();
  readonly b = new XOperand();

  begin(fcw: number, usePc: boolean): void {
    this.rc = (fcw >> 10) & 3;
    const pcField = (fcw >> 8) & 3;
    this.pc = !usePc ? 64 : pcField === 0 ? 24 : pcField === 2 ? 53 : 64;
    this.masks = fcw & 0x3f;
    this.exc = 0;
  }

  /** Decodes an 80-bit value into `o` (SDM Vol. 1 §8.2.2: unnormals, pseudo-NaNs and pseudo-infinities are unsupported). */
  decode(o: XOperand, se: number, hi: number, lo: number): void {
    o.se = se; o.hi = hi; o.lo = lo;
    o.neg = (se & 0x8000) !== 0;
    o.denormal = false;
    const e = se & 0x7fff;
    if (e === 0x7fff) {
      if (hi >= 0) o.cls = X_UNSUPPORTED;
      else if ((hi & 0x7fffffff) === 0 && lo === 0) o.cls = X_INF;
      else o.cls = (hi & 0x40000000) !== 0 ? X_QNAN : X_SNAN;
      return;
    }
    if (e !== 0 && hi >= 0) { o.cls = X_UNSUPPORTED; return; }
    if (hi === 0 && lo === 0) { o.cls = X_ZERO; return; }
    o.cls = X_FINITE;
    load64(o.sig, hi, lo);
    let ex = (e === 0 ? 1 : e) - 16383;
    if (e === 0) {
      o.denormal = true;
      const t = topBit(o.sig, 4);
      if (t < 63) { shl(o.sig, 4, 63 - t); ex -= 63 - t; }
    }
    o.exp = ex;
  }

  // ---- results -----------------------------------------------------------------------------

  private set(se: number, hi: number, lo: number): void { this.se = se; this.hi = hi; this.lo = lo; }
  /** The operand's own encoding as the result. */
  private copy(o: XOperand): void { this.set(o.se, o.hi, o.lo); }
  zero(neg: boolean): void { this.set(neg ? 0x8000 : 0, 0, 0); }
  inf(neg: boolean): void { this.set(neg ? 0xffff : 0x7fff, 0x80000000 | 0, 0); }
  /** The real indefinite with IE (SDM Vol. 1 §4.8.3.7). */
  indefinite(): void { this.exc |= FSW_IE; this.set(0xffff, 0xc0000000 | 0, 0); }
  private quietOf(o: XOperand): void { this.set(o.se, o.hi | 0x40000000, o.lo); }

  /**
   * NaN and unsupported operands (SDM Vol. 1 §4.8.3.5 Table 4-7, x87 column): unsupported
   * → IE and the indefinite; an SNaN → IE; two NaNs → the one with the larger significand
   * (an SNaN loses to a QNaN), quieted. Returns true when the result is decided.
   */
  nans(two: boolean): boolean {
    const a = this.a, b = this.b;
    if (a.cls === X_UNSUPPORTED || (two && b.cls === X_UNSUPPORTED)) { this.indefinite(); return true; }
    const an = a.cls >= X_QNAN, bn = two && b.cls >= X_QNAN;
    if (!an && !bn) return false;
    if (a.cls === X_SNAN || (two && b.cls === X_SNAN)) this.exc |= FSW_IE;
    if (an && bn) {
      if (a.cls !== b.cls) { this.quietOf(a.cls === X_QNAN ? a : b); return true; }
      const ah = a.hi & 0x3fffffff, bh = b.hi & 0x3fffffff;
      const aBig = ah !== bh ? ah > bh : (a.lo >>> 0) !== (b.lo >>> 0) ? (a.lo >>> 0) > (b.lo >>> 0) : !a.neg || b.neg;
      this.quietOf(aBig ? a : b);
      return true;
    }
    this.quietOf(an ? a : b);
    return true;
  }

  /** DE when an operand was a denormal (after the NaN checks). */
  checkDenormals(two: boolean): void {
    if (this.a.denormal || (two && this.b.denormal)) this.exc |= FSW_DE;
  }

  /**
   * Rounds ±R (128 bits in limbs 0-7, bit 127 set and worth 2^E; `sticky`: nonzero bits
   * below bit 0) to the precision and rounding of this instruction and packs it.
   */
  private round(neg: boolean, E: number, sticky: boolean): void {
    let be = E + 16383;
    const underflowUnmasked = (this.masks & FSW_UE) === 0;
    const pos = 128 - this.pc; // lowest kept bit
    // Tininess after rounding (as the host CPU shows, also with PC < 64): below 2^-16382
    // unless rounding at the precision with an unbounded exponent carries up to 2^-16382.
    let tiny = be < 0;
    if (be === 0) {
      tiny = true;
      if (this.roundsUp(neg, pos, sticky)) {
        tiny = false;
        for (let i = pos; i < 128; i++) if (bit(R, i) === 0) { tiny = true; break; }
      }
    }
    // Unmasked underflow delivers the normalized result with the exponent biased by +24576;
    // when even that is out of range (only FSCALE gets there) a signed zero, inexact, not
    // rounded up, whatever RC says (as the host CPU does).
    const biasUp = tiny && underflowUnmasked;
    if (biasUp && be + 24576 <= 0) { this.exc |= FSW_UE | FSW_PE; this.zero(neg); return; }
    const denormalize = be <= 0 && !biasUp;
    if (denormalize) {
      const k = 1 - be;
      if (k > 130) { clear(R); sticky = true; } else if (shr(R, 8, k)) sticky = true;
      be = 0;
    }
    const inexact = bit(R, pos - 1) !== 0 || sticky || anyBelow(R, pos - 1);
    const up = this.roundsUp(neg, pos, sticky);
    // Clear the discarded bits, then add one unit in the last kept place.
    for (let i = 0; i < pos; i++) R[i >> 4] &= ~(1 << (i & 15));
    if (up) {
      clear(T1);
      T1[pos >> 4] = 1 << (pos & 15);
      if (add(R, T1, 8) !== 0) { R[7] = 0x8000; be++; } else if (denormalize && bit(R, 127) !== 0) be = 1;
    }
    if (inexact) this.exc |= FSW_PE | (up ? FSW_C1 : 0);
    if (tiny && (inexact || underflowUnmasked)) this.exc |= FSW_UE;
    if (biasUp) be += 24576;
    const sign = neg ? 0x8000 : 0;
    if (be >= 0x7fff) {
      // Unmasked: the result with the exponent biased by -24576 (PE only if it was rounded);
      // beyond even that range (only FSCALE gets there) ∞, rounded up, whatever RC says.
      // Masked: ∞ or the largest finite number by RC, always inexact.
      const unmasked = (this.masks & FSW_OE) === 0;
      this.exc |= FSW_OE;
      if (unmasked && be - 24576 < 0x7fff) be -= 24576; else {
        this.exc |= FSW_PE;
        const toInf = unmasked || this.rc === RC_NEAREST || (this.rc === RC_UP && !neg) || (this.rc === RC_DOWN && neg);
        this.exc &= ~FSW_C1;
        if (toInf) { this.exc |= FSW_C1; this.inf(neg); return; }
        // The largest finite number of this precision.
        const hiMax = this.pc === 24 ? 0xffffff00 | 0 : -1, loMax = this.pc === 64 ? -1 : this.pc === 53 ? 0xfffff800 | 0 : 0;
        this.set(sign | 0x7ffe, hiMax, loMax);
        return;
      }
    }
    this.set(sign | be, (R[7] << 16) | R[6], (R[5] << 16) | R[4]);
  }

  /** Whether rounding R at bit `pos` (the lowest kept bit) increments it, by FCW.RC. */
  private roundsUp(neg: boolean, pos: number, sticky: boolean): boolean {
    const roundBit = bit(R, pos - 1);
    const rest = sticky || anyBelow(R, pos - 1);
    if (roundBit === 0 && !rest) return false;
    if (this.rc === RC_NEAREST) return roundBit !== 0 && (rest || bit(R, pos) !== 0);
    return this.rc === RC_UP ? !neg : this.rc === RC_DOWN ? neg : false;
  }

  /** Loads operand o's significand into the top of `dst` (bits 127:64). */
  private top(dst: Int32Array, o: XOperand): void {
    clear(dst);
    dst[4] = o.sig[0]; dst[5] = o.sig[1]; dst[6] = o.sig[2]; dst[7] = o.sig[3];
  }

  // ---- operations --------------------------------------------------------------------------

  /** a + b, or a - b with `sub` (FADD, FSUB, FSUBR with the operands swapped by the caller). */
  add(sub_: boolean): void {
    if (this.nans(true)) return;
    const a = this.a, b = this.b;
    const bneg = b.neg !== sub_;
    if (a.cls === X_INF || b.cls === X_INF) {
      if (a.cls === X_INF && b.cls === X_INF && a.neg !== bneg) { this.indefinite(); return; }
      this.checkDenormals(true);
      this.inf(a.cls === X_INF ? a.neg : bneg);
      return;
    }
    this.checkDenormals(true);
    if (a.cls === X_ZERO && b.cls === X_ZERO) { this.zero(a.neg === bneg ? a.neg : this.rc === RC_DOWN); return; }
    if (b.cls === X_ZERO) { this.top(R, a); this.round(a.neg, a.exp, false); return; }
    if (a.cls === X_ZERO) { this.top(R, b); this.round(bneg, b.exp, false); return; }
    let x = a, y = b, xneg = a.neg, yneg = bneg;
    if (b.exp > a.exp) { x = b; y = a; xneg = bneg; yneg = a.neg; }
    const d = x.exp - y.exp;
    this.top(R, x);
    this.top(T2, y);
    // Shift the smaller operand right into 128 bits; what falls off is jammed into bit 0.
    let sticky = false;
    if (d > 0) {
      if (d >= 128) { clear(T2); sticky = true; } else sticky = shr(T2, 8, d);
      if (sticky) T2[0] |= 1;
    }
    let neg = xneg;
    let E = x.exp;
    if (xneg === yneg) {
      if (add(R, T2, 8) !== 0) { shr(R, 8, 1); R[7] |= 0x8000; E++; }
    } else {
      const c = cmp(R, T2, 8);
      if (c === 0) { this.zero(this.rc === RC_DOWN); return; }
      if (c < 0) { T3.set(R); R.set(T2); T2.set(T3); neg = yneg; }
      sub(R, T2, 8);
      const t = topBit(R, 8);
      if (t < 127) { shl(R, 8, 127 - t); E -= 127 - t; }
    }
    this.round(neg, E, false);
  }

  /** a × b (FMUL). */
  mul(): void {
    if (this.nans(true)) return;
    const a = this.a, b = this.b;
    const neg = a.neg !== b.neg;
    if (a.cls === X_INF || b.cls === X_INF) {
      if (a.cls === X_ZERO || b.cls === X_ZERO) { this.indefinite(); return; }
      this.checkDenormals(true);
      this.inf(neg);
      return;
    }
    this.checkDenormals(true);
    if (a.cls === X_ZERO || b.cls === X_ZERO) { this.zero(neg); return; }
    clear(R);
    for (let i = 0; i < 4; i++) {
      let c = 0;
      for (let j = 0; j < 4; j++) {
        const s = R[i + j] + a.sig[i] * b.sig[j] + c;
        R[i + j] = s % 65536;
        c = Math.floor(s / 65536);
      }
      R[i + 4] += c;
    }
    // sig_a × sig_b is in [2^126, 2^128).
    let E = a.exp + b.exp + 1;
    if (bit(R, 127) === 0) { shl(R, 8, 1); E--; }
    this.round(neg, E, false);
  }

  /** a / b (FDIV; FDIVR with the operands swapped by the caller). */
  div(): void {
    if (this.nans(true)) return;
    const a = this.a, b = this.b;
    const neg = a.neg !== b.neg;
    if (a.cls === X_INF) {
      if (b.cls === X_INF) { this.indefinite(); return; }
      this.checkDenormals(true);
      this.inf(neg);
      return;
    }
    if (b.cls === X_INF) { this.checkDenormals(true); this.zero(neg); return; }
    if (b.cls === X_ZERO) {
      if (a.cls === X_ZERO) { this.indefinite(); return; }
      // Division by zero: ZE (a denormal dividend raises no DE, as the host CPU shows).
      this.exc |= FSW_ZE;
      this.inf(neg);
      return;
    }
    this.checkDenormals(true);
    if (a.cls === X_ZERO) { this.zero(neg); return; }
    // Restoring division: 68 quotient bits (64, the round bit, margin) and the remainder as sticky.
    load64(T2, a.sig[3] << 16 | a.sig[2], a.sig[1] << 16 | a.sig[0]);
    load64(T3, b.sig[3] << 16 | b.sig[2], b.sig[1] << 16 | b.sig[0]);
    let E = a.exp - b.exp;
    if (cmp(T2, T3, 5) < 0) { shl(T2, 5, 1); E--; }
    clear(R);
    for (let i = 127; i >= 127 - 67; i--) {
      if (cmp(T2, T3, 5) >= 0) { sub(T2, T3, 5); R[i >> 4] |= 1 << (i & 15); }
      shl(T2, 5, 1);
    }
    this.round(neg, E, !isZero(T2, 5));
  }

  /** √a (FSQRT). */
  sqrt(): void {
    if (this.nans(false)) return;
    const a = this.a;
    if (a.cls === X_ZERO) { this.zero(a.neg); return; }
    if (a.neg) { this.indefinite(); return; }
    this.checkDenormals(false);
    if (a.cls === X_INF) { this.inf(false); return; }
    // Radicand M = sig × 2^t with t ≡ exp (mod 2), 134 or 135 bits wide; √M has 67-68 bits.
    const t = (a.exp & 1) !== 0 ? 70 : 71;
    clear(T1);
    T1[0] = a.sig[0]; T1[1] = a.sig[1]; T1[2] = a.sig[2]; T1[3] = a.sig[3];
    shl(T1, N, t);
    // Digit-by-digit: two radicand bits per root bit. rem (T2), root (T3).
    clear(T2); clear(T3);
    const top = 134;
    for (let i = top; i >= 0; i -= 2) {
      shl(T2, 6, 2);
      T2[0] |= (bit(T1, i + 1) << 1) | bit(T1, i);
      // trial = root·4 + 1
      R.set(T3);
      shl(R, 6, 2);
      R[0] |= 1;
      shl(T3, 6, 1);
      if (cmp(T2, R, 6) >= 0) { sub(T2, R, 6); T3[0] |= 1; }
    }
    const sticky = !isZero(T2, 6);
    // value = √M × 2^((exp - 63 - t)/2); put the root's top bit at 127.
    const tb = topBit(T3, 6);
    R.set(T3);
    shl(R, 8, 127 - tb);
    this.round(false, tb + (a.exp - 63 - t) / 2, sticky);
  }

  /**
   * The relation of a to b for the compares (SDM Vol. 2 FCOM/FUCOM/FCOMI): 0 less, 1 equal,
   * 2 greater, 3 unordered. IE for an SNaN or unsupported operand, and for a QNaN when
   * `signalQuiet` (FCOM, FCOMI, FICOM, FTST); DE for a denormal.
   */
  relation(signalQuiet: boolean): number {
    const a = this.a, b = this.b;
    if (a.cls >= X_QNAN || b.cls >= X_QNAN) {
      if (signalQuiet || a.cls !== X_QNAN && a.cls >= X_QNAN || b.cls !== X_QNAN && b.cls >= X_QNAN) this.exc |= FSW_IE;
      return 3;
    }
    this.checkDenormals(true);
    const sa = this.signum(a), sb = this.signum(b);
    if (sa !== sb) return sa < sb ? 0 : 2;
    if (sa === 0) return 1;
    let c: number;
    if (a.cls === X_INF || b.cls === X_INF) c = a.cls === b.cls ? 0 : a.cls === X_INF ? 1 : -1;
    else if (a.exp !== b.exp) c = a.exp > b.exp ? 1 : -1;
    else c = cmp(a.sig, b.sig, 4);
    if (sa < 0) c = -c;
    return c + 1;
  }

  private signum(o: XOperand): number { return o.cls === X_ZERO ? 0 : o.neg ? -1 : 1; }

  /** FRNDINT (SDM Vol. 2): a rounded to an integer by FCW.RC (precision control does not apply). */
  roundInt(): void {
    if (this.nans(false)) return;
    const a = this.a;
    if (a.cls === X_ZERO || a.cls === X_INF) { this.set(a.se, a.hi, a.lo); return; }
    this.checkDenormals(false);
    if (a.exp >= 63) { this.set(a.se, a.hi, a.lo); return; }
    // Integer part = sig >> (63 - exp) (exp < 0: zero with the whole value as the fraction).
    clear(R);
    R[4] = a.sig[0]; R[5] = a.sig[1]; R[6] = a.sig[2]; R[7] = a.sig[3];
    const k = a.exp < -2 ? 66 : 63 - a.exp; // shift so that bit 64 is the units bit (the whole significand sits above 127 - k)
    shr(R, 8, k);
    // Now bits 127..64 hold the integer part (right-aligned at bit 64), below it the fraction.
    const roundBit = bit(R, 63), rest = anyBelow(R, 63);
    const inexact = roundBit !== 0 || rest;
    let up = false;
    if (inexact) {
      if (this.rc === RC_NEAREST) up = roundBit !== 0 && (rest || bit(R, 64) !== 0);
      else if (this.rc === RC_UP) up = !a.neg;
      else if (this.rc === RC_DOWN) up = a.neg;
      this.exc |= FSW_PE | (up ? FSW_C1 : 0);
    }
    for (let i = 0; i < 4; i++) R[i] = 0;
    if (up) { clear(T1); T1[4] = 1; add(R, T1, 8); }
    const tb = topBit(R, 8);
    if (tb < 64) { this.zero(a.neg); return; }
    shl(R, 8, 127 - tb);
    this.set((a.neg ? 0x8000 : 0) | (tb - 64 + 16383), (R[7] << 16) | R[6], (R[5] << 16) | R[4]);
  }

  // ---- FSCALE, FXTRACT, FPREM/FPREM1 ------------------------------------------------------

  /** The second result of FXTRACT (the exponent). */
  se2 = 0;
  hi2 = 0;
  lo2 = 0;
  /** Low three bits of the FPREM/FPREM1 quotient, and whether the reduction was partial. */
  quotient = 0;
  partial = false;
  /** FPREM/FPREM1 produced a NaN: no quotient bits. */
  special = false;

  /** FSCALE (SDM Vol. 2 FSCALE, Table 3-31 for the special operands): a × 2^trunc(b); no precision control. */
  scale(): void {
    if (this.nans(true)) return;
    const a = this.a, b = this.b;
    if (b.cls === X_INF) {
      if (!b.neg ? a.cls === X_ZERO : a.cls === X_INF) { this.indefinite(); return; }
      this.checkDenormals(true);
      if (!b.neg) this.inf(a.neg); else this.zero(a.neg);
      return;
    }
    this.checkDenormals(true);
    if (a.cls !== X_FINITE) { this.copy(a); return; }
    // trunc(b), clamped: beyond ±2^20 every result overflows or underflows to the same value.
    let n = 0;
    if (b.cls === X_FINITE && b.exp >= 0) n = b.exp > 20 ? 1 << 20 : ((b.sig[3] << 16) | b.sig[2]) >>> (31 - b.exp);
    if (b.neg) n = -n;
    this.top(R, a);
    this.round(a.neg, a.exp + n, false);
  }

  /** FXTRACT (SDM Vol. 2): significand (exponent 0) in se/hi/lo, exponent as a number in se2/hi2/lo2. */
  extract(): void {
    const a = this.a;
    if (this.nans(false)) { this.second(this.se, this.hi, this.lo); return; }
    if (a.cls === X_ZERO) {
      // Zero: #Z, the exponent is -∞, the significand the zero itself.
      this.exc |= FSW_ZE;
      this.second(0xffff, 0x80000000 | 0, 0);
      this.copy(a);
      return;
    }
    if (a.cls === X_INF) { this.second(0x7fff, 0x80000000 | 0, 0); this.copy(a); return; }
    this.checkDenormals(false);
    // The exponent as an 80-bit integer value (exact).
    const e = a.exp;
    if (e === 0) this.second(0, 0, 0); else {
      const m = Math.abs(e);
      const t = 31 - Math.clz32(m);
      this.second((e < 0 ? 0x8000 : 0) | (16383 + t), (m << (31 - t)) | 0, 0);
    }
    this.set((a.neg ? 0x8000 : 0) | 16383, (a.sig[3] << 16) | a.sig[2], (a.sig[1] << 16) | a.sig[0]);
  }

  private second(se: number, hi: number, lo: number): void { this.se2 = se; this.hi2 = hi; this.lo2 = lo; }

  /**
   * FPREM (truncating quotient) / FPREM1 (quotient rounded to nearest even), SDM Vol. 2: the
   * exact remainder a - Q·b. With an exponent difference D of 64 or more the reduction is
   * partial (`partial`, C2 = 1): the truncated quotient of a / (b·2^(D-N)) with
   * N = 32 + D mod 32, as the host CPUs (and QEMU, Bochs) pick N.
   */
  remainder(nearest: boolean): void {
    this.quotient = 0;
    this.partial = false;
    this.special = true;
    if (this.nans(true)) return;
    const a = this.a, b = this.b;
    if (a.cls === X_INF || b.cls === X_ZERO) { this.indefinite(); return; }
    this.special = false;
    this.checkDenormals(true);
    if (a.cls === X_ZERO) { this.copy(a); return; }
    let D = a.exp - b.exp;
    if (b.cls === X_INF || D < -1 || (D === -1 && !nearest)) { this.same(a); return; }
    if (D === -1) {
      // |a| in [|b|/2, |b|): the nearest quotient is 1 when |a| > |b|/2, else 0 (a tie goes to 0).
      if (cmp(a.sig, b.sig, 4) <= 0) { this.same(a); return; }
      this.quotient = 1;
      b.neg = a.neg;
      this.add(true);
      return;
    }
    let bexp = b.exp;
    if (D >= 64) {
      this.partial = true;
      const n = 32 + (D % 32);
      bexp += D - n;
      D = n;
      nearest = false;
    }
    // rem = sig_a; D+1 quotient bits by restoring division (rem < 2·sig_b < 2^65 throughout).
    load64(T2, (a.sig[3] << 16) | a.sig[2], (a.sig[1] << 16) | a.sig[0]);
    load64(T3, (b.sig[3] << 16) | b.sig[2], (b.sig[1] << 16) | b.sig[0]);
    let q = 0;
    for (let i = 0; i <= D; i++) {
      q = (q << 1) & 7;
      if (cmp(T2, T3, 5) >= 0) { sub(T2, T3, 5); q |= 1; }
      if (i < D) shl(T2, 5, 1);
    }
    let neg = a.neg;
    if (nearest) {
      // 2·rem against sig_b: above, or a tie with an odd quotient, rounds the quotient up.
      T1.set(T2);
      shl(T1, 5, 1);
      const c = cmp(T1, T3, 5);
      if (c > 0 || (c === 0 && (q & 1) !== 0)) {
        q = (q + 1) & 7;
        T1.set(T3);
        sub(T1, T2, 5);
        T2.set(T1);
        neg = !neg;
      }
    }
    this.quotient = q;
    if (isZero(T2, 5)) { this.zero(a.neg); return; }
    const t = topBit(T2, 5);
    clear(R);
    for (let k = 0; k < 5; k++) R[k] = T2[k];
    shl(R, 8, 127 - t);
    this.round(neg, bexp - 63 + t, false);
  }

  /** A finite operand as the result, through rounding (exact; a denormal still reports underflow when UE is unmasked). */
  private same(o: XOperand): void {
    this.top(R, o);
    this.round(o.neg, o.exp, false);
  }
}

/** The one instance the x87 handlers use (scratch state, reset by begin()). */
export const XF = new ExtFloat();
