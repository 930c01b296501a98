// System instructions (SDM Vol. 2 under each mnemonic; Vol. 3 §2.8 summary): PUSHF/POPF,
// MOV to/from control and debug registers, segment register loads and stores, far
// JMP/CALL/RET, IRET, LGDT/LIDT/SGDT/SIDT, LLDT/LTR/SLDT/STR, LMSW/SMSW/CLTS, INVLPG,
// RDMSR/WRMSR, SWAPGS, SYSCALL/SYSRET, SYSENTER/SYSEXIT, LAR/LSL/VERR/VERW, ARPL, BOUND.
// Not emulated (raise #UD or #GP naming what is missing): task switches (task gates, far
// transfers to TSS descriptors, IRET with NT=1), call gates, virtual-8086 mode.
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoder';
import { BR, CpuFault, GP, NP, SS_VEC, UD } from '../fault';
import { AC, AF, CF, DF, ID, IF, IOPL_MASK, NT, OF, PF, RF, SF, TF, VIF, VIP, VM, ZF, getFlags, materialize, setArith } from '../flags';
import type { OpcodeForm } from '../isa/opcodes';
import { MSR_FMASK, MSR_KERNEL_GS_BASE, MSR_LSTAR, MSR_STAR, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, readMsr, writeMsr } from '../msrs';
import {
  checkCodeDescriptor, desc, descAr, descBase, descLimit, loadCodeSegment, loadDataSegment, markAccessed, readDescriptor, sysRead32, sysWrite32,
} from '../segments';
import {
  AR_DB, AR_DPL_SHIFT, AR_G, AR_L, AR_P, AR_S, AR_TYPE_ACCESSED, AR_TYPE_CODE, AR_TYPE_EC, AR_TYPE_RW, AR_UNUSABLE,
  CR0_CD, CR0_EM, CR0_MP, CR0_NW, CR0_PE, CR0_PG, CR0_TS, CR0_ET, CR4_DE, CR4_IMPLEMENTED, CR4_PAE, CR4_PGE, CR4_PSE, CR4_VMXE,
  CS, DS, EFER_LMA, EFER_LME, EFER_SCE, ES, FS, GS, LDTR, MODE_LONG64, MODE_REAL, MODE_V8086, SS, TR,
} from '../state';
import { readDebugRegister, writeDebugRegister } from '../debug';
import { checkItemAlignment } from '../alignment';
import { requireCpl0 } from './misc';
import type { Handler } from './common';

const TWO32 = 4294967296;

// ---- RFLAGS ----

/**
 * Loads RFLAGS from a POPF/IRET image with the privilege rules of SDM Vol. 2 POPF: IOPL only
 * at CPL 0, IF only when CPL <= IOPL; VM, VIP, VIF never (RF is cleared by POPF).
 */
export function loadFlags(c: Cpu, v: number, size: number, cpl: number, iret: boolean): void {
  materialize(c);
  let mask = CF | PF | AF | ZF | SF | TF | DF | OF | NT;
  if (size >= 4) mask |= AC | ID | (iret ? RF : 0);
  if (cpl === 0 || c.mode === MODE_REAL) mask |= IOPL_MASK;
  if (c.mode === MODE_REAL || cpl <= ((c.flagsVal & IOPL_MASK) >> 12)) mask |= IF;
  if (size === 2) mask &= 0xffff;
  const old = c.flagsVal;
  c.flagsVal = ((old & ~mask) | (v & mask) | 2) & ~(iret ? 0 : RF);
  // IF: interrupts may be deliverable; TF, RF: the run loop switches to or from its debug loop (cpu.ts).
  if (((c.flagsVal ^ old) & (IF | TF | RF)) !== 0) c.checkInterrupts();
  if (((c.flagsVal ^ old) & AC) !== 0) c.updateAlignmentCheck(); // #AC checking (alignment.ts)
}

function pushf(c: Cpu, d: DecodedInsn): void {
  if (c.mode === MODE_V8086 && (c.flagsVal & IOPL_MASK) !== IOPL_MASK) throw new CpuFault(GP, 0, 'PUSHF in virtual-8086 mode with IOPL < 3');
  const f = getFlags(c) & ~(VM | RF);
  c.push(d.opSize, d.opSize === 2 ? f & 0xffff : f, 0);
}

function popf(c: Cpu, d: DecodedInsn): void {
  if (c.mode === MODE_V8086) throw new CpuFault(GP, 0, 'POPF in virtual-8086 mode is not emulated');
  const s = d.opSize;
  const v = c.pop(s);
  loadFlags(c, v, s, c.cpl, false);
}

// ---- control and debug registers ----

/** True when CR0/CR4/EFER select PAE paging (not IA-32e), where the PDPTEs are registers. */
export function paePaging(cr0: number, cr4: number, efer: number): boolean {
  return (cr0 & CR0_PG) !== 0 && (cr4 & CR4_PAE) !== 0 && (efer & EFER_LME) === 0;
}

