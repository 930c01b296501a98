// Bytes → decoded instruction, driven by the one instruction table (isa/opcodes.ts).
// This is the CPU interpreter's hot path: it decodes into a caller-owned DecodedInsn with
// numeric fields only, allocates nothing per call and uses no BigInt. Dispatch tables are
// built once from OPCODES at module load.
//
// Instruction format: SDM Vol. 2 chapter 2 (prefixes §2.1.1, REX §2.2.1, ModRM/SIB §2.1.5
// tables 2-1..2-3, RIP-relative §2.2.1.6, 15-byte limit §2.3.11). Where objdump (binutils
// 2.40, our oracle) and an Intel core disagree about a length, we follow objdump and say so:
// in 64-bit mode a 66 prefix on near branches (jmp/call/jcc/ret) gives 16-bit operands, as
// on AMD64 (objdump's default), whereas Intel cores ignore it.
import { OPCODES, type OpcodeForm, type OperandCode } from './isa/opcodes';
import type { Block } from './blocks';

export type DecodeMode = 16 | 32 | 64;

/** Prefix bits in DecodedInsn.prefixes. */
export const PFX_LOCK = 1;
export const PFX_REP = 2; // F3 (REP/REPE/REPZ) is the last of F2/F3
export const PFX_REPNE = 4; // F2 is the last of F2/F3
export const PFX_OPSIZE = 8; // 66 present
export const PFX_ADSIZE = 16; // 67 present
export const PFX_SEG = 32; // a segment override is present (DecodedInsn.seg)
export const PFX_REX = 64; // a REX prefix applies (DecodedInsn.rex)

/** Segment register numbers as encoded in Sreg fields (SDM Vol. 2 §3.1.1.3). */
export const SEG_ES = 0, SEG_CS = 1, SEG_SS = 2, SEG_DS = 3, SEG_FS = 4, SEG_GS = 5;
/** Pseudo register number for RIP-relative addressing in DecodedInsn.base. */
export const REG_RIP = 16;

/** A decoded instruction. Reuse one object per decoder call site; decode() overwrites every field. */
export class DecodedInsn {
  /** Index into OPCODES (the handler index), or -1 when the bytes are not a valid instruction. */
  entry = -1;
  /** Total length in bytes (for an invalid instruction: the bytes up to and including the opcode). */
  length = 0;
  mode: DecodeMode = 64;
  /** Effective operand size in bytes for `v`/`z`/`y` operands: 2, 4 or 8. */
  opSize = 4;
  /** Effective address size in bytes: 2, 4 or 8. */
  addrSize = 8;
  /** PFX_* bits. */
  prefixes = 0;
  /** Effective segment override (SEG_*) or -1; in 64-bit mode only FS/GS count. */
  seg = -1;
  /** The REX byte (0x40-0x4F) that applies, or 0. */
  rex = 0;
  /** Number of prefix bytes before the opcode (including REX). */
  prefixLength = 0;
  /** A mandatory prefix consumed by the form (0x66/0xF2/0xF3), or 0. */
  mandatory = 0;
  /** Opcode map (0 one-byte, 1 = 0F, 2 = 0F38, 3 = 0F3A) and opcode byte. */
  map = 0;
  opcode = 0;
  hasModrm = false;
  /** ModRM fields; reg includes REX.R; rm includes REX.B (a register number when mod = 3). */
  mod = 0;
  reg = 0;
  rm = 0;
  /** Register from the opcode's low 3 bits (+REX.B) for `+r` forms, else -1. */
  opReg = -1;
  /** Memory operand: base register (0-15, REG_RIP, or -1), index (0-15 or -1), scale shift 0-3. */
  base = -1;
  index = -1;
  scale = 0;
  /** Has a SIB byte (objdump prints %riz/%eiz in some SIB forms). */
  hasSib = false;
  /** Displacement (sign-extended int32; moffs low half) and moffs high half (64-bit moffs). */
  disp = 0;
  dispHi = 0;
  /** Size in bytes of the displacement field (0, 1, 2, 4, 8). */
  dispSize = 0;
  /** First immediate: low 32 bits (sign- or zero-extended per operand code) and high 32 bits. */
  imm = 0;
  immHi = 0;
  /** Second immediate: enter's imm8, or a far pointer's selector. */
  imm2 = 0;
  /** Not decoded fields: how often the run loop started at this cached instruction, and the block compiled from here (blocks.ts). */
  starts = 0;
  block: Block | undefined = undefined;
}

