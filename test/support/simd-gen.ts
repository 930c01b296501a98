// Random x87 and SSE sequences for the host-CPU differential test of the FPU state
// (test/emu/cpu/simd-differential.test.ts). Each sequence starts from a random FXSAVE image
// (x87 control/status/tags, eight 80-bit registers biased toward the encodings that matter:
// zeros, denormals, pseudo-denormals, unnormals, infinities, quiet and signalling NaNs,
// values at the binary32/binary64/integer limits; MXCSR; sixteen XMM registers) loaded with
// FXRSTOR64, runs 1-6 instructions from the emulated set, and ends with FXSAVE64, so the whole
// state lands in the data page that the test compares.
//
// Data page layout (4 KiB at DATA_BASE; %r12 = DATA_BASE + 0x800 throughout):
//   0x000 input image (512 bytes)    0x200 output image    0x400-0xfdf operands
//   0xfe0-0xfef FNSTSW results    0xf00 the stack pointer (nothing here pushes)
import { DATA_BASE, Rng } from './insn-gen';

export const IMAGE_IN = 0x000, IMAGE_OUT = 0x200;
const MB = 'r12';

export interface SimdSequence {
  text: string;
  regs: bigint[];
  mem: Uint8Array;
  /** FSW.C1 is undefined at the end (SDM Vol. 2: FFREE, FNCLEX, FNOP, WAIT, FNSTSW, FNSTCW leave C0-C3 undefined). */
  c1Undefined: boolean;
  /** Where FNSTSW stored a status word: offsets in the data page, -1 for AX. */
  statusWords: number[];
  /** The status words (as in statusWords) stored while C1 was undefined. */
  c1UndefinedWords: number[];
}

/** x87 instructions after which C1 is undefined, and those that define it (0, "rounded up", or the stack fault kind). */
const C1_UNDEFINED = /^(ffree|ffreep|fnclex|fnop|fwait|fnstsw|fnstcw) /;
const C1_DEFINED = /^(fld|fst|fist|fxch|fchs|fabs|fincstp|fdecstp|fninit|fi?(add|sub|mul|div)|fi?u?com[^i]|fi?u?com$|fsqrt|frndint|fscale|fxtract|fprem|ftst|fxam)/;

/**
 * Bytes of the output image the test compares: FCW, FSW, abridged FTW (0-4), MXCSR (24-27),
 * the ten data bytes of each ST slot, XMM0-15. Not compared: FOP, FIP/FCS, FDP/FDS (addresses
 * differ between the native and the emulated run, and AMD saves them only with ES set),
 * MXCSR_MASK (this CPU has no DAZ), reserved bytes.
 */
export function comparedImageByte(k: number): boolean {
  if (k < 5) return true;
  if (k >= 24 && k < 28) return true;
  if (k >= 32 && k < 160) return (k - 32) % 16 < 10;
  return k >= 160 && k < 416;
}

function u32(rng: Rng): number {
  return rng.u32();
}

/** An 80-bit value: [sign|exponent, significand high, significand low]. */
function ext(rng: Rng): [number, number, number] {
  const s = rng.chance(0.5) ? 0x8000 : 0;
  const hi = (u32(rng) | 0x80000000) >>> 0, lo = u32(rng);
  switch (rng.int(14)) {
    case 0: return [s, 0, 0]; // zero
    case 1: return [s, u32(rng) & 0x7fffffff, lo]; // denormal
    case 2: return [s | 0x7fff, 0x80000000, 0]; // infinity
    case 3: return [s | 0x7fff, (hi | 0x40000000) >>> 0, lo]; // QNaN
    case 4: return [s | 0x7fff, ((hi & ~0x40000000) | 1) >>> 0, lo]; // SNaN
    case 5: return [s | (1 + rng.int(0x7ffe)), hi & 0x7fffffff, lo]; // unnormal
    case 6: return [s, hi, lo]; // pseudo-denormal
    case 7: return [s | (16383 + 127 + rng.int(3) - 1), hi, lo]; // binary32 overflow edge
    case 8: return [s | (16383 - 126 - rng.int(26)), hi, lo]; // binary32 denormal range
    case 9: return [s | (16383 + 1023 + rng.int(3) - 1), hi, lo];
    case 10: return [s | (16383 - 1022 - rng.int(55)), hi, lo];
    case 11: return [s | (16383 + rng.int(66)), hi, rng.chance(0.5) ? 0 : lo]; // integer range
    case 12: return [s | 16383 - rng.int(3), rng.chance(0.5) ? 0x80000000 : 0xc0000000, 0]; // 1, 0.5, 1.5 ...
    default: return [s | (16383 - 64 + rng.int(128)), hi, lo];
  }
}

