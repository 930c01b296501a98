/**
 * What the VM-entry checks read: the VMCS (through `VmcsReader`), the processor they run on
 * (capability MSRs, MAXPHYADDR, linear-address width, supported MSR bits), the facts of the
 * moment (IA32_EFER.LMA, the current-VMCS pointer) and guest-physical memory; plus the
 * encodings of the fields they read, resolved once from the field table (vmcs-fields.ts), and
 * small helpers for 64-bit values held as two int32 halves (no BigInt: SDM values are checked
 * bit by bit).
 */

import {
  MSR_IA32_VMX_BASIC, MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_EXIT_CTLS,
  MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_MISC, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1, MSR_IA32_VMX_CR4_FIXED0,
  MSR_IA32_VMX_CR4_FIXED1, MSR_IA32_VMX_PROCBASED_CTLS2, MSR_IA32_VMX_EPT_VPID_CAP, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
  MSR_IA32_VMX_TRUE_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, MSR_IA32_VMX_VMFUNC,
  VMCS_REVISION_ID, readVmxCapabilityMsr, type MsrValue,
} from '../capabilities';
import { fieldByName } from '../vmcs-fields';
import { hex, hex64 } from '../bit-fields';
import { MAXPHYADDR, LINEAR_ADDRESS_BITS } from '../../mmu/access';
import { EFER_SCE, EFER_LME, EFER_LMA, EFER_NXE } from '../../cpu/state';
import { DEBUGCTL_SUPPORTED } from '../../cpu/msrs';
import { type EntryCheck, type EntryCheckFailure, fail } from './catalog';

/**
 * Read access to the current VMCS, by field encoding (SDM Appendix B; full-access encodings).
 * 16- and 32-bit fields come back whole in `lo` (and `hi` is 0); 64-bit and natural-width fields
 * as two halves. A field the core does not support must never be asked for (the checks only
 * read fields of controls our core supports).
 */
export interface VmcsReader {
  lo(encoding: number): number;
  hi(encoding: number): number;
}

/** Guest-physical memory as VM entry reads it (VMCS link pointer's region, PAE PDPTEs). */
export interface PhysicalMemoryReader {
  /** The little-endian dword at physical address `address` (an integer below 2^MAXPHYADDR). */
  readPhys32(address: number): number;
}

/** Allowed settings of a 32-bit control field: bits that must be 1, bits that may be 1. */
export interface ControlAllowed { readonly mustBe1: number; readonly mayBe1: number; readonly msr: string }

/** The processor the checks model (defaults: our core, `DEFAULT_ENTRY_PROCESSOR`). */
export interface EntryCheckProcessor {
  /** RDMSR of the VMX capability MSRs (SDM Appendix A). */
  readonly readCapability: (msr: number) => MsrValue | undefined;
  /** CPUID.80000008H:EAX[7:0]. */
  readonly maxPhysAddr: number;
  /** CPUID.80000008H:EAX[15:8]: addresses are canonical when bits 63:(N-1) are equal. */
  readonly linearAddressBits: number;
  /** IA32_EFER bits WRMSR accepts (reserved bits are the others, SDM 26.2.2 / 26.3.1.1). */
  readonly eferSupported: number;
  /** IA32_DEBUGCTL bits the core implements (reserved bits are the others, SDM 26.3.1.1). */
  readonly debugctlSupported: number;
  /** VMCS revision identifier (IA32_VMX_BASIC[30:0]), for the VMCS link pointer's region. */
  readonly vmcsRevisionId: number;
}

/**
 * Our core. IA32_EFER: SCE, LME, LMA, NXE (what msrs.ts accepts). IA32_DEBUGCTL: LBR and
 * BTF, the bits WRMSR accepts (msrs.ts DEBUGCTL_SUPPORTED); the others are reserved.
 */
export const DEFAULT_ENTRY_PROCESSOR: EntryCheckProcessor = {
  readCapability: readVmxCapabilityMsr,
  maxPhysAddr: MAXPHYADDR,
  linearAddressBits: LINEAR_ADDRESS_BITS,
  eferSupported: EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE,
  debugctlSupported: DEBUGCTL_SUPPORTED,
  vmcsRevisionId: VMCS_REVISION_ID,
};