/** MOV to CR0 with the checks of SDM Vol. 2 MOV CRn and Vol. 3 §10.8.5 (IA-32e activation). */
export function writeCr0(c: Cpu, lo: number, hi: number): void {
  if (hi !== 0) throw new CpuFault(GP, 0, 'reserved CR0 bits 63:32');
  let v = (lo | CR0_ET) & ~0x1ffaffc0; // bits 6-15, 17, 19-28 are reserved and read as 0
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) throw new CpuFault(GP, 0, 'CR0.PG=1 requires CR0.PE=1');
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) throw new CpuFault(GP, 0, 'CR0.NW=1 requires CR0.CD=1');
  const old = c.cr0;
  let efer = c.efer;
  if ((v & CR0_PG) !== 0 && (old & CR0_PG) === 0 && (efer & EFER_LME) !== 0) {
    if ((c.cr4 & CR4_PAE) === 0) throw new CpuFault(GP, 0, 'enabling IA-32e paging requires CR4.PAE=1');
    efer |= EFER_LMA;
  }
  if ((v & CR0_PG) === 0 && (old & CR0_PG) !== 0 && (efer & EFER_LMA) !== 0) {
    if (c.mode === MODE_LONG64) throw new CpuFault(GP, 0, 'paging cannot be disabled in 64-bit mode');
    efer &= ~EFER_LMA;
  }
  if (paePaging(v, c.cr4, efer) && ((old ^ v) & (CR0_PG | CR0_CD | CR0_NW)) !== 0 && c.mmu.pdptesInvalid(c.cr3Lo)) {
    throw new CpuFault(GP, 0, 'a PAE PDPTE has reserved bits set');
  }
  v |= 0;
  if (c.vmx !== undefined) c.vmx.checkCrWrite(0, v); // fixed bits in VMX operation (SDM Vol. 3C §23.8)
  c.cr0 = v;
  c.efer = efer;
  c.pagingChanged();
}

export function writeCr4(c: Cpu, lo: number, hi: number): void {
  const allowed = CR4_IMPLEMENTED | (c.vmxAvailable ? CR4_VMXE : 0);
  if (hi !== 0 || (lo & ~allowed) !== 0) throw new CpuFault(GP, 0, `CR4 bits 0x${((lo & ~allowed) >>> 0).toString(16)} are reserved or not supported`);
  if ((c.efer & EFER_LMA) !== 0 && (lo & CR4_PAE) === 0) throw new CpuFault(GP, 0, 'CR4.PAE cannot be cleared in IA-32e mode');
  if (paePaging(c.cr0, lo, c.efer) && ((c.cr4 ^ lo) & (CR4_PAE | CR4_PSE | CR4_PGE)) !== 0 && c.mmu.pdptesInvalid(c.cr3Lo)) {
    throw new CpuFault(GP, 0, 'a PAE PDPTE has reserved bits set');
  }
  if (c.vmx !== undefined) c.vmx.checkCrWrite(4, lo); // fixed bits in VMX operation (SDM Vol. 3C §23.8)
  c.cr4 = lo;
  c.pagingChanged();
}

export function writeCr3(c: Cpu, lo: number, hi: number): void {
  const ia32e = (c.efer & EFER_LMA) !== 0;
  if (ia32e && c.mmu.cr3HasReservedBits(hi)) throw new CpuFault(GP, 0, 'CR3 bits above MAXPHYADDR are reserved');
  if (paePaging(c.cr0, c.cr4, c.efer) && c.mmu.pdptesInvalid(lo)) throw new CpuFault(GP, 0, 'a PAE PDPTE has reserved bits set');
  c.cr3Lo = lo;
  c.cr3Hi = ia32e ? hi : 0;
  c.pagingChanged(true); // MOV to CR3 flushes non-global translations (SDM Vol. 3 §4.10.4.1)
}

function movToCr(c: Cpu, d: DecodedInsn): void {
  requireCpl0(c);
  const n = d.reg;
  const lo = c.regs[2 * d.rm], hi = c.long64 ? c.regs[2 * d.rm + 1] : 0;
  switch (n) {
    case 0: writeCr0(c, lo, hi); break;
    case 2: c.cr2 = hi * TWO32 + (lo >>> 0); break;
    case 3: writeCr3(c, lo, hi); break;
    case 4: writeCr4(c, lo, hi); break;
    case 8:
      if (!c.long64) throw new CpuFault(UD, -1, 'CR8 exists only in 64-bit mode');
      if ((lo & ~15) !== 0 || hi !== 0) throw new CpuFault(GP, 0, 'reserved CR8 bits');
      c.writeCr8(lo);
      break;
    default: throw new CpuFault(UD, -1, `CR${n} does not exist`);
  }
}

function movFromCr(c: Cpu, d: DecodedInsn): void {
  requireCpl0(c);
  let lo: number, hi = 0;
  switch (d.reg) {
    case 0: lo = c.cr0; break;
    case 2: lo = c.cr2 | 0; hi = Math.floor(c.cr2 / TWO32) | 0; break;
    case 3: lo = c.cr3Lo; hi = c.cr3Hi; break;
    case 4: lo = c.cr4; break;
    case 8: if (!c.long64) throw new CpuFault(UD, -1, 'CR8 exists only in 64-bit mode'); lo = c.readCr8(); break;
    default: throw new CpuFault(UD, -1, `CR${d.reg} does not exist`);
  }
  c.setReg(d.rm, c.long64 ? 8 : 4, 0, lo, hi);
}

