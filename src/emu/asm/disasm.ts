// One instruction → objdump -d text (binutils 2.40, AT&T syntax), from the shared decoder and
// instruction table, so the disassembler and the CPU cannot disagree about lengths or
// operands. Off the hot path: bigint is fine here for 64-bit addresses and immediates.
//
// What objdump prints beyond the SDM's operands is reproduced deliberately: size suffixes
// (the `sfx` rule of each form), prefixes that the instruction did not use printed by name
// before the mnemonic (`data16`, `rex.W`, `cs`, `repz`), branch hints (`je,pt`), `notrack`
// and `bnd`, `%riz`/`%eiz` for SIB bytes without an index, and the `# target` comment of
// RIP-relative operands.
import { OPCODES, type OpcodeForm, type OperandCode } from '../cpu/isa/opcodes';
import { gprName, SEG_NAMES } from '../cpu/isa/registers';
import { decode, DecodedInsn, PFX_LOCK, PFX_OPSIZE, REG_RIP, SEG_DS, type DecodeMode } from '../cpu/decoder';
import type { CodeMode } from './ast';

export interface Disassembled {
  /** Bytes consumed (1..15). */
  readonly length: number;
  /** objdump's instruction column, e.g. "mov    %eax,%ebx" or "(bad)". */
  readonly text: string;
}

/** Returns "sym" or "sym+0x10" for an address, or undefined when no symbol covers it. */
export type Symbolizer = (addr: bigint) => string | undefined;

const insn = new DecodedInsn();

const LEGACY_PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);
const SEG_PREFIX_NUM: Record<number, number> = { 0x26: 0, 0x2e: 1, 0x36: 2, 0x3e: 3, 0x64: 4, 0x65: 5 };

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

function isPrefix(b: number, mode: CodeMode): boolean {
  return LEGACY_PREFIXES.has(b) || (mode === 64 && (b & 0xf0) === 0x40);
}

function rexName(rex: number): string {
  const bits = (rex & 8 ? 'W' : '') + (rex & 4 ? 'R' : '') + (rex & 2 ? 'X' : '') + (rex & 1 ? 'B' : '');
  return bits ? `rex.${bits}` : 'rex';
}

function sizeLetter(bytes: number): string {
  return bytes === 1 ? 'b' : bytes === 2 ? 'w' : bytes === 4 ? 'l' : 'q';
}

const MASK: Record<number, bigint> = { 2: 0xffffn, 4: 0xffffffffn, 8: 0xffffffffffffffffn };

/** What the operands consumed, so unused prefixes can be printed as objdump does. */
interface Usage {
  rex: number; // REX bits used, plus 0x40 when the prefix itself mattered
  opsize: boolean;
  adsize: boolean;
  seg: boolean;
  register: boolean; // some operand is a register (decides `sfx=mem`)
  lock: boolean; // LOCK consumed (LOCK MOV CRn)
  comment: string; // RIP-relative target comment
}

interface Ctx {
  readonly form: OpcodeForm;
  /** FWAIT precedes the instruction: x87 forms take their waiting name (finit for fninit). */
  readonly wait: boolean;
  readonly mode: CodeMode;
  readonly address: bigint;
  readonly symbolize?: Symbolizer;
  readonly use: Usage;
}

function gpr(num: number, size: number, ctx: Ctx): string {
  if (size === 1) {
    // REX matters to a byte register only for spl/bpl/sil/dil (numbers 4-7).
    if (insn.rex !== 0 && num >= 4 && num < 8) ctx.use.rex |= 0x40;
    return `%${gprName(num, 1, insn.rex !== 0)}`;
  }
  return `%${gprName(num, size as 2 | 4 | 8)}`;
}

function useRexR(ctx: Ctx): void {
  if (insn.rex & 4) ctx.use.rex |= 0x44;
}
function useRexB(ctx: Ctx): void {
  if (insn.rex & 1) ctx.use.rex |= 0x41;
}
function useRexW(ctx: Ctx): void {
  if (insn.rex & 8) ctx.use.rex |= 0x48;
}

