// x87 FPU control and data movement (SDM Vol. 1 chapter 8; Vol. 2 under each instruction):
// FNINIT FNCLEX FNOP FWAIT FNSTSW FNSTCW FLDCW FNSTENV FLDENV FNSAVE FRSTOR FFREE FFREEP
// FINCSTP FDECSTP, FLD/FST/FSTP (m32, m64, m80, ST(i)), FILD/FIST/FISTP/FISTTP (m16, m32,
// m64), the constants FLD1 FLDZ FLDPI FLDL2E FLDL2T FLDLG2 FLDLN2, FXCH, FCHS, FABS.
// Conversions are exact (src/emu/cpu/fpu.ts). Arithmetic: FADD FSUB FSUBR FMUL FDIV FDIVR
// (register, memory, integer and popping forms), FSQRT, FRNDINT, FSCALE, FXTRACT, FPREM,
// FPREM1, the compares FCOM FCOMP FCOMPP FUCOM FUCOMP FUCOMPP FICOM FICOMP FCOMI FCOMIP
// FUCOMI FUCOMIP FTST, FXAM and FCMOVcc, bit-exact through src/emu/cpu/float/ext-float.ts.
// The transcendental instructions (FSIN FCOS FSINCOS FPTAN FPATAN F2XM1 FYL2X FYL2XP1) give
// vendor-specific results beyond the last bit and the BCD forms are rare: they stay in the
// table without a handler and raise #UD "... is not emulated" (handlers/index.ts), never a
// wrong result.
//
// Device-not-available and pending exceptions (SDM Vol. 3 §2.5 Table 2-2; Vol. 1 §8.7):
// - every x87 escape instruction raises #NM when CR0.EM or CR0.TS is set; FWAIT/WAIT when
//   CR0.MP and CR0.TS are both set.
// - "waiting" instructions (all but FNINIT FNCLEX FNSTSW FNSTCW FNSTENV FNSAVE) first check
//   for a pending unmasked exception (FSW.ES): with CR0.NE = 1 they raise #MF. With NE = 0
//   the PC's external FERR#/IRQ 13 path would apply; it is not modelled: the instruction goes
//   on as if IGNNE# were asserted.
// - an instruction that raises an unmasked exception leaves its destination and the stack as
//   they were and sets ES (and B); the #MF comes at the next waiting instruction (§8.6).
import { checkItemAlignment } from '../alignment';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoder';
import { CpuFault, MF, NM } from '../fault';
import { ARITH, CF, PF, setArith, testCC, ZF } from '../flags';
import { X_INF, X_QNAN, X_SNAN, X_UNSUPPORTED, X_ZERO, XF, type XOperand } from '../float/ext-float';
import {
  FCW_MASKS, FSW_C0, FSW_C1, FSW_C2, FSW_C3, FSW_DE, FSW_ES, FSW_IE, FSW_OE, FSW_PE, FSW_SF, FSW_UE, FSW_ZE, RC_NEAREST, RC_UP, type FpuState,
} from '../fpu';
import type { OpcodeForm } from '../isa/opcodes';
import { CR0_EM, CR0_MP, CR0_NE, CR0_TS, CS, DS, MODE_REAL, MODE_V8086, SS } from '../state';
import type { Handler } from './common';

/** The real indefinite (SDM Vol. 1 §4.8.3.7): negative QNaN 1.1000...0. */
const IND_SE = 0xffff, IND_HI = 0xc0000000 | 0;

/** #NM for escape (D8-DF) instructions and the pending-exception check of waiting ones. */
function enter(c: Cpu, d: DecodedInsn, waiting: boolean, mem: boolean): void {
  if ((c.cr0 & (CR0_EM | CR0_TS)) !== 0) throw new CpuFault(NM, -1, `x87 instruction with CR0.${(c.cr0 & CR0_EM) !== 0 ? 'EM' : 'TS'}=1`);
  const f = c.fpu;
  if (waiting && (f.fsw & FSW_ES) !== 0 && (c.cr0 & CR0_NE) !== 0) throw new CpuFault(MF, -1, 'pending unmasked x87 exception');
  if (!waiting) return;
  // The last-instruction pointers (SDM Vol. 1 §8.1.8-§8.1.9): opcode, CS:IP, and the operand.
  f.fop = ((d.opcode & 7) << 8) | (d.mod << 6) | ((d.reg & 7) << 3) | (d.rm & 7);
  f.fipLo = c.rip | 0;
  f.fipHi = c.long64 ? Math.floor(c.rip / 4294967296) | 0 : 0;
  f.fcs = c.segSel[CS];
  if (mem) {
    const seg = d.seg >= 0 ? d.seg : d.base === 4 || d.base === 5 ? SS : DS;
    c.ea(d, 1, false);
    f.fdpLo = (c.linLo - (c.long64 && seg < 4 ? 0 : c.segBaseLo[seg])) | 0;
    f.fdpHi = c.long64 ? c.linHi : 0;
    f.fds = c.segSel[seg];
  }
}

/**
 * Records exception bits `exc` (FSW_* flags, and C1) in FSW; returns true when none of them
 * is unmasked, i.e. the instruction may deliver its result.
 */
