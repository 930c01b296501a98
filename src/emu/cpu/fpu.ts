// The x87 FPU and SSE register state of one logical processor (SDM Vol. 1 §8.1 x87 data
// registers, status/control/tag words; §10.2 XMM registers and MXCSR), and the exact
// conversions between the 80-bit double extended-precision format and memory formats.
//
// Representation (no allocation, no BigInt; DESIGN.md "Designing for speed", item 4):
// - The eight x87 data registers are kept by PHYSICAL number R0-R7 (ST(i) is R((TOP+i) & 7)):
//   `se[r]` = sign (bit 15) and 15-bit biased exponent, `mant[2r]` / `mant[2r+1]` = bits 31:0
//   / 63:32 of the 64-bit significand, integer bit J at bit 63 (§4.2.2, Figure 4-3).
// - The tag word is kept as "which registers are not empty" (`valid`, bit r = R(r)); the full
//   two-bit tags (valid / zero / special) that FNSTENV and FNSAVE write are derived from the
//   register contents, as the hardware does for FXRSTOR'd state (§8.1.7).
// - XMM0-15 as 4 int32 lanes each in `xmm` (lane 0 = bits 31:0).
//
// Conversions follow §4.8 (real numbers and their encodings) and §4.9.1 (floating-point
// exceptions): m32/m64 → 80-bit is exact (#D for denormals, #IA and quieting for SNaNs);
// 80-bit → m32/m64/integer rounds by FCW.RC and reports #P with C1 = "rounded up", #O, #U
// (tininess after rounding, masked underflow flagged only when inexact), #IA for NaNs,
// unsupported encodings and out-of-range integers. Results go into the scratch fields
// `rLo` / `rHi` (and `rSe`), exception bits into `exc`; the caller decides, from the masks,
// whether to store them (SDM Vol. 1 §8.5: unmasked exceptions leave the destination alone).

/** FSW bits (SDM Vol. 1 §8.1.3, Figure 8-4). */
export const FSW_IE = 0x1, FSW_DE = 0x2, FSW_ZE = 0x4, FSW_OE = 0x8, FSW_UE = 0x10, FSW_PE = 0x20;
export const FSW_SF = 0x40, FSW_ES = 0x80, FSW_C0 = 0x100, FSW_C1 = 0x200, FSW_C2 = 0x400, FSW_C3 = 0x4000, FSW_B = 0x8000;
export const FSW_TOP_SHIFT = 11;
/** FCW fields (§8.1.5): exception masks (bits 5:0), precision control (9:8), rounding control (11:10). */
export const FCW_MASKS = 0x3f;
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;
/** MXCSR after reset and FNINIT-independent defaults (§10.2.3): all exceptions masked, round to nearest. */
export const MXCSR_DEFAULT = 0x1f80;
/**
 * MXCSR bits that may be set (§11.6.6 "Guidelines for Writing to the MXCSR Register", §10.2.3.4
 * DAZ): flags, DAZ, masks, RC and FZ; bits 31:16 are reserved (#GP on LDMXCSR/FXRSTOR).
 */
export const MXCSR_MASK = 0xffff;

const TWO32 = 4294967296;

export class FpuState {
  /** Sign and biased exponent of R0-R7. */
  readonly se = new Uint16Array(8);
  /** Significands of R0-R7: [2r] bits 31:0, [2r+1] bits 63:32. */
  readonly mant = new Int32Array(16);
  /** Bit r set: R(r) is not empty. */
  valid = 0;
  /** Status word without the TOP field (bits 13:11), which is `top`. */
  fsw = 0;
  top = 0;
  fcw = 0x37f;
  /** Last x87 opcode (11 bits), instruction pointer and data pointer (§8.1.8, §8.1.9). */
  fop = 0;
  fipLo = 0;
  fipHi = 0;
  fcs = 0;
  fdpLo = 0;
  fdpHi = 0;
  fds = 0;
  mxcsr = MXCSR_DEFAULT;
  readonly xmm = new Int32Array(64);
  /** The XMM registers as bytes (register n at 16n) and signed words (at 8n), for the integer SIMD operations. */
  readonly xmmB = new Uint8Array(this.xmm.buffer);
  readonly xmmW = new Int16Array(this.xmm.buffer);

  // ---- conversion results (scratch, see the module comment) ----
  rLo = 0;
  rHi = 0;
  rSe = 0;
  /** FSW exception bits (and C1 for "rounded up") the last conversion raised. */
  exc = 0;

