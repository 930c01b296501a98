// IEEE 754 binary32/binary64 arithmetic for the SSE/SSE2 instructions, bit-exact in every
// MXCSR rounding mode, with FTZ, DAZ and the six exception flags (SDM Vol. 1 §4.8-§4.9,
// §10.2.3 MXCSR, §11.5 SSE/SSE2 exceptions; Vol. 2 under each instruction).
//
// How it stays exact with JS doubles (no BigInt, no allocation; DESIGN.md item 4):
// operands are split into a significand m in [1, 2) and an integer exponent, so the core
// operations run near 1.0 where binary64 neither overflows nor underflows. Each operation
// yields m = the binary64 round-to-nearest of the exact (unbounded-exponent) result plus the
// SIGN of the exact error, found with error-free transformations (Knuth's TwoSum, Dekker's
// TwoProduct with Veltkamp's split): for + and - the error is exact, for × it is exact, for
// ÷ and √ the sign of the exact remainder a - q·b resp. a - s·s decides. `roundPack` then
// rounds that (m, error sign) pair to 24 or 53 bits with the requested rounding, the
// exponent range, subnormals and overflow. Knowing only the error's sign is enough: m holds
// all 53 leading bits of the exact value, so the discarded part of m decides every rounding
// except exact ties and exact zeros, and there the error's sign breaks the tie.
//
// Results go into the scratch fields of `SSEF` (lo/hi bit patterns), exception flags (MXCSR
// bits 5:0) are OR-ed into SF.flags; the caller decides, from the masks, whether to store.

/** MXCSR bits (SDM Vol. 1 §10.2.3, Figure 10-3). */
export const MX_IE = 0x1, MX_DE = 0x2, MX_ZE = 0x4, MX_OE = 0x8, MX_UE = 0x10, MX_PE = 0x20;
export const MX_DAZ = 0x40, MX_FZ = 0x8000;
/** Pre-computation exceptions (SDM Vol. 1 §11.5.2.1): detected before the result is computed. */
export const MX_PRE = MX_IE | MX_DE | MX_ZE;

const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2;

/** Operand classes. */
const ZERO = 0, FINITE = 1, INF = 2, QNAN = 3, SNAN = 4;

const F64 = new Float64Array(1);
const W64 = new Int32Array(F64.buffer); // [0] low, [1] high (typed arrays use the host's order: little-endian)
const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);
const TWO32 = 4294967296;
const TWO52 = 4503599627370496;
const TWO53 = 9007199254740992;
const SPLIT = 134217729; // 2^27 + 1, Veltkamp's splitter for binary64

/** 2^k for 0 <= k <= 64 (exact). */
const POW2 = new Float64Array(65).map((_, k) => 2 ** k);

/** A decoded operand: class, sign, and for FINITE m in [1, 2) and exponent e (value = m·2^e). */
class Operand {
  cls = ZERO;
  neg = false;
  m = 0;
  e = 0;
  /** The value as a JS number (exact: binary32 and binary64 values are binary64 values). */
  v = 0;
  /** Raw bits (binary32 in lo) for NaN propagation. */
  lo = 0;
  hi = 0;
}

/** Sets F64 to a binary64 with the given fraction bits and exponent 0 (value in [1, 2)) and returns it. */
function unitFrom(hiFrac: number, lo: number): number {
  W64[1] = (hiFrac & 0xfffff) | 0x3ff00000;
  W64[0] = lo;
  return F64[0];
}

/** The exponent k with 2^k <= x < 2^(k+1), and `scaled` = x / 2^k, for a normal positive binary64 x. */
let scaled = 0;
function exponentOf(x: number): number {
  F64[0] = x;
  const k = ((W64[1] >>> 20) & 0x7ff) - 1023;
  W64[1] = (W64[1] & 0xfffff) | 0x3ff00000;
  scaled = F64[0];
  return k;
}