/** A memory operand near %r12, 16-byte aligned when `align` (always inside the operand area). */
function mem(rng: Rng, align: boolean): string {
  let off = 0x400 + rng.int(0xbd0);
  if (align) off &= ~15;
  const disp = off - 0x800;
  return `${disp < 0 ? '-' : ''}0x${Math.abs(disp).toString(16)}(%${MB})`;
}

/** An item that names rAX in any width (it may read it). */
const READS_AX = /%(?:[er]?ax|al|ah)\b/;

const xmm = (rng: Rng): string => `%xmm${rng.int(16)}`;
const st = (rng: Rng): string => `%st(${rng.int(8)})`;
const gpr32 = ['%eax', '%ecx', '%edx', '%ebx', '%esi', '%edi', '%r8d', '%r9d', '%r10d', '%r11d'];
const gpr64 = ['%rax', '%rcx', '%rdx', '%rbx', '%rsi', '%rdi', '%r8', '%r9', '%r10', '%r11'];

const X87_LOADS = ['flds', 'fldl', 'fldt', 'filds', 'fildl', 'fildll'];
const X87_STORES = ['fsts', 'fstl', 'fstps', 'fstpl', 'fstpt', 'fists', 'fistl', 'fistps', 'fistpl', 'fistpll', 'fisttps', 'fisttpl', 'fisttpll'];
const X87_NOARG = ['fchs', 'fabs', 'fld1', 'fldz', 'fldpi', 'fldl2e', 'fldl2t', 'fldlg2', 'fldln2', 'fincstp', 'fdecstp', 'fnclex', 'fnop', 'fwait'];
const X87_STI = ['fld', 'fst', 'fstp', 'fxch', 'ffree', 'ffreep'];
const SSE_RR = [
  'pxor', 'pand', 'pandn', 'por', 'xorps', 'andps', 'orps', 'andnps', 'xorpd', 'andpd', 'orpd', 'andnpd',
  'pcmpeqb', 'pcmpeqw', 'pcmpeqd', 'pcmpgtb', 'pcmpgtw', 'pcmpgtd', 'paddb', 'paddw', 'paddd', 'paddq', 'psubb', 'psubw', 'psubd', 'psubq',
  'paddusb', 'paddusw', 'paddsb', 'paddsw', 'psubusb', 'psubusw', 'psubsb', 'psubsw', 'pminub', 'pmaxub', 'pminsw', 'pmaxsw',
  'pavgb', 'pavgw', 'pmullw', 'pmulhw', 'pmulhuw', 'pmuludq', 'pmaddwd', 'psadbw',
  'punpcklbw', 'punpcklwd', 'punpckldq', 'punpcklqdq', 'punpckhbw', 'punpckhwd', 'punpckhdq', 'punpckhqdq',
  'unpcklps', 'unpckhps', 'unpcklpd', 'unpckhpd', 'packsswb', 'packuswb', 'packssdw',
  'movaps', 'movapd', 'movdqa', 'movups', 'movupd', 'movdqu',
];
const SSE_SHIFTS = ['psrlw', 'psraw', 'psllw', 'psrld', 'psrad', 'pslld', 'psrlq', 'psllq', 'psrldq', 'pslldq'];

// ---- SSE floating point: operands biased toward the encodings and relations that matter ----

