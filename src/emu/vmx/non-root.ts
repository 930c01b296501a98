/**
 * VMX non-root operation (SDM Vol. 3C chapter 25): what makes the guest exit, and what
 * changes for the instructions that do not.
 *
 * - Instructions (§25.1): the non-root dispatch array is the root one with a wrapper in the
 *   slot of every form exit-conditions.ts lists (the one table of "instruction X exits when
 *   control Y"); a wrapper raises the exceptions that have priority over the exit (§25.1.1:
 *   #UD, privilege-level faults, I/O-permission faults), tests the controls decoded at entry
 *   and either performs the VM exit (vm-exit.ts) or runs the root handler, adjusted where
 *   §25.3 says (CR0/CR4 guest/host masks and read shadows, TSC offsetting). Forms that can
 *   never exit keep the root handler, so guest code runs as fast as host code.
 *   Sensitive-but-unprivileged instructions (SGDT, SIDT, SLDT, STR, SMSW, PUSHF, POPF...)
 *   exit only under "descriptor-table exiting" (SGDT...STR) or never (SMSW reads the shadow).
 * - Events (§25.2): every exception and software exception goes through `eventFilter`
 *   (the exception bitmap with the #PF error-code mask/match), NMIs through NMI exiting;
 *   triple faults exit with reason 2.
 * - Between instructions (`service`): MTF (§25.5.2), the VMX-preemption timer (§25.5.1),
 *   NMI exiting, external-interrupt exiting (RFLAGS.IF does not block it, §25.2) with
 *   acknowledge-on-exit, NMI-window and interrupt-window exiting (§25.2, 25.5.x).
 */

import type { Cpu } from '../cpu/cpu';
import { DEBUG_EVENT_BITS, debugTrapDue } from '../cpu/debug';
import type { DecodedInsn } from '../cpu/decoder';
import { PFX_REP } from '../cpu/decoder';
import { EVENT_EXCEPTION, EVENT_EXTINT, EVENT_NMI, INT_PRIV_SOFTWARE, INT_SOFTWARE } from '../cpu/exceptions';
import { CpuFault, GP, UD, hasErrorCode } from '../cpu/fault';
import { IF } from '../cpu/flags';
import type { Handler } from '../cpu/handlers/index';
import { checkIoPermission } from '../cpu/handlers/io';
import { requireCpl0 } from '../cpu/handlers/misc';
import { writeCr0, writeCr4 } from '../cpu/handlers/system';
import { OPCODES, type OpcodeForm } from '../cpu/isa/opcodes';
import { CR0_TS, CR4_DE, CR4_PCE, CR4_TSD, MODE_COMPAT, MODE_REAL, MODE_V8086 } from '../cpu/state';
import {
  CPU_CR3_LOAD, CPU_CR3_STORE, CPU_CR8_LOAD, CPU_CR8_STORE, CPU_HLT, CPU_INTR_WINDOW, CPU_INVLPG, CPU_IO_BITMAPS, CPU_MONITOR,
  CPU_MOV_DR, CPU_MSR_BITMAPS, CPU_MTF, CPU_MWAIT, CPU_NMI_WINDOW, CPU_PAUSE, CPU_RDPMC, CPU_RDTSC, CPU_TSC_OFFSETTING,
  CPU_UNCOND_IO, EXIT_ACK_INTR, PIN_EXT_INTR, PIN_NMI_EXITING, PIN_VIRTUAL_NMIS, SEC_DESC, SEC_INVPCID, SEC_RDTSCP,
  SEC_VMFUNC, SEC_WBINVD,
} from './control-bits';
import { eptpProblem } from './ept';
import { EXIT_CONDITIONS } from './exit-conditions';
import { EXIT_REASON } from './exit-reasons';
import {
  descriptorTableInfo, displacementHi, invalidationInfo, memoryOperandInfo, stringIoInfo, systemSegmentInfo, vmreadWriteInfo,
} from './insn-info';
import { OFF } from './vmcs';
import { beginExit, vmExit } from './vm-exit';
import { switchEptContext } from './translation-context';
import { signalExit } from './signals';
import type { Vmx } from './vmx';

const R = EXIT_REASON;
const TWO32 = 4294967296;
const VALID = 0x80000000 | 0;
const CR0_LMSW_BITS = 0xf; // PE MP EM TS
/**
 * An upper bound of the TSC ticks one instruction adds (the machine's clock: 20 at 2 GHz and
 * 100 M instructions/s); only how often the preemption timer is looked at depends on it.
 */