// Error-free transformations (results in errLo).
let errLo = 0;
function twoProduct(a: number, b: number): number {
  const p = a * b;
  let t = SPLIT * a;
  const ah = t - (t - a), al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b), bl = b - bh;
  errLo = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return p;
}
function twoSum(a: number, b: number): number {
  const s = a + b;
  const bb = s - a;
  errLo = (a - (s - bb)) + (b - bb);
  return s;
}

export class SseFloat {
  /** Result bits (binary32 in lo). */
  lo = 0;
  hi = 0;
  /** Exception flags raised so far in this instruction (MXCSR bits 5:0). */
  flags = 0;
  /** The MXCSR the instruction runs under. */
  private mxcsr = 0x1f80;
  private rc = 0;
  readonly a = new Operand();
  readonly b = new Operand();

  /** Starts an instruction under MXCSR value `mxcsr`. */
  begin(mxcsr: number): void {
    this.mxcsr = mxcsr;
    this.rc = (mxcsr >> 13) & 3;
    this.flags = 0;
  }

  // ---- decoding ----------------------------------------------------------------------------

  /** Decodes binary32 `bits` into `o`; a denormal raises DE, or reads as zero under DAZ. */
  decode32(o: Operand, bits: number): void {
    o.neg = bits < 0;
    o.lo = bits; o.hi = 0;
    const e = (bits >>> 23) & 0xff, f = bits & 0x7fffff;
    if (e === 0xff) { o.cls = f === 0 ? INF : (f & 0x400000) !== 0 ? QNAN : SNAN; o.v = o.neg ? -Infinity : Infinity; return; }
    if (e !== 0) { o.cls = FINITE; o.m = 1 + f / 8388608; o.e = e - 127; } else if (f === 0 || (this.mxcsr & MX_DAZ) !== 0) {
      o.cls = ZERO; o.v = 0; return;
    } else {
      const k = 31 - Math.clz32(f);
      o.cls = FINITE; o.m = f / POW2[k]; o.e = k - 149;
    }
    I32[0] = bits;
    o.v = F32[0];
  }

  /** Decodes binary64 hi:lo into `o` (as decode32). */
  decode64(o: Operand, lo: number, hi: number): void {
    o.neg = hi < 0;
    o.lo = lo; o.hi = hi;
    const e = (hi >>> 20) & 0x7ff, fh = hi & 0xfffff;
    if (e === 0x7ff) { o.cls = fh === 0 && lo === 0 ? INF : (fh & 0x80000) !== 0 ? QNAN : SNAN; o.v = o.neg ? -Infinity : Infinity; return; }
    if (e !== 0) { o.cls = FINITE; o.m = unitFrom(fh, lo); o.e = e - 1023; } else if ((fh === 0 && lo === 0) || (this.mxcsr & MX_DAZ) !== 0) {
      o.cls = ZERO; o.v = 0; return;
    } else {
      const f = fh * TWO32 + (lo >>> 0);
      const k = fh !== 0 ? 63 - Math.clz32(fh) : 31 - Math.clz32(lo);
      o.cls = FINITE; o.m = f / POW2[k]; o.e = k - 1074;
    }
    W64[0] = lo; W64[1] = hi;
    o.v = F64[0];
  }

  /** True when a FINITE operand was a denormal (DE is raised by the operations that list it). */
  private denormal(o: Operand, p: number): boolean {
    return o.cls === FINITE && o.e < (p === 24 ? -126 : -1022);
  }

  /** DE for denormal operands (SDM Vol. 1 §11.5.2.1: after the NaN checks, before the others, also with an infinity). */
  private checkDenormals(p: number, two: boolean): void {
    if (this.denormal(this.a, p) || (two && this.denormal(this.b, p))) this.flags |= MX_DE;
  }

  // ---- results -----------------------------------------------------------------------------