/** A binary32 (p = 24) or binary64 (p = 53) pattern as [high dword, low dword] (binary32 in the low one). */
function fpValue(rng: Rng, p: 24 | 53): [number, number] {
  const ebits = p === 24 ? 8 : 11, emax = (1 << ebits) - 1, bias = emax >> 1;
  let e: number;
  switch (rng.int(12)) {
    case 0: e = 0; break; // zero or denormal
    case 1: e = emax; break; // infinity or NaN
    case 2: e = 1 + rng.int(3); break; // smallest normals
    case 3: e = emax - 1 - rng.int(3); break; // largest finite
    case 4: e = bias + rng.int(p === 24 ? 34 : 66); break; // integer conversion range
    case 5: e = bias - 2 + rng.int(5); break; // near 1
    case 6: e = rng.int(2) === 0 ? bias >> 1 : bias + (bias >> 1); break; // products/quotients at the range limits
    case 7: e = (bias >> 1) + rng.int(3) - 1; break;
    default: e = 1 + rng.int(emax - 1);
  }
  // Fraction: random, zero, all ones, sparse (exact sums and ties), or just the quiet bit.
  let fh = 0, fl = 0; // fraction bits above / below bit 32 of the binary64 pattern
  const sparse = (): number => (rng.u32() & rng.u32() & rng.u32()) >>> 0;
  switch (rng.int(6)) {
    case 0: break;
    case 1: fh = -1; fl = -1; break;
    case 2: fh = sparse(); fl = rng.chance(0.5) ? 0 : sparse(); break;
    case 3: fh = 1 << (p === 24 ? 22 : 19); break;
    default: fh = rng.u32(); fl = rng.u32();
  }
  const sign = rng.chance(0.5) ? 0x80000000 : 0;
  if (p === 24) {
    const f = (fh & 0x7fffff) || (e === emax && rng.chance(0.5) ? 1 + rng.int(0x7fffff) : 0);
    return [0, (sign | (e << 23) | f) >>> 0];
  }
  return [(sign | (e << 20) | (fh & 0xfffff)) >>> 0, fl >>> 0];
}

/** A lane: from the pool (60%) or fresh, sometimes its neighbour (±1 in the last place) or negated. */
function fpLane(rng: Rng, pool: [number, number][], p: 24 | 53): [number, number] {
  let [hi, lo] = rng.chance(0.6) ? pool[rng.int(pool.length)] : fpValue(rng, p);
  if (rng.chance(0.3)) lo = (lo + rng.int(3) - 1) >>> 0;
  if (rng.chance(0.2)) { if (p === 24) lo = (lo ^ 0x80000000) >>> 0; else hi = (hi ^ 0x80000000) >>> 0; }
  return [hi, lo];
}

/**
 * XMM contents for the floating-point operations (each qword two binary32 lanes or one
 * binary64 lane): values from small pools and their neighbours and negations, so sums
 * cancel, compares meet equal operands and products land at the range limits.
 */
function fpXmm(rng: Rng, pool32: [number, number][], pool64: [number, number][], dv: DataView, off: number): void {
  for (let q = 0; q < 16; q += 8) {
    if (rng.chance(0.5)) {
      dv.setUint32(off + q, fpLane(rng, pool32, 24)[1], true);
      dv.setUint32(off + q + 4, fpLane(rng, pool32, 24)[1], true);
    } else {
      const [hi, lo] = fpLane(rng, pool64, 53);
      dv.setUint32(off + q, lo, true);
      dv.setUint32(off + q + 4, hi, true);
    }
  }
}

const FP_ARITH = ['add', 'sub', 'mul', 'div', 'min', 'max', 'sqrt'];
const FP_CVT_PACKED = ['cvtdq2ps', 'cvtps2dq', 'cvttps2dq', 'cvtpd2ps', 'cvtpd2dq', 'cvttpd2dq'];