// Per-form numeric attributes, flat, for the hot path.
const F_D64 = 1, F_F64 = 2, F_I64 = 4, F_O64 = 8, F_NOP90 = 16, F_NOW = 32, F_REXW = 64, F_NO66 = 128, F_NP = 256, F_NOREP = 512;
const IMM_NONE = 0, IMM_B = 1, IMM_BS = 2, IMM_W = 3, IMM_Z = 4, IMM_V = 5, IMM_JZ = 6, IMM_MOFFS = 7, IMM_AP = 8;
const MOD_ANY = 0, MOD_MEM = 1, MOD_REG = 2;

const nForms = OPCODES.length;
const formFlags = new Uint16Array(nForms);
const formPrefix = new Uint8Array(nForms);
const formExt = new Int8Array(nForms);
const formModrm = new Int16Array(nForms);
const formMod = new Uint8Array(nForms);
const formImm1 = new Uint8Array(nForms);
const formImm2 = new Uint8Array(nForms);
const formUsesRm = new Uint8Array(nForms);

function immKind(code: OperandCode): number {
  switch (code) {
    case 'Ib': return IMM_B;
    case 'Ibs': case 'Jb': return IMM_BS;
    case 'Iw': return IMM_W;
    case 'Iz': return IMM_Z;
    case 'Iv': return IMM_V;
    case 'Jz': return IMM_JZ;
    case 'Ob': case 'Ov': return IMM_MOFFS;
    case 'Ap': return IMM_AP;
    default: return IMM_NONE;
  }
}

// Candidate forms per (map, opcode byte): flat list with start/count, in table order.
const candStart = new Int32Array(4 * 256);
const candCount = new Int32Array(4 * 256);
const candNeedsModrm = new Uint8Array(4 * 256);
let candList: Int32Array;

function buildTables(): void {
  const lists: number[][] = Array.from({ length: 4 * 256 }, () => []);
  for (const f of OPCODES) {
    let fl = 0;
    if (f.d64) fl |= F_D64;
    if (f.f64) fl |= F_F64;
    if (f.i64) fl |= F_I64;
    if (f.o64) fl |= F_O64;
    if (f.nop90) fl |= F_NOP90;
    if (f.now) fl |= F_NOW;
    if (f.rexW) fl |= F_REXW;
    if (f.no66) fl |= F_NO66;
    if (f.np) fl |= F_NP;
    if (f.norep) fl |= F_NOREP;
    formFlags[f.index] = fl;
    formPrefix[f.index] = f.prefix;
    formExt[f.index] = f.ext;
    formModrm[f.index] = f.modrm;
    formMod[f.index] = f.mod === 'mem' ? MOD_MEM : f.mod === 'reg' ? MOD_REG : MOD_ANY;
    const imms = f.ops.map(immKind).filter((k) => k !== IMM_NONE);
    formImm1[f.index] = imms[0] ?? IMM_NONE;
    formImm2[f.index] = imms[1] ?? IMM_NONE;
    formUsesRm[f.index] = f.ops.some((o) => o[0] === 'E' || o[0] === 'M' || o[0] === 'W' || o === 'Rv') ? 1 : 0;
    const n = f.plusR ? 8 : 1;
    for (let r = 0; r < n; r++) {
      const key = f.map * 256 + f.opcode + r;
      lists[key].push(f.index);
      if (lists[key].length > 1 && candNeedsModrm[key] !== (f.hasModrm ? 1 : 0)) {
        throw new Error(`opcodes.ts: forms of ${f.map}:${f.opcode.toString(16)} disagree about ModRM (${f.spec})`);
      }
      candNeedsModrm[key] = f.hasModrm ? 1 : 0;
    }
  }
  const flat: number[] = [];
  lists.forEach((l, key) => {
    candStart[key] = flat.length;
    candCount[key] = l.length;
    flat.push(...l);
  });
  candList = Int32Array.from(flat);
}
buildTables();

/** 16-bit ModRM r/m → base and index registers (SDM Vol. 2 Table 2-1). */
const RM16_BASE = Int8Array.from([3, 3, 5, 5, 6, 7, 5, 3]); // bx bx bp bp si di bp bx
const RM16_INDEX = Int8Array.from([6, 7, 6, 7, -1, -1, -1, -1]); // si di si di