  private setZero(neg: boolean): void { this.lo = 0; this.hi = neg ? 0x80000000 | 0 : 0; }
  private zero(neg: boolean, p: number): void {
    if (p === 24) { this.lo = neg ? 0x80000000 | 0 : 0; this.hi = 0; } else this.setZero(neg);
  }
  private inf(neg: boolean, p: number): void {
    if (p === 24) { this.lo = (neg ? 0xff800000 : 0x7f800000) | 0; this.hi = 0; } else { this.lo = 0; this.hi = (neg ? 0xfff00000 : 0x7ff00000) | 0; }
  }
  /** The default NaN, "QNaN floating-point indefinite" (SDM Vol. 1 §4.8.3.7 Table 4-3). */
  private indefinite(p: number): void {
    this.flags |= MX_IE;
    if (p === 24) { this.lo = 0xffc00000 | 0; this.hi = 0; } else { this.lo = 0; this.hi = 0xfff80000 | 0; }
  }
  /** `o` (a NaN of format p) quieted as the result; IE if it was signalling. */
  private quiet(o: Operand, p: number): void {
    if (p === 24) { this.lo = o.lo | 0x400000; this.hi = 0; } else { this.lo = o.lo; this.hi = o.hi | 0x80000; }
  }

  /**
   * NaN operands (SDM Vol. 1 §4.8.3.5 Table 4-7, for SSE): IE if either is an SNaN; the
   * result is the first source (destination) operand's NaN if it is one, else the second's,
   * quieted. Returns true when a NaN result was produced.
   */
  private nans(two: boolean, p: number): boolean {
    const a = this.a, b = this.b;
    const an = a.cls >= QNAN, bn = two && b.cls >= QNAN;
    if (!an && !bn) return false;
    if (a.cls === SNAN || (two && b.cls === SNAN)) this.flags |= MX_IE;
    this.quiet(an ? a : b, p);
    return true;
  }

  /**
   * Rounds ±(m + δ)·2^E to binary32 (p = 24) or binary64 (p = 53), where m in [1, 2) is the
   * binary64 nearest to the exact magnitude and `dir` the sign of δ (SDM Vol. 1 §4.8.4
   * rounding; §4.9.1.4 overflow: RC picks ∞ or the largest finite number; §4.9.1.5 underflow,
   * detected after rounding, reported when inexact or when unmasked; §10.2.3.3 FTZ: a tiny
   * result becomes zero with UE and PE when underflow is masked).
   */
  roundPack(neg: boolean, E: number, m: number, dir: number, p: number): void {
    const emin = p === 24 ? -126 : -1022, emax = -emin + 1;
    let M = m * TWO52;
    // Exactly 1.0 minus a little: the value lies in the binade below, with finer quanta.
    if (M === TWO52 && dir < 0) { M = TWO53; E--; }
    const rc = this.rc;
    const awayFromZero = (rc === RC_UP && !neg) || (rc === RC_DOWN && neg);
    let s = 53 - p;
    // Tininess after rounding: the result rounded to p bits with an unbounded exponent is below 2^emin.
    let tiny = false;
    if (E < emin) {
      tiny = E < emin - 1 || this.roundedCount(M, s, dir, awayFromZero) < POW2[p];
      s += emin - E;
      if (s > 55) s = 55;
    }
    const N = this.roundedCount(M, s, dir, awayFromZero);
    const inexact = this.inexact;
    const masked = this.mxcsr >> 7;
    if (tiny) {
      if ((masked & MX_UE) === 0) this.flags |= MX_UE | (inexact ? MX_PE : 0);
      else if ((this.mxcsr & MX_FZ) !== 0) { this.flags |= MX_UE | MX_PE; this.zero(neg, p); return; } else if (inexact) this.flags |= MX_UE | MX_PE;
      // N counts quanta of the smallest denormal: it is the encoding (a carry into bit p-1 gives the smallest normal).
      if (p === 24) { this.lo = (neg ? 0x80000000 : 0) | N; this.hi = 0; } else {
        this.hi = (neg ? 0x80000000 : 0) | Math.floor(N / TWO32);
        this.lo = N % TWO32 | 0;
      }
      return;
    }
    if (inexact) this.flags |= MX_PE;
    let K = N;
    if (K === POW2[p]) { K = POW2[p - 1]; E++; }
    if (E < emin) E = emin; // rounded up from just below 2^emin: the smallest normal
    if (E > emax) {
      this.flags |= MX_OE | MX_PE;
      if (rc === RC_NEAREST || awayFromZero) this.inf(neg, p);
      else if (p === 24) { this.lo = (neg ? 0xff7fffff : 0x7f7fffff) | 0; this.hi = 0; } else { this.lo = -1; this.hi = (neg ? 0xffefffff : 0x7fefffff) | 0; }
      return;
    }
    const frac = K - POW2[p - 1];
    if (p === 24) { this.lo = (neg ? 0x80000000 : 0) | ((E + 127) << 23) | frac; this.hi = 0; } else {
      this.hi = (neg ? 0x80000000 : 0) | ((E + 1023) << 20) | Math.floor(frac / TWO32);
      this.lo = frac % TWO32 | 0;
    }
  }