function drIndex(c: Cpu, n: number): number {
  if (n > 7) throw new CpuFault(UD, -1, `DR${n} does not exist`);
  if (n === 4 || n === 5) {
    if ((c.cr4 & CR4_DE) !== 0) throw new CpuFault(UD, -1, 'DR4/DR5 with CR4.DE=1');
    return n + 2;
  }
  return n;
}

function movToDr(c: Cpu, d: DecodedInsn): void {
  requireCpl0(c);
  const n = drIndex(c, d.reg);
  writeDebugRegister(c, n, c.regs[2 * d.rm], c.long64 ? c.regs[2 * d.rm + 1] : 0);
}

function movFromDr(c: Cpu, d: DecodedInsn): void {
  requireCpl0(c);
  const v = readDebugRegister(c, drIndex(c, d.reg));
  c.setReg(d.rm, c.long64 ? 8 : 4, 0, v | 0, Math.floor(v / TWO32) | 0);
}

// ---- descriptor tables ----

function loadDtr(c: Cpu, d: DecodedInsn, idt: boolean): void {
  requireCpl0(c);
  c.ea(d, c.long64 ? 10 : 6, false);
  const lo = c.linLo, hi = c.linHi;
  const limit = c.rd16(lo, hi);
  let base: number;
  if (c.long64) { const b = c.rd64((lo + 2) | 0, hi); base = c.vHi * TWO32 + (b >>> 0); }
  else { const b = c.rd32((lo + 2) | 0, hi); base = d.opSize === 2 ? b & 0xffffff : b >>> 0; }
  if (c.long64 && (base >= 140737488355328 || base < -140737488355328)) throw new CpuFault(GP, 0, 'non-canonical descriptor-table base');
  if (idt) { c.idtrBase = base; c.idtrLimit = limit; } else { c.gdtrBase = base; c.gdtrLimit = limit; }
}

function storeDtr(c: Cpu, d: DecodedInsn, idt: boolean): void {
  c.ea(d, c.long64 ? 10 : 6, true);
  const lo = c.linLo, hi = c.linHi;
  const base = idt ? c.idtrBase : c.gdtrBase;
  checkItemAlignment(c, lo, hi, 4); // one item aligned to 4, not a word and a dword checked apart (SDM Vol. 3A Table 6-7)
  c.wr16(lo, hi, idt ? c.idtrLimit : c.gdtrLimit);
  if (c.long64) c.wr64((lo + 2) | 0, hi, base | 0, Math.floor(base / TWO32) | 0);
  else c.wr32((lo + 2) | 0, hi, base | 0);
}

/** LLDT/LTR: system descriptors are 16 bytes in IA-32e mode (base bits 63:32 at +8). */
function loadSystemSegment(c: Cpu, d: DecodedInsn, tr: boolean): void {
  if (!c.protectedMode) throw new CpuFault(UD, -1, `${tr ? 'LTR' : 'LLDT'} outside protected mode`);
  requireCpl0(c);
  const sel = c.readE(d, 2) & 0xffff;
  const seg = tr ? TR : LDTR;
  if ((sel & 0xfffc) === 0) {
    if (tr) throw new CpuFault(GP, 0, 'LTR with a null selector');
    c.loadSegmentCache(LDTR, sel, 0, 0, 0, AR_UNUSABLE);
    return;
  }
  if ((sel & 4) !== 0 || !readDescriptor(c, sel)) throw new CpuFault(GP, sel & 0xfffc, 'system segment selector must reference the GDT');
  const ar = descAr(desc.hi);
  const type = ar & 0xf;
  if ((ar & AR_S) !== 0 || (tr ? type !== 0x9 && type !== 0x1 : type !== 0x2)) throw new CpuFault(GP, sel & 0xfffc, tr ? 'not an available TSS descriptor' : 'not an LDT descriptor');
  if ((ar & AR_P) === 0) throw new CpuFault(NP, sel & 0xfffc, 'system segment not present');
  let baseHi = 0;
  if ((c.efer & EFER_LMA) !== 0) baseHi = sysRead32(c, desc.addr + 8);
  if (tr) {
    desc.hi |= 0x200; // mark the TSS busy
    sysWrite32(c, desc.addr + 4, desc.hi);
  }
  c.loadSegmentCache(seg, sel, descBase(desc.lo, desc.hi), baseHi, descLimit(desc.lo, desc.hi), descAr(desc.hi));
}

// ---- segment registers ----

function movToSreg(c: Cpu, d: DecodedInsn): void {
  const seg = d.reg & 7;
  if (seg === CS || seg > GS) throw new CpuFault(UD, -1, 'MOV to CS or to a non-existent segment register');
  const sel = c.readE(d, 2);
  loadDataSegment(c, seg, sel);
  if (seg === SS) { c.interruptShadow = true; c.movSsShadow = true; c.attention = true; }
}

function movFromSreg(c: Cpu, d: DecodedInsn): void {
  const seg = d.reg & 7;
  if (seg > GS) throw new CpuFault(UD, -1, 'MOV from a non-existent segment register');
  const sel = c.segSel[seg];
  if (d.mod === 3) c.setReg(d.rm, d.opSize, d.rex, sel, 0);
  else c.writeE(d, 2, sel, 0);
}

