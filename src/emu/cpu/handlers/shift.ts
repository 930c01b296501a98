// Shifts, rotates and bit operations: SHL/SAL SHR SAR ROL ROR RCL RCR, SHLD SHRD, BT BTS BTR
// BTC, BSF BSR TZCNT LZCNT POPCNT (SDM Vol. 2 under each mnemonic).
//
// Flags: a masked count of 0 changes no flags. CF is the last bit shifted out; OF is defined
// for a count of 1 only and is computed with the count-1 formula for every count; AF is
// undefined after a non-zero shift and is cleared. For 8/16-bit SHL/SHR with a count larger
// than the operand, CF is undefined (computed as 0 here). BT* leave OF SF AF PF undefined
// (unchanged here); BSF/BSR leave all but ZF undefined (unchanged); LZCNT defines CF and
// ZF only (others unchanged). The differential test masks exactly these.
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoder';
import { CpuFault, GP, SS_VEC } from '../fault';
import { AF, CF, OF, ZF, PF, SF, getCF, setArith, setResultFlags } from '../flags';
import type { OpcodeForm } from '../isa/opcodes';
import { SS } from '../state';
import { isByteForm, type Handler } from './common';

const NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];

/** Result high half of the 64-bit helpers below. */
let rHi = 0;

function shl64(lo: number, hi: number, n: number): number {
  if (n >= 32) { rHi = lo << (n - 32); return 0; }
  rHi = (hi << n) | (lo >>> (32 - n));
  return lo << n;
}
function shr64(lo: number, hi: number, n: number): number {
  if (n >= 32) { rHi = 0; return hi >>> (n - 32); }
  rHi = hi >>> n;
  return (lo >>> n) | (hi << (32 - n));
}
function sar64(lo: number, hi: number, n: number): number {
  if (n >= 32) { rHi = hi >> 31; return hi >> (n - 32); }
  rHi = hi >> n;
  return (lo >>> n) | (hi << (32 - n));
}
function bit64(lo: number, hi: number, k: number): number {
  return k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1;
}

/** Operand access shared by the shift family: reads r/m, keeps the address for the write-back. */
function readRm(c: Cpu, d: DecodedInsn, s: number): number {
  if (d.mod === 3) return c.getReg(d.rm, s, d.rex);
  c.ea(d, s, true);
  return c.rdSize(c.linLo, c.linHi, s);
}
function writeRm(c: Cpu, d: DecodedInsn, s: number, v: number, vHi: number, lo: number, hi: number): void {
  if (d.mod === 3) c.setReg(d.rm, s, d.rex, v, vHi); else c.wrSize(lo, hi, s, v, vHi);
}