function report(f: FpuState, exc: number): boolean {
  f.fsw = (f.fsw & ~FSW_C1) | exc;
  f.updateSummary();
  return (exc & ~f.fcw & FCW_MASKS) === 0;
}

/** Stack overflow (push onto a full register) or underflow (read of an empty one): #IS (SDM Vol. 1 §8.5.1.1). */
function stackFault(f: FpuState, overflow: boolean): boolean {
  return report(f, FSW_IE | FSW_SF | (overflow ? FSW_C1 : 0));
}

function isEmpty(f: FpuState, i: number): boolean {
  return (f.valid & (1 << f.phys(i))) === 0;
}

/**
 * Pushes (se, hi, lo) as the new ST(0); on overflow, the masked response pushes the
 * indefinite. An unmasked #D of a denormal m32/m64 source still loads it (the host CPU does).
 */
function push(f: FpuState, se: number, hi: number, lo: number, exc: number): void {
  const r = (f.top - 1) & 7;
  if ((f.valid & (1 << r)) !== 0) {
    if (!stackFault(f, true)) return;
    se = IND_SE; hi = IND_HI; lo = 0;
  } else if (!report(f, exc) && (exc & ~f.fcw & FCW_MASKS & ~FSW_DE) !== 0) return;
  f.top = r;
  f.setReg(r, se, hi, lo);
}

function pop(f: FpuState): void {
  f.valid &= ~(1 << f.top);
  f.top = (f.top + 1) & 7;
}

/** The linear address `off` bytes past linLo:linHi (as the CPU forms it for multi-part operands). */
function at(c: Cpu, base: number, baseHi: number, off: number): void {
  c.linLo = (base + off) | 0;
  c.linHi = c.long64 && (base >>> 0) + off > 0xffffffff ? (baseHi + 1) | 0 : baseHi;
}

// ---- loads ---------------------------------------------------------------------------------

function fldMem(c: Cpu, d: DecodedInsn, kind: 'single' | 'double' | 'ext' | 'i16' | 'i32' | 'i64'): void {
  enter(c, d, true, true);
  const f = c.fpu;
  const size = kind === 'single' || kind === 'i32' ? 4 : kind === 'i16' ? 2 : kind === 'ext' ? 10 : 8;
  c.ea(d, size, false);
  const lo = c.linLo, hi = c.linHi;
  switch (kind) {
    case 'single': f.fromSingle(c.rd32(lo, hi)); break;
    case 'double': { const l = c.rd64(lo, hi); f.fromDouble(l, c.vHi); break; }
    case 'i16': { const v = (c.rd16(lo, hi) << 16) >> 16; f.fromInt64(v, v >> 31); break; }
    case 'i32': { const v = c.rd32(lo, hi); f.fromInt64(v, v >> 31); break; }
    case 'i64': { const l = c.rd64(lo, hi); f.fromInt64(l, c.vHi); break; }
    case 'ext': {
      const l = c.rd64(lo, hi);
      const h = c.vHi;
      at(c, lo, hi, 8);
      f.rSe = c.rd16(c.linLo, c.linHi);
      f.rHi = h;
      f.rLo = l;
      f.exc = 0;
      break;
    }
  }
  push(f, f.rSe, f.rHi, f.rLo, f.exc);
}

/** FLD ST(i) (SDM Vol. 2 FLD): pushes a copy; an empty ST(i) is a stack underflow. */
function fldReg(c: Cpu, d: DecodedInsn): void {
  enter(c, d, true, false);
  const f = c.fpu;
  const i = d.rm & 7;
  if (isEmpty(f, i)) {
    if (!stackFault(f, false)) return;
    push(f, IND_SE, IND_HI, 0, FSW_IE | FSW_SF);
    return;
  }
  const r = f.phys(i);
  push(f, f.se[r], f.mant[2 * r + 1], f.mant[2 * r], 0);
}

/**
 * The constants (SDM Vol. 2 FLD1/FLDL2T/FLDL2E/FLDPI/FLDLG2/FLDLN2/FLDZ): 64-bit significands
 * of the correctly rounded-down values, and whether the bits beyond them are above one half
 * of the last place (`up`: round to nearest rounds up). FCW.RC rounds the internal 66-bit
 * value (§8.3.8): nearest → +up, up → +1 (all are inexact except 1 and 0), down/zero → as is.
 */
const CONSTANTS: Readonly<Record<string, readonly [se: number, hi: number, lo: number, up: boolean, exact: boolean]>> = {
  fld1: [0x3fff, 0x80000000 | 0, 0, false, true],
  fldz: [0, 0, 0, false, true],
  fldl2t: [0x4000, 0xd49a784b | 0, 0xcd1b8afe | 0, false, false],
  fldl2e: [0x3fff, 0xb8aa3b29 | 0, 0x5c17f0bb | 0, true, false],
  fldpi: [0x4000, 0xc90fdaa2 | 0, 0x2168c234 | 0, true, false],
  fldlg2: [0x3ffd, 0x9a209a84 | 0, 0xfbcff798 | 0, true, false],
  fldln2: [0x3ffe, 0xb17217f7 | 0, 0xd1cf79ab | 0, true, false],
};