const TSC_PER_INSTRUCTION_MAX = 64;

/** Mnemonics the exit-condition table lists: only their forms get wrappers. */
const EXITING = new Set(EXIT_CONDITIONS.map((c) => c.mnemonic));

/** Performs an instruction VM exit: reason, qualification, length and instruction information (SDM §27.2.1, §27.2.5). */
export function instructionExit(v: Vmx, d: DecodedInsn, reason: number, qualLo = 0, qualHi = 0, info = 0): void {
  beginExit(v);
  v.exitQualLo = qualLo;
  v.exitQualHi = qualHi;
  v.exitInstrLen = d.length;
  v.exitInstrInfo = info;
  vmExit(v, reason);
}

/** #UD for VMX instructions outside protected/64-bit mode (SDM ch. 30: CR0.PE = 0, RFLAGS.VM = 1, compatibility mode). */
export function vmxModeCheck(c: Cpu): void {
  if (c.mode === MODE_REAL || c.mode === MODE_V8086 || c.mode === MODE_COMPAT) throw new CpuFault(UD, -1, 'VMX instructions are #UD in real, virtual-8086 and compatibility mode');
}

function addTscOffset(v: Vmx, c: Cpu): void {
  if ((v.proc & CPU_TSC_OFFSETTING) === 0) return;
  const r = c.regs;
  const lo = (r[0] >>> 0) + (v.tscOffsetLo >>> 0);
  r[0] = lo | 0;
  r[4] = (r[4] + v.tscOffsetHi + (lo > 0xffffffff ? 1 : 0)) | 0;
}

function tsdCheck(c: Cpu): void {
  if ((c.cr4 & CR4_TSD) !== 0 && c.cpl !== 0) throw new CpuFault(GP, 0, 'RDTSC with CR4.TSD=1 at CPL > 0');
}

/** I/O bitmaps (SDM §25.1.3): any port of the access with its bit set, or wrapping past FFFFH, exits. */
function ioExits(v: Vmx, port: number, size: number): boolean {
  if ((v.proc & CPU_IO_BITMAPS) === 0) return (v.proc & CPU_UNCOND_IO) !== 0;
  const m = v.vmcs;
  for (let p = port; p < port + size; p++) {
    if (p > 0xffff) return true;
    const addr = (p < 0x8000 ? v.ioBitmapA : v.ioBitmapB) + ((p & 0x7fff) >>> 3);
    if (((m.read8(addr) >>> (p & 7)) & 1) !== 0) return true;
  }
  return false;
}

/** MSR bitmaps (SDM §24.6.9, §25.1.3): read bitmaps at 0/1024, write bitmaps at 2048/3072; other MSRs always exit. */
function msrExits(v: Vmx, index: number, write: boolean): boolean {
  if ((v.proc & CPU_MSR_BITMAPS) === 0) return true;
  let off: number;
  if (index <= 0x1fff) off = 0;
  else if (index >= 0xc0000000 && index <= 0xc0001fff) off = 1024;
  else return true;
  const bit = index & 0x1fff;
  const addr = v.msrBitmap + off + (write ? 2048 : 0) + (bit >>> 3);
  return ((v.vmcs.read8(addr) >>> (bit & 7)) & 1) !== 0;
}

/** The guest's view of CR0/CR4: host-owned bits (mask = 1) read from the shadow (SDM §25.3). */
function shadowed(value: number, mask: number, shadow: number): number {
  return (value & ~mask) | (shadow & mask);
}