/** Group-2 operation `op` (index into NAMES) of r/m by `count`. */
function shift(c: Cpu, d: DecodedInsn, op: number, s: number, countIn: number): void {
  const v = readRm(c, d, s);
  const vHi = c.vHi;
  const lo = c.linLo, hi = c.linHi;
  const bits = s * 8;
  const count = countIn & (s === 8 ? 63 : 31);
  if (count === 0) {
    // No flags change, but the destination is still written (a 32-bit register is zero-extended).
    writeRm(c, d, s, v, vHi, lo, hi);
    return;
  }
  let r = 0, h = 0, cf = 0, of = 0;
  const signOf = (x: number, xh: number): number => (s === 8 ? xh >>> 31 : (x >>> (bits - 1)) & 1);
  switch (op) {
    case 4: case 6: // shl/sal
      if (s === 8) { r = shl64(v, vHi, count); h = rHi; cf = bit64(v, vHi, 64 - count); }
      else { r = v << count; cf = count <= bits ? (v >>> (bits - count)) & 1 : 0; }
      of = signOf(r, h) ^ cf;
      break;
    case 5: // shr
      if (s === 8) { r = shr64(v, vHi, count); h = rHi; cf = bit64(v, vHi, count - 1); }
      else { r = v >>> count; cf = (v >>> (count - 1)) & 1; }
      of = signOf(v, vHi);
      break;
    case 7: { // sar
      if (s === 8) { r = sar64(v, vHi, count); h = rHi; cf = bit64(v, vHi, count - 1); if (count === 64) cf = vHi >>> 31; }
      else {
        const vs = (v << (32 - bits)) >> (32 - bits);
        r = vs >> count;
        cf = (vs >> (count - 1)) & 1;
      }
      of = 0;
      break;
    }
    case 0: case 1: { // rol, ror: by count mod size; flags whenever the masked count is non-zero
      const n = s === 8 ? count : count % bits;
      if (s === 8) {
        h = rotHi(v, vHi, n, op === 0);
        r = op === 0 ? shl64(v, vHi, n) | shr64(v, vHi, 64 - n) : shr64(v, vHi, n) | shl64(v, vHi, 64 - n);
      } else {
        const m = s === 4 ? -1 : (1 << bits) - 1;
        const x = v & m;
        r = n === 0 ? x : op === 0 ? (x << n) | (x >>> (bits - n)) : (x >>> n) | (x << (bits - n));
        r &= m;
      }
      if (op === 0) { cf = r & 1; of = signOf(r, h) ^ cf; }
      else { cf = signOf(r, h); of = cf ^ (s === 8 ? (h >>> 30) & 1 : (r >>> (bits - 2)) & 1); }
      break;
    }
    default: { // rcl, rcr: through CF, by count mod (size+1) for 8/16-bit
      const n = s <= 2 ? count % (bits + 1) : count;
      let x = v, xh = vHi;
      cf = getCF(c) !== 0 ? 1 : 0;
      if (op === 3) of = signOf(v, vHi) ^ cf;
      for (let i = 0; i < n; i++) {
        if (op === 2) {
          const out = s === 8 ? xh >>> 31 : (x >>> (bits - 1)) & 1;
          if (s === 8) { xh = (xh << 1) | (x >>> 31); x = (x << 1) | cf; } else x = (x << 1) | cf;
          cf = out;
        } else {
          const out = x & 1;
          if (s === 8) { x = (x >>> 1) | (xh << 31); xh = (xh >>> 1) | (cf << 31); } else x = ((x & (bits === 32 ? -1 : (1 << bits) - 1)) >>> 1) | (cf << (bits - 1));
          cf = out;
        }
      }
      r = x; h = xh;
      if (op === 2) of = signOf(r, h) ^ cf;
      break;
    }
  }
  writeRm(c, d, s, r, h, lo, hi);
  if (op <= 3) setArith(c, CF | OF, cf | (of << 11));
  else setResultFlags(c, s, r, h, cf | (of << 11));
}

/** High half of a 64-bit rotate by n (1..63). */
function rotHi(lo: number, hi: number, n: number, left: boolean): number {
  if (left) { shl64(lo, hi, n); const a = rHi; shr64(lo, hi, 64 - n); return a | rHi; }
  shr64(lo, hi, n); const a = rHi; shl64(lo, hi, 64 - n); return a | rHi;
}