function fldConst(name: string): Handler {
  const [se, hi, lo, up, exact] = CONSTANTS[name];
  return (c, d) => {
    enter(c, d, true, false);
    const f = c.fpu;
    const rc = (f.fcw >> 10) & 3;
    // RC down/zero keep the rounded-down significand: every constant is positive.
    const inc = !exact && (rc === RC_NEAREST ? up : rc === RC_UP);
    // No significand here ends in all ones: the increment never carries out of bit 0's dword.
    push(f, se, hi, inc ? (lo + 1) | 0 : lo, 0);
  };
}

// ---- stores --------------------------------------------------------------------------------

function fstMem(c: Cpu, d: DecodedInsn, kind: 'single' | 'double' | 'ext' | 'i16' | 'i32' | 'i64', popAfter: boolean, truncate: boolean): void {
  enter(c, d, true, true);
  const f = c.fpu;
  const size = kind === 'single' || kind === 'i32' ? 4 : kind === 'i16' ? 2 : kind === 'ext' ? 10 : 8;
  c.ea(d, size, true);
  const lo = c.linLo, hi = c.linHi;
  let exc: number;
  let rLo: number, rHi: number, rSe = 0;
  if (isEmpty(f, 0)) {
    // Underflow: the masked response stores the indefinite of the destination format.
    exc = FSW_IE | FSW_SF;
    rLo = kind === 'single' ? 0xffc00000 | 0 : kind === 'i16' ? 0x8000 : kind === 'i32' ? 0x80000000 | 0 : 0;
    rHi = kind === 'double' ? 0xfff80000 | 0 : kind === 'i64' ? 0x80000000 | 0 : kind === 'ext' ? IND_HI : 0;
    rSe = IND_SE;
  } else {
    const r = f.phys(0);
    switch (kind) {
      case 'single': f.toBinary(r, 24); break;
      case 'double': f.toBinary(r, 53); break;
      case 'i16': f.toInt(r, 16, truncate); break;
      case 'i32': f.toInt(r, 32, truncate); break;
      case 'i64': f.toInt(r, 64, truncate); break;
      case 'ext': f.rLo = f.mant[2 * r]; f.rHi = f.mant[2 * r + 1]; f.rSe = f.se[r]; f.exc = 0; break;
    }
    exc = f.exc;
    rLo = f.rLo; rHi = f.rHi; rSe = f.rSe;
  }
  // An unmasked #P still stores the rounded result (§4.9.1.6); the others store nothing, and
  // with an unmasked #O or #U no PE is reported either (as the host CPU shows).
  if ((exc & ~f.fcw & (FSW_OE | FSW_UE)) !== 0) exc &= ~(FSW_PE | FSW_C1);
  const ok = report(f, exc);
  if (!ok && (exc & ~f.fcw & FCW_MASKS & ~FSW_PE) !== 0) return;
  switch (kind) {
    case 'single': case 'i32': c.wr32(lo, hi, rLo); break;
    case 'i16': c.wr16(lo, hi, rLo); break;
    case 'double': case 'i64': c.wr64(lo, hi, rLo, rHi); break;
    case 'ext':
      at(c, lo, hi, 8);
      c.probeWrite(c.linLo, c.linHi);
      c.wr64(lo, hi, rLo, rHi);
      c.wr16(c.linLo, c.linHi, rSe);
      break;
  }
  if (popAfter) pop(f);
}

/** FST/FSTP ST(i): copy ST(0) (an empty ST(0) underflows; masked: the indefinite is stored). */
function fstReg(c: Cpu, d: DecodedInsn, popAfter: boolean): void {
  enter(c, d, true, false);
  const f = c.fpu;
  const dst = f.phys(d.rm & 7);
  if (isEmpty(f, 0)) {
    if (!stackFault(f, false)) return;
    f.setReg(dst, IND_SE, IND_HI, 0);
  } else {
    report(f, 0);
    const r = f.phys(0);
    f.setReg(dst, f.se[r], f.mant[2 * r + 1], f.mant[2 * r]);
  }
  if (popAfter) pop(f);
}

// ---- register operations -------------------------------------------------------------------

function fxch(c: Cpu, d: DecodedInsn): void {
  enter(c, d, true, false);
  const f = c.fpu;
  const i = d.rm & 7;
  const a = f.phys(0), b = f.phys(i);
  if (isEmpty(f, 0) || isEmpty(f, i)) {
    // Masked underflow: empty operands become the indefinite, then they are exchanged.
    if (!stackFault(f, false)) return;
    if (isEmpty(f, 0)) f.setReg(a, IND_SE, IND_HI, 0);
    if (isEmpty(f, i)) f.setReg(b, IND_SE, IND_HI, 0);
  } else report(f, 0);
  const se = f.se[a], hi = f.mant[2 * a + 1], lo = f.mant[2 * a];
  f.setReg(a, f.se[b], f.mant[2 * b + 1], f.mant[2 * b]);
  f.setReg(b, se, hi, lo);
}

/** FCHS / FABS: sign only; an empty ST(0) underflows (masked: ST(0) = the indefinite). */
function signOp(abs: boolean): Handler {
  return (c, d) => {
    enter(c, d, true, false);
    const f = c.fpu;
    const r = f.phys(0);
    if (isEmpty(f, 0)) {
      if (!stackFault(f, false)) return;
      f.setReg(r, IND_SE, IND_HI, 0);
      return;
    }
    report(f, 0);
    f.se[r] = abs ? f.se[r] & 0x7fff : f.se[r] ^ 0x8000;
  };
}