const SEG_OF: Record<string, number> = { ES, CS, SS, DS, FS, GS };

function loadFarPointer(c: Cpu, d: DecodedInsn, seg: number): void {
  const s = d.opSize;
  c.ea(d, s + 2, false);
  const lo = c.linLo, hi = c.linHi;
  const off = c.rdSize(lo, hi, s), offHi = c.vHi;
  const sel = c.rd16((lo + s) | 0, hi);
  loadDataSegment(c, seg, sel);
  c.setReg(d.reg, s, d.rex, off, offHi);
}

// ---- far transfers ----

/** Far JMP/CALL to sel:offset; `call` pushes CS and the return offset (operand size `s`). */
function farTransfer(c: Cpu, sel: number, off: number, offHi: number, s: number, call: boolean): void {
  const retCs = c.segSel[CS];
  const ret = c.nextRip;
  if (c.mode === MODE_REAL || c.mode === MODE_V8086) {
    if (call) { c.push(s, retCs, 0); c.push(s, ret, 0); }
    c.loadSegmentCache(CS, sel, sel << 4, 0, c.segLimit[CS], c.segAr[CS]);
    c.nextRip = s === 2 ? off & 0xffff : off >>> 0;
    return;
  }
  if ((sel & 0xfffc) === 0) throw new CpuFault(GP, 0, 'far transfer to a null selector');
  if (!readDescriptor(c, sel)) throw new CpuFault(GP, sel & 0xfffc, 'far transfer selector beyond the descriptor table limit');
  const ar = descAr(desc.hi);
  if ((ar & AR_S) === 0) throw new CpuFault(GP, sel & 0xfffc, 'far transfers through call gates or task segments are not emulated');
  const dpl = checkCodeDescriptor(sel, false);
  const conforming = (ar & AR_TYPE_EC) !== 0;
  if (conforming ? dpl > c.cpl : (sel & 3) > c.cpl || dpl !== c.cpl) throw new CpuFault(GP, sel & 0xfffc, 'far transfer privilege check failed');
  const target = (ar & AR_L) !== 0 && (c.efer & EFER_LMA) !== 0 ? offHi * TWO32 + (off >>> 0) : s === 2 ? off & 0xffff : off >>> 0;
  if (call) {
    c.push(s, retCs, 0);
    c.push(s, ret | 0, s === 8 ? Math.floor(ret / TWO32) | 0 : 0);
  }
  loadCodeSegment(c, sel, c.cpl);
  c.nextRip = target;
}

function farIndirect(c: Cpu, d: DecodedInsn, call: boolean): void {
  // REX.W selects m16:64 in 64-bit mode (SDM Vol. 2A JMP/CALL "Operation"), Intel's reading;
  // the shared table marks these forms REX.W-ignored (objdump's AMD reading), so look at REX.W here.
  const s = c.long64 && (d.rex & 8) !== 0 ? 8 : d.opSize === 8 ? 4 : d.opSize;
  c.ea(d, s + 2, false);
  const lo = c.linLo, hi = c.linHi;
  const off = c.rdSize(lo, hi, s), offHi = s === 8 ? c.vHi : 0;
  const sel = c.rd16((lo + s) | 0, hi);
  farTransfer(c, sel, off, offHi, s, call);
}

/** LRET [imm16] (SDM Vol. 2 RET, far): same-privilege and outer-privilege returns. */
function farReturn(c: Cpu, d: DecodedInsn, imm: number): void {
  const s = d.opSize;
  const off = c.peek(s, 0), offHi = s === 8 ? c.vHi : 0;
  const sel = c.peek(s, s) & 0xffff;
  if (c.mode === MODE_REAL || c.mode === MODE_V8086) {
    c.adjustSp(2 * s + imm);
    c.loadSegmentCache(CS, sel, sel << 4, 0, c.segLimit[CS], c.segAr[CS]);
    c.nextRip = s === 2 ? off & 0xffff : off >>> 0;
    return;
  }
  returnToSegment(c, sel, off, offHi, s, 2 * s, imm, false);
}

/**
 * Common tail of far RET and IRET in protected/IA-32e mode: checks the code segment, and for a
 * return to an outer level (or IRETQ) pops SS:rSP too. `popped` bytes have been consumed
 * before the optional SS:rSP pair; `imm` is RET's release count.
 */