  /** Power-up and RESET state (SDM Vol. 3 §9.1.1 Table 9-1): FCW 0040H, FSW 0, all tags "zero" (5555H, registers +0.0), MXCSR 1F80H, XMM 0. */
  reset(): void {
    this.se.fill(0);
    this.mant.fill(0);
    this.valid = 0xff;
    this.fsw = 0;
    this.top = 0;
    this.fcw = 0x40;
    this.clearPointers();
    this.mxcsr = MXCSR_DEFAULT;
    this.xmm.fill(0);
  }

  /** Copies every architectural field of `o` (INIT keeps the x87 and SSE state: SDM Vol. 3 §9.1.1 Table 9-1). */
  copyFrom(o: FpuState): void {
    this.se.set(o.se); this.mant.set(o.mant); this.valid = o.valid; this.fsw = o.fsw; this.top = o.top; this.fcw = o.fcw;
    this.fop = o.fop; this.fipLo = o.fipLo; this.fipHi = o.fipHi; this.fcs = o.fcs;
    this.fdpLo = o.fdpLo; this.fdpHi = o.fdpHi; this.fds = o.fds; this.mxcsr = o.mxcsr; this.xmm.set(o.xmm);
  }

  /** FNINIT (SDM Vol. 2 FINIT/FNINIT): FCW 037FH, FSW 0, all registers empty, pointers 0; data registers and MXCSR unchanged. */
  init(): void {
    this.fcw = 0x37f;
    this.fsw = 0;
    this.top = 0;
    this.valid = 0;
    this.clearPointers();
  }

  private clearPointers(): void {
    this.fop = 0; this.fipLo = 0; this.fipHi = 0; this.fcs = 0; this.fdpLo = 0; this.fdpHi = 0; this.fds = 0;
  }

  /** The status word with TOP (FNSTSW). */
  statusWord(): number {
    return (this.fsw & ~0x3800) | (this.top << FSW_TOP_SHIFT);
  }

  /** Loads a status word (FLDENV, FRSTOR, FXRSTOR): TOP from bits 13:11. */
  setStatusWord(v: number): void {
    this.top = (v >> FSW_TOP_SHIFT) & 7;
    this.fsw = v & 0xc7ff;
  }

  /** Sets ES and B when an unmasked exception flag is set, clears them otherwise (§8.1.3.1). */
  updateSummary(): void {
    if ((this.fsw & ~this.fcw & FCW_MASKS) !== 0) this.fsw |= FSW_ES | FSW_B;
    else this.fsw &= ~(FSW_ES | FSW_B);
  }

  /** Physical register number of ST(i). */
  phys(i: number): number {
    return (this.top + i) & 7;
  }

  /** Two-bit tag of R(r) from its contents (§8.1.7): 0 valid, 1 zero, 2 special, 3 empty. */
  tagOf(r: number): number {
    if ((this.valid & (1 << r)) === 0) return 3;
    const e = this.se[r] & 0x7fff;
    const hi = this.mant[2 * r + 1], lo = this.mant[2 * r];
    if (e === 0x7fff) return 2;
    if (e === 0) return hi === 0 && lo === 0 ? 1 : 2;
    return hi < 0 ? 0 : 2; // J = 0 with a nonzero exponent: unnormal (unsupported)
  }

  /** The full tag word (FNSTENV, FNSAVE). */
  tagWord(): number {
    let t = 0;
    for (let r = 0; r < 8; r++) t |= this.tagOf(r) << (2 * r);
    return t;
  }

  /** Loads a full tag word (FLDENV, FRSTOR): 11 = empty, anything else = not empty. */
  setTagWord(t: number): void {
    let v = 0;
    for (let r = 0; r < 8; r++) if (((t >> (2 * r)) & 3) !== 3) v |= 1 << r;
    this.valid = v;
  }

  /** Writes R(r). */
  setReg(r: number, se: number, hi: number, lo: number): void {
    this.se[r] = se;
    this.mant[2 * r + 1] = hi;
    this.mant[2 * r] = lo;
    this.valid |= 1 << r;
  }

  // ---- memory formats → 80-bit (results in rSe/rHi/rLo, exceptions in exc) -------------------