  private inexact = false;

  /** M (an integer, at most 2^53) rounded to a multiple of 2^s, as a count of 2^s quanta; sets `inexact`. */
  private roundedCount(M: number, s: number, dir: number, awayFromZero: boolean): number {
    const Q = POW2[s];
    let n = Math.floor(M / Q);
    const d = M - n * Q;
    if (d === 0 && dir === 0) { this.inexact = false; return n; }
    this.inexact = true;
    // Compare the discarded part (d + δ) with half a quantum.
    let cmp: number; // -1 below half, 0 tie, 1 above
    if (d === 0) {
      if (dir > 0) cmp = -1; else { n--; cmp = 1; }
    } else {
      const h = Q / 2;
      cmp = d < h ? -1 : d > h ? 1 : dir;
    }
    let up: boolean;
    if (this.rc === RC_NEAREST) up = cmp > 0 || (cmp === 0 && n % 2 !== 0);
    else up = awayFromZero;
    return up ? n + 1 : n;
  }

  /** A finite operand rounded into format p (the conversions CVTSS2SD, CVTSD2SS). */
  private finite(o: Operand, p: number): void {
    this.roundPack(o.neg, o.e, o.m, 0, p);
  }

  // ---- operations (operands in this.a, this.b; format p) -----------------------------------

  /** ADDSS/ADDSD/ADDPS/ADDPD and the SUB forms (`sub` flips the second operand's sign). */
  add(p: number, sub: boolean): void {
    if (this.nans(true, p)) return;
    const a = this.a, b = this.b;
    const bneg = b.neg !== sub;
    this.checkDenormals(p, true);
    if (a.cls === INF || b.cls === INF) {
      if (a.cls === INF && b.cls === INF && a.neg !== bneg) { this.indefinite(p); return; }
      this.inf(a.cls === INF ? a.neg : bneg, p);
      return;
    }
    if (a.cls === ZERO && b.cls === ZERO) {
      this.zero(a.neg === bneg ? a.neg : this.rc === RC_DOWN, p);
      return;
    }
    if (b.cls === ZERO) { this.finite(a, p); return; }
    if (a.cls === ZERO) { this.roundPack(bneg, b.e, b.m, 0, p); return; }
    // Align to the larger exponent; an operand more than 60 binades below only acts as a
    // sticky bit, so a stand-in far below every rounding position replaces it.
    let big = a, small = b, bigNeg = a.neg, smallNeg = bneg;
    if (b.e > a.e) { big = b; small = a; bigNeg = bneg; smallNeg = a.neg; }
    const d = big.e - small.e;
    const vs = d > 60 ? 8.470329472543003e-22 /* 2^-70 */ : small.m / POW2[d];
    const s = twoSum(bigNeg ? -big.m : big.m, smallNeg ? -vs : vs);
    if (s === 0) { this.zero(this.rc === RC_DOWN, p); return; }
    const neg = s < 0;
    const k = exponentOf(neg ? -s : s);
    const dir = errLo === 0 ? 0 : (errLo < 0) === neg ? 1 : -1;
    this.roundPack(neg, big.e + k, scaled, dir, p);
  }