const MAX_LENGTH = 15;

function invalid(out: DecodedInsn, length: number): boolean {
  out.entry = -1;
  out.length = length < 1 ? 1 : length;
  return false;
}

/**
 * Decode one instruction from `buf` at `offset` (at most 15 bytes are read, never past
 * buf.length) for code of the given mode, into `out`. Returns true when valid; otherwise
 * out.entry = -1 and out.length is the length objdump gives its `(bad)` (at least 1).
 */
export function decode(buf: Uint8Array, offset: number, mode: DecodeMode, out: DecodedInsn): boolean {
  const end = Math.min(buf.length, offset + MAX_LENGTH);
  let p = offset;
  let prefixes = 0;
  let seg = -1;
  let rex = 0;
  out.mode = mode;
  out.mandatory = 0;
  out.hasModrm = false;
  out.mod = 0; out.reg = 0; out.rm = 0; out.opReg = -1;
  out.base = -1; out.index = -1; out.scale = 0; out.hasSib = false;
  out.disp = 0; out.dispHi = 0; out.dispSize = 0;
  out.imm = 0; out.immHi = 0; out.imm2 = 0;

  // Prefixes (SDM Vol. 2 §2.1.1); REX counts only immediately before the opcode (§2.2.1).
  let b = 0;
  for (;;) {
    if (p >= end) return invalid(out, p - offset);
    b = buf[p];
    if (mode === 64 && (b & 0xf0) === 0x40) { rex = b; p++; continue; }
    let isPrefix = true;
    switch (b) {
      // In 64-bit mode ES/CS/SS/DS overrides are null prefixes (SDM Vol. 1 §3.3.7.1).
      case 0x26: if (mode !== 64) seg = SEG_ES; break;
      case 0x2e: if (mode !== 64) seg = SEG_CS; break;
      case 0x36: if (mode !== 64) seg = SEG_SS; break;
      case 0x3e: if (mode !== 64) seg = SEG_DS; break;
      case 0x64: seg = SEG_FS; break;
      case 0x65: seg = SEG_GS; break;
      case 0x66: prefixes |= PFX_OPSIZE; break;
      case 0x67: prefixes |= PFX_ADSIZE; break;
      case 0xf0: prefixes |= PFX_LOCK; break;
      case 0xf2: prefixes = (prefixes & ~PFX_REP) | PFX_REPNE; break;
      case 0xf3: prefixes = (prefixes & ~PFX_REPNE) | PFX_REP; break;
      default: isPrefix = false;
    }
    if (!isPrefix) break;
    rex = 0; // a legacy prefix after REX cancels it
    p++;
  }
  if (seg >= 0) prefixes |= PFX_SEG;
  if (rex !== 0) prefixes |= PFX_REX;
  out.prefixes = prefixes;
  out.seg = seg;
  out.rex = rex;
  out.prefixLength = p - offset;

  // Opcode, with map escapes 0F, 0F 38, 0F 3A.
  let map = 0;
  p++;
  if (b === 0x0f) {
    if (p >= end) return invalid(out, p - offset);
    b = buf[p++];
    map = 1;
    if (b === 0x38 || b === 0x3a) {
      if (p >= end) return invalid(out, p - offset);
      map = b === 0x38 ? 2 : 3;
      b = buf[p++];
    }
  }
  out.map = map;
  out.opcode = b;
  const key = map * 256 + b;
  const count = candCount[key];
  if (count === 0) return invalid(out, p - offset);
  const opcodeEnd = p;

  let modrm = -1;
  if (candNeedsModrm[key] !== 0) {
    if (p >= end) return invalid(out, p - offset);
    modrm = buf[p++];
    out.hasModrm = true;
  }
  const mod = modrm >> 6;
  const regField = (modrm >> 3) & 7;
  const rep = prefixes & (PFX_REP | PFX_REPNE);
  const lastRep = rep === PFX_REP ? 0xf3 : rep === PFX_REPNE ? 0xf2 : 0;

  // Pick the first form whose constraints hold (table order puts specific forms first).
  let entry = -1;
  const start = candStart[key];
  for (let i = start; i < start + count; i++) {
    const f = candList[i];
    const fl = formFlags[f];
    const need = formPrefix[f];
    if (need !== 0) {
      if (need === 0x66 ? (prefixes & PFX_OPSIZE) === 0 || lastRep !== 0 : lastRep !== need) continue;
    }
    if ((fl & F_REXW) !== 0 && (rex & 8) === 0) continue;
    if ((fl & F_NP) !== 0 && (prefixes & (PFX_OPSIZE | PFX_REP | PFX_REPNE)) !== 0) continue;
    if ((fl & F_NOREP) !== 0 && rep !== 0) continue;
    if (mode === 64 ? (fl & F_I64) !== 0 : (fl & F_O64) !== 0) continue;
    if ((fl & F_NOP90) !== 0 && ((rex & 1) !== 0 || (prefixes & PFX_OPSIZE) !== 0)) continue;
    if (modrm >= 0) {
      const ext = formExt[f];
      if (ext >= 0 && ext !== regField) continue;
      const exact = formModrm[f];
      if (exact >= 0 && exact !== modrm) continue;
      const m = formMod[f];
      if (m === MOD_MEM ? mod === 3 : m === MOD_REG && mod !== 3) continue;
    }
    entry = f;
    out.mandatory = need;
    break;
  }
  if (entry < 0) {
    // An undefined x87 escape form (DD C8, D9 /1 memory, ...): objdump counts its ModRM
    // byte and address bytes in the `(bad)`, as the escape opcodes always take a ModRM.
    if (map === 0 && (b & 0xf8) === 0xd8) {
      const e = mod === 3 ? p : decodeMemory(buf, p, end, modrm, rex, mode, (prefixes & PFX_ADSIZE) !== 0 ? (mode === 64 ? 4 : mode === 32 ? 2 : 4) : mode === 64 ? 8 : mode === 32 ? 4 : 2, out);
      return invalid(out, (e < 0 ? end : e) - offset);
    }
    return invalid(out, opcodeEnd - offset);
  }
  out.entry = entry;

  // Operand and address size (SDM Vol. 1 §3.6; Vol. 2 §2.2.1.2 and Table A-1 d64/f64).
  const fl = formFlags[entry];
  const has66 = (prefixes & PFX_OPSIZE) !== 0 && out.mandatory !== 0x66 && (fl & F_NO66) === 0;
  let opSize: number;
  if (mode === 64) {
    if ((fl & F_F64) !== 0) opSize = 8;
    else if ((rex & 8) !== 0 && (fl & F_NOW) === 0) opSize = 8;
    else if (has66) opSize = 2;
    else opSize = (fl & F_D64) !== 0 ? 8 : 4;
  } else {
    opSize = (mode === 16) !== has66 ? 2 : 4;
  }
  const adsz = (prefixes & PFX_ADSIZE) !== 0;
  const addrSize = mode === 64 ? (adsz ? 4 : 8) : (mode === 16) !== adsz ? 2 : 4;
  out.opSize = opSize;
  out.addrSize = addrSize;

  // Registers from REX (SDM Vol. 2 §2.2.1.2).
  if (OPCODES[entry].plusR) out.opReg = (b & 7) | ((rex & 1) << 3);
  if (modrm >= 0) {
    out.mod = mod;
    out.reg = regField | ((rex & 4) << 1);
    out.rm = (modrm & 7) | ((rex & 1) << 3);
    if (mod !== 3 && formUsesRm[entry] !== 0) {
      const r = decodeMemory(buf, p, end, modrm, rex, mode, addrSize, out);
      if (r < 0) return invalid(out, end - offset);
      p = r;
    }
  }

  // Immediates, displacement-like operands.
  const k1 = formImm1[entry];
  if (k1 !== IMM_NONE) {
    p = readImm(buf, p, end, k1, opSize, addrSize, out, false);
    if (p < 0) return invalid(out, end - offset);
    const k2 = formImm2[entry];
    if (k2 !== IMM_NONE) {
      p = readImm(buf, p, end, k2, opSize, addrSize, out, true);
      if (p < 0) return invalid(out, end - offset);
    }
  }
  out.length = p - offset;
  return true;
}