function ioWrapper(v: Vmx, f: OpcodeForm, root: Handler): Handler {
  const string = f.mnem !== 'in' && f.mnem !== 'out';
  const isIn = f.mnem === 'in' || f.mnem === 'insb' || f.mnem === 'ins';
  const imm = f.ops.includes('Ib');
  const byte = f.ops.includes('AL') || f.mnem === 'insb' || f.mnem === 'outsb';
  return (c, d) => {
    const port = imm ? d.imm & 0xff : c.regs[4] & 0xffff;
    const size = byte ? 1 : d.opSize === 2 ? 2 : 4;
    checkIoPermission(c, port, size); // TSS I/O-permission faults come before the exit (SDM §25.1.1)
    if (!ioExits(v, port, size)) { root(c, d); return; }
    const rep = string && (d.prefixes & PFX_REP) !== 0;
    const q = (size - 1) | (isIn ? 8 : 0) | (string ? 16 : 0) | (rep ? 32 : 0) | (imm ? 64 : 0) | (port << 16);
    beginExit(v);
    v.exitQualLo = q;
    v.exitInstrLen = d.length;
    if (string) {
      // Guest-linear address of the memory operand (SDM §27.2.1): ES:rDI for INS, seg:rSI for OUTS.
      const reg = isIn ? 7 : 6;
      const seg = isIn ? 0 : d.seg >= 0 ? d.seg : 3;
      const r = c.regs;
      const off = d.addrSize === 8 ? r[2 * reg + 1] * TWO32 + (r[2 * reg] >>> 0) : d.addrSize === 4 ? r[2 * reg] >>> 0 : r[2 * reg] & 0xffff;
      v.exitGuestLinear = c.long64 && seg < 4 ? off : off + c.segBase(seg);
      v.exitInstrInfo = stringIoInfo(d, !isIn);
    }
    vmExit(v, R.IO_INSTRUCTION);
  };
}

function movCrWrapper(v: Vmx, toCr: boolean, root: Handler): Handler {
  return (c, d) => {
    requireCpl0(c);
    const cr = d.reg;
    const gpr = d.rm & 15;
    if (cr === 8 && !c.long64) throw new CpuFault(UD, -1, 'CR8 exists only in 64-bit mode');
    const r = c.regs;
    if (toCr) {
      const lo = r[2 * gpr], hi = c.long64 ? r[2 * gpr + 1] : 0;
      let exit = false;
      switch (cr) {
        case 0: exit = ((lo ^ v.cr0Shadow) & v.cr0Mask) !== 0; break;
        case 4: exit = ((lo ^ v.cr4Shadow) & v.cr4Mask) !== 0; break;
        case 3:
          if ((v.proc & CPU_CR3_LOAD) !== 0) {
            const val = hi * TWO32 + (lo >>> 0);
            exit = true;
            for (let i = 0; i < v.cr3TargetCount; i++) if (v.cr3Targets[i] === val) exit = false;
          }
          break;
        case 8: exit = (v.proc & CPU_CR8_LOAD) !== 0; break;
        default: break;
      }
      if (exit) { instructionExit(v, d, R.CR_ACCESS, cr | (gpr << 8)); return; }
      // Bits the host owns keep their value (SDM §25.3 "MOV to CR0/CR4").
      if (cr === 0) writeCr0(c, (c.cr0 & v.cr0Mask) | (lo & ~v.cr0Mask), hi);
      else if (cr === 4) writeCr4(c, (c.cr4 & v.cr4Mask) | (lo & ~v.cr4Mask), hi);
      else root(c, d);
      if (cr === 2) v.guestCr2 = c.cr2;
      return;
    }
    switch (cr) {
      case 3: if ((v.proc & CPU_CR3_STORE) !== 0) { instructionExit(v, d, R.CR_ACCESS, 3 | 0x10 | (gpr << 8)); return; } break;
      case 8: if ((v.proc & CPU_CR8_STORE) !== 0) { instructionExit(v, d, R.CR_ACCESS, 8 | 0x10 | (gpr << 8)); return; } break;
      case 0: c.setReg(gpr, c.long64 ? 8 : 4, 0, shadowed(c.cr0, v.cr0Mask, v.cr0Shadow), 0); return;
      case 4: c.setReg(gpr, c.long64 ? 8 : 4, 0, shadowed(c.cr4, v.cr4Mask, v.cr4Shadow), 0); return;
      default: break;
    }
    root(c, d);
  };
}

function movDrWrapper(v: Vmx, toDr: boolean, root: Handler): Handler {
  return (c, d) => {
    requireCpl0(c);
    const n = d.reg;
    if (n > 7 || ((n === 4 || n === 5) && (c.cr4 & CR4_DE) !== 0)) throw new CpuFault(UD, -1, `DR${n} is not accessible`);
    if ((v.proc & CPU_MOV_DR) !== 0) { instructionExit(v, d, R.DR_ACCESS, (n & 7) | (toDr ? 0 : 0x10) | ((d.rm & 15) << 8)); return; }
    root(c, d);
  };
}