  /** m32fp → extended (SDM Vol. 2 FLD: exact; #D for a denormal, #IA and quieted for an SNaN). */
  fromSingle(b: number): void {
    this.exc = 0;
    const sign = (b >>> 16) & 0x8000;
    const e = (b >>> 23) & 0xff;
    const f = b & 0x7fffff;
    this.rLo = 0;
    if (e === 0) {
      if (f === 0) { this.rSe = sign; this.rHi = 0; return; }
      this.exc = FSW_DE;
      const lz = Math.clz32(f);
      this.rHi = f << lz;
      this.rSe = sign | (16383 - 118 - lz);
    } else if (e === 0xff) {
      this.rSe = sign | 0x7fff;
      this.rHi = (0x80000000 | (f << 8)) | 0;
      if (f !== 0 && (f & 0x400000) === 0) { this.exc = FSW_IE; this.rHi |= 0x40000000; }
    } else {
      this.rSe = sign | (e - 127 + 16383);
      this.rHi = (0x80000000 | (f << 8)) | 0;
    }
  }

  /** m64fp → extended (exact; #D, #IA as for fromSingle). */
  fromDouble(lo: number, hi: number): void {
    this.exc = 0;
    const sign = (hi >>> 16) & 0x8000;
    const e = (hi >>> 20) & 0x7ff;
    const fh = hi & 0xfffff;
    if (e === 0) {
      if (fh === 0 && lo === 0) { this.rSe = sign; this.rHi = 0; this.rLo = 0; return; }
      this.exc = FSW_DE;
      // value = F × 2^-1074; shift F (52 bits) left until bit 63 is set.
      const s = fh !== 0 ? Math.clz32(fh) : 32 + Math.clz32(lo);
      this.shl64(fh, lo, s);
      this.rSe = sign | (16383 + 63 - s - 1074);
      return;
    }
    this.rHi = (0x80000000 | (fh << 11) | (lo >>> 21)) | 0;
    this.rLo = lo << 11;
    if (e === 0x7ff) {
      this.rSe = sign | 0x7fff;
      if ((fh !== 0 || lo !== 0) && (fh & 0x80000) === 0) { this.exc = FSW_IE; this.rHi |= 0x40000000; }
    } else {
      this.rSe = sign | (e - 1023 + 16383);
    }
  }

  /** Signed integer (hi:lo two's complement) → extended: exact (FILD). */
  fromInt64(lo: number, hi: number): void {
    this.exc = 0;
    let sign = 0;
    if (hi < 0) {
      sign = 0x8000;
      lo = -lo | 0;
      hi = (~hi + (lo === 0 ? 1 : 0)) | 0;
    }
    if (hi === 0 && lo === 0) { this.rSe = sign; this.rHi = 0; this.rLo = 0; return; }
    const s = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
    this.shl64(hi, lo, s);
    this.rSe = sign | (16383 + 63 - s);
  }

  private shl64(hi: number, lo: number, s: number): void {
    if (s === 0) { this.rHi = hi; this.rLo = lo; } else if (s < 32) {
      this.rHi = (hi << s) | (lo >>> (32 - s));
      this.rLo = lo << s;
    } else { this.rHi = lo << (s - 32); this.rLo = 0; }
  }

  // ---- 80-bit → memory formats -----------------------------------------------------------

  /**
   * The significand of (se, hi, lo) shifted right by `shift` and rounded by `rc` into
   * rHi:rLo (a 64-bit unsigned integer as int32 halves); sets PE and C1 (rounded up) in exc.
   */
  private roundShift(sign: number, hi: number, lo: number, shift: number, rc: number): void {
    let kh = 0, kl = 0, round = 0, sticky = false;
    if (shift === 0) { kh = hi; kl = lo; } else if (shift < 32) {
      kh = hi >>> shift;
      kl = (lo >>> shift) | (hi << (32 - shift));
      round = (lo >>> (shift - 1)) & 1;
      sticky = shift > 1 && (lo << (33 - shift)) !== 0;
    } else if (shift === 32) {
      kl = hi; round = lo >>> 31; sticky = (lo & 0x7fffffff) !== 0;
    } else if (shift < 64) {
      kl = hi >>> (shift - 32);
      round = (hi >>> (shift - 33)) & 1;
      sticky = lo !== 0 || (shift > 33 && (hi << (65 - shift)) !== 0);
    } else if (shift === 64) {
      round = hi >>> 31; sticky = (hi & 0x7fffffff) !== 0 || lo !== 0;
    } else {
      sticky = hi !== 0 || lo !== 0;
    }
    let up = false;
    if (round !== 0 || sticky) {
      this.exc |= FSW_PE;
      if (rc === RC_NEAREST) up = round !== 0 && (sticky || (kl & 1) !== 0);
      else if (rc === RC_UP) up = sign === 0;
      else if (rc === RC_DOWN) up = sign !== 0;
    }
    if (up) {
      kl = (kl + 1) | 0;
      if (kl === 0) kh = (kh + 1) | 0;
      this.exc |= FSW_C1;
    }
    this.rHi = kh;
    this.rLo = kl;
  }