function returnToSegment(c: Cpu, sel: number, off: number, offHi: number, s: number, popped: number, imm: number, iret64: boolean): void {
  if ((sel & 0xfffc) === 0) throw new CpuFault(GP, 0, 'return to a null selector');
  if (!readDescriptor(c, sel)) throw new CpuFault(GP, sel & 0xfffc, 'return selector beyond the descriptor table limit');
  const rpl = sel & 3;
  if (rpl < c.cpl) throw new CpuFault(GP, sel & 0xfffc, 'return to a more privileged level');
  const ar = descAr(desc.hi);
  const long = (ar & AR_L) !== 0 && (c.efer & EFER_LMA) !== 0;
  const dpl = checkCodeDescriptor(sel, false);
  if ((ar & AR_TYPE_EC) !== 0 ? dpl > rpl : dpl !== rpl) throw new CpuFault(GP, sel & 0xfffc, 'return code segment privilege check failed');
  const csLo = desc.lo, csHi = desc.hi, csAddr = desc.addr;
  const target = long ? offHi * TWO32 + (off >>> 0) : s === 2 ? off & 0xffff : off >>> 0;
  if (long && (target >= 140737488355328 || target < -140737488355328)) throw new CpuFault(GP, 0, 'non-canonical return address');
  if (rpl === c.cpl && !iret64) {
    desc.lo = csLo; desc.hi = csHi; desc.addr = csAddr;
    loadCodeSegment(c, sel, rpl);
    c.adjustSp(popped + imm);
    c.nextRip = target;
    return;
  }
  // Outer level (or IRETQ, which always pops SS:RSP): SS:rSP follow the popped words.
  const sp = c.peek(s, popped + imm), spHi = s === 8 ? c.vHi : 0;
  const ssSel = c.peek(s, popped + imm + s) & 0xffff;
  const oldCpl = c.cpl;
  if ((ssSel & 0xfffc) === 0) {
    if (!(long && rpl !== 3)) throw new CpuFault(GP, 0, 'return to a null SS');
  } else {
    if ((ssSel & 3) !== rpl || !readDescriptor(c, ssSel)) throw new CpuFault(GP, ssSel & 0xfffc, 'return SS selector invalid');
    const sar = descAr(desc.hi);
    if ((sar & (AR_S | AR_TYPE_CODE | AR_TYPE_RW)) !== (AR_S | AR_TYPE_RW) || ((sar >> AR_DPL_SHIFT) & 3) !== rpl) throw new CpuFault(GP, ssSel & 0xfffc, 'return SS is not a writable data segment at the new CPL');
    if ((sar & AR_P) === 0) throw new CpuFault(SS_VEC, ssSel & 0xfffc, 'return SS not present');
    markAccessed(c);
  }
  const ssLo = desc.lo, ssHi = desc.hi;
  desc.lo = csLo; desc.hi = csHi; desc.addr = csAddr;
  loadCodeSegment(c, sel, rpl);
  if ((ssSel & 0xfffc) === 0) c.loadSegmentCache(SS, ssSel, 0, 0, 0, AR_UNUSABLE | (rpl << AR_DPL_SHIFT) | AR_DB);
  else c.loadSegmentCache(SS, ssSel, descBase(ssLo, ssHi), 0, descLimit(ssLo, ssHi), descAr(ssHi));
  const regs = c.regs;
  if (c.stackSize === 8) { regs[8] = sp; regs[9] = spHi; }
  else if (c.stackSize === 4) { regs[8] = sp; regs[9] = 0; }
  else regs[8] = (regs[8] & ~0xffff) | (sp & 0xffff);
  if (imm !== 0) c.adjustSp(imm);
  if (rpl > oldCpl) {
    // Data segments the new level may not use become null (SDM Vol. 2 RET/IRET "RETURN-TO-OUTER-PRIVILEGE-LEVEL").
    // Only the selector and the access rights change: the hidden base stays, which 64-bit code
    // still uses through FS and GS (kernels keep per-CPU data there; QEMU keeps it too).
    for (const seg of [ES, DS, FS, GS]) {
      const a = c.segAr[seg];
      const dpl2 = (a >> AR_DPL_SHIFT) & 3;
      if ((a & AR_UNUSABLE) === 0 && dpl2 < rpl && ((a & AR_TYPE_CODE) === 0 || (a & AR_TYPE_EC) === 0)) c.loadSegmentCache(seg, 0, c.segBaseLo[seg], c.segBaseHi[seg], 0, AR_UNUSABLE);
    }
  }
  c.nextRip = target;
}

/** IRET/IRETD/IRETQ (SDM Vol. 2 IRET). */
function iret(c: Cpu, d: DecodedInsn): void {
  const s = d.opSize;
  // IRET unblocks NMIs even when it faults (SDM Vol. 3A §6.7.1); a latched NMI is taken after it.
  if (c.nmiBlocked && c.iretUnblocksNmi) {
    c.nmiBlocked = false;
    c.checkInterrupts();
  }
  if (c.mode === MODE_REAL) {
    const ip = c.peek(s, 0), cs = c.peek(s, s) & 0xffff, fl = c.peek(s, 2 * s);
    c.adjustSp(3 * s);
    c.loadSegmentCache(CS, cs, cs << 4, 0, c.segLimit[CS], c.segAr[CS]);
    loadFlags(c, fl, s, 0, true);
    c.nextRip = s === 2 ? ip & 0xffff : ip >>> 0;
    return;
  }
  if (c.mode === MODE_V8086) throw new CpuFault(GP, 0, 'IRET in virtual-8086 mode is not emulated');
  if ((c.flagsVal & NT) !== 0) {
    if ((c.efer & EFER_LMA) !== 0) throw new CpuFault(GP, 0, 'IRET with NT=1 in IA-32e mode');
    throw new CpuFault(GP, 0, 'IRET with NT=1 (task return) is not emulated');
  }
  const off = c.peek(s, 0), offHi = s === 8 ? c.vHi : 0;
  const sel = c.peek(s, s) & 0xffff;
  const fl = c.peek(s, 2 * s);
  if ((fl & VM) !== 0 && c.cpl === 0 && s === 4) throw new CpuFault(GP, 0, 'IRET to virtual-8086 mode is not emulated');
  const oldCpl = c.cpl;
  returnToSegment(c, sel, off, offHi, s, 3 * s, 0, c.mode === MODE_LONG64);
  loadFlags(c, fl, s, oldCpl, true);
  if (oldCpl === 0 && s >= 4) c.flagsVal = (c.flagsVal & ~(VIP | VIF)) | (fl & (VIP | VIF));
  c.interruptShadow = false;
  c.checkInterrupts();
}