  /** MULSS/MULSD/MULPS/MULPD. */
  mul(p: number): void {
    if (this.nans(true, p)) return;
    const a = this.a, b = this.b;
    const neg = a.neg !== b.neg;
    this.checkDenormals(p, true);
    if (a.cls === INF || b.cls === INF) {
      if (a.cls === ZERO || b.cls === ZERO) { this.indefinite(p); return; }
      this.inf(neg, p);
      return;
    }
    if (a.cls === ZERO || b.cls === ZERO) { this.zero(neg, p); return; }
    let q = twoProduct(a.m, b.m);
    let e = a.e + b.e;
    if (q >= 2) { q /= 2; e++; }
    this.roundPack(neg, e, q, errLo === 0 ? 0 : errLo > 0 ? 1 : -1, p);
  }

  /** DIVSS/DIVSD/DIVPS/DIVPD: a / b. */
  div(p: number): void {
    if (this.nans(true, p)) return;
    const a = this.a, b = this.b;
    const neg = a.neg !== b.neg;
    if (b.cls === ZERO) {
      if (a.cls === ZERO) { this.indefinite(p); return; }
      // Division by zero: ZE (a denormal dividend raises no DE, as the host CPU shows).
      if (a.cls === FINITE) this.flags |= MX_ZE;
      this.inf(neg, p);
      return;
    }
    this.checkDenormals(p, true);
    if (a.cls === INF) {
      if (b.cls === INF) this.indefinite(p); else this.inf(neg, p);
      return;
    }
    if (b.cls === INF) { this.zero(neg, p); return; }
    if (a.cls === ZERO) { this.zero(neg, p); return; }
    let q = a.m / b.m;
    const ph = twoProduct(q, b.m);
    const r = (a.m - ph) - errLo;
    let e = a.e - b.e;
    if (q < 1) { q *= 2; e--; }
    this.roundPack(neg, e, q, r === 0 ? 0 : r > 0 ? 1 : -1, p);
  }

  /** SQRTSS/SQRTSD/SQRTPS/SQRTPD of operand a. */
  sqrt(p: number): void {
    if (this.nans(false, p)) return;
    const a = this.a;
    if (a.cls === ZERO) { this.zero(a.neg, p); return; }
    // The square root of a negative number is invalid (IE alone, also for a denormal: no DE).
    if (a.neg) { this.indefinite(p); return; }
    if (a.cls === INF) { this.inf(false, p); return; }
    this.checkDenormals(p, false);
    const odd = (a.e & 1) !== 0;
    const x = odd ? a.m * 2 : a.m;
    const s = Math.sqrt(x);
    const ph = twoProduct(s, s);
    const r = (x - ph) - errLo;
    this.roundPack(false, (a.e - (odd ? 1 : 0)) / 2, s, r === 0 ? 0 : r > 0 ? 1 : -1, p);
  }

  /**
   * MIN/MAX (SDM Vol. 2 MINPS/MAXPS): dest < src ? dest : src (or >): a NaN in either
   * operand (IE, quiet or not) and two zeros of any sign return the second operand as it is.
   * `bits` of the chosen operand go to lo/hi.
   */
  minMax(p: number, max: boolean): void {
    const a = this.a, b = this.b;
    if (a.cls >= QNAN || b.cls >= QNAN) { this.flags |= MX_IE; this.copy(b, p); return; }
    this.checkDenormals(p, true);
    const c = this.compare();
    this.copy((max ? c > 0 : c < 0) ? a : b, p);
  }

  /** The operand as a result: its bits, or a signed zero when DAZ read a denormal as zero. */
  private copy(o: Operand, p: number): void {
    if (o.cls === ZERO) this.zero(o.neg, p);
    else if (p === 24) { this.lo = o.lo; this.hi = 0; } else { this.lo = o.lo; this.hi = o.hi; }
  }

  /** -1, 0, 1 for a < b, a == b, a > b (neither a NaN; zeros equal). */
  private compare(): number {
    const va = this.a.v, vb = this.b.v;
    return va < vb ? -1 : va > vb ? 1 : 0;
  }