  /**
   * R(r) → binary32 (p = 24) or binary64 (p = 53) bit pattern in rHi:rLo (binary32 in rLo),
   * rounded by FCW.RC (SDM Vol. 2 FST/FSTP; Vol. 1 §4.8.3, §4.9.1.4-§4.9.1.6).
   */
  toBinary(r: number, p: 24 | 53): void {
    this.exc = 0;
    const se = this.se[r];
    const sign = se & 0x8000;
    const e = se & 0x7fff;
    const hi = this.mant[2 * r + 1], lo = this.mant[2 * r];
    const ebits = p === 24 ? 8 : 11;
    const bias = p === 24 ? 127 : 1023;
    const emax = bias, emin = 1 - bias;
    const signHi = sign << 16;
    if (e === 0x7fff || (e !== 0 && hi >= 0)) {
      if (e === 0x7fff && hi < 0 && (hi & 0x7fffffff) === 0 && lo === 0) { this.packExp(signHi, (1 << ebits) - 1, 0, 0, p); return; } // infinity
      if (e === 0x7fff && hi < 0) {
        // NaN: an SNaN is quieted with #IA; the high fraction bits are kept (§4.8.3.6).
        if ((hi & 0x40000000) === 0) this.exc = FSW_IE;
        this.packNan(signHi, hi | 0x40000000, lo, p);
        return;
      }
      this.exc = FSW_IE; // pseudo-NaN, pseudo-infinity, unnormal: unsupported (§8.2.2)
      this.packNan(0x80000000, 0xc0000000 | 0, 0, p);
      return;
    }
    if (hi === 0 && lo === 0) { this.packExp(signHi, 0, 0, 0, p); return; }
    // Normalize: value = 1.f × 2^E with the leading one at bit 63.
    let E = (e === 0 ? 1 : e) - 16383;
    let mh = hi, ml = lo;
    if (mh >= 0) {
      // A denormal source is no #D here: FST lists only #IS #IA #U #O #P (SDM Vol. 2 FST/FSTP).
      const s = mh !== 0 ? Math.clz32(mh) : 32 + Math.clz32(ml);
      this.shl64(mh, ml, s);
      mh = this.rHi; ml = this.rLo;
      E -= s;
    }
    const rc = (this.fcw >> 10) & 3;
    const tiny = E < emin;
    // Underflow is signalled by tininess after rounding (as the host CPU shows): just below
    // 2^emin, a value that rounds to 2^emin at p bits with an unbounded exponent is not tiny.
    let tinyAfter = tiny;
    if (E === emin - 1) {
      this.roundShift(sign, mh, ml, 64 - p, rc);
      tinyAfter = p === 24 ? this.rLo !== 1 << 24 : this.rHi !== 1 << 21;
      this.exc = 0;
    }
    const shift = 64 - p + (tiny ? emin - E : 0);
    this.roundShift(sign, mh, ml, Math.min(shift, 66), rc);
    const kh = this.rHi, kl = this.rLo;
    if (tiny) {
      if (tinyAfter && ((this.exc & FSW_PE) !== 0 || (this.fcw & FSW_UE) === 0)) this.exc |= FSW_UE;
      // The rounded denormal's bits are the pattern (a carry into bit p-1 makes it the smallest normal).
      this.packRaw(signHi, kh, kl, p);
      return;
    }
    // Normal: biased exponent (E + bias - 1) plus the significand with its implicit bit carries
    // a rounding overflow (2^p) into the exponent.
    let be = E + bias;
    if (p === 24 ? kl === 1 << 24 : kh === 1 << 21) be++;
    if (be > emax + bias) {
      this.exc |= FSW_OE | FSW_PE;
      if ((this.fcw & FSW_OE) === 0) return; // unmasked: nothing stored (the caller checks)
      const toInf = rc === RC_NEAREST || (rc === RC_UP && sign === 0) || (rc === RC_DOWN && sign !== 0);
      if (toInf) { this.exc |= FSW_C1; this.packExp(signHi, (1 << ebits) - 1, 0, 0, p); } else {
        this.exc &= ~FSW_C1;
        this.packExp(signHi, (1 << ebits) - 2, p === 24 ? 0x7fffff : 0xfffff, -1, p);
      }
      return;
    }
    if (p === 24) this.packExp(signHi, be, kl & 0x7fffff, 0, p);
    else this.packExp(signHi, be, kh & 0xfffff, kl, p);
  }