function le16(buf: Uint8Array, p: number): number {
  return buf[p] | (buf[p + 1] << 8);
}
function le32(buf: Uint8Array, p: number): number {
  return buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
}

/** Reads one immediate operand; returns the new position or -1 when the bytes run out. */
function readImm(buf: Uint8Array, p: number, end: number, kind: number, opSize: number, addrSize: number, out: DecodedInsn, second: boolean): number {
  switch (kind) {
    case IMM_B:
      if (p + 1 > end) return -1;
      if (second) out.imm2 = buf[p]; else { out.imm = buf[p]; out.immHi = 0; }
      return p + 1;
    case IMM_BS:
      if (p + 1 > end) return -1;
      out.imm = (buf[p] << 24) >> 24;
      out.immHi = out.imm >> 31;
      return p + 1;
    case IMM_W:
      if (p + 2 > end) return -1;
      out.imm = le16(buf, p);
      out.immHi = 0;
      return p + 2;
    case IMM_Z: case IMM_JZ:
      if (opSize === 2) {
        if (p + 2 > end) return -1;
        out.imm = (le16(buf, p) << 16) >> 16;
        out.immHi = out.imm >> 31;
        return p + 2;
      }
      if (p + 4 > end) return -1;
      out.imm = le32(buf, p);
      out.immHi = out.imm >> 31;
      return p + 4;
    case IMM_V:
      if (opSize === 2) {
        if (p + 2 > end) return -1;
        out.imm = le16(buf, p);
        out.immHi = 0;
        return p + 2;
      }
      if (p + 4 > end) return -1;
      out.imm = le32(buf, p);
      if (opSize === 4) { out.immHi = 0; return p + 4; }
      if (p + 8 > end) return -1;
      out.immHi = le32(buf, p + 4);
      return p + 8;
    case IMM_MOFFS:
      if (p + addrSize > end) return -1;
      out.dispSize = addrSize;
      out.disp = addrSize === 2 ? le16(buf, p) : le32(buf, p);
      out.dispHi = addrSize === 8 ? le32(buf, p + 4) : 0;
      return p + addrSize;
    case IMM_AP: {
      const n = opSize === 2 ? 2 : 4;
      if (p + n + 2 > end) return -1;
      out.imm = n === 2 ? le16(buf, p) : le32(buf, p);
      out.immHi = 0;
      out.imm2 = le16(buf, p + n);
      return p + n + 2;
    }
    default:
      return p;
  }
}