/** The facts of the moment VMLAUNCH/VMRESUME executes. */
export interface EntryFacts {
  /** IA32_EFER.LMA of the logical processor (SDM 26.2.4). */
  readonly hostLma: boolean;
  /** Physical address of the current VMCS, as halves (SDM 26.3.1.5, VMCS link pointer). */
  readonly currentVmcsLo: number;
  readonly currentVmcsHi: number;
}

/** The capability MSRs, decoded once per processor. */
export interface Caps {
  readonly trueControls: boolean;
  readonly pin: ControlAllowed;
  readonly proc: ControlAllowed;
  readonly proc2: ControlAllowed;
  readonly exit: ControlAllowed;
  readonly entry: ControlAllowed;
  readonly misc: number;
  readonly cr0Fixed0: MsrValue;
  readonly cr0Fixed1: MsrValue;
  readonly cr4Fixed0: MsrValue;
  readonly cr4Fixed1: MsrValue;
  readonly eptVpidLo: number;
  readonly vmfunc: MsrValue;
}

const ZERO: MsrValue = { lo: 0, hi: 0 };

export function decodeCaps(p: EntryCheckProcessor): Caps {
  const rd = (msr: number): MsrValue => p.readCapability(msr) ?? ZERO;
  const basic = rd(MSR_IA32_VMX_BASIC);
  // IA32_VMX_BASIC[55]: the TRUE_ MSRs give the allowed settings of the four groups that have a
  // default1 class (SDM A.2, §26.2.1.1).
  const trueControls = (basic.hi & (1 << 23)) !== 0;
  const ctl = (plain: number, trueMsr: number, name: string): ControlAllowed => {
    const n = trueControls ? trueMsr : plain;
    const v = rd(n);
    return { mustBe1: v.lo >>> 0, mayBe1: v.hi >>> 0, msr: trueControls ? name.replace('IA32_VMX_', 'IA32_VMX_TRUE_') : name };
  };
  const p2 = rd(MSR_IA32_VMX_PROCBASED_CTLS2);
  return {
    trueControls,
    pin: ctl(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, 'IA32_VMX_PINBASED_CTLS'),
    proc: ctl(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 'IA32_VMX_PROCBASED_CTLS'),
    proc2: { mustBe1: p2.lo >>> 0, mayBe1: p2.hi >>> 0, msr: 'IA32_VMX_PROCBASED_CTLS2' },
    exit: ctl(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, 'IA32_VMX_EXIT_CTLS'),
    entry: ctl(MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, 'IA32_VMX_ENTRY_CTLS'),
    misc: rd(MSR_IA32_VMX_MISC).lo,
    cr0Fixed0: rd(MSR_IA32_VMX_CR0_FIXED0),
    cr0Fixed1: rd(MSR_IA32_VMX_CR0_FIXED1),
    cr4Fixed0: rd(MSR_IA32_VMX_CR4_FIXED0),
    cr4Fixed1: rd(MSR_IA32_VMX_CR4_FIXED1),
    eptVpidLo: rd(MSR_IA32_VMX_EPT_VPID_CAP).lo,
    vmfunc: rd(MSR_IA32_VMX_VMFUNC),
  };
}

/**
 * Values derived while checking, kept by the checker between entries: the memory-reading
 * checks (guest-memory.ts) run on every entry and use what the cached pure checks derived.
 */
export interface EntryState {
  pin: number;
  proc: number;
  /** Secondary controls as in force: 0 when "activate secondary controls" is 0 (SDM 26.2.1.1). */
  proc2: number;
  exit: number;
  entry: number;
  unrestricted: boolean;
  ept: boolean;
  ia32eGuest: boolean;
  guestCr0: number;
  guestCr4: number;
  /** GUEST_CS_AR_BYTES (its L bit decides the RIP check). */
  guestCsAr: number;
}

export function newEntryState(): EntryState {
  return { pin: 0, proc: 0, proc2: 0, exit: 0, entry: 0, unrestricted: false, ept: false, ia32eGuest: false, guestCr0: 0, guestCr4: 0, guestCsAr: 0 };
}

const READ_BY_CHECKS = new Set<number>();

/**
 * Full-access encoding of a field, by vmx.h name (resolved at module load from the one table).
 * Every field a check can read is resolved through here, so `READ_BY_CHECKS` is exactly the set
 * of fields whose change can change the outcome of the checks.
 */
export function enc(name: string): number {
  const f = fieldByName(name);
  if (f === undefined || f.high) throw new Error(`entry-checks: no VMCS field ${name}`);
  READ_BY_CHECKS.add(f.field.encoding);
  return f.field.encoding;
}