/** A wrapper for form `f`, or undefined when the root handler serves non-root operation unchanged. */
function wrap(v: Vmx, f: OpcodeForm, root: Handler): Handler | undefined {
  const ops = f.ops.join(',');
  switch (f.mnem) {
    case 'cpuid': return (_c, d) => instructionExit(v, d, R.CPUID);
    case 'invd': return (c, d) => { requireCpl0(c); instructionExit(v, d, R.INVD); };
    case 'getsec': return (c, d) => { if ((c.cr4 & 0x4000) === 0) root(c, d); else instructionExit(v, d, R.GETSEC); };
    case 'xsetbv': return (c, d) => { if ((c.cr4 & 0x40000) === 0) root(c, d); else instructionExit(v, d, R.XSETBV); };
    case 'vmcall': return (_c, d) => instructionExit(v, d, R.VMCALL);
    case 'vmlaunch': case 'vmresume': case 'vmxoff': {
      const reason = f.mnem === 'vmlaunch' ? R.VMLAUNCH : f.mnem === 'vmresume' ? R.VMRESUME : R.VMOFF;
      return (c, d) => { vmxModeCheck(c); instructionExit(v, d, reason); };
    }
    case 'vmclear': case 'vmptrld': case 'vmptrst': case 'vmxon': {
      const reason = { vmclear: R.VMCLEAR, vmptrld: R.VMPTRLD, vmptrst: R.VMPTRST, vmxon: R.VMON }[f.mnem];
      return (c, d) => { vmxModeCheck(c); instructionExit(v, d, reason, d.disp, displacementHi(d), memoryOperandInfo(d)); };
    }
    case 'vmread': case 'vmwrite': {
      const reason = f.mnem === 'vmread' ? R.VMREAD : R.VMWRITE;
      return (c, d) => { vmxModeCheck(c); instructionExit(v, d, reason, d.mod === 3 ? 0 : d.disp, displacementHi(d), vmreadWriteInfo(d)); };
    }
    case 'invept': case 'invvpid': {
      const reason = f.mnem === 'invept' ? R.INVEPT : R.INVVPID;
      return (c, d) => { vmxModeCheck(c); instructionExit(v, d, reason, d.disp, displacementHi(d), invalidationInfo(d)); };
    }
    case 'hlt': return (c, d) => { requireCpl0(c); if ((v.proc & CPU_HLT) !== 0) instructionExit(v, d, R.HLT); else root(c, d); };
    case 'invlpg': return (c, d) => {
      requireCpl0(c);
      if ((v.proc & CPU_INVLPG) === 0) { root(c, d); return; }
      c.ea(d, 1, false);
      instructionExit(v, d, R.INVLPG, c.linLo, c.linHi);
    };
    case 'invpcid': return (c, d) => {
      if ((v.proc2 & SEC_INVPCID) === 0) throw new CpuFault(UD, -1, 'INVPCID with "enable INVPCID" = 0');
      requireCpl0(c);
      if ((v.proc & CPU_INVLPG) !== 0) instructionExit(v, d, R.INVPCID, d.disp, displacementHi(d), invalidationInfo(d));
      else root(c, d);
    };
    case 'rdpmc': return (c, d) => {
      if (c.cpl !== 0 && (c.cr4 & CR4_PCE) === 0) throw new CpuFault(GP, 0, 'RDPMC at CPL > 0 with CR4.PCE=0');
      if ((v.proc & CPU_RDPMC) !== 0) instructionExit(v, d, R.RDPMC); else root(c, d);
    };
    case 'rdtsc': return (c, d) => {
      tsdCheck(c);
      if ((v.proc & CPU_RDTSC) !== 0) { instructionExit(v, d, R.RDTSC); return; }
      root(c, d);
      addTscOffset(v, c);
    };
    case 'rdtscp': return (c, d) => {
      if ((v.proc2 & SEC_RDTSCP) === 0) throw new CpuFault(UD, -1, 'RDTSCP with "enable RDTSCP" = 0');
      tsdCheck(c);
      if ((v.proc & CPU_RDTSC) !== 0) { instructionExit(v, d, R.RDTSCP); return; }
      root(c, d);
      addTscOffset(v, c);
    };
    case 'mwait': return (c, d) => { if ((v.proc & CPU_MWAIT) !== 0) instructionExit(v, d, R.MWAIT_INSTRUCTION); else root(c, d); };
    case 'monitor': return (c, d) => { if ((v.proc & CPU_MONITOR) !== 0) instructionExit(v, d, R.MONITOR_INSTRUCTION); else root(c, d); };
    case 'pause': return (c, d) => { if ((v.proc & CPU_PAUSE) !== 0) instructionExit(v, d, R.PAUSE_INSTRUCTION); else root(c, d); };
    case 'wbinvd': case 'wbnoinvd': return (c, d) => {
      requireCpl0(c);
      if ((v.proc2 & SEC_WBINVD) !== 0) instructionExit(v, d, R.WBINVD); else root(c, d);
    };
    case 'in': case 'out': case 'insb': case 'ins': case 'outsb': case 'outs': return ioWrapper(v, f, root);
    case 'rdmsr': case 'wrmsr': {
      const write = f.mnem === 'wrmsr';
      return (c, d) => {
        requireCpl0(c);
        const index = c.regs[2] >>> 0;
        if (msrExits(v, index, write)) { instructionExit(v, d, write ? R.MSR_WRITE : R.MSR_READ); return; }
        if (write) v.guestMsrWritten = true;
        root(c, d);
        if (!write && index === 0x10) addTscOffset(v, c); // RDMSR IA32_TIME_STAMP_COUNTER sees the offset too (SDM §25.3)
      };
    }
    case 'mov':
      if (ops === 'Cd,Ry') return movCrWrapper(v, true, root);
      if (ops === 'Ry,Cd') return movCrWrapper(v, false, root);
      if (ops === 'Dd,Ry') return movDrWrapper(v, true, root);
      if (ops === 'Ry,Dd') return movDrWrapper(v, false, root);
      return undefined;
    case 'clts': return (c, d) => {
      requireCpl0(c);
      if ((v.cr0Mask & CR0_TS) === 0) { root(c, d); return; }
      // TS is host-owned: exit if the shadow says TS = 1, otherwise CLTS leaves TS alone (SDM §25.1.3, §25.3).
      if ((v.cr0Shadow & CR0_TS) !== 0) instructionExit(v, d, R.CR_ACCESS, 2 << 4);
    };
    case 'lmsw': return (c, d) => {
      requireCpl0(c);
      const src = c.readE(d, 2) & 0xffff;
      const mask = v.cr0Mask & CR0_LMSW_BITS, shadow = v.cr0Shadow;
      const exit = (mask & 0xe & (src ^ shadow)) !== 0 || ((mask & 1) !== 0 && (shadow & 1) === 0 && (src & 1) !== 0);
      if (exit) {
        const q = 0 | (3 << 4) | (d.mod === 3 ? 0 : 0x40) | (src << 16);
        instructionExit(v, d, R.CR_ACCESS, q);
        return;
      }
      // LMSW sets PE (never clears it) and loads MP, EM, TS; host-owned bits keep their value.
      const cur = c.cr0;
      let low = (cur & ~0xe) | (src & 0xe) | (cur & 1) | (src & 1);
      low = (cur & mask) | (low & ~mask) & CR0_LMSW_BITS;
      writeCr0(c, (cur & ~CR0_LMSW_BITS) | low, 0);
    };
    case 'smsw': return (c, d) => {
      const val = shadowed(c.cr0, v.cr0Mask, v.cr0Shadow);
      if (d.mod === 3) c.setReg(d.rm, d.opSize, d.rex, val, 0); else c.writeE(d, 2, val, 0);
    };
    case 'lgdt': case 'lidt': case 'sgdt': case 'sidt': {
      const identity = { sgdt: 0, sidt: 1, lgdt: 2, lidt: 3 }[f.mnem];
      const load = identity >= 2;
      return (c, d) => {
        if (load) requireCpl0(c);
        if ((v.proc2 & SEC_DESC) !== 0) instructionExit(v, d, R.GDTR_IDTR, d.disp, displacementHi(d), descriptorTableInfo(d, identity));
        else root(c, d);
      };
    }
    case 'sldt': case 'str': case 'lldt': case 'ltr': {
      const identity = { sldt: 0, str: 1, lldt: 2, ltr: 3 }[f.mnem];
      const load = identity >= 2;
      return (c, d) => {
        if (!c.protectedMode) throw new CpuFault(UD, -1, `${f.mnem.toUpperCase()} outside protected mode`);
        if (load) requireCpl0(c);
        if ((v.proc2 & SEC_DESC) !== 0) instructionExit(v, d, R.LDTR_TR, d.mod === 3 ? 0 : d.disp, displacementHi(d), systemSegmentInfo(d, identity));
        else root(c, d);
      };
    }
    case 'vmfunc': return (c, d) => vmfunc(v, c, d);
    default: return undefined;
  }
}