/** Decodes the memory form of ModRM (+SIB, displacement); returns the new position or -1. */
function decodeMemory(buf: Uint8Array, p: number, end: number, modrm: number, rex: number, mode: DecodeMode, addrSize: number, out: DecodedInsn): number {
  const mod = modrm >> 6;
  const rm = modrm & 7;
  let dispSize = 0;
  if (addrSize === 2) {
    // 16-bit addressing (SDM Vol. 2 Table 2-1).
    if (mod === 0 && rm === 6) { out.base = -1; dispSize = 2; } else {
      out.base = RM16_BASE[rm];
      out.index = RM16_INDEX[rm];
      dispSize = mod === 1 ? 1 : mod === 2 ? 2 : 0;
    }
  } else {
    // 32/64-bit addressing (SDM Vol. 2 Tables 2-2, 2-3; RIP-relative §2.2.1.6).
    if (rm === 4) {
      if (p >= end) return -1;
      const sib = buf[p++];
      out.hasSib = true;
      const idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
      out.index = idx === 4 ? -1 : idx;
      out.scale = sib >> 6;
      const sbase = sib & 7;
      if (sbase === 5 && mod === 0) { out.base = -1; dispSize = 4; } else out.base = sbase | ((rex & 1) << 3);
    } else if (rm === 5 && mod === 0) {
      out.base = mode === 64 ? REG_RIP : -1;
      dispSize = 4;
    } else {
      out.base = rm | ((rex & 1) << 3);
    }
    if (mod === 1) dispSize = 1; else if (mod === 2) dispSize = 4;
  }
  if (p + dispSize > end) return -1;
  out.dispSize = dispSize;
  out.disp = dispSize === 1 ? (buf[p] << 24) >> 24 : dispSize === 2 ? (le16(buf, p) << 16) >> 16 : dispSize === 4 ? le32(buf, p) : 0;
  return p + dispSize;
}

/** The table form a successful decode() selected. */
export function formOf(insn: DecodedInsn): OpcodeForm {
  return OPCODES[insn.entry];
}