  /**
   * CMPPS/CMPSS predicate (SDM Vol. 2 CMPPS Table 3-1, imm8 0-7) or the COMIS/UCOMIS
   * relation: returns 0 less, 1 equal, 2 greater, 3 unordered. `signalQuiet`: a QNaN
   * also raises IE (LT, LE, NLT, NLE, COMISS); an SNaN always does.
   */
  relation(p: number, signalQuiet: boolean): number {
    const a = this.a, b = this.b;
    if (a.cls >= QNAN || b.cls >= QNAN) {
      if (signalQuiet || a.cls === SNAN || b.cls === SNAN) this.flags |= MX_IE;
      return 3;
    }
    this.checkDenormals(p, true);
    return this.compare() + 1;
  }

  /** CVTSS2SD (p = 53) and CVTSD2SS (p = 24) of operand a. */
  convert(p: number): void {
    const a = this.a;
    if (a.cls >= QNAN) {
      if (a.cls === SNAN) this.flags |= MX_IE;
      // The NaN's sign and high fraction bits carry over, quieted.
      if (p === 53) { this.hi = (a.lo & 0x80000000) | 0x7ff80000 | ((a.lo >>> 3) & 0x7ffff); this.lo = a.lo << 29; } else {
        this.lo = (a.hi & 0x80000000) | 0x7fc00000 | ((a.hi & 0x7ffff) << 3) | (a.lo >>> 29); this.hi = 0;
      }
      return;
    }
    if (a.cls === INF) { this.inf(a.neg, p); return; }
    if (a.cls === ZERO) { this.zero(a.neg, p); return; }
    this.checkDenormals(p === 53 ? 24 : 53, false);
    this.finite(a, p);
  }

  /** CVTSI2SS/CVTSI2SD/CVTDQ2PS/CVTDQ2PD: the signed integer hi:lo (64-bit) rounded into format p. */
  fromInt(lo: number, hi: number, p: number): void {
    const neg = hi < 0;
    if (neg) { lo = -lo | 0; hi = (~hi + (lo === 0 ? 1 : 0)) | 0; }
    const uh = hi >>> 0, ul = lo >>> 0;
    if (uh === 0 && ul === 0) { this.zero(false, p); return; }
    const v = uh * TWO32 + ul; // binary64 round-to-nearest of the magnitude
    const vh = Math.floor(v / TWO32), vl = v - vh * TWO32;
    const dir = uh !== vh ? (uh > vh ? 1 : -1) : ul !== vl ? (ul > vl ? 1 : -1) : 0;
    const k = exponentOf(v);
    this.roundPack(neg, k, scaled, dir, p);
  }

  /**
   * CVTSS2SI/CVTSD2SI/CVTTSS2SI/... (SDM Vol. 2): operand a to a signed integer of `bits`
   * (32 or 64), rounded by MXCSR.RC or truncated; NaN, infinity or out of range: IE and the
   * integer indefinite 80000000H / 8000000000000000H. Result in hi:lo.
   */
  toInt(bits: number, truncate: boolean): void {
    const a = this.a;
    let n = NaN, x = 0;
    if (a.cls === FINITE) {
      x = a.v;
      switch (truncate ? 3 : this.rc) {
        case RC_NEAREST: {
          const f = Math.floor(x), d = x - f;
          n = d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
          break;
        }
        case RC_DOWN: n = Math.floor(x); break;
        case RC_UP: n = Math.ceil(x); break;
        default: n = Math.trunc(x); break;
      }
    } else if (a.cls === ZERO) n = 0;
    const limit = bits === 32 ? 2147483648 : 9223372036854775808;
    if (!(n >= -limit && n < limit)) {
      this.flags |= MX_IE;
      this.lo = bits === 32 ? 0x80000000 | 0 : 0; this.hi = bits === 32 ? 0 : 0x80000000 | 0;
      return;
    }
    if (n !== x) this.flags |= MX_PE;
    const h = Math.floor(n / TWO32);
    this.hi = h | 0;
    this.lo = (n - h * TWO32) | 0;
  }
}

/** The one instance the SSE handlers use (scratch state, reset by begin()). */
export const SSEF = new SseFloat();