/** Marks the operand-size attribute as consumed: REX.W if it decided, else a 66 prefix. */
function useOpsize(ctx: Ctx): void {
  const f = ctx.form;
  if (ctx.mode === 64 && f.f64) return;
  if (insn.rex & 8 && ctx.mode === 64 && !f.now) {
    if (!f.d64) useRexW(ctx);
    return;
  }
  if (insn.prefixes & PFX_OPSIZE && insn.mandatory !== 0x66 && !f.no66) ctx.use.opsize = true;
}

/** For 16/32-bit-only operands (eAX, Xz, Yz): only a 66 prefix can decide the size. */
function useOpsize66(ctx: Ctx): void {
  if (insn.prefixes & PFX_OPSIZE && insn.mandatory !== 0x66 && !(ctx.mode === 64 && insn.rex & 8)) ctx.use.opsize = true;
}

function segPrefixText(ctx: Ctx): string {
  if (insn.seg < 0) return '';
  // DS on an indirect near jmp/call is the CET `notrack` prefix, not an override.
  if (insn.seg === SEG_DS && ctx.form.star && ctx.form.ops[0] === 'Ev') return '';
  ctx.use.seg = true;
  return `%${SEG_NAMES[insn.seg]}:`;
}

function signedHex(v: number): string {
  return v < 0 ? `-0x${(-v).toString(16)}` : hex(v);
}

/** AT&T text of the ModRM/SIB memory operand (SDM Vol. 2 §2.1.5). */
function memoryText(ctx: Ctx): string {
  const seg = segPrefixText(ctx);
  const asz = insn.addrSize;
  // objdump shows a 32-bit absolute address in 16-bit code plainly (a SIB byte's %eiz only
  // with a scale) and calls the 67 unused.
  const absolute16 = ctx.mode === 16 && asz === 4 && insn.base < 0 && insn.index < 0;
  if (absolute16 && (!insn.hasSib || insn.scale === 0)) return `${seg}${hex(insn.disp >>> 0)}`;
  if (!absolute16) ctx.use.adsize = true;
  if (insn.base === REG_RIP) {
    const ip = asz === 8 ? 'rip' : 'eip';
    const target = (ctx.address + BigInt(insn.length) + BigInt(insn.disp)) & MASK[8];
    useRexB(ctx);
    ctx.use.comment = `        # ${branchTarget(target, ctx)}`;
    return `${seg}${signedHex(insn.disp)}(%${ip})`;
  }
  if (insn.base >= 0 && (insn.base & 8) !== 0) useRexB(ctx);
  if (insn.hasSib) {
    if (insn.rex & 2) ctx.use.rex |= 0x42;
    if (insn.base < 0 && insn.rex & 1) ctx.use.rex |= 0x41;
  }
  const regSize = asz;
  const haveBase = insn.base >= 0;
  const haveIndex = insn.index >= 0;
  let needIndex = false;
  const disp = insn.disp;
  let unsignedDisp = false;
  if (insn.hasSib && !haveBase && !haveIndex && asz !== 2) {
    if (ctx.mode !== 64 || asz === 4) needIndex = true;
    if (ctx.mode === 64 && asz === 4) unsignedDisp = true;
  }
  let inner = '';
  if (haveBase) inner += asz === 2 ? `%${gprName(insn.base, 2)}` : `%${gprName(insn.base, regSize as 4 | 8)}`;
  const baseIsSp = haveBase && (insn.base & 7) === 4;
  if (haveIndex || needIndex || (insn.hasSib && (insn.scale !== 0 || (haveBase && !baseIsSp)))) {
    const idx = haveIndex
      ? (asz === 2 ? `%${gprName(insn.index, 2)}` : `%${gprName(insn.index, regSize as 4 | 8)}`)
      : asz === 8 ? '%riz' : '%eiz';
    inner += asz === 2 ? `,${idx}` : `,${idx},${1 << insn.scale}`;
  }
  if (inner === '') {
    // Absolute address: unsigned at address-size width, except 16-bit ones, printed signed.
    if (asz === 2) return `${seg}${signedHex(disp)}`;
    const v = BigInt(disp) & MASK[asz];
    return `${seg}${hex(v)}`;
  }
  if (insn.dispSize === 0) return `${seg}(${inner})`;
  if (unsignedDisp) return `${seg}${hex(disp >>> 0)}(${inner})`;
  return `${seg}${signedHex(disp)}(${inner})`;
}