/** SHLD/SHRD r/m, reg, count (SDM Vol. 2 SHLD, SHRD). */
function doubleShift(c: Cpu, d: DecodedInsn, left: boolean, countIn: number): void {
  const s = d.opSize;
  const src = c.getReg(d.reg, s, d.rex);
  const srcHi = c.vHi;
  const v = readRm(c, d, s);
  const vHi = c.vHi;
  const lo = c.linLo, hi = c.linHi;
  const count = countIn & (s === 8 ? 63 : 31);
  if (count === 0) {
    writeRm(c, d, s, v, vHi, lo, hi);
    return;
  }
  const bits = s * 8;
  let r: number, h = 0, cf: number;
  if (s === 8) {
    if (left) { r = shl64(v, vHi, count); h = rHi; r |= shr64(src, srcHi, 64 - count); h |= rHi; cf = bit64(v, vHi, 64 - count); }
    else { r = shr64(v, vHi, count); h = rHi; r |= shl64(src, srcHi, 64 - count); h |= rHi; cf = bit64(v, vHi, count - 1); }
  } else if (s === 4) {
    if (left) { r = (v << count) | (src >>> (32 - count)); cf = (v >>> (32 - count)) & 1; }
    else { r = (v >>> count) | (src << (32 - count)); cf = (v >>> (count - 1)) & 1; }
  } else {
    // 16-bit: counts above 16 give undefined results; the pattern dst:src:dst is shifted.
    const x = v & 0xffff, y = src & 0xffff;
    if (left) {
      const t = x * 65536 + y; // 32-bit dst:src
      r = count <= 16 ? ((t << count) >>> 16) & 0xffff : (((y << 16) | x) << (count - 16)) >>> 16 & 0xffff;
      cf = count <= 16 ? (x >>> (16 - count)) & 1 : (y >>> (32 - count)) & 1;
    } else {
      const t = (y << 16) | x; // src:dst
      r = count <= 16 ? (t >>> count) & 0xffff : (((x << 16) | y) >>> (count - 16)) & 0xffff;
      cf = count <= 16 ? (x >>> (count - 1)) & 1 : (y >>> (count - 17)) & 1;
    }
  }
  const sign = (a: number, ah: number): number => (s === 8 ? ah >>> 31 : (a >>> (bits - 1)) & 1);
  const of = sign(r, h) ^ sign(v, vHi);
  writeRm(c, d, s, r, h, lo, hi);
  setResultFlags(c, s, r, h, cf | (of << 11));
}

/** BT/BTS/BTR/BTC (op 0..3) with a register or immediate bit offset (SDM Vol. 2 BT). */
function bitTest(c: Cpu, d: DecodedInsn, op: number, imm: boolean): void {
  const s = d.opSize;
  const bits = s * 8;
  let off = 0, offHi = 0;
  if (imm) off = d.imm & (bits - 1);
  else { off = c.getReg(d.reg, s, d.rex); offHi = c.vHi; }
  let v: number, vHi = 0, lo = 0, hi = 0;
  if (d.mod === 3) {
    v = c.getReg(d.rm, s, d.rex); vHi = c.vHi;
  } else {
    c.ea(d, s, op !== 0);
    lo = c.linLo; hi = c.linHi;
    if (!imm) {
      // The register offset is signed and selects an operand-sized unit relative to the address.
      let dLo: number, dHi: number;
      if (s === 8) { dLo = ((off >>> 3) | (offHi << 29)) & ~7; dHi = offHi >> 3; }
      else if (s === 4) { dLo = (off >> 3) & ~3; dHi = off >> 31; }
      else { const o16 = (off << 16) >> 16; dLo = (o16 >> 3) & ~1; dHi = o16 >> 31; }
      if (c.long64) {
        const t = (lo >>> 0) + (dLo >>> 0);
        hi = (hi + dHi + (t > 0xffffffff ? 1 : 0)) | 0;
        lo = t | 0;
        if (((hi << 16) >> 16) !== hi) throw new CpuFault(d.seg === SS || (d.seg < 0 && (d.base === 4 || d.base === 5)) ? SS_VEC : GP, 0, 'non-canonical address');
      } else {
        lo = d.addrSize === 2 ? lo + dLo : (lo + dLo) | 0;
      }
    }
    v = c.rdSize(lo, hi, s); vHi = c.vHi;
  }
  const k = off & (bits - 1);
  const cf = s === 8 ? bit64(v, vHi, k) : (v >>> k) & 1;
  if (op !== 0) {
    let r = v, h = vHi;
    const mLo = k < 32 ? 1 << k : 0, mHi = k >= 32 ? 1 << (k - 32) : 0;
    if (op === 1) { r |= mLo; h |= mHi; } else if (op === 2) { r &= ~mLo; h &= ~mHi; } else { r ^= mLo; h ^= mHi; }
    if (d.mod === 3) c.setReg(d.rm, s, d.rex, r, h); else c.wrSize(lo, hi, s, r, h);
  }
  setArith(c, CF, cf);
}

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** BSF/BSR/LZCNT/POPCNT (kind 0, 1, 3, 4; F3 0F BC runs as BSF, see shiftHandler). */
function bitScan(c: Cpu, d: DecodedInsn, kind: number): void {
  const s = d.opSize;
  const bits = s * 8;
  let v = c.readE(d, s);
  let vHi = s === 8 ? c.vHi : 0;
  if (s === 2) v &= 0xffff;
  const zero = v === 0 && vHi === 0;
  let n: number;
  switch (kind) {
    case 0: // bsf
      n = zero ? bits : v !== 0 ? 31 - Math.clz32(v & -v) : 32 + 31 - Math.clz32(vHi & -vHi);
      break;
    case 1: case 3: { // bsr (index of the top bit), lzcnt (leading zeros)
      const top = zero ? -1 : vHi !== 0 ? 63 - Math.clz32(vHi) : 31 - Math.clz32(v);
      n = kind === 1 ? top : bits - 1 - top;
      break;
    }
    default:
      n = popcount32(v) + popcount32(vHi);
      vHi = 0;
  }
  if (kind <= 1) {
    if (!zero) c.setReg(d.reg, s, d.rex, n, 0);
    setArith(c, ZF, zero ? ZF : 0);
  } else if (kind <= 3) {
    c.setReg(d.reg, s, d.rex, n, 0);
    setArith(c, CF | ZF, (zero ? CF : 0) | (n === 0 ? ZF : 0));
  } else {
    c.setReg(d.reg, s, d.rex, n, 0);
    setArith(c, CF | PF | AF | ZF | SF | OF, zero ? ZF : 0);
  }
}