/** VMFUNC in non-root operation (SDM ch. 30 VMFUNC, §25.5.6): EPTP switching, or a VM exit. */
function vmfunc(v: Vmx, c: Cpu, d: DecodedInsn): void {
  if ((v.proc2 & SEC_VMFUNC) === 0) throw new CpuFault(UD, -1, 'VMFUNC with "enable VM functions" = 0');
  const fn = c.regs[0] >>> 0;
  const m = v.vmcs;
  if (fn !== 0 || (m.r32(OFF.VM_FUNCTION_CONTROL) & 1) === 0) { instructionExit(v, d, R.VMFUNC); return; }
  const index = c.regs[2] >>> 0;
  if (index >= 512) { instructionExit(v, d, R.VMFUNC); return; }
  const list = m.rNum(OFF.EPTP_LIST_ADDRESS) + 8 * index;
  const lo = m.read32(list), hi = m.read32(list + 4);
  if (eptpProblem(lo, hi) !== '') { instructionExit(v, d, R.VMFUNC); return; }
  m.w64(OFF.EPT_POINTER, lo, hi);
  v.ept.load(lo, hi);
  switchEptContext(v, c); // the new EP4TA's combined mappings (SDM §28.3.1)
}

/** The non-root dispatch array: root handlers, with wrappers for every form that can exit or is virtualized. */
export function buildNonRootHandlers(v: Vmx, root: readonly Handler[]): Handler[] {
  const out = root.slice();
  for (const f of OPCODES) {
    if (!EXITING.has(f.mnem) && f.mnem !== 'smsw' && f.mnem !== 'pause') continue;
    const h = wrap(v, f, root[f.index]);
    if (h !== undefined) out[f.index] = h;
  }
  return out;
}