function branchTarget(target: bigint, ctx: Ctx): string {
  const name = ctx.symbolize?.(target);
  return name !== undefined ? `${target.toString(16)} <${name}>` : hex(target);
}

function immText(v: bigint): string {
  return `$${hex(v)}`;
}

/** The 64-bit value of imm/immHi. */
function imm64(): bigint {
  return (BigInt(insn.immHi >>> 0) << 32n) | BigInt(insn.imm >>> 0);
}

function operandSizeOf(code: OperandCode): number {
  switch (code) {
    case 'Eb': case 'Gb': case 'Zb': case 'AL': case 'CL': return 1;
    case 'Ew': case 'Gw': return 2;
    case 'Ed': case 'Gd': case 'EAX': case 'ECX': case 'EDX': return 4;
    case 'Eq': case 'Gq': return 8;
    case 'Ey': case 'Gy': case 'Ry': return insn.opSize === 8 ? 8 : 4;
    case 'eAX': return insn.opSize === 2 ? 2 : 4;
    default: return insn.opSize;
  }
}

function stringOperand(code: OperandCode, ctx: Ctx): string {
  ctx.use.adsize = true;
  const asz = insn.addrSize as 2 | 4 | 8;
  if (code[0] === 'Y') return `%es:(%${gprName(7, asz)})`;
  // The source segment (default DS) counts as used even when no override is effective, so
  // objdump swallows a null ES/CS/SS/DS override here in 64-bit mode.
  ctx.use.seg = true;
  const seg = insn.seg >= 0 ? SEG_NAMES[insn.seg] : 'ds';
  return code === 'XLb' ? `%${seg}:(%${gprName(3, asz)})` : `%${seg}:(%${gprName(6, asz)})`;
}

