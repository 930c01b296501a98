/**
 * How software discovers and is constrained by VMX (SDM Vol. 3C chapter 23): the capability
 * MSRs 480H-491H (values from capabilities.ts, read-only: WRMSR raises #GP), and the CR0/CR4
 * bits fixed while in VMX operation (SDM §23.8: IA32_VMX_CR0_FIXED0/1, IA32_VMX_CR4_FIXED0/1;
 * MOV to CR0/CR4 that would violate them raises #GP(0)). In VMX non-root operation the
 * "unrestricted guest" control lets the guest clear CR0.PE and CR0.PG (SDM §25.3).
 * CPUID.1:ECX.VMX and CR4.VMXE are switched on by attachVmx (vmx.ts) through the CPU's
 * `vmxAvailable`; IA32_FEATURE_CONTROL's lock semantics are the CPU's (msrs.ts), its bits are
 * read by VMXON (instructions.ts).
 */

import type { Cpu } from '../cpu/cpu';
import { CpuFault, GP } from '../cpu/fault';
import {
  MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1, readVmxCapabilityMsr,
} from './capabilities';
import { SEC_UNRESTRICTED_GUEST } from './control-bits';
import type { Vmx } from './vmx';

const CR0_FIXED0 = readVmxCapabilityMsr(MSR_IA32_VMX_CR0_FIXED0)!.lo | 0;
const CR0_FIXED1 = readVmxCapabilityMsr(MSR_IA32_VMX_CR0_FIXED1)!.lo | 0;
const CR4_FIXED0 = readVmxCapabilityMsr(MSR_IA32_VMX_CR4_FIXED0)!.lo | 0;
const CR4_FIXED1 = readVmxCapabilityMsr(MSR_IA32_VMX_CR4_FIXED1)!.lo | 0;
const CR0_PE = 1, CR0_PG = 0x80000000 | 0;

/** RDMSR of a VMX capability MSR into EDX:EAX; false when `index` is not one. */
export function readVmxMsr(c: Cpu, index: number): boolean {
  if (index < 0x480 || index > 0x491) return false;
  const v = readVmxCapabilityMsr(index);
  if (v === undefined) return false;
  const r = c.regs;
  r[0] = v.lo | 0; r[1] = 0; r[4] = v.hi | 0; r[5] = 0;
  return true;
}

/** WRMSR to a VMX capability MSR: they are read-only (SDM Appendix A), #GP(0). */
export function writeVmxMsr(index: number): void {
  if (readVmxCapabilityMsr(index) !== undefined) throw new CpuFault(GP, 0, `IA32_VMX capability MSR 0x${index.toString(16)} is read-only`);
}

function bitNames(mask: number, prefix: string): string {
  const out: string[] = [];
  for (let b = 0; b < 32; b++) if (((mask >>> b) & 1) !== 0) out.push(`${prefix} bit ${b}`);
  return out.join(', ');
}

/**
 * MOV to CR0 (cr = 0) or CR4 (cr = 4) of `value` in VMX operation: #GP(0) when a bit fixed
 * in VMX operation would get a value the FIXED0/FIXED1 MSRs do not allow (SDM §23.8). In
 * non-root operation with "unrestricted guest", CR0.PE and CR0.PG are free (SDM §25.3).
 */
export function checkFixedCrBits(v: Vmx, cr: number, value: number): void {
  if (!v.inVmx) return;
  let fixed0: number, fixed1: number;
  if (cr === 0) {
    fixed0 = CR0_FIXED0;
    fixed1 = CR0_FIXED1;
    if (v.nonRoot && (v.proc2 & SEC_UNRESTRICTED_GUEST) !== 0) fixed0 &= ~(CR0_PE | CR0_PG);
  } else {
    fixed0 = CR4_FIXED0;
    fixed1 = CR4_FIXED1;
  }
  const missing = fixed0 & ~value;
  const extra = value & ~fixed1;
  if (missing !== 0) throw new CpuFault(GP, 0, `in VMX operation CR${cr} must keep ${bitNames(missing, `CR${cr}`)} set (IA32_VMX_CR${cr}_FIXED0, SDM 23.8)`);
  if (extra !== 0) throw new CpuFault(GP, 0, `in VMX operation CR${cr} may not set ${bitNames(extra, `CR${cr}`)} (IA32_VMX_CR${cr}_FIXED1, SDM 23.8)`);
}

/**
 * VMXON's #GP(0) conditions outside VMX operation (SDM §30.3 VMXON): CR0/CR4 must already
 * satisfy the fixed bits, and IA32_FEATURE_CONTROL must be locked (bit 0) with VMX outside
 * SMX enabled (bit 2), as firmware leaves it (SDM §23.7).
 */
export function checkVmxonState(c: Cpu, featureControl: number): void {
  const cr0Missing = CR0_FIXED0 & ~c.cr0, cr0Extra = c.cr0 & ~CR0_FIXED1;
  if (cr0Missing !== 0 || cr0Extra !== 0) throw new CpuFault(GP, 0, `VMXON requires CR0 to satisfy IA32_VMX_CR0_FIXED0/1 (missing ${bitNames(cr0Missing, 'CR0') || 'nothing'}) (SDM 23.8)`);
  const cr4Missing = CR4_FIXED0 & ~c.cr4, cr4Extra = c.cr4 & ~CR4_FIXED1;
  if (cr4Missing !== 0 || cr4Extra !== 0) throw new CpuFault(GP, 0, 'VMXON requires CR4 to satisfy IA32_VMX_CR4_FIXED0/1 (SDM 23.8)');
  if ((featureControl & 1) === 0) throw new CpuFault(GP, 0, 'VMXON with IA32_FEATURE_CONTROL unlocked (bit 0 = 0; firmware normally locks it, SDM 23.7)');
  if ((featureControl & 4) === 0) throw new CpuFault(GP, 0, 'VMXON with IA32_FEATURE_CONTROL bit 2 (VMX outside SMX) = 0 (SDM 23.7)');
}