/** Whether some check reads the field (full or high encoding); filled as the check modules load. */
export function isReadByChecks(encoding: number): boolean {
  return READ_BY_CHECKS.has(encoding & ~1);
}

/** Segment registers in VMCS order (SDM Appendix B): ES CS SS DS FS GS LDTR TR. */
export const SEG_NAMES = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'] as const;
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;

// ---- 64-bit values as halves ----

export const u32 = (v: number): number => v >>> 0;

/** Canonical for `bits` linear-address bits (33..63): bits 63:(bits-1) all equal. */
export function isCanonical(_lo: number, hi: number, bits: number): boolean {
  const s = 64 - bits;
  return ((hi << s) >> s) === (hi | 0);
}

/** Whether a physical address sets a bit at or above `maxPhys` (32..52). */
export function beyondMaxPhys(_lo: number, hi: number, maxPhys: number): boolean {
  return (hi >>> (maxPhys - 32)) !== 0;
}

/** `count` 16-byte MSR entries from (lo, hi): does the last byte set a bit at or above maxPhys? */
export function msrAreaEndBeyond(lo: number, hi: number, count: number, maxPhys: number): boolean {
  // Only called when the start address is below 2^maxPhys (hi < 2^20), so the sum is an exact
  // double well below 2^53; the SDM computes it "with more bits than the physical-address width".
  const last = (hi >>> 0) * 4294967296 + (lo >>> 0) + (count >>> 0) * 16 - 1;
  return last >= 2 ** maxPhys;
}

/** Physical address (below 2^53) as a number. */
export function physAddr(lo: number, hi: number): number {
  return (hi >>> 0) * 4294967296 + (lo >>> 0);
}

export { hex, hex64 };

/** Names of the set bits of `mask` (1 << n → `name(n)`), joined. */
export function bitList(mask: number, name: (bit: number) => string): string {
  const out: string[] = [];
  for (let b = 0; b < 32; b++) if (((mask >>> b) & 1) !== 0) out.push(name(b));
  return out.join(', ');
}

/** Register bit name from a flag table, else "bit n". */
export function regBit(rows: readonly (readonly [number, string])[], prefix: string): (b: number) => string {
  return (b) => {
    const row = rows.find(([bit]) => bit === b);
    return row === undefined ? `${prefix} bit ${b}` : `${prefix}.${row[1]}`;
  };
}

/**
 * Fixed-bit checks of CR0/CR4 against IA32_VMX_CRn_FIXED0/1 (SDM A.7, A.8): bits set in FIXED0
 * must be 1, bits clear in FIXED1 must be 0. `relax` removes bits from FIXED0 (unrestricted guest).
 */
export function fixedBits(name: string, lo: number, hi: number, fixed0: MsrValue, fixed1: MsrValue, relax: number,
  rows: readonly (readonly [number, string])[], c0: EntryCheck, c1: EntryCheck, extraFields: readonly string[] = []): EntryCheckFailure | undefined {
  const v = (): string => hex64(lo, hi);
  const missing = u32(fixed0.lo & ~relax & ~lo), missingHi = u32(fixed0.hi & ~hi);
  if (missing !== 0 || missingHi !== 0) {
    const names = [bitList(missing, regBit(rows, name)), bitList(missingHi, (b) => `${name} bit ${b + 32}`)].filter((t) => t !== '').join(', ');
    return fail(c0, [name, ...extraFields], `${name}=${v()} must set ${names} in VMX operation`);
  }
  const extraLo = u32(lo & ~fixed1.lo), extraHi = u32(hi & ~fixed1.hi);
  if (extraLo !== 0 || extraHi !== 0) {
    const names = [bitList(extraLo, regBit(rows, name)), bitList(extraHi, (b) => `${name} bit ${b + 32}`)].filter((t) => t !== '').join(', ');
    return fail(c1, [name], `${name}=${v()} sets ${names}, which must be 0 in VMX operation`);
  }
  return undefined;
}

/** Whether each byte of a PAT value is a memory type WRMSR accepts (0, 1, 4, 5, 6, 7). */
export function patBadEntry(lo: number, hi: number): number {
  for (let i = 0; i < 8; i++) {
    const t = ((i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4))) & 0xff);
    if (t === 2 || t === 3 || t > 7) return i;
  }
  return -1;
}
