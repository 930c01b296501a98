// Model-specific registers (SDM Vol. 4 "Model-Specific Registers"; architectural MSRs in
// Vol. 4 Table 2-2). RDMSR/WRMSR of an MSR not listed here raises #GP(0), as on hardware.
// MSRs with architectural side effects (EFER, FS/GS bases, TSC) are mapped onto CPU state;
// the others are plain storage. MSRs whose state lives in a device (the local APIC's
// IA32_APIC_BASE, x2APIC registers and IA32_TSC_DEADLINE) are answered by `Cpu.msrDevice`,
// which RDMSR/WRMSR ask first (machine/device-msrs.ts implements it).
import type { Cpu } from './cpu';
import { CpuFault, GP } from './fault';
import { CR0_PG, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, FS, GS } from './state';

export const MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_FEATURE_CONTROL = 0x3a, MSR_BIOS_SIGN_ID = 0x8b;
export const MSR_MTRRCAP = 0xfe, MSR_MCG_CAP = 0x179, MSR_MCG_STATUS = 0x17a, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176;
export const MSR_DEBUGCTL = 0x1d9, MSR_MISC_ENABLE = 0x1a0, MSR_PAT = 0x277, MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083, MSR_FMASK = 0xc0000084;
export const MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103;

/**
 * IA32_DEBUGCTL bits this core accepts (SDM Vol. 3B §18.4.1): LBR (bit 0) and BTF (bit 1).
 * Both are held and read back, and VMX saves/loads them ("save/load debug controls"), but
 * neither has its effect: no last-branch records are kept (the LBR MSRs do not exist) and
 * RFLAGS.TF still traps after every instruction, not only after branches. Every other bit is
 * reserved (#GP on WRMSR, and a reserved bit in GUEST_IA32_DEBUGCTL fails VM entry).
 */
export const DEBUGCTL_LBR = 1, DEBUGCTL_BTF = 2;
export const DEBUGCTL_SUPPORTED = DEBUGCTL_LBR | DEBUGCTL_BTF;

/** MsrDevice results: not a device MSR (the CPU handles it), done, or #GP(0). */
export const MSR_UNHANDLED = 0, MSR_OK = 1, MSR_GP = 2;

/** MSRs owned by devices; consulted before the CPU's own. Allocation-free: values as int32 halves. */
export interface MsrDevice {
  /** RDMSR: on MSR_OK the value is in out[i] (low half) and out[i + 1]. */
  rdmsr(index: number, out: Int32Array, i: number): number;
  wrmsr(index: number, lo: number, hi: number): number;
}

/** Plain-storage MSRs and their reset values [lo, hi]. */
const STORED: ReadonlyMap<number, readonly [number, number]> = new Map<number, readonly [number, number]>([
  [MSR_APIC_BASE, [0xfee00900 | 0, 0]], // BSP, xAPIC globally enabled, base 0xFEE00000
  [MSR_FEATURE_CONTROL, [0, 0]],
  [MSR_BIOS_SIGN_ID, [0, 0]],
  [0x17, [0, 0]], // IA32_PLATFORM_ID
  [MSR_SYSENTER_CS, [0, 0]], [MSR_SYSENTER_ESP, [0, 0]], [MSR_SYSENTER_EIP, [0, 0]],
  [MSR_MISC_ENABLE, [1, 0]], // fast strings enabled
  [MSR_DEBUGCTL, [0, 0]],
  [MSR_PAT, [0x00070406, 0x00070406]],
  [MSR_MTRR_DEF_TYPE, [0, 0]],
  [MSR_STAR, [0, 0]], [MSR_LSTAR, [0, 0]], [MSR_CSTAR, [0, 0]], [MSR_FMASK, [0, 0]],
  [MSR_KERNEL_GS_BASE, [0, 0]], [MSR_TSC_AUX, [0, 0]],
  // MTRRs: 8 variable ranges (base/mask pairs) and the fixed-range registers (SDM Vol. 3 §12.11).
  ...Array.from({ length: 16 }, (_, i) => [0x200 + i, [0, 0]] as [number, [number, number]]),
  ...[0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f].map((i) => [i, [0, 0]] as [number, [number, number]]),
]);
/** MTRRCAP: 8 variable ranges, fixed ranges, write-combining (read-only). */
const MTRRCAP = 0x508;

/** RDMSR results from an MsrDevice (one per module: no allocation per RDMSR). */
const msrOut = new Int32Array(2);

/** Writes that must hold a canonical address (SDM Vol. 4: #GP for non-canonical values). */
const CANONICAL = new Set([MSR_LSTAR, MSR_CSTAR, MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP]);

export function resetMsrs(c: Cpu): void {
  c.msrLo.clear();
  c.msrHi.clear();
  for (const [i, [lo, hi]] of STORED) { c.msrLo.set(i, lo); c.msrHi.set(i, hi); }
}