function operandText(code: OperandCode, ctx: Ctx): string {
  const use = ctx.use;
  switch (code) {
    case 'Eb': case 'Ew': case 'Ed': case 'Eq': case 'Ev': case 'Ey': case 'MwRv': case 'Rv':
      if (insn.mod === 3) {
        use.register = true;
        useRexB(ctx);
        const size = code === 'MwRv' ? insn.opSize : operandSizeOf(code);
        if (code === 'Ev' || code === 'Ey' || code === 'MwRv' || code === 'Rv') useOpsize(ctx);
        return (ctx.form.star ? '*' : '') + gpr(insn.rm, size, ctx);
      }
      if (code === 'Ev' || code === 'Ey') useOpsize(ctx);
      return (ctx.form.star ? '*' : '') + memoryText(ctx);
    case 'Ry':
      use.register = true;
      useRexB(ctx);
      return gpr(insn.rm, operandSizeOf(code), ctx);
    case 'M': case 'Mb': case 'Mw': case 'Md': case 'Mq': case 'Mo': case 'Ms': case 'Ma':
      return memoryText(ctx);
    case 'Mp':
      useOpsize(ctx);
      return (ctx.form.star ? '*' : '') + memoryText(ctx);
    case 'Gb': case 'Gw': case 'Gd': case 'Gq': case 'Gv': case 'Gy':
      use.register = true;
      useRexR(ctx);
      if (code === 'Gv' || code === 'Gy') useOpsize(ctx);
      return gpr(insn.reg, operandSizeOf(code), ctx);
    case 'Sw':
      return (insn.reg & 7) < 6 ? `%${SEG_NAMES[insn.reg & 7]}` : '%?';
    case 'Cd':
      use.register = true;
      useRexR(ctx);
      // objdump reads LOCK MOV CRn as CR(8+n), AMD's alternative CR8 encoding.
      if (insn.prefixes & PFX_LOCK && ctx.mode !== 64) { use.lock = true; return `%cr${insn.reg + 8}`; }
      return `%cr${insn.reg}`;
    case 'Dd':
      use.register = true;
      useRexR(ctx);
      return `%db${insn.reg}`;
    case 'Zb': case 'Zv': case 'Zy':
      use.register = true;
      useRexB(ctx);
      if (code !== 'Zb') useOpsize(ctx);
      return gpr(insn.opReg, operandSizeOf(code), ctx);
    case 'AL': return gpr(0, 1, ctx);
    case 'CL': return gpr(1, 1, ctx);
    case 'DX': return '(%dx)';
    case 'eAX':
      useOpsize66(ctx);
      return gpr(0, operandSizeOf(code), ctx);
    case 'rAX':
      useOpsize(ctx);
      return gpr(0, operandSizeOf(code), ctx);
    case 'aAX':
      use.adsize = true;
      return `%${gprName(0, insn.addrSize as 2 | 4 | 8)}`;
    case 'EAX': return '%eax';
    case 'ECX': return '%ecx';
    case 'EDX': return '%edx';
    case 'ES': case 'CS': case 'SS': case 'DS': case 'FS': case 'GS':
      return `%${code.toLowerCase()}`;
    case 'Xb': case 'Xv': case 'Xz': case 'Yb': case 'Yv': case 'Yz': case 'XLb':
      if (code[1] === 'z') useOpsize66(ctx);
      else if (code[1] === 'v') useOpsize(ctx);
      return stringOperand(code, ctx);
    case '1':
      return '';
    case 'Ib':
      // enter's second immediate is the one decoded into imm2.
      return immText(BigInt((code === ctx.form.ops[1] && ctx.form.ops[0] === 'Iw' ? insn.imm2 : insn.imm) & 0xff));
    case 'Ibs': case 'Iz':
      useOpsize(ctx);
      return immText(imm64() & MASK[insn.opSize]);
    case 'Iw':
      return immText(BigInt(insn.imm & 0xffff));
    case 'Iv':
      useOpsize(ctx);
      return immText(insn.opSize === 8 ? imm64() : BigInt(insn.imm >>> 0) & MASK[insn.opSize]);
    case 'Jb': case 'Jz': {
      // objdump applies a 66 prefix to rel16/32 branches only; rel8 targets wrap at the mode's width.
      if (code === 'Jz') useOpsize(ctx);
      const next = ctx.address + BigInt(insn.length);
      if (code === 'Jz' && insn.opSize === 2 && ctx.mode === 16) {
        // A rel16 branch in 16-bit code wraps within its 64 KiB code segment: IP is 16 bits
        // (SDM Vol. 2 JMP/CALL: "the target is truncated to 16 bits"), and objdump keeps the
        // instruction address's bits above them as the segment base.
        return branchTarget(((next + BigInt(insn.imm)) & 0xffffn) | (next & ~0xffffn & MASK[4]), ctx);
      }
      const size = code === 'Jz' && insn.opSize === 2 ? 2 : ctx.mode === 64 ? 8 : 4;
      return branchTarget((next + BigInt(insn.imm)) & MASK[size], ctx);
    }
    case 'Ob': case 'Ov': {
      if (code === 'Ov') useOpsize(ctx);
      const seg = segPrefixText(ctx);
      const v = insn.addrSize === 8
        ? (BigInt(insn.dispHi >>> 0) << 32n) | BigInt(insn.disp >>> 0)
        : BigInt(insn.disp >>> 0) & MASK[insn.addrSize];
      return `${seg}${hex(v)}`;
    }
    case 'Ap':
      useOpsize(ctx);
      return `$${hex(insn.imm2)},$${hex(insn.imm >>> 0)}`;
    case 'ST': return '%st';
    // x87 register forms ignore REX.B: objdump names ST(rm & 7) and prints the REX as unused.
    case 'STi': return `%st(${insn.rm & 7})`;
    case 'AX': return '%ax';
    case 'Mt': return memoryText(ctx);
    case 'Vx':
      useRexR(ctx);
      return `%xmm${insn.reg}`;
    case 'Wx': case 'Wq': case 'Wd': case 'Ux':
      if (insn.mod !== 3) return memoryText(ctx);
      useRexB(ctx);
      return `%xmm${insn.rm}`;
  }
}

function defaultOpSize(form: OpcodeForm, mode: CodeMode): number {
  if (mode === 16) return 2;
  return mode === 64 && form.d64 ? 8 : 4;
}

