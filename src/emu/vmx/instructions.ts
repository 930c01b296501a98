/**
 * The VMX instructions in VMX root operation and outside VMX operation (SDM Vol. 3C chapter
 * 30): VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMLAUNCH, VMRESUME,
 * INVEPT, INVVPID, VMCALL, VMFUNC. In non-root operation their slots hold the VM-exit
 * wrappers of non-root.ts instead, which raise the #UD cases first as the pseudocode does.
 *
 * Outcomes (SDM §30.2): VMsucceed clears CF PF AF ZF SF OF; VMfailInvalid sets CF (no current
 * VMCS to hold an error number); VMfailValid(n) sets ZF and writes n to the VM-instruction
 * error field of the current VMCS. Exceptions: #UD outside VMX operation (VMXON: with
 * CR4.VMXE = 0) and in real, virtual-8086 and compatibility mode; #GP(0) at CPL > 0.
 * Pointers must be 4-KiB aligned and below 2^MAXPHYADDR (MAXPHYADDR = 40, mmu/access.ts).
 */

import type { Cpu } from '../cpu/cpu';
import type { DecodedInsn } from '../cpu/decoder';
import { CpuFault, GP, UD } from '../cpu/fault';
import { ARITH, CF, ZF, setArith } from '../cpu/flags';
import type { Handler, HandlerFactory } from '../cpu/handlers/common';
import type { OpcodeForm } from '../cpu/isa/opcodes';
import { CR4_VMXE, MODE_COMPAT, MODE_V8086 } from '../cpu/state';
import { MAXPHYADDR } from '../mmu/access';
import {
  EPT_CAP_INVEPT_ALL_CONTEXT, EPT_CAP_INVEPT_SINGLE_CONTEXT, MSR_IA32_VMX_EPT_VPID_CAP, VMCS_REVISION_ID, readVmxCapabilityMsr,
  VPID_CAP_INVVPID_ALL_CONTEXT, VPID_CAP_INVVPID_INDIVIDUAL_ADDR, VPID_CAP_INVVPID_SINGLE_CONTEXT,
  VPID_CAP_INVVPID_SINGLE_CONTEXT_RETAIN_GLOBALS,
} from './capabilities';
import { checkVmxonState } from './discovery';
import { eptpProblem } from './ept';
import { VMXERR } from './exit-reasons';
import { vmxModeCheck } from './non-root';
import { FIELD_16, FIELD_64, FIELD_CONTROL, FIELD_KIND, FIELD_READ_ONLY, OFF, fieldAccess } from './vmcs';
import { LAUNCH_STATE_CLEAR, LAUNCH_STATE_LAUNCHED, VMCS_LAUNCH_STATE_OFFSET } from './vmcs-fields';
import { vmEntry } from './vm-entry';
import { invalidateEpt, invalidateVpid } from './translation-context';
import { INVVPID_ALL_CONTEXT, INVVPID_INDIVIDUAL_ADDRESS, NO_EPT } from '../mmu/mmu';
import type { Vmx } from './vmx';

const TWO32 = 4294967296;
const EPT_VPID_CAP = readVmxCapabilityMsr(MSR_IA32_VMX_EPT_VPID_CAP)!;
/** INVEPT types 1 (single-context) and 2 (all-context) by capability bit (SDM A.10). */
const INVEPT_TYPES = [false, (EPT_VPID_CAP.lo & EPT_CAP_INVEPT_SINGLE_CONTEXT) !== 0, (EPT_VPID_CAP.lo & EPT_CAP_INVEPT_ALL_CONTEXT) !== 0];
/** INVVPID types 0-3 by capability bit (SDM A.10). */
const INVVPID_TYPES = [
  (EPT_VPID_CAP.hi & VPID_CAP_INVVPID_INDIVIDUAL_ADDR) !== 0, (EPT_VPID_CAP.hi & VPID_CAP_INVVPID_SINGLE_CONTEXT) !== 0,
  (EPT_VPID_CAP.hi & VPID_CAP_INVVPID_ALL_CONTEXT) !== 0, (EPT_VPID_CAP.hi & VPID_CAP_INVVPID_SINGLE_CONTEXT_RETAIN_GLOBALS) !== 0,
];
const FEATURE_CONTROL = 0x3a;

// ---- outcomes (SDM §30.2) ----

function succeed(c: Cpu): void {
  setArith(c, ARITH, 0);
}

function failInvalid(c: Cpu): void {
  setArith(c, ARITH, CF);
}