export function shiftHandler(f: OpcodeForm): Handler | undefined {
  const op = NAMES.indexOf(f.mnem);
  if (op >= 0 && (f.opcode & 0xf0) !== 0x40) {
    const byte = isByteForm(f);
    const src = f.ops[1];
    if (src === '1') return (c, d) => shift(c, d, op, byte ? 1 : d.opSize, 1);
    if (src === 'CL') return (c, d) => shift(c, d, op, byte ? 1 : d.opSize, c.regs[2] & 0xff);
    return (c, d) => shift(c, d, op, byte ? 1 : d.opSize, d.imm);
  }
  switch (f.mnem) {
    case 'shld': case 'shrd': {
      const left = f.mnem === 'shld';
      if (f.ops[2] === 'CL') return (c, d) => doubleShift(c, d, left, c.regs[2] & 0xff);
      return (c, d) => doubleShift(c, d, left, d.imm);
    }
    case 'bt': case 'bts': case 'btr': case 'btc': {
      const bop = ['bt', 'bts', 'btr', 'btc'].indexOf(f.mnem);
      const imm = f.ops[1] === 'Ib';
      return (c, d) => bitTest(c, d, bop, imm);
    }
    case 'bsf': return (c, d) => bitScan(c, d, 0);
    case 'bsr': return (c, d) => bitScan(c, d, 1);
    // F3 0F BC is TZCNT only on cores that advertise BMI1; elsewhere the F3 is ignored and it
    // executes as BSF (SDM Vol. 2 TZCNT). Our CPUID offers no BMI1 (its VEX forms are not
    // emulated), so it is BSF here, as on such a core.
    case 'tzcnt': return (c, d) => bitScan(c, d, 0);
    case 'lzcnt': return (c, d) => bitScan(c, d, 3);
    case 'popcnt': return (c, d) => bitScan(c, d, 4);
    default: return undefined;
  }
}