// ---- arithmetic ------------------------------------------------------------------------------

/** Pre-computation exceptions: unmasked, they leave the destination and the stack alone (SDM Vol. 1 §8.5). */
const PRE = FSW_IE | FSW_DE | FSW_ZE;

/**
 * Records XF.exc in FSW; true when the result may be stored. An unmasked pre-computation
 * exception (IE, DE, ZE) stops the operation: only those flags are recorded (no PE, UE, OE
 * from a result that is not delivered) and the destination and stack stay as they were.
 */
function deliver(f: FpuState): boolean {
  if ((XF.exc & ~f.fcw & PRE) !== 0) { report(f, XF.exc & PRE); return false; }
  report(f, XF.exc);
  return true;
}

/** Decodes ST(i) into `o`. */
function decodeSt(f: FpuState, o: XOperand, i: number): void {
  const r = f.phys(i);
  XF.decode(o, f.se[r], f.mant[2 * r + 1], f.mant[2 * r]);
}

type MemKind = 'single' | 'double' | 'i32' | 'i16';

/**
 * Reads a memory operand into `o` as an 80-bit value: exact, keeping an SNaN signalling and
 * remembering a denormal binary32/binary64 source (its #D comes with the operation).
 */
function decodeMem(c: Cpu, d: DecodedInsn, o: XOperand, kind: MemKind): void {
  const f = c.fpu;
  c.ea(d, kind === 'double' ? 8 : kind === 'i16' ? 2 : 4, false);
  const lo = c.linLo, hi = c.linHi;
  switch (kind) {
    case 'single': f.fromSingle(c.rd32(lo, hi)); break;
    case 'double': { const l = c.rd64(lo, hi); f.fromDouble(l, c.vHi); break; }
    case 'i32': { const v = c.rd32(lo, hi); f.fromInt64(v, v >> 31); break; }
    case 'i16': { const v = (c.rd16(lo, hi) << 16) >> 16; f.fromInt64(v, v >> 31); break; }
  }
  XF.decode(o, f.rSe, (f.exc & FSW_IE) !== 0 ? f.rHi & ~0x40000000 : f.rHi, f.rLo);
  if ((f.exc & FSW_DE) !== 0) o.denormal = true;
}

/** Runs operation `op` (0 add, 1 mul, 4 sub, 5 subr, 6 div, 7 divr) as dest ∘ src with XF.a = dest, XF.b = src. */
function arithmetic(op: number): void {
  const a = XF.a, b = XF.b;
  switch (op) {
    case 0: XF.add(false); break;
    case 1: XF.mul(); break;
    case 4: XF.add(true); break;
    case 6: XF.div(); break;
    default: {
      // Reversed forms: swap the operands (copying the decoded fields), then subtract/divide.
      swapOperands(a, b);
      if (op === 5) XF.add(true); else XF.div();
    }
  }
}

function swapOperands(a: XOperand, b: XOperand): void {
  let t: number;
  t = a.cls; a.cls = b.cls; b.cls = t;
  const n = a.neg; a.neg = b.neg; b.neg = n;
  t = a.exp; a.exp = b.exp; b.exp = t;
  t = a.se; a.se = b.se; b.se = t;
  t = a.hi; a.hi = b.hi; b.hi = t;
  t = a.lo; a.lo = b.lo; b.lo = t;
  const dn = a.denormal; a.denormal = b.denormal; b.denormal = dn;
  for (let k = 0; k < 4; k++) { t = a.sig[k]; a.sig[k] = b.sig[k]; b.sig[k] = t; }
}

/** Condition codes C3 C2 C0 for a relation (SDM Vol. 2 FCOM Table 3-21): >, <, =, unordered. */
const CC_OF_RELATION = [FSW_C0, FSW_C3, 0, FSW_C3 | FSW_C2 | FSW_C0];
/** EFLAGS for a relation (SDM Vol. 2 FCOMI Table 3-22). */
const EFLAGS_OF_RELATION = [CF, ZF, 0, ZF | PF | CF];