// ---- events (SDM §25.2) ----

/** The exception bitmap decides for vector `vector` (with the #PF error-code mask/match rule, SDM §25.2). */
function exceptionExits(v: Vmx, vector: number, errorCode: number): boolean {
  const bit = ((v.exceptionBitmap >>> vector) & 1) !== 0;
  if (vector !== 14) return bit;
  return ((errorCode & v.pfecMask) === v.pfecMatch) === bit;
}

/** deliverEvent's hook in non-root operation: true when the event caused a VM exit instead. */
export function makeEventFilter(v: Vmx): (kind: number, vector: number, errorCode: number, returnRip: number) => boolean {
  return (kind, vector, errorCode, returnRip) => {
    const c = v.cpu;
    let type: number;
    switch (kind) {
      case EVENT_EXCEPTION: type = 3; break;
      case EVENT_NMI:
        if ((v.pin & PIN_NMI_EXITING) === 0) { v.vectoringInfo = VALID | (2 << 8) | 2; v.vectoringError = 0; v.vectoringLen = 0; return false; }
        type = 2;
        break;
      case EVENT_EXTINT:
        if ((v.pin & PIN_EXT_INTR) === 0) { v.vectoringInfo = VALID | vector; v.vectoringError = 0; v.vectoringLen = 0; return false; }
        beginExit(v);
        if ((v.exitCtl & EXIT_ACK_INTR) !== 0) v.exitIntrInfo = VALID | vector;
        vmExit(v, R.EXTERNAL_INTERRUPT);
        return true;
      // INT3 and INTO are software exceptions (type 6), INT1 a privileged software exception
      // (type 5); INT n is a software interrupt and is never subject to the exception bitmap.
      case INT_SOFTWARE:
        if (vector !== 3 && vector !== 4) {
          v.vectoringInfo = VALID | (4 << 8) | vector;
          v.vectoringError = 0;
          v.vectoringLen = returnRip - c.rip;
          return false;
        }
        type = 6;
        break;
      case INT_PRIV_SOFTWARE: type = 5; break;
      default: return false;
    }
    let info = VALID | (type << 8) | vector;
    const withCode = type === 3 && hasErrorCode(vector) && errorCode >= 0;
    if (withCode) info |= 0x800;
    if (type !== 2 && !exceptionExits(v, vector, errorCode)) {
      // Delivered to the guest: remember it until deliverEvent says it is done (IDT-vectoring information).
      v.vectoringInfo = info;
      v.vectoringError = withCode ? errorCode : 0;
      v.vectoringLen = type >= 4 ? returnRip - c.rip : 0;
      if (type === 3 && vector === 14) v.guestCr2 = c.cr2;
      return false;
    }
    beginExit(v);
    if (withCode) v.exitIntrError = errorCode;
    v.exitIntrInfo = info;
    // #DB (or INT1): the qualification holds what DR6 would have reported, and DR6, DR7.GD
    // and IA32_DEBUGCTL stay as they are (SDM §27.1, §27.2.1 Table 27-1; debug.ts).
    if (vector === 1) v.exitQualLo = c.debug.event & DEBUG_EVENT_BITS;
    if (type === 3 && vector === 14) {
      // #PF: the qualification is the linear address (SDM §27.2.1) and CR2 keeps the guest's value (§27.1).
      v.exitQualLo = c.cr2 | 0;
      v.exitQualHi = Math.floor(c.cr2 / TWO32) | 0;
      c.cr2 = v.guestCr2;
    }
    if (type >= 4) v.exitInstrLen = returnRip - c.rip;
    vmExit(v, R.EXCEPTION_NMI);
    return true;
  };
}