/** VMfail(n): VMfailValid when there is a current VMCS, else VMfailInvalid. */
function fail(c: Cpu, v: Vmx, error: number): void {
  if (!v.hasCurrentVmcs) { failInvalid(c); return; }
  setArith(c, ARITH, ZF);
  v.vmcs.w32(OFF.VM_INSTRUCTION_ERROR, error);
}

// ---- operands and checks ----

/** The VMX of this CPU in VMX root operation at CPL 0, or the exception the SDM raises first. */
function rootOperation(c: Cpu, what: string): Vmx {
  const v = c.vmx;
  if (v === undefined) throw new CpuFault(UD, -1, `${what}: this CPU has no VMX`);
  if (!v.inVmx) throw new CpuFault(UD, -1, `${what} outside VMX operation (execute VMXON first)`);
  vmxModeCheck(c);
  if (c.cpl !== 0) throw new CpuFault(GP, 0, `${what} at CPL ${c.cpl}`);
  return v;
}

/** The 64-bit memory operand (a physical address) as a number, or -1 when it is not 4-KiB aligned or beyond MAXPHYADDR. */
function physicalPointer(c: Cpu, d: DecodedInsn): number {
  c.ea(d, 8, false);
  const lo = c.rd64(c.linLo, c.linHi);
  const hi = c.vHi;
  if ((lo & 0xfff) !== 0 || (hi >>> (MAXPHYADDR - 32)) !== 0) return -1;
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

/** The register operand of INVEPT/INVVPID/VMREAD/VMWRITE: 64 bits in 64-bit mode, else 32. Low half; high half in `regHi`. */
let regHi = 0;
function regOperand(c: Cpu, n: number): number {
  regHi = c.long64 ? c.regs[2 * n + 1] : 0;
  return c.regs[2 * n];
}

// ---- the instructions ----

function vmxon(c: Cpu, d: DecodedInsn): void {
  const v = c.vmx;
  if (v === undefined || (c.cr4 & CR4_VMXE) === 0) throw new CpuFault(UD, -1, 'VMXON with CR4.VMXE = 0');
  vmxModeCheck(c);
  if (v.inVmx) {
    if (c.cpl !== 0) throw new CpuFault(GP, 0, `VMXON at CPL ${c.cpl}`);
    fail(c, v, VMXERR.VMXON_IN_VMX_ROOT_OPERATION);
    return;
  }
  if (c.cpl !== 0) throw new CpuFault(GP, 0, `VMXON at CPL ${c.cpl}`);
  checkVmxonState(c, c.msrLo.get(FEATURE_CONTROL) ?? 0);
  const ptr = physicalPointer(c, d);
  if (ptr < 0) { failInvalid(c); return; }
  const rev = v.vmcs.read32(ptr);
  if (rev !== VMCS_REVISION_ID) { failInvalid(c); return; } // bits 30:0 the revision, bit 31 must be 0
  v.inVmx = true;
  v.vmxonPtr = ptr;
  v.vmcs.base = -1;
  v.vmcsChanged(); // the entry checks, the controls and the transition caches start over
  succeed(c);
}

function vmxoff(c: Cpu): void {
  const v = rootOperation(c, 'VMXOFF');
  v.inVmx = false;
  v.vmxonPtr = -1;
  v.vmcs.base = -1;
  v.vmcsChanged(); // the entry checks, the controls and the transition caches start over
  succeed(c);
  if (v.initLatched) c.stop(); // the INIT blocked in VMX operation is taken now (signals.ts, machine/processor.ts)
}

function vmclear(c: Cpu, d: DecodedInsn): void {
  const v = rootOperation(c, 'VMCLEAR');
  const ptr = physicalPointer(c, d);
  if (ptr < 0) { fail(c, v, VMXERR.VMCLEAR_INVALID_ADDRESS); return; }
  if (ptr === v.vmxonPtr) { fail(c, v, VMXERR.VMCLEAR_VMXON_POINTER); return; }
  // Our VMCS data is always in memory; clearing sets the launch state (SDM §24.1, §24.11.3).
  if (ptr === v.vmcs.base) {
    // The VMM is done with this VMCS here (it may launch it on another processor): the root
    // cycles of its last exit end now, not at this processor's next VM entry (inspect.ts).
    if (v.lastExitReason >= 0 && v.lastExitReason < v.rootCycles.length) v.rootCycles[v.lastExitReason] += v.tscNow() - v.lastExitTsc;
    v.lastExitReason = -1;
    v.vmcs.w32(VMCS_LAUNCH_STATE_OFFSET, LAUNCH_STATE_CLEAR);
    v.vmcs.base = -1; // no current VMCS; a region kept in the processor is written back (vmcs.ts)
  } else {
    v.vmcs.write32(ptr + VMCS_LAUNCH_STATE_OFFSET, LAUNCH_STATE_CLEAR);
  }
  v.vmcsChanged(); // the entry checks, the controls and the transition caches start over
  succeed(c);
}

function vmptrld(c: Cpu, d: DecodedInsn): void {
  const v = rootOperation(c, 'VMPTRLD');
  const ptr = physicalPointer(c, d);
  if (ptr < 0) { fail(c, v, VMXERR.VMPTRLD_INVALID_ADDRESS); return; }
  if (ptr === v.vmxonPtr) { fail(c, v, VMXERR.VMPTRLD_VMXON_POINTER); return; }
  // Bit 31 (shadow VMCS) must be 0: VMCS shadowing is not supported (SDM §30.3 VMPTRLD).
  if (v.vmcs.read32(ptr) !== VMCS_REVISION_ID) { fail(c, v, VMXERR.VMPTRLD_INCORRECT_VMCS_REVISION_ID); return; }
  v.vmcs.base = ptr;
  v.vmcsChanged(); // the entry checks, the controls and the transition caches start over
  succeed(c);
}

function vmptrst(c: Cpu, d: DecodedInsn): void {
  const v = rootOperation(c, 'VMPTRST');
  c.ea(d, 8, true);
  const p = v.vmcs.base;
  if (p < 0) c.wr64(c.linLo, c.linHi, -1, -1);
  else c.wr64(c.linLo, c.linHi, p | 0, Math.floor(p / TWO32));
  succeed(c);
}

function vmread(c: Cpu, d: DecodedInsn): void {
  const v = rootOperation(c, 'VMREAD');
  if (!v.hasCurrentVmcs) { failInvalid(c); return; }
  const a = fieldAccess(regOperand(c, d.reg), regHi);
  if (a === 0) { fail(c, v, VMXERR.UNSUPPORTED_VMCS_COMPONENT); return; }
  const m = v.vmcs;
  const o = a & 0xfff, kind = a & FIELD_KIND;
  const lo = kind === FIELD_16 ? m.r16(o) : m.r32(o);
  const hi = kind === FIELD_64 ? m.r32(o + 4) : 0;
  const size = c.long64 ? 8 : 4;
  if (d.mod === 3) c.setReg(d.rm, size, 0, lo, hi);
  else c.writeE(d, size, lo, hi);
  succeed(c);
}

function vmwrite(c: Cpu, d: DecodedInsn): void {
  const v = rootOperation(c, 'VMWRITE');
  if (!v.hasCurrentVmcs) { failInvalid(c); return; }
  const size = c.long64 ? 8 : 4;
  const lo = c.readE(d, size);
  const hi = size === 8 ? c.vHi : 0;
  const enc = regOperand(c, d.reg);
  const a = fieldAccess(enc, regHi);
  if (a === 0) { fail(c, v, VMXERR.UNSUPPORTED_VMCS_COMPONENT); return; }
  // IA32_VMX_MISC[29] = 0: the VM-exit information fields are read-only (SDM §30.3 VMWRITE).
  if ((a & FIELD_READ_ONLY) !== 0) { fail(c, v, VMXERR.VMWRITE_READ_ONLY_VMCS_COMPONENT); return; }
  const m = v.vmcs;
  const o = a & 0xfff, kind = a & FIELD_KIND;
  if (kind === FIELD_16) m.w16(o, lo & 0xffff);
  else if (kind === FIELD_64) m.w64(o, lo, hi);
  else m.w32(o, lo); // 32-bit fields and the high dword of 64-bit ones
  v.checker.invalidate(enc);
  v.stateCache.invalidate(enc);
  if ((a & FIELD_CONTROL) !== 0) v.controlsDirty = true;
  succeed(c);
}

function launchOrResume(c: Cpu, launch: boolean): void {
  const v = rootOperation(c, launch ? 'VMLAUNCH' : 'VMRESUME');
  if (!v.hasCurrentVmcs) { failInvalid(c); return; }
  if ((c.interruptShadow || c.shadowIcount === c.icount) && c.movSsShadow) { fail(c, v, VMXERR.ENTRY_EVENTS_BLOCKED_BY_MOV_SS); return; }
  const state = v.vmcs.r32(VMCS_LAUNCH_STATE_OFFSET);
  if (launch && state !== LAUNCH_STATE_CLEAR) { fail(c, v, VMXERR.VMLAUNCH_NONCLEAR_VMCS); return; }
  if (!launch && state !== LAUNCH_STATE_LAUNCHED) { fail(c, v, VMXERR.VMRESUME_NONLAUNCHED_VMCS); return; }
  const error = vmEntry(v, launch);
  if (error !== 0) fail(c, v, error);
}

/** Reads the 128-bit INVEPT/INVVPID descriptor's two quadwords into desc[0..3]. */
const desc = new Int32Array(4);
function readDescriptor128(c: Cpu, d: DecodedInsn): void {
  c.ea(d, 16, false);
  const lo = c.linLo, hi = c.linHi;
  desc[0] = c.rd64(lo, hi); desc[1] = c.vHi;
  desc[2] = c.rd64((lo + 8) | 0, (lo >>> 0) + 8 > 0xffffffff && c.long64 ? (hi + 1) | 0 : hi); desc[3] = c.vHi;
}

function invept(c: Cpu, d: DecodedInsn): void {
  const v = rootOperation(c, 'INVEPT');
  const type = regOperand(c, d.reg) >>> 0;
  if (regHi !== 0 || type > 2 || !INVEPT_TYPES[type]) { fail(c, v, VMXERR.INVALID_OPERAND_TO_INVEPT_INVVPID); return; }
  readDescriptor128(c, d);
  if (type === 1 && eptpProblem(desc[0], desc[1]) !== '') { fail(c, v, VMXERR.INVALID_OPERAND_TO_INVEPT_INVVPID); return; }
  // Single-context: the EP4TA (bits 51:12 of the EPTP) the entries were tagged with; all-context: every one.
  invalidateEpt(c, type === 1 ? (desc[1] >>> 0) * TWO32 + ((desc[0] & ~0xfff) >>> 0) : NO_EPT);
  succeed(c);
}

function invvpid(c: Cpu, d: DecodedInsn): void {
  const v = rootOperation(c, 'INVVPID');
  const type = regOperand(c, d.reg) >>> 0;
  if (regHi !== 0 || type > 3 || !INVVPID_TYPES[type]) { fail(c, v, VMXERR.INVALID_OPERAND_TO_INVEPT_INVVPID); return; }
  readDescriptor128(c, d);
  const vpid = desc[0] & 0xffff;
  // Bits 63:16 of the descriptor are reserved (SDM §30.3 INVVPID).
  if ((desc[0] >>> 16) !== 0 || desc[1] !== 0) { fail(c, v, VMXERR.INVALID_OPERAND_TO_INVEPT_INVVPID); return; }
  if (type !== INVVPID_ALL_CONTEXT && vpid === 0) { fail(c, v, VMXERR.INVALID_OPERAND_TO_INVEPT_INVVPID); return; }
  let linear = 0;
  if (type === INVVPID_INDIVIDUAL_ADDRESS) {
    const hi = desc[3];
    if (((hi << 16) >> 16) !== hi) { fail(c, v, VMXERR.INVALID_OPERAND_TO_INVEPT_INVVPID); return; } // not canonical
    linear = hi * TWO32 + (desc[2] >>> 0);
  }
  invalidateVpid(c, type, vpid, linear);
  succeed(c);
}

function vmcall(c: Cpu): void {
  const v = c.vmx;
  if (v === undefined || !v.inVmx) throw new CpuFault(UD, -1, 'VMCALL outside VMX operation');
  if (c.mode === MODE_V8086 || c.mode === MODE_COMPAT) throw new CpuFault(UD, -1, 'VMCALL in virtual-8086 or compatibility mode');
  if (c.cpl !== 0) throw new CpuFault(GP, 0, `VMCALL at CPL ${c.cpl}`);
  // No dual-monitor treatment of SMM: VMCALL in root operation fails (SDM §30.3 VMCALL).
  fail(c, v, VMXERR.VMCALL_IN_VMX_ROOT_OPERATION);
}

function vmfuncRoot(): void {
  throw new CpuFault(UD, -1, 'VMFUNC outside VMX non-root operation');
}

/** The handler family for the VMX instructions (registered in cpu/handlers/index.ts). */
export const vmxHandler: HandlerFactory = (f: OpcodeForm): Handler | undefined => {
  switch (f.mnem) {
    case 'vmxon': return vmxon;
    case 'vmxoff': return vmxoff;
    case 'vmclear': return vmclear;
    case 'vmptrld': return vmptrld;
    case 'vmptrst': return vmptrst;
    case 'vmread': return vmread;
    case 'vmwrite': return vmwrite;
    case 'vmlaunch': return (c) => launchOrResume(c, true);
    case 'vmresume': return (c) => launchOrResume(c, false);
    case 'invept': return invept;
    case 'invvpid': return invvpid;
    case 'vmcall': return vmcall;
    case 'vmfunc': return vmfuncRoot;
    default: return undefined;
  }
};