/** Near branches, which objdump prefixes with `bnd` for F2 (MPX). */
function isBranch(form: OpcodeForm): boolean {
  if (form.map === 0 && form.opcode >= 0xe0 && form.opcode <= 0xe3) return false; // loop*, jcxz
  return form.ops[0] === 'Jb' || form.ops[0] === 'Jz' || (form.star && form.ops[0] === 'Ev') || form.mnem === 'ret';
}

/** Branches that take CS/DS as not-taken/taken hints (jcc, loop*, jcxz). */
function takesHint(form: OpcodeForm): boolean {
  if (form.map === 1) return form.opcode >= 0x80 && form.opcode <= 0x8f;
  return form.map === 0 && ((form.opcode >= 0x70 && form.opcode <= 0x7f) || (form.opcode >= 0xe0 && form.opcode <= 0xe3));
}

/** Hardware lock elision names for F2/F3 (SDM Vol. 1 §16.3.1), as objdump prints them. */
function hleName(form: OpcodeForm, b: number, lock: boolean): string | undefined {
  if (insn.mod === 3 || !form.hasModrm || form.ops[0][0] !== 'E') return undefined;
  const xchg = form.mnem === 'xchg';
  if (form.lock && (lock || xchg)) return b === 0xf2 ? 'xacquire' : 'xrelease';
  const movStore = form.map === 0 && (form.opcode === 0x88 || form.opcode === 0x89 || form.opcode === 0xc6 || form.opcode === 0xc7);
  return movStore && b === 0xf3 ? 'xrelease' : undefined;
}

function mnemonicText(ctx: Ctx): string {
  const f = ctx.form;
  const sizeIdx = insn.opSize === 2 ? 0 : insn.opSize === 4 ? 1 : 2;
  if (f.sizeNames) {
    useOpsize(ctx);
    return f.sizeNames[sizeIdx];
  }
  if (f.addrNames) {
    ctx.use.adsize = true;
    return f.addrNames[insn.addrSize === 2 ? 0 : insn.addrSize === 4 ? 1 : 2];
  }
  let name = ctx.wait && f.waitName !== undefined ? f.waitName : f.mnem;
  if (f.amovabs && insn.addrSize === 8) name = 'movabs';
  switch (f.sfx) {
    case 'none': return name;
    case 'always': {
      if (f.ops.some((o) => o === 'Yz' || o === 'Xz')) useOpsize66(ctx); else useOpsize(ctx);
      const z = f.ops.some((o) => o === 'Yz' || o === 'Xz');
      const size = z ? (insn.opSize === 2 ? 2 : 4) : insn.opSize;
      return name + sizeLetter(size);
    }
    case 'opsz':
      useOpsize(ctx);
      return insn.opSize !== defaultOpSize(f, ctx.mode) && !ctx.use.register ? name + sizeLetter(insn.opSize) : name;
    case 'legacy':
      if (ctx.mode === 64) return name;
      useOpsize(ctx);
      return name + sizeLetter(insn.opSize);
    case 'long':
      if (ctx.mode !== 64) return name;
      useRexW(ctx);
      return name + sizeLetter(insn.opSize);
    case 'env': {
      useOpsize(ctx);
      if (insn.opSize === (ctx.mode === 16 ? 2 : 4)) return name;
      return name + (insn.opSize === 2 ? 's' : 'l');
    }
    case 'adsz': {
      ctx.use.adsize = true;
      const def = ctx.mode === 16 ? 2 : ctx.mode === 32 ? 4 : 8;
      return insn.addrSize !== def ? name + sizeLetter(insn.addrSize) : name;
    }
    case 'mem64':
    case 'mem': {
      if (ctx.use.register || (f.sfx === 'mem64' && ctx.mode !== 64)) return name;
      const sized = f.ops.find((o) => o === 'Eb' || o === 'Ev');
      return sized === 'Eb' ? `${name}b` : name + sizeLetter(insn.opSize);
    }
  }
}