function fpOne(rng: Rng): string {
  const src = (size: number): string => (rng.chance(0.6) ? xmm(rng) : mem(rng, size === 16 && !rng.chance(0.02)));
  switch (rng.int(8)) {
    case 0: case 1: case 2: {
      const sfx = rng.pick(['ps', 'pd', 'ss', 'sd']);
      return `${rng.pick(FP_ARITH)}${sfx} ${src(sfx[0] === 'p' ? 16 : 8)},${xmm(rng)}`;
    }
    // LAHF + SETO put all six arithmetic flags into RAX, which the test compares.
    case 3: return `${rng.pick(['ucomiss', 'comiss', 'ucomisd', 'comisd'])} ${src(8)},${xmm(rng)}; lahf; seto %al`;
    case 4: {
      const q = rng.chance(0.5);
      const from = rng.chance(0.7) ? rng.pick(q ? gpr64 : gpr32) : mem(rng, false);
      return `${rng.pick(['cvtsi2ss', 'cvtsi2sd'])}${from.startsWith('%') ? '' : q ? 'q' : 'l'} ${from},${xmm(rng)}`;
    }
    case 5: return `${rng.pick(['cvtss2si', 'cvttss2si', 'cvtsd2si', 'cvttsd2si'])} ${src(8)},${rng.pick(rng.chance(0.5) ? gpr64 : gpr32)}`;
    case 6: return `${rng.pick(['cvtss2sd', 'cvtsd2ss', 'cvtps2pd', 'cvtdq2pd'])} ${src(8)},${xmm(rng)}`;
    default: return `${rng.pick(FP_CVT_PACKED)} ${src(16)},${xmm(rng)}`;
  }
}

const X87_ARITH = ['add', 'sub', 'subr', 'mul', 'div', 'divr'];
const X87_FCMOV = ['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu', 'fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu'];

/** x87 arithmetic and compares (every form: memory, integer, ST(i), popping). */
function x87One(rng: Rng): string {
  const op = rng.pick(X87_ARITH);
  switch (rng.int(10)) {
    case 0: return `f${op}${rng.pick(['s', 'l'])} ${mem(rng, false)}`;
    case 1: return `fi${op}${rng.pick(['s', 'l'])} ${mem(rng, false)}`;
    case 2: return rng.chance(0.5) ? `f${op} ${st(rng)},%st` : `f${op}${rng.pick(['', 'p'])} %st,${st(rng)}`;
    case 3: return rng.chance(0.5)
      ? `${rng.pick(['fcom', 'fcomp'])}${rng.pick(['s', 'l'])} ${mem(rng, false)}; fnstsw %ax`
      : `${rng.pick(['ficom', 'ficomp'])}${rng.pick(['s', 'l'])} ${mem(rng, false)}; fnstsw %ax`;
    case 4: return `${rng.pick(['fcom', 'fcomp', 'fucom', 'fucomp'])} ${st(rng)}; fnstsw %ax`;
    case 5: return `${rng.pick(['fcompp', 'fucompp', 'ftst', 'fxam'])}; fnstsw %ax`;
    // LAHF + SETO: the six arithmetic flags into RAX.
    case 6: return `${rng.pick(['fcomi', 'fcomip', 'fucomi', 'fucomip'])} ${st(rng)},%st; lahf; seto %al`;
    case 7: return rng.pick(['fsqrt', 'frndint', 'fscale', 'fxtract', 'fprem', 'fprem1']);
    case 8: return `${rng.pick(['cmp %ecx,%edx', 'test %eax,%ebx', 'ucomisd %xmm1,%xmm2'])}; ${rng.pick(X87_FCMOV)} ${st(rng)},%st`;
    default: return `f${op}p %st,${st(rng)}`;
  }
}