// ---- fast system calls ----

function syscall(c: Cpu): void {
  if (c.mode !== MODE_LONG64 || (c.efer & EFER_SCE) === 0) throw new CpuFault(UD, -1, 'SYSCALL outside 64-bit mode or with IA32_EFER.SCE=0');
  const regs = c.regs;
  const ret = c.nextRip;
  const lstarLo = c.msrLo.get(MSR_LSTAR)!, lstarHi = c.msrHi.get(MSR_LSTAR)!;
  const sel = c.msrHi.get(MSR_STAR)! & 0xfffc;
  const fmask = c.msrLo.get(MSR_FMASK)!;
  regs[2] = ret | 0; regs[3] = Math.floor(ret / TWO32) | 0;
  const flags = getFlags(c) & ~RF;
  regs[22] = flags; regs[23] = 0;
  c.loadSegmentCache(CS, sel, 0, 0, 0xffffffff, AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_RW | AR_TYPE_ACCESSED | AR_L | AR_G);
  c.loadSegmentCache(SS, (sel + 8) & 0xffff, 0, 0, 0xffffffff, AR_P | AR_S | AR_TYPE_RW | AR_TYPE_ACCESSED | AR_DB | AR_G);
  c.flagsVal = (flags & ~fmask & ~RF) | 2;
  // With TF masked off, SYSCALL takes no single-step trap at its target, as INT n (SDM Vol. 2
  // SYSCALL is silent; an OS that masks TF expects no #DB on its entry point).
  if ((fmask & TF) !== 0) c.debug.stepCancel = true;
  c.nextRip = lstarHi * TWO32 + (lstarLo >>> 0);
  c.checkInterrupts();
}

function sysret(c: Cpu, d: DecodedInsn): void {
  if ((c.efer & EFER_SCE) === 0 || c.mode !== MODE_LONG64) throw new CpuFault(UD, -1, 'SYSRET outside 64-bit mode or with IA32_EFER.SCE=0');
  requireCpl0(c);
  const regs = c.regs;
  const base = (c.msrHi.get(MSR_STAR)! >>> 16) & 0xffff;
  const to64 = d.opSize === 8;
  if (to64 && ((regs[3] << 16) >> 16) !== regs[3]) throw new CpuFault(GP, 0, 'SYSRET to a non-canonical RCX');
  const csSel = ((to64 ? base + 16 : base) | 3) & 0xffff;
  loadFlagsRaw(c, (regs[22] & 0x3c7fd7) | 2);
  c.loadSegmentCache(CS, csSel, 0, 0, 0xffffffff, AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_RW | AR_TYPE_ACCESSED | AR_G | (3 << AR_DPL_SHIFT) | (to64 ? AR_L : AR_DB));
  c.loadSegmentCache(SS, ((base + 8) | 3) & 0xffff, 0, 0, 0xffffffff, AR_P | AR_S | AR_TYPE_RW | AR_TYPE_ACCESSED | AR_DB | AR_G | (3 << AR_DPL_SHIFT));
  c.nextRip = to64 ? regs[3] * TWO32 + (regs[2] >>> 0) : regs[2] >>> 0;
}

function loadFlagsRaw(c: Cpu, v: number): void {
  materialize(c);
  c.flagsVal = v;
  c.checkInterrupts();
}

function sysenter(c: Cpu): void {
  if (!c.protectedMode) throw new CpuFault(GP, 0, 'SYSENTER in real mode');
  const cs = c.msrLo.get(MSR_SYSENTER_CS)! & 0xffff;
  if ((cs & 0xfffc) === 0) throw new CpuFault(GP, 0, 'SYSENTER with IA32_SYSENTER_CS = 0');
  const long = (c.efer & EFER_LMA) !== 0;
  materialize(c);
  c.flagsVal &= ~(VM | IF | RF);
  c.loadSegmentCache(CS, cs & 0xfffc, 0, 0, 0xffffffff, AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_RW | AR_TYPE_ACCESSED | AR_G | (long ? AR_L : AR_DB));
  c.loadSegmentCache(SS, (cs + 8) & 0xfffc, 0, 0, 0xffffffff, AR_P | AR_S | AR_TYPE_RW | AR_TYPE_ACCESSED | AR_DB | AR_G);
  const regs = c.regs;
  regs[8] = c.msrLo.get(MSR_SYSENTER_ESP)!; regs[9] = long ? c.msrHi.get(MSR_SYSENTER_ESP)! : 0;
  const eip = c.msrLo.get(MSR_SYSENTER_EIP)!, eipHi = c.msrHi.get(MSR_SYSENTER_EIP)!;
  c.nextRip = long ? eipHi * TWO32 + (eip >>> 0) : eip >>> 0;
}