/** Names of the prefix bytes at buf[offset..offset+n) that the instruction did not consume. */
function unusedPrefixNames(buf: Uint8Array, offset: number, mode: CodeMode, ctx: Ctx | undefined, hint: boolean): string[] {
  const names: string[] = [];
  const n = insn.prefixLength;
  // The effective occurrence of each kind is the last one.
  let last66 = -1, last67 = -1, lastSeg = -1, lastRep = -1, lastF2 = -1, rexAt = -1, lock = false;
  for (let i = 0; i < n; i++) {
    const b = buf[offset + i];
    if (b === 0x66) last66 = i;
    else if (b === 0x67) last67 = i;
    else if (b in SEG_PREFIX_NUM) lastSeg = i;
    else if (b === 0xf2 || b === 0xf3) { lastRep = i; if (b === 0xf2) lastF2 = i; }
    else if (b === 0xf0) lock = true;
    else if (mode === 64 && (b & 0xf0) === 0x40) rexAt = i;
  }
  const form = ctx?.form;
  // objdump drops the last segment prefix once a segment (or a hint) was used.
  const dropSeg = ctx && (ctx.use.seg || hint) ? lastSeg : -1;
  for (let i = 0; i < n; i++) {
    const b = buf[offset + i];
    if (i === rexAt) {
      if (ctx && insn.rex === ctx.use.rex) continue;
      names.push(rexName(b));
      continue;
    }
    switch (b) {
      case 0xf0: if (!ctx?.use.lock) names.push('lock'); break;
      case 0xf2: case 0xf3: {
        if (i === lastRep && form && insn.mandatory === b) break;
        const hle = form && hleName(form, b, lock);
        if (hle) names.push(hle);
        else if (form && (form.rep || form.repcc)) names.push(b === 0xf3 ? (form.rep ? 'rep' : 'repz') : 'repnz');
        else if (b === 0xf2 && i === lastF2 && form && isBranch(form)) names.push('bnd');
        else names.push(b === 0xf3 ? 'repz' : 'repnz');
        break;
      }
      case 0x66:
        if (i === last66 && ctx && (ctx.use.opsize || insn.mandatory === 0x66)) break;
        names.push(mode === 16 ? 'data32' : 'data16');
        break;
      case 0x67:
        if (i === last67 && ctx && ctx.use.adsize) break;
        names.push(mode === 32 ? 'addr16' : 'addr32');
        break;
      default:
        if (b in SEG_PREFIX_NUM) {
          if (i === dropSeg) break;
          if (i === lastSeg && b === 0x3e && form && form.star && form.ops[0] === 'Ev') { names.push('notrack'); break; }
          names.push(SEG_NAMES[SEG_PREFIX_NUM[b]]);
        }
    }
  }
  return names;
}

/**
 * Disassemble the instruction at bytes[offset], located at `address`, in the given mode, as
 * `objdump -d` (binutils 2.40) prints it. Never throws: undecodable bytes give "(bad)".
 */
export function disassemble(bytes: Uint8Array, offset: number, address: bigint, mode: CodeMode, symbolize?: Symbolizer): Disassembled {
  if (offset >= bytes.length) return { length: 1, text: '(bad)' };
  // objdump ends an instruction at a REX prefix that another prefix follows (the REX is
  // then ignored by the CPU, SDM Vol. 2 §2.2.1) and prints the prefixes alone.
  if (mode === 64) {
    // fwait, REX, prefix: objdump consumes the fwait alone but names it after the REX.
    if (bytes[offset] === 0x9b && offset + 2 < bytes.length && (bytes[offset + 1] & 0xf0) === 0x40 && isPrefix(bytes[offset + 2], mode)) {
      return { length: 1, text: rexName(bytes[offset + 1]) };
    }
    for (let i = offset; i < bytes.length - 1 && i < offset + 14 && isPrefix(bytes[i], mode); i++) {
      // objdump also counts fwait (9B) as a prefix here.
      if ((bytes[i] & 0xf0) === 0x40 && (isPrefix(bytes[i + 1], mode) || bytes[i + 1] === 0x9b)) {
        const names: string[] = [];
        for (let j = offset; j <= i; j++) names.push(prefixName(bytes[j], mode));
        return { length: i - offset + 1, text: names.join(' ') };
      }
    }
  }
  const ok = decode(bytes, offset, mode as DecodeMode, insn);
  if (ok && insn.map === 0 && insn.opcode === 0x9b) {
    // objdump takes FWAIT before an x87 opcode (with any prefixes and further FWAITs in
    // between) as a prefix of that instruction and prints the two as one: under the form's
    // waiting name where it has one (9B DB E3 `finit`), else under its own (9B D9 00 `flds`).
    let q = offset + insn.length;
    while (q < bytes.length && q < offset + 15 && (isPrefix(bytes[q], mode) || bytes[q] === 0x9b)) q++;
    if (q < bytes.length && (bytes[q] & 0xf8) === 0xd8) return withWait(bytes, offset, q, address, mode, symbolize);
  }
  return decoded(ok, bytes, offset, address, mode, symbolize, false);
}