function one(rng: Rng): string {
  if (rng.chance(0.3)) return fpOne(rng);
  if (rng.chance(0.35)) return x87One(rng);
  switch (rng.int(16)) {
    case 0: case 1: return `${rng.pick(X87_LOADS)} ${mem(rng, false)}`;
    case 2: case 3: return `${rng.pick(X87_STORES)} ${mem(rng, false)}`;
    case 4: return rng.pick(X87_NOARG);
    case 5: return `${rng.pick(X87_STI)} ${st(rng)}`;
    // FNSTSW to memory writes above the operand area, where no load reads the word back
    // (its C1 after a stack fault differs between Intel and AMD, see the test).
    case 6: return rng.pick(['fnstsw %ax', `fnstsw 0x${(0x7e0 + 2 * rng.int(8)).toString(16)}(%${MB})`, `fnstcw ${mem(rng, false)}`, 'fninit']);
    case 7: case 8: {
      const op = rng.pick(SSE_RR);
      const unaligned = op === 'movups' || op === 'movupd' || op === 'movdqu';
      // A few misaligned operands of aligned forms: #GP natively and here.
      return `${op} ${rng.chance(0.6) ? xmm(rng) : mem(rng, !unaligned && !rng.chance(0.03))},${xmm(rng)}`;
    }
    case 9: return `${rng.pick(['movaps', 'movdqa', 'movups', 'movdqu', 'movntdq', 'movntps', 'movlps', 'movhps', 'movlpd', 'movhpd'])} ${xmm(rng)},${mem(rng, true)}`;
    case 10: return `${rng.pick(['movss', 'movsd', 'movq'])} ${rng.chance(0.5) ? xmm(rng) : mem(rng, false)},${xmm(rng)}`;
    case 11: return rng.chance(0.5) ? `${rng.pick(['movss', 'movsd', 'movq'])} ${xmm(rng)},${mem(rng, false)}` : `${rng.pick(['movhlps', 'movlhps'])} ${xmm(rng)},${xmm(rng)}`;
    case 12: return rng.pick([
      `movd ${rng.pick(gpr32)},${xmm(rng)}`, `movq ${rng.pick(gpr64)},${xmm(rng)}`, `movd ${xmm(rng)},${rng.pick(gpr32)}`,
      `movq ${xmm(rng)},${rng.pick(gpr64)}`, `movd ${mem(rng, false)},${xmm(rng)}`, `movd ${xmm(rng)},${mem(rng, false)}`,
      `pmovmskb ${xmm(rng)},${rng.pick(gpr32)}`, `movnti ${rng.pick(gpr64)},${mem(rng, false)}`,
    ]);
    case 13: return `${rng.pick(['pshufd', 'pshufhw', 'pshuflw', 'shufps', 'shufpd'])} $0x${rng.int(256).toString(16)},${rng.chance(0.5) ? xmm(rng) : mem(rng, true)},${xmm(rng)}`;
    case 14: return `${rng.pick(SSE_SHIFTS)} $0x${rng.pick([0, 1, 3, 7, 8, 15, 16, 31, 32, 63, 64, 200]).toString(16)},${xmm(rng)}`;
    default: return `${rng.pick(['stmxcsr', 'fnstcw'])} ${mem(rng, false)}`;
  }
}