function sysexit(c: Cpu, d: DecodedInsn): void {
  if (!c.protectedMode) throw new CpuFault(GP, 0, 'SYSEXIT in real mode');
  requireCpl0(c);
  const cs = c.msrLo.get(MSR_SYSENTER_CS)! & 0xffff;
  if ((cs & 0xfffc) === 0) throw new CpuFault(GP, 0, 'SYSEXIT with IA32_SYSENTER_CS = 0');
  const to64 = d.opSize === 8;
  const regs = c.regs;
  const csSel = ((to64 ? cs + 32 : cs + 16) | 3) & 0xffff;
  c.loadSegmentCache(CS, csSel, 0, 0, 0xffffffff, AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_RW | AR_TYPE_ACCESSED | AR_G | (3 << AR_DPL_SHIFT) | (to64 ? AR_L : AR_DB));
  c.loadSegmentCache(SS, (csSel + 8) & 0xffff, 0, 0, 0xffffffff, AR_P | AR_S | AR_TYPE_RW | AR_TYPE_ACCESSED | AR_DB | AR_G | (3 << AR_DPL_SHIFT));
  regs[8] = regs[2]; regs[9] = to64 ? regs[3] : 0;
  c.nextRip = to64 ? regs[5] * TWO32 + (regs[4] >>> 0) : regs[4] >>> 0;
}

// ---- LAR, LSL, VERR, VERW, ARPL, BOUND ----

/** Reads and privilege-checks the descriptor for LAR/LSL/VERR/VERW; returns its AR or -1 (ZF=0). */
function probeDescriptor(c: Cpu, sel: number, lsl: boolean): number {
  if ((sel & 0xfffc) === 0 || !readDescriptor(c, sel)) return -1;
  const ar = descAr(desc.hi);
  const dpl = (ar >> AR_DPL_SHIFT) & 3;
  if ((ar & AR_S) === 0) {
    const t = ar & 0xf;
    const ok = lsl ? [1, 2, 3, 9, 11].includes(t) : [1, 2, 3, 4, 5, 9, 11, 12].includes(t);
    if (!ok || ((c.efer & EFER_LMA) !== 0 && [1, 3, 4, 5].includes(t))) return -1;
  }
  const conformingCode = (ar & (AR_S | AR_TYPE_CODE | AR_TYPE_EC)) === (AR_S | AR_TYPE_CODE | AR_TYPE_EC);
  if (!conformingCode && (dpl < c.cpl || dpl < (sel & 3))) return -1;
  return ar;
}

function larLsl(c: Cpu, d: DecodedInsn, lsl: boolean): void {
  if (!c.protectedMode) throw new CpuFault(UD, -1, 'LAR/LSL outside protected mode');
  const sel = c.readE(d, 2) & 0xffff;
  const ar = probeDescriptor(c, sel, lsl);
  if (ar < 0) { setArith(c, ZF, 0); return; }
  const v = lsl ? descLimit(desc.lo, desc.hi) : desc.hi & 0x00f0ff00;
  c.setReg(d.reg, d.opSize, d.rex, v | 0, 0);
  setArith(c, ZF, ZF);
}

function verrVerw(c: Cpu, d: DecodedInsn, write: boolean): void {
  if (!c.protectedMode) throw new CpuFault(UD, -1, 'VERR/VERW outside protected mode');
  const sel = c.readE(d, 2) & 0xffff;
  const ar = probeDescriptor(c, sel, false);
  const ok = ar >= 0 && (ar & AR_S) !== 0 && ((ar & AR_TYPE_CODE) !== 0 ? !write && (ar & AR_TYPE_RW) !== 0 : !write || (ar & AR_TYPE_RW) !== 0);
  setArith(c, ZF, ok ? ZF : 0);
}

function arpl(c: Cpu, d: DecodedInsn): void {
  if (!c.protectedMode) throw new CpuFault(UD, -1, 'ARPL outside protected mode');
  let lo = 0, hi = 0;
  if (d.mod !== 3) { c.ea(d, 2, true); lo = c.linLo; hi = c.linHi; }
  const dst = d.mod === 3 ? c.getReg(d.rm, 2, d.rex) : c.rd16(lo, hi);
  const src = c.getReg(d.reg, 2, d.rex);
  if ((dst & 3) < (src & 3)) {
    const v = (dst & ~3) | (src & 3);
    if (d.mod === 3) c.setReg(d.rm, 2, d.rex, v, 0); else c.wr16(lo, hi, v);
    setArith(c, ZF, ZF);
  } else setArith(c, ZF, 0);
}

function bound(c: Cpu, d: DecodedInsn): void {
  const s = d.opSize;
  c.ea(d, 2 * s, false);
  const lo = c.linLo, hi = c.linHi;
  const lower = c.rdSize(lo, hi, s), upper = c.rdSize((lo + s) | 0, hi, s);
  const v = c.getReg(d.reg, s, d.rex);
  const sx = (x: number): number => (s === 2 ? (x << 16) >> 16 : x | 0);
  if (sx(v) < sx(lower) || sx(v) > sx(upper)) throw new CpuFault(BR, -1, 'BOUND range exceeded');
}

// ---- the table ----