/** The instruction at `offset` whose FWAIT bytes (before the x87 opcode at `opcodeAt`) objdump merges into it. */
function withWait(bytes: Uint8Array, offset: number, opcodeAt: number, address: bigint, mode: CodeMode, symbolize: Symbolizer | undefined): Disassembled {
  const kept: number[] = [];
  for (let i = offset; i < opcodeAt; i++) if (bytes[i] !== 0x9b) kept.push(bytes[i]);
  const waits = opcodeAt - offset - kept.length;
  const copy = Uint8Array.from([...kept, ...bytes.subarray(opcodeAt, Math.min(bytes.length, opcodeAt + 15))]);
  const ok = decode(copy, 0, mode as DecodeMode, insn);
  // The copy lacks the FWAITs: shift its address so that a RIP-relative target still counts
  // from the end of all the bytes objdump took (9B D8 25 disp32: 7 bytes).
  const r = decoded(ok, copy, 0, address + BigInt(waits), mode, symbolize, true);
  return { length: r.length + waits, text: r.text };
}

/** objdump's text for the instruction decode() just read into `insn`; `wait`: print waiting x87 names. */
function decoded(ok: boolean, bytes: Uint8Array, offset: number, address: bigint, mode: CodeMode, symbolize: Symbolizer | undefined, wait: boolean): Disassembled {
  if (!ok) {
    const names = unusedPrefixNames(bytes, offset, mode, undefined, false);
    return { length: insn.length, text: [...names, '(bad)'].join(' ') };
  }
  const form = OPCODES[insn.entry];
  const ctx: Ctx = {
    form, mode, address, symbolize, wait,
    use: { rex: 0, opsize: false, adsize: false, seg: false, register: false, lock: false, comment: '' },
  };
  if (form.rexW) useRexW(ctx);
  const ops = form.ops.map((o) => operandText(o, ctx)).filter((t) => t !== '');
  let name = mnemonicText(ctx);
  // Branch hints: exactly one of CS (not taken) / DS (taken) among the prefixes.
  let hint = false;
  if (takesHint(form)) {
    let cs = false, ds = false;
    for (let i = 0; i < insn.prefixLength; i++) {
      if (bytes[offset + i] === 0x2e) cs = true;
      else if (bytes[offset + i] === 0x3e) ds = true;
    }
    if (cs !== ds) { hint = true; name += ds ? ',pt' : ',pn'; }
  }
  if (!form.noswap) ops.reverse();
  const prefixText = unusedPrefixNames(bytes, offset, mode, ctx, hint).map((p) => `${p} `).join('');
  let text = prefixText + name;
  if (ops.length > 0) text = `${text.padEnd(6)} ${ops.join(',')}`;
  return { length: insn.length, text: text + ctx.use.comment };
}

function prefixName(b: number, mode: CodeMode): string {
  if ((b & 0xf0) === 0x40 && mode === 64) return rexName(b);
  switch (b) {
    case 0xf0: return 'lock';
    case 0xf2: return 'repnz';
    case 0xf3: return 'repz';
    case 0x66: return mode === 16 ? 'data32' : 'data16';
    case 0x67: return mode === 32 ? 'addr16' : 'addr32';
    default: return SEG_NAMES[SEG_PREFIX_NUM[b]];
  }
}