/** Triple fault in non-root operation: VM exit with reason 2 (SDM §25.2). */
export function tripleFaultExit(v: Vmx): void {
  beginExit(v);
  vmExit(v, R.TRIPLE_FAULT);
}

/** The checks between guest instructions; true when one caused a VM exit (SDM §25.2, §25.5). */
export function makeService(v: Vmx): () => boolean {
  return () => {
    const c = v.cpu;
    // INIT (above MTF and the rest in priority) and the wait-for-SIPI state, SDM §25.2, §26.6.2.
    if (c.waitForSipi || v.initLatched) return signalExit(v);
    if (v.mtfPending || ((v.proc & CPU_MTF) !== 0 && c.icount !== v.entryIcount)) { beginExit(v); vmExit(v, R.MONITOR_TRAP_FLAG); return true; }
    // A pending #DB trap comes after MTF and before everything below (SDM §25.5.2, §26.6.3,
    // Vol. 3A §6.9 Table 6-2): cpu.ts service delivers it, then asks again.
    if (debugTrapDue(c)) return false;
    let tsc = 0;
    if (v.timerDeadline !== Infinity && (tsc = v.tscNow()) >= v.timerDeadline) { beginExit(v); vmExit(v, R.PREEMPTION_TIMER); return true; }
    const intr = c.interrupts;
    const movSs = c.interruptShadow && c.movSsShadow;
    if (intr !== undefined) {
      // Blocking by NMI holds NMIs back, virtual-NMI blocking does not (SDM §25.2, §26.7.1).
      if ((v.pin & PIN_NMI_EXITING) !== 0 && intr.nmiPending && !movSs && !(c.nmiBlocked && (v.pin & PIN_VIRTUAL_NMIS) === 0)) {
        intr.acknowledgeNmi();
        beginExit(v);
        v.exitIntrInfo = VALID | (2 << 8) | 2;
        vmExit(v, R.EXCEPTION_NMI);
        return true;
      }
      if ((v.pin & PIN_EXT_INTR) !== 0 && intr.intrPending && !c.interruptShadow) {
        beginExit(v);
        if ((v.exitCtl & EXIT_ACK_INTR) !== 0) {
          const vector = intr.acknowledge();
          if (vector >= 0) v.exitIntrInfo = VALID | vector;
        }
        vmExit(v, R.EXTERNAL_INTERRUPT);
        return true;
      }
    }
    if ((v.proc & CPU_NMI_WINDOW) !== 0 && (v.pin & PIN_VIRTUAL_NMIS) !== 0 && !c.nmiBlocked && !movSs) {
      beginExit(v); vmExit(v, R.NMI_WINDOW); return true;
    }
    if ((v.proc & CPU_INTR_WINDOW) !== 0 && (c.flagsVal & IF) !== 0 && !c.interruptShadow) {
      beginExit(v); vmExit(v, R.INTERRUPT_WINDOW); return true;
    }
    if ((v.proc & CPU_MTF) !== 0) c.attention = true;
    else if (v.timerDeadline !== Infinity) {
      // Look again no later than when the timer can have expired: the TSC advances by at most
      // TSC_PER_INSTRUCTION_MAX per instruction, so this never looks too late, and looks
      // every instruction only in the last few (cpu.ts attentionAt).
      c.attentionAt = c.icount + 1 + Math.floor((v.timerDeadline - tsc) / TSC_PER_INSTRUCTION_MAX);
    }
    return false;
  };
}