export function systemHandler(f: OpcodeForm): Handler | undefined {
  const ops = f.ops.join(',');
  switch (f.mnem) {
    case 'pushf': return pushf;
    case 'popf': return popf;
    case 'mov':
      if (ops === 'Cd,Ry') return movToCr;
      if (ops === 'Ry,Cd') return movFromCr;
      if (ops === 'Dd,Ry') return movToDr;
      if (ops === 'Ry,Dd') return movFromDr;
      if (ops === 'Sw,MwRv') return movToSreg;
      if (ops === 'MwRv,Sw') return movFromSreg;
      return undefined;
    case 'push': {
      const seg = SEG_OF[f.ops[0]];
      if (seg === undefined) return undefined;
      return (c, d) => c.push(d.opSize, c.segSel[seg], 0);
    }
    case 'pop': {
      const seg = SEG_OF[f.ops[0]];
      if (seg === undefined) return undefined;
      return (c, d) => {
        const s = d.opSize;
        const sel = c.peek(s, 0);
        loadDataSegment(c, seg, sel);
        c.adjustSp(s);
        if (seg === SS) { c.interruptShadow = true; c.movSsShadow = true; c.attention = true; }
      };
    }
    case 'les': return (c, d) => loadFarPointer(c, d, ES);
    case 'lds': return (c, d) => loadFarPointer(c, d, DS);
    case 'lss': return (c, d) => loadFarPointer(c, d, SS);
    case 'lfs': return (c, d) => loadFarPointer(c, d, FS);
    case 'lgs': return (c, d) => loadFarPointer(c, d, GS);
    case 'ljmp':
      if (ops === 'Ap') return (c, d) => farTransfer(c, d.imm2, d.imm, 0, d.opSize, false);
      return (c, d) => farIndirect(c, d, false);
    case 'lcall':
      if (ops === 'Ap') return (c, d) => farTransfer(c, d.imm2, d.imm, 0, d.opSize, true);
      return (c, d) => farIndirect(c, d, true);
    case 'lret': {
      const imm = ops === 'Iw';
      return (c, d) => farReturn(c, d, imm ? d.imm & 0xffff : 0);
    }
    case 'iret': return iret;
    case 'lgdt': return (c, d) => loadDtr(c, d, false);
    case 'lidt': return (c, d) => loadDtr(c, d, true);
    case 'sgdt': return (c, d) => storeDtr(c, d, false);
    case 'sidt': return (c, d) => storeDtr(c, d, true);
    case 'lldt': return (c, d) => loadSystemSegment(c, d, false);
    case 'ltr': return (c, d) => loadSystemSegment(c, d, true);
    case 'sldt': case 'str': {
      const seg = f.mnem === 'str' ? TR : LDTR;
      return (c, d) => {
        if (!c.protectedMode) throw new CpuFault(UD, -1, 'SLDT/STR outside protected mode');
        if (d.mod === 3) c.setReg(d.rm, d.opSize, d.rex, c.segSel[seg], 0); else c.writeE(d, 2, c.segSel[seg], 0);
      };
    }
    case 'smsw': return (c, d) => { if (d.mod === 3) c.setReg(d.rm, d.opSize, d.rex, c.cr0, 0); else c.writeE(d, 2, c.cr0, 0); };
    case 'lmsw': return (c, d) => {
      requireCpl0(c);
      const v = c.readE(d, 2);
      // LMSW changes PE (set only), MP, EM, TS (SDM Vol. 2 LMSW).
      writeCr0(c, (c.cr0 & ~(CR0_MP | CR0_EM | CR0_TS)) | (v & (CR0_PE | CR0_MP | CR0_EM | CR0_TS)), 0);
    };
    case 'clts': return (c) => { requireCpl0(c); c.cr0 &= ~CR0_TS; };
    case 'invlpg': return (c, d) => {
      requireCpl0(c);
      c.ea(d, 1, false);
      c.mmu.invlpg(c.linHi * TWO32 + (c.linLo >>> 0));
      c.translationsChanged();
    };
    case 'rdmsr': return (c) => { requireCpl0(c); readMsr(c, c.regs[2] >>> 0); };
    case 'wrmsr': return (c) => { requireCpl0(c); writeMsr(c, c.regs[2] >>> 0, c.regs[0], c.regs[4]); };
    case 'swapgs': return (c) => {
      requireCpl0(c);
      const lo = c.msrLo.get(MSR_KERNEL_GS_BASE)!, hi = c.msrHi.get(MSR_KERNEL_GS_BASE)!;
      c.msrLo.set(MSR_KERNEL_GS_BASE, c.segBaseLo[GS]); c.msrHi.set(MSR_KERNEL_GS_BASE, c.segBaseHi[GS]);
      c.segBaseLo[GS] = lo; c.segBaseHi[GS] = hi;
    };
    case 'syscall': return syscall;
    case 'sysret': return sysret;
    case 'sysenter': return sysenter;
    case 'sysexit': return sysexit;
    case 'lar': return (c, d) => larLsl(c, d, false);
    case 'lsl': return (c, d) => larLsl(c, d, true);
    case 'verr': return (c, d) => verrVerw(c, d, false);
    case 'verw': return (c, d) => verrVerw(c, d, true);
    case 'arpl': return arpl;
    case 'bound': return bound;
    default: return undefined;
  }
}