function setCc(f: FpuState, cc: number): void {
  f.fsw = (f.fsw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | cc;
}

/**
 * The D8/DC/DA/DE arithmetic forms (SDM Vol. 2 FADD..FDIVR, FCOM/FCOMP, FICOM/FICOMP): the
 * operation by ModRM.reg; memory forms compute ST(0) ∘ m32fp/m64fp/m32int/m16int; D8 register
 * forms ST(0) ∘ ST(i); DC/DE register forms ST(i) ∘ ST(0) (DE pops), where the encodings of
 * sub/subr and div/divr are the reverse of D8's (SDM Vol. 2 FSUB: DC E8+i is FSUB ST(i),ST(0)).
 */
function arithForm(form: OpcodeForm): Handler {
  let op = form.ext;
  const isMem = form.mod === 'mem';
  const kind: MemKind = form.opcode === 0xd8 ? 'single' : form.opcode === 0xdc ? 'double' : form.opcode === 0xda ? 'i32' : 'i16';
  const toSti = !isMem && form.opcode !== 0xd8;
  if (toSti && op >= 4) op ^= 1;
  const pops = op === 3 || (!isMem && form.opcode === 0xde) ? 1 : 0;
  const compare = op === 2 || op === 3;
  return (c, d) => {
    enter(c, d, true, isMem);
    const f = c.fpu;
    const i = d.rm & 7;
    XF.begin(f.fcw, true);
    const destI = toSti ? i : 0, srcI = toSti ? 0 : i;
    // The memory operand is read first: its #PF/#GP comes before any x87 exception.
    if (isMem) decodeMem(c, d, XF.b, kind);
    const empty = isEmpty(f, 0) || (!isMem && isEmpty(f, i));
    if (!empty) {
      decodeSt(f, XF.a, destI);
      if (!isMem) decodeSt(f, XF.b, srcI);
    }
    if (compare) {
      // The condition codes are set even when an exception is unmasked; then nothing pops.
      let ok: boolean, rel = 3;
      if (empty) ok = stackFault(f, false); else { rel = XF.relation(true); ok = deliver(f); }
      setCc(f, CC_OF_RELATION[rel]);
      if (ok) for (let k = 0; k < pops; k++) pop(f);
      return;
    }
    const dst = f.phys(destI);
    if (empty) {
      if (!stackFault(f, false)) return;
      f.setReg(dst, IND_SE, IND_HI, 0);
    } else {
      arithmetic(op);
      if (!deliver(f)) return;
      f.setReg(dst, XF.se, XF.hi, XF.lo);
    }
    if (pops !== 0) pop(f);
  };
}

/** Compares of ST(0) with ST(i) (or ST(1)) that are not D8/DC forms: FCOMPP, FUCOM*, FCOMI*, FUCOMI*. */
function compareReg(unordered: boolean, pops: number, eflags: boolean, fixedOne: boolean): Handler {
  return (c, d) => {
    enter(c, d, true, false);
    const f = c.fpu;
    const i = fixedOne ? 1 : d.rm & 7;
    XF.begin(f.fcw, false);
    let rel = 3, ok: boolean;
    const c1 = f.fsw & FSW_C1;
    if (isEmpty(f, 0) || isEmpty(f, i)) ok = stackFault(f, false); else {
      decodeSt(f, XF.a, 0);
      decodeSt(f, XF.b, i);
      rel = XF.relation(!unordered);
      ok = deliver(f);
      // FCOMI/FUCOMI leave C1 as it was (the host CPU does; the SDM lists it as cleared).
      if (eflags) f.fsw = (f.fsw & ~FSW_C1) | c1;
    }
    // The result is recorded even when an exception is unmasked; then nothing pops.
    // FCOMI/FUCOMI: ZF PF CF, and OF SF AF cleared (SDM Vol. 2 FCOMI "Flags Affected").
    if (eflags) setArith(c, ARITH, EFLAGS_OF_RELATION[rel]); else setCc(f, CC_OF_RELATION[rel]);
    if (ok) for (let k = 0; k < pops; k++) pop(f);
  };
}

/** FTST (SDM Vol. 2): ST(0) compared with +0.0. */
function ftst(c: Cpu, d: DecodedInsn): void {
  enter(c, d, true, false);
  const f = c.fpu;
  XF.begin(f.fcw, false);
  let rel = 3;
  if (isEmpty(f, 0)) stackFault(f, false); else {
    decodeSt(f, XF.a, 0);
    XF.decode(XF.b, 0, 0, 0);
    rel = XF.relation(true);
    deliver(f);
  }
  setCc(f, CC_OF_RELATION[rel]);
}

/** FXAM (SDM Vol. 2): the class of ST(0) in C3 C2 C0, its sign in C1; no exceptions. */
function fxam(c: Cpu, d: DecodedInsn): void {
  enter(c, d, true, false);
  const f = c.fpu;
  const r = f.phys(0);
  const sign = (f.se[r] & 0x8000) !== 0 ? FSW_C1 : 0;
  let cc: number;
  if (isEmpty(f, 0)) cc = FSW_C3 | FSW_C0;
  else {
    XF.decode(XF.a, f.se[r], f.mant[2 * r + 1], f.mant[2 * r]);
    switch (XF.a.cls) {
      case X_ZERO: cc = FSW_C3; break;
      case X_INF: cc = FSW_C2 | FSW_C0; break;
      case X_QNAN: case X_SNAN: cc = FSW_C0; break;
      case X_UNSUPPORTED: cc = 0; break;
      default: cc = XF.a.denormal ? FSW_C3 | FSW_C2 : FSW_C2;
    }
  }
  setCc(f, cc | sign);
}

/** One-operand functions on ST(0): FSQRT (precision control applies) and FRNDINT. */
function unary(kind: 'sqrt' | 'rndint'): Handler {
  return (c, d) => {
    enter(c, d, true, false);
    const f = c.fpu;
    const r = f.phys(0);
    if (isEmpty(f, 0)) { if (stackFault(f, false)) f.setReg(r, IND_SE, IND_HI, 0); return; }
    XF.begin(f.fcw, kind === 'sqrt');
    decodeSt(f, XF.a, 0);
    if (kind === 'sqrt') XF.sqrt(); else XF.roundInt();
    if (deliver(f)) f.setReg(r, XF.se, XF.hi, XF.lo);
  };
}

/** FSCALE (SDM Vol. 2): ST(0) × 2^trunc(ST(1)). */
function fscale(c: Cpu, d: DecodedInsn): void {
  enter(c, d, true, false);
  const f = c.fpu;
  const r = f.phys(0);
  if (isEmpty(f, 0) || isEmpty(f, 1)) { if (stackFault(f, false)) f.setReg(r, IND_SE, IND_HI, 0); return; }
  XF.begin(f.fcw, false);
  decodeSt(f, XF.a, 0);
  decodeSt(f, XF.b, 1);
  XF.scale();
  if (deliver(f)) f.setReg(r, XF.se, XF.hi, XF.lo);
}

/** FXTRACT (SDM Vol. 2): ST(0) becomes its exponent (unbiased, as a number), then its significand is pushed. */
function fxtract(c: Cpu, d: DecodedInsn): void {
  enter(c, d, true, false);
  const f = c.fpu;
  if (isEmpty(f, 0)) {
    if (!stackFault(f, false)) return;
    f.setReg(f.phys(0), IND_SE, IND_HI, 0);
    push(f, IND_SE, IND_HI, 0, FSW_IE | FSW_SF);
    return;
  }
  if (!isEmpty(f, 7)) {
    // Stack overflow: the masked response replaces ST(0) and pushes the indefinite.
    if (!stackFault(f, true)) return;
    f.setReg(f.phys(0), IND_SE, IND_HI, 0);
    f.top = (f.top - 1) & 7;
    f.setReg(f.top, IND_SE, IND_HI, 0);
    return;
  }
  XF.begin(f.fcw, false);
  decodeSt(f, XF.a, 0);
  XF.extract();
  if (!deliver(f)) return;
  f.setReg(f.phys(0), XF.se2, XF.hi2, XF.lo2);
  f.top = (f.top - 1) & 7;
  f.setReg(f.top, XF.se, XF.hi, XF.lo);
}

/** FPREM/FPREM1 (SDM Vol. 2): the exact remainder of ST(0) / ST(1), quotient bits in C0 C3 C1. */
function fprem(nearest: boolean): Handler {
  return (c, d) => {
    enter(c, d, true, false);
    const f = c.fpu;
    const r = f.phys(0);
    if (isEmpty(f, 0) || isEmpty(f, 1)) {
      f.fsw &= ~FSW_C2;
      if (stackFault(f, false)) f.setReg(r, IND_SE, IND_HI, 0);
      return;
    }
    XF.begin(f.fcw, false);
    decodeSt(f, XF.a, 0);
    decodeSt(f, XF.b, 1);
    XF.remainder(nearest);
    // An unmasked exception leaves no result; C2 = 0 all the same, since nothing is left to
    // reduce (SDM Vol. 2 FPREM: C2 = 1 only for a partial reduction; the host CPU agrees).
    if (!deliver(f)) { f.fsw &= ~FSW_C2; return; }
    f.setReg(r, XF.se, XF.hi, XF.lo);
    // C0 = Q2, C3 = Q1, C1 = Q0 and C2 = 0 when the reduction is complete; a partial one
    // sets C2 and clears the others; a NaN result only clears C2 and C1 (as the host CPU does).
    const q = XF.quotient;
    if (XF.special) f.fsw &= ~(FSW_C2 | FSW_C1);
    else if (XF.partial) setCc(f, FSW_C2);
    else setCc(f, ((q & 4) !== 0 ? FSW_C0 : 0) | ((q & 2) !== 0 ? FSW_C3 : 0) | ((q & 1) !== 0 ? FSW_C1 : 0));
  };
}

/** FCMOVcc (SDM Vol. 2): ST(0) = ST(i) when the EFLAGS condition holds. */
function fcmov(cc: number): Handler {
  return (c, d) => {
    enter(c, d, true, false);
    const f = c.fpu;
    const i = d.rm & 7;
    const dst = f.phys(0);
    if (isEmpty(f, 0) || isEmpty(f, i)) { if (stackFault(f, false)) f.setReg(dst, IND_SE, IND_HI, 0); return; }
    // No exception and C1 unchanged (the host CPU keeps it; the SDM leaves C0-C3 undefined).
    if (!testCC(c, cc)) return;
    const s = f.phys(i);
    f.setReg(dst, f.se[s], f.mant[2 * s + 1], f.mant[2 * s]);
  };
}

const FCMOV_CC: Readonly<Record<string, number>> = {
  fcmovb: 2, fcmovnb: 3, fcmove: 4, fcmovne: 5, fcmovbe: 6, fcmovnbe: 7, fcmovu: 10, fcmovnu: 11,
};

// ---- control -------------------------------------------------------------------------------

function fnstsw(c: Cpu, d: DecodedInsn): void {
  enter(c, d, false, false);
  const v = c.fpu.statusWord();
  if (d.mod === 3) { c.regs[0] = (c.regs[0] & ~0xffff) | v; return; }
  c.ea(d, 2, true);
  c.wr16(c.linLo, c.linHi, v);
}

/**
 * FNSTENV/FLDENV image (SDM Vol. 1 §8.1.10, Figures 8-9..8-12): 14 bytes (16-bit operand
 * size) or 28 bytes (32-bit), protected-mode or real-mode layout by the processor mode.
 */
function storeEnv(c: Cpu, d: DecodedInsn, lo: number, hi: number): number {
  const f = c.fpu;
  const w = d.opSize === 2 ? 2 : 4;
  const put = (k: number, v: number) => {
    at(c, lo, hi, k * w);
    if (w === 2) c.wr16(c.linLo, c.linHi, v); else c.wr32(c.linLo, c.linHi, v);
  };
  // The reserved upper halves of the 32-bit image read as ones on Intel cores.
  const pad = w === 4 ? 0xffff0000 | 0 : 0;
  put(0, pad | f.fcw);
  put(1, pad | f.statusWord());
  put(2, pad | f.tagWord());
  const real = c.mode === MODE_REAL || c.mode === MODE_V8086;
  if (!real) {
    put(3, f.fipLo);
    put(4, w === 4 ? ((f.fop & 0x7ff) << 16) | f.fcs : f.fcs);
    put(5, f.fdpLo);
    put(6, w === 4 ? pad | f.fds : f.fds);
  } else {
    // Real mode: 20-bit linear instruction and operand pointers (CS/DS × 16 + offset) and the opcode.
    const ip = (f.fipLo + f.fcs * 16) | 0, dp = (f.fdpLo + f.fds * 16) | 0;
    put(3, pad | (ip & 0xffff));
    put(4, ((ip >>> 16) << 12) | (f.fop & 0x7ff));
    put(5, pad | (dp & 0xffff));
    put(6, (dp >>> 16) << 12);
  }
  return 7 * w;
}

function loadEnv(c: Cpu, d: DecodedInsn, lo: number, hi: number): number {
  const f = c.fpu;
  const w = d.opSize === 2 ? 2 : 4;
  const get = (k: number): number => {
    at(c, lo, hi, k * w);
    return w === 2 ? c.rd16(c.linLo, c.linHi) : c.rd32(c.linLo, c.linHi);
  };
  const cw = get(0), sw = get(1), tw = get(2);
  const v3 = get(3), v4 = get(4), v5 = get(5), v6 = get(6);
  f.fcw = cw & 0x1f7f | 0x40;
  f.setStatusWord(sw & 0xffff);
  f.setTagWord(tw & 0xffff);
  if (c.mode === MODE_REAL || c.mode === MODE_V8086) {
    f.fipLo = (v3 & 0xffff) | ((v4 >>> 12) << 16); f.fcs = 0; f.fop = v4 & 0x7ff;
    f.fdpLo = (v5 & 0xffff) | ((v6 >>> 12) << 16); f.fds = 0;
  } else {
    f.fipLo = w === 2 ? v3 & 0xffff : v3; f.fcs = v4 & 0xffff; f.fop = w === 4 ? (v4 >>> 16) & 0x7ff : 0;
    f.fdpLo = w === 2 ? v5 & 0xffff : v5; f.fds = v6 & 0xffff;
  }
  f.fipHi = 0; f.fdpHi = 0;
  f.updateSummary();
  return 7 * w;
}

function envOp(save: boolean, withRegs: boolean): Handler {
  return (c, d) => {
    enter(c, d, !save, false);
    const f = c.fpu;
    const size = (d.opSize === 2 ? 14 : 28) + (withRegs ? 80 : 0);
    c.ea(d, size, save);
    const lo = c.linLo, hi = c.linHi;
    // One item for #AC (SDM Vol. 3 Table 6-7): the image is 4-aligned (2 with a 16-bit operand
    // size), its 80-bit register slots are not checked one by one.
    checkItemAlignment(c, lo, hi, d.opSize === 2 ? 2 : 4);
    if (save) {
      // Probe the whole image first: a #PF half-way must not leave a partial image behind.
      at(c, lo, hi, size - 1);
      c.probeWrite(c.linLo, c.linHi);
      const n = storeEnv(c, d, lo, hi);
      if (withRegs) {
        for (let i = 0; i < 8; i++) {
          const r = f.phys(i);
          at(c, lo, hi, n + 10 * i);
          const a = c.linLo, ah = c.linHi;
          c.wr64(a, ah, f.mant[2 * r], f.mant[2 * r + 1]);
          at(c, a, ah, 8);
          c.wr16(c.linLo, c.linHi, f.se[r]);
        }
        f.init(); // FNSAVE ends with FNINIT (SDM Vol. 2 FSAVE/FNSAVE)
      } else {
        f.fcw |= FCW_MASKS; // FNSTENV masks all exceptions afterwards (SDM Vol. 2 FSTENV/FNSTENV)
        f.updateSummary();
      }
      return;
    }
    const n = loadEnv(c, d, lo, hi);
    if (withRegs) {
      for (let i = 0; i < 8; i++) {
        at(c, lo, hi, n + 10 * i);
        const a = c.linLo, ah = c.linHi;
        const ml = c.rd64(a, ah), mh = c.vHi;
        at(c, a, ah, 8);
        const r = f.phys(i);
        f.se[r] = c.rd16(c.linLo, c.linHi);
        f.mant[2 * r] = ml;
        f.mant[2 * r + 1] = mh;
      }
    }
  };
}

/** The x87 handlers by table form; undefined for the forms not emulated (arithmetic, compares, BCD, transcendental). */
export function x87Handler(form: OpcodeForm): Handler | undefined {
  const m = form.mnem;
  if (m in CONSTANTS) return fldConst(m);
  switch (m) {
    case 'fninit': return (c, d) => { enter(c, d, false, false); c.fpu.init(); };
    case 'fnclex': return (c, d) => { enter(c, d, false, false); c.fpu.fsw &= ~0x80ff; };
    case 'fnop': return (c, d) => { enter(c, d, true, false); };
    case 'fwait': return (c) => {
      // SDM Vol. 2 WAIT/FWAIT: #NM if CR0.MP and CR0.TS; then pending unmasked exceptions.
      if ((c.cr0 & (CR0_MP | CR0_TS)) === (CR0_MP | CR0_TS)) throw new CpuFault(NM, -1, 'WAIT with CR0.MP=1 and CR0.TS=1');
      if ((c.fpu.fsw & FSW_ES) !== 0 && (c.cr0 & CR0_NE) !== 0) throw new CpuFault(MF, -1, 'pending unmasked x87 exception');
    };
    case 'fnstsw': return fnstsw;
    case 'fnstcw': return (c, d) => { enter(c, d, false, false); c.ea(d, 2, true); c.wr16(c.linLo, c.linHi, c.fpu.fcw); };
    case 'fldcw': return (c, d) => {
      enter(c, d, true, true);
      c.ea(d, 2, false);
      const f = c.fpu;
      f.fcw = (c.rd16(c.linLo, c.linHi) & 0x1f7f) | 0x40; // bit 6 reads as 1, bits 15:13 and 7 reserved
      f.updateSummary();
    };
    case 'fnstenv': return envOp(true, false);
    case 'fldenv': return envOp(false, false);
    case 'fnsave': return envOp(true, true);
    case 'frstor': return envOp(false, true);
    case 'ffree': return (c, d) => { enter(c, d, true, false); c.fpu.valid &= ~(1 << c.fpu.phys(d.rm & 7)); };
    case 'ffreep': return (c, d) => { enter(c, d, true, false); const f = c.fpu; f.valid &= ~(1 << f.phys(d.rm & 7)); pop(f); };
    case 'fincstp': return (c, d) => { enter(c, d, true, false); const f = c.fpu; f.top = (f.top + 1) & 7; f.fsw &= ~FSW_C1; };
    case 'fdecstp': return (c, d) => { enter(c, d, true, false); const f = c.fpu; f.top = (f.top - 1) & 7; f.fsw &= ~FSW_C1; };
    case 'flds': return (c, d) => fldMem(c, d, 'single');
    case 'fldl': return (c, d) => fldMem(c, d, 'double');
    case 'fldt': return (c, d) => fldMem(c, d, 'ext');
    case 'filds': return (c, d) => fldMem(c, d, 'i16');
    case 'fildl': return (c, d) => fldMem(c, d, 'i32');
    case 'fildll': return (c, d) => fldMem(c, d, 'i64');
    case 'fld': return fldReg;
    case 'fsts': return (c, d) => fstMem(c, d, 'single', false, false);
    case 'fstps': return (c, d) => fstMem(c, d, 'single', true, false);
    case 'fstl': return (c, d) => fstMem(c, d, 'double', false, false);
    case 'fstpl': return (c, d) => fstMem(c, d, 'double', true, false);
    case 'fstpt': return (c, d) => fstMem(c, d, 'ext', true, false);
    case 'fists': return (c, d) => fstMem(c, d, 'i16', false, false);
    case 'fistps': return (c, d) => fstMem(c, d, 'i16', true, false);
    case 'fistl': return (c, d) => fstMem(c, d, 'i32', false, false);
    case 'fistpl': return (c, d) => fstMem(c, d, 'i32', true, false);
    case 'fistpll': return (c, d) => fstMem(c, d, 'i64', true, false);
    case 'fisttps': return (c, d) => fstMem(c, d, 'i16', true, true);
    case 'fisttpl': return (c, d) => fstMem(c, d, 'i32', true, true);
    case 'fisttpll': return (c, d) => fstMem(c, d, 'i64', true, true);
    case 'fst': return (c, d) => fstReg(c, d, false);
    case 'fstp': return (c, d) => fstReg(c, d, true);
    case 'fxch': return fxch;
    case 'fcompp': return compareReg(false, 2, false, true);
    case 'fucompp': return compareReg(true, 2, false, true);
    case 'fucom': return compareReg(true, 0, false, false);
    case 'fucomp': return compareReg(true, 1, false, false);
    case 'fcomi': return compareReg(false, 0, true, false);
    case 'fcomip': return compareReg(false, 1, true, false);
    case 'fucomi': return compareReg(true, 0, true, false);
    case 'fucomip': return compareReg(true, 1, true, false);
    case 'ftst': return ftst;
    case 'fxam': return fxam;
    case 'fsqrt': return unary('sqrt');
    case 'frndint': return unary('rndint');
    case 'fscale': return fscale;
    case 'fxtract': return fxtract;
    case 'fprem': return fprem(false);
    case 'fprem1': return fprem(true);
    case 'fchs': return signOp(false);
    case 'fabs': return signOp(true);
    default:
      if (m in FCMOV_CC) return fcmov(FCMOV_CC[m]);
      if ([0xd8, 0xdc, 0xda, 0xde].includes(form.opcode) && form.map === 0 && form.modrm < 0) return arithForm(form);
      return undefined;
  }
}