/** RDMSR: the value into EDX:EAX; #GP(0) for unknown MSRs. */
export function readMsr(c: Cpu, index: number): void {
  let lo: number, hi: number;
  const dev = c.msrDevice;
  if (dev !== undefined) {
    const res = dev.rdmsr(index, msrOut, 0);
    if (res === MSR_GP) throw new CpuFault(GP, 0, `RDMSR of MSR 0x${index.toString(16)} (refused by its device)`);
    if (res === MSR_OK) {
      const r = c.regs;
      r[0] = msrOut[0]; r[1] = 0; r[4] = msrOut[1]; r[5] = 0;
      return;
    }
  }
  switch (index) {
    case MSR_TSC:
      if (c.tsc !== undefined) { lo = c.tsc.tscLow(); hi = c.tsc.tscHigh(); }
      else { lo = c.icount | 0; hi = Math.floor(c.icount / 4294967296) | 0; }
      break;
    case MSR_MTRRCAP: lo = MTRRCAP; hi = 0; break;
    // Machine-check architecture with no banks and no MCG_CTL (SDM Vol. 3B §15.3.1.1): CAP = 0;
    // nothing ever reports an error, so MCG_STATUS stays 0.
    case MSR_MCG_CAP: case MSR_MCG_STATUS: lo = 0; hi = 0; break;
    case MSR_EFER: lo = c.efer; hi = 0; break;
    case MSR_FS_BASE: lo = c.segBaseLo[FS]; hi = c.segBaseHi[FS]; break;
    case MSR_GS_BASE: lo = c.segBaseLo[GS]; hi = c.segBaseHi[GS]; break;
    default: {
      if (c.vmx !== undefined && c.vmx.readMsr(index)) return; // VMX capability MSRs (SDM Vol. 3D Appendix A)
      const v = c.msrLo.get(index);
      if (v === undefined) throw new CpuFault(GP, 0, `RDMSR of unknown MSR 0x${index.toString(16)}`);
      lo = v; hi = c.msrHi.get(index) ?? 0;
    }
  }
  const r = c.regs;
  r[0] = lo; r[1] = 0; r[4] = hi; r[5] = 0;
}

/** WRMSR of EDX:EAX; #GP(0) for unknown or read-only MSRs and reserved bits. */
export function writeMsr(c: Cpu, index: number, lo: number, hi: number): void {
  const dev = c.msrDevice;
  if (dev !== undefined) {
    const res = dev.wrmsr(index, lo, hi);
    if (res === MSR_GP) throw new CpuFault(GP, 0, `WRMSR of MSR 0x${index.toString(16)}: value 0x${(hi >>> 0).toString(16)}:${(lo >>> 0).toString(16).padStart(8, '0')} refused (reserved bits or an invalid state)`);
    if (res === MSR_OK) {
      c.attention = true; // e.g. an x2APIC ICR self-IPI or TPR write: an interrupt may be pending now
      return;
    }
  }
  if (CANONICAL.has(index) && ((hi << 16) >> 16) !== hi) throw new CpuFault(GP, 0, `non-canonical value for MSR 0x${index.toString(16)}`);
  switch (index) {
    case MSR_TSC:
      if (c.tsc?.setTsc === undefined) throw new CpuFault(GP, 0, 'the TSC cannot be written on this machine');
      c.tsc.setTsc(lo, hi);
      break;
    case MSR_MTRRCAP: throw new CpuFault(GP, 0, 'IA32_MTRRCAP is read-only');
    case MSR_MCG_CAP: throw new CpuFault(GP, 0, 'IA32_MCG_CAP is read-only');
    case MSR_MCG_STATUS:
      // Only 0 may be written (SDM Vol. 3B §15.3.1.2: writing 1s causes #GP); no error is ever signalled here.
      if (lo !== 0 || hi !== 0) throw new CpuFault(GP, 0, 'IA32_MCG_STATUS accepts only 0 (no machine-check event in progress)');
      break;
    case MSR_EFER: {
      const allowed = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
      if ((lo & ~allowed) !== 0 || hi !== 0) throw new CpuFault(GP, 0, 'reserved IA32_EFER bits');
      // LME cannot change while paging is on (SDM Vol. 3 §10.8.5); LMA is read-only (kept).
      if ((c.cr0 & CR0_PG) !== 0 && ((lo ^ c.efer) & EFER_LME) !== 0) throw new CpuFault(GP, 0, 'IA32_EFER.LME changed with paging enabled');
      c.efer = (lo & ~EFER_LMA) | (c.efer & EFER_LMA);
      c.pagingChanged();
      break;
    }
    case MSR_FS_BASE: c.segBaseLo[FS] = lo; c.segBaseHi[FS] = hi; break;
    case MSR_GS_BASE: c.segBaseLo[GS] = lo; c.segBaseHi[GS] = hi; break;
    case MSR_DEBUGCTL:
      if ((lo & ~DEBUGCTL_SUPPORTED) !== 0 || hi !== 0) {
        throw new CpuFault(GP, 0, `WRMSR IA32_DEBUGCTL=0x${(hi >>> 0).toString(16)}:${(lo >>> 0).toString(16).padStart(8, '0')} sets reserved bits (this core implements LBR and BTF only)`);
      }
      c.msrLo.set(index, lo); c.msrHi.set(index, 0);
      break;
    case MSR_FEATURE_CONTROL:
      if ((c.msrLo.get(index)! & 1) !== 0) throw new CpuFault(GP, 0, 'IA32_FEATURE_CONTROL is locked');
      c.msrLo.set(index, lo); c.msrHi.set(index, hi);
      break;
    default:
      if (c.vmx !== undefined) c.vmx.writeMsr(index); // the VMX capability MSRs are read-only: #GP
      if (!c.msrLo.has(index)) throw new CpuFault(GP, 0, `WRMSR of unknown MSR 0x${index.toString(16)}`);
      c.msrLo.set(index, lo); c.msrHi.set(index, hi);
  }
}