  /** Builds the bit pattern sign | exponent | fraction (fh = high fraction bits, fl = low 32 of binary64). */
  private packExp(signHi: number, be: number, fh: number, fl: number, p: number): void {
    if (p === 24) { this.rLo = signHi | (be << 23) | fh; this.rHi = 0; } else { this.rHi = signHi | (be << 20) | fh; this.rLo = fl; }
  }

  /** A denormal (or carried-into-normal) pattern from a significand kh:kl < 2^p. */
  private packRaw(signHi: number, kh: number, kl: number, p: number): void {
    if (p === 24) { this.rLo = signHi | kl; this.rHi = 0; } else { this.rHi = signHi | kh; this.rLo = kl; }
  }

  private packNan(signHi: number, hi: number, lo: number, p: number): void {
    if (p === 24) { this.rLo = signHi | 0x7f800000 | ((hi >>> 8) & 0x7fffff); this.rHi = 0; } else {
      this.rHi = signHi | 0x7ff00000 | ((hi >>> 11) & 0xfffff);
      this.rLo = (hi << 21) | (lo >>> 11);
    }
  }

  /**
   * R(r) → signed integer of `bits` (16, 32, 64) in rHi:rLo, rounded by FCW.RC or truncated
   * (FISTTP); out of range, NaN, infinity or unsupported: #IA and the integer indefinite
   * (SDM Vol. 2 FIST/FISTP, FISTTP; Vol. 1 §4.2.1.2 Table 4-2).
   */
  toInt(r: number, bits: number, truncate: boolean): void {
    this.exc = 0;
    const se = this.se[r];
    const sign = se & 0x8000;
    const e = se & 0x7fff;
    const hi = this.mant[2 * r + 1], lo = this.mant[2 * r];
    if (e === 0x7fff || (e !== 0 && hi >= 0)) { this.intIndefinite(bits); return; }
    if (hi === 0 && lo === 0) { this.rHi = 0; this.rLo = 0; return; }
    const E = (e === 0 ? 1 : e) - 16383;
    const rc = truncate ? RC_ZERO : (this.fcw >> 10) & 3;
    if (E > 63) { this.intIndefinite(bits); return; }
    this.roundShift(sign, hi, lo, Math.min(63 - E, 66), rc);
    let kh = this.rHi, kl = this.rLo;
    // Range: |value| ≤ 2^(bits-1) - 1, or 2^(bits-1) when negative.
    const limitHi = bits === 64 ? 0x80000000 | 0 : 0, limitLo = bits === 64 ? 0 : bits === 32 ? 0x80000000 | 0 : 0x8000;
    const over = (kh >>> 0) > (limitHi >>> 0) || ((kh >>> 0) === (limitHi >>> 0) && (kl >>> 0) >= (limitLo >>> 0));
    const exact = kh === limitHi && kl === limitLo;
    if (over && !(sign !== 0 && exact)) { this.intIndefinite(bits); return; }
    if (sign !== 0) {
      kl = -kl | 0;
      kh = (~kh + (kl === 0 ? 1 : 0)) | 0;
    }
    this.rHi = kh;
    this.rLo = kl;
  }

  private intIndefinite(bits: number): void {
    this.exc = FSW_IE;
    this.rHi = bits === 64 ? 0x80000000 | 0 : 0;
    this.rLo = bits === 64 ? 0 : bits === 32 ? 0x80000000 | 0 : 0x8000;
  }

  /** Whole-number form of a value for messages and tests: R(r) as a JS number (NaN/∞ as such). */
  regValue(r: number): number {
    const se = this.se[r];
    const e = se & 0x7fff;
    const m = (this.mant[2 * r + 1] >>> 0) * TWO32 + (this.mant[2 * r] >>> 0);
    const v = e === 0x7fff ? (m * 2 === TWO32 * TWO32 ? Infinity : NaN) : m * 2 ** ((e === 0 ? 1 : e) - 16383 - 63);
    return (se & 0x8000) !== 0 ? -v : v;
  }
}