export function generateSimdSequence(rng: Rng): SimdSequence {
  const regs: bigint[] = [];
  for (let i = 0; i < 16; i++) regs.push((BigInt(rng.u32()) << 32n) | BigInt(rng.u32()));
  regs[12] = BigInt(DATA_BASE + 0x800);
  regs[4] = BigInt(DATA_BASE + 0xf00);
  const m = new Uint8Array(4096);
  for (let k = 0x400; k < 4096; k++) m[k] = rng.int(256);
  const dv = new DataView(m.buffer);
  // Operand area: sprinkle binary32/binary64 encodings that matter over the random bytes.
  for (let k = 0; k < 64; k++) {
    const off = 0x400 + 8 * rng.int(0x180);
    const [se, hi, lo] = ext(rng);
    const e = se & 0x7fff;
    const sign = se & 0x8000 ? 1 : 0;
    if (rng.chance(0.5)) {
      const be = e === 0 ? 0 : e === 0x7fff ? 0x7ff : Math.max(0, Math.min(0x7ff, e - 16383 + 1023));
      dv.setUint32(off + 4, (sign << 31 | be << 20 | ((hi >>> 11) & 0xfffff)) >>> 0, true);
      dv.setUint32(off, ((hi << 21) | (lo >>> 11)) >>> 0, true);
    } else {
      const be = e === 0 ? 0 : e === 0x7fff ? 0xff : Math.max(0, Math.min(0xff, e - 16383 + 127));
      dv.setUint32(off, (sign << 31 | be << 23 | ((hi >>> 8) & 0x7fffff)) >>> 0, true);
    }
  }
  // Input FXSAVE image: exceptions masked (FNINIT's), random rounding, TOP, tags and registers.
  // FCW: precision 24/53/64 bits, any rounding; sometimes unmasked exceptions.
  const fcw = (rng.chance(0.85) ? 0x7f : 0x40 | rng.int(64)) | (rng.pick([0, 2, 3, 3]) << 8) | (rng.int(4) << 10);
  dv.setUint16(0, fcw, true);
  dv.setUint16(2, rng.int(8) << 11, true);
  m[4] = rng.chance(0.3) ? 0xff : rng.int(256);
  // MXCSR: random rounding; often FTZ and DAZ, some raised flags, sometimes unmasked exceptions.
  const masks = rng.chance(0.75) ? 0x3f : rng.int(64);
  dv.setUint32(24, (masks << 7) | (rng.int(4) << 13) | (rng.chance(0.3) ? 0x8000 : 0) | (rng.chance(0.3) ? 0x40 : 0) | (rng.chance(0.3) ? rng.int(64) : 0), true);
  const regs80: [number, number, number][] = [];
  for (let i = 0; i < 8; i++) {
    // Some registers repeat another one, nudged by one unit in the last place or negated,
    // so that compares meet equal values and subtractions cancel.
    let [se, hi, lo] = i > 0 && rng.chance(0.35) ? regs80[rng.int(i)] : ext(rng);
    if (rng.chance(0.3)) lo = (lo + rng.int(3) - 1) >>> 0;
    if (rng.chance(0.2)) se ^= 0x8000;
    regs80.push([se, hi, lo]);
    dv.setUint32(32 + 16 * i, lo >>> 0, true);
    dv.setUint32(36 + 16 * i, hi >>> 0, true);
    dv.setUint16(40 + 16 * i, se, true);
  }
  for (let k = 160; k < 416; k += 4) dv.setUint32(k, rng.u32(), true);
  const pool32: [number, number][] = [], pool64: [number, number][] = [];
  for (let k = 0; k < 4; k++) { pool32.push(fpValue(rng, 24)); pool64.push(fpValue(rng, 53)); }
  for (let r = 0; r < 16; r++) if (rng.chance(0.7)) fpXmm(rng, pool32, pool64, dv, 160 + 16 * r);
  for (let k = 0; k < 48; k++) fpXmm(rng, pool32, pool64, dv, 0x400 + 16 * rng.int(0xbd));
  const body: string[] = [];
  const n = 1 + rng.int(6);
  let c1Undefined = false;
  const statusWords: number[] = [], c1UndefinedWords: number[] = [];
  // After FNSTSW %ax, AX holds C1, which differs between Intel (the SDM) and the AMD hosts
  // this runs on after a stack fault (see the test): nothing may read rAX after that, or the
  // difference would reach registers the comparison cannot mask.
  let axHoldsStatus = false;
  for (let i = 0; i < n; i++) {
    let item = one(rng);
    while (axHoldsStatus && READS_AX.test(item)) item = one(rng);
    if (item.includes('fnstsw %ax')) axHoldsStatus = true;
    body.push(item);
    for (const t of item.split('; ')) {
      const sw = /^fnstsw (?:%ax|(-?)0x([0-9a-f]+)\(%r12\))$/.exec(t);
      if (sw) {
        const at = sw[2] === undefined ? -1 : 0x800 + (sw[1] ? -1 : 1) * parseInt(sw[2], 16);
        statusWords.push(at);
        if (c1Undefined) c1UndefinedWords.push(at);
      }
      if (C1_UNDEFINED.test(`${t} `)) c1Undefined = true;
      else if (C1_DEFINED.test(t)) c1Undefined = false;
    }
  }
  const text = [`fxrstor64 -0x800(%${MB})`, ...body, `fxsave64 -0x600(%${MB})`].join('; ');
  return { text, regs, mem: m, c1Undefined, statusWords, c1UndefinedWords };
}
