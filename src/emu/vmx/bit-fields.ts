/**
 * Layouts of the VMCS fields that are bit fields rather than plain numbers: interruption
 * information, interruptibility and activity state, segment access rights, EPTP, VM-function
 * controls, exit-reason flags, pending debug exceptions (SDM Vol. 3C chapter 24), plus the
 * architectural registers a VMCS holds (CR0, CR4, EFER, RFLAGS, selectors, PAT, #PF error code).
 * Constant names follow Linux vmx.h (INTR_INFO_*, INTR_TYPE_*, GUEST_INTR_STATE_*,
 * GUEST_ACTIVITY_*, VMX_AR_*, VMX_EPTP_*).
 *
 * Decoders here return plain data and allocate; they are for tools (traces, the debugger, hover),
 * not for the instruction path, which tests bits with the constants directly.
 */

/** One decoded piece of a value: a flag or a multi-bit sub-field. */
export interface FieldPart {
  /** Flag name (HLT_EXITING) or sub-field name (vector, type, DPL). */
  readonly name: string;
  /** 1/0 for a flag (0 for flags that name a clear bit: GDT, INVALID), the sub-field's value otherwise. */
  readonly value: number;
  /**
   * Bit position of `value` in the field (0-63), so `value << lsb` summed over the parts gives back
   * the field: decoders are lossless for defined bits. -1 for parts that only describe.
   */
  readonly lsb: number;
  /** How a listing shows it: the flag name, or `name=value (meaning)`. */
  readonly text: string;
}

/** A named single-bit flag of some register or field. */
export type FlagRow = readonly [bit: number, name: string];

/** A set flag at `bit`. */
export function flag(name: string, bit: number): FieldPart { return { name, value: 1, lsb: bit, text: name }; }
/** A flag naming the clear state of `bit` (GDT for TI=0, INVALID for valid=0). */
export function clearFlag(name: string, bit: number): FieldPart { return { name, value: 0, lsb: bit, text: name }; }
/** A sub-field of value `value` starting at bit `lsb`, shown as `name=value (meaning)`. */
export function sub(name: string, value: number, lsb: number, meaning?: string): FieldPart {
  return { name, value, lsb, text: meaning === undefined ? `${name}=${value}` : `${name}=${value} (${meaning})` };
}
/** A sub-field shown in hex: `port=0x3f8`. */
export function subHex(name: string, value: number, lsb: number, digits = 0): FieldPart {
  return { name, value, lsb, text: `${name}=${hex(value, digits)}` };
}
/** A part that only describes (no bit position), e.g. a 64-bit address. */
export function note(name: string, text: string): FieldPart { return { name, value: 0, lsb: -1, text }; }

/** The set flags of `value` (bits 0-31) from a table. */
export function flagParts(value: number, rows: readonly FlagRow[]): FieldPart[] {
  const out: FieldPart[] = [];
  for (const [bit, name] of rows) if (((value >>> bit) & 1) !== 0) out.push(flag(name, bit));
  return out;
}

/** Rebuilds a value's halves from parts (the inverse of the decoders, for their defined bits). */
export function partsToValue(parts: readonly FieldPart[]): { lo: number; hi: number } {
  let lo = 0;
  let hi = 0;
  for (const p of parts) {
    if (p.lsb < 0) continue;
    if (p.lsb < 32) lo |= p.value << p.lsb;
    else hi |= p.value << (p.lsb - 32);
  }
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

export const hex = (v: number, digits = 0): string => `0x${(v >>> 0).toString(16).padStart(digits, '0')}`;
/** A 64-bit value from halves, as hex (no BigInt: tools print, they do not compute). */
export function hex64(lo: number, hi: number, digits = 0): string {
  const s = hi === 0 ? (lo >>> 0).toString(16) : (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, '0');
  return `0x${s.padStart(digits, '0')}`;
}

/** Exception mnemonics by vector (SDM Vol. 3A Table 6-1). */
export const EXCEPTION_NAMES: readonly string[] = [
  '#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', 'CSO', '#TS', '#NP', '#SS', '#GP', '#PF', 'reserved15',
  '#MF', '#AC', '#MC', '#XM', '#VE', '#CP',
];
export function exceptionName(vector: number): string { return EXCEPTION_NAMES[vector] ?? `vector ${vector}`; }

// ---- Interruption-information fields (SDM §24.8.3 Table 24-16, §24.9.2 Table 24-19, §24.9.3 Table 24-20) ----

export const INTR_INFO_VECTOR_MASK = 0xff;
export const INTR_INFO_INTR_TYPE_MASK = 0x700;
export const INTR_INFO_DELIVER_CODE_MASK = 0x800;
export const INTR_INFO_UNBLOCK_NMI = 0x1000;
export const INTR_INFO_VALID_MASK = 0x80000000;
/** Bits 30:12 (entry field) are reserved; bit 12 is NMI unblocking only in the exit fields. */
export const INTR_INFO_RESERVED_MASK = 0x7ffff000;

export const INTR_TYPE_EXT_INTR = 0 << 8;
export const INTR_TYPE_RESERVED = 1 << 8;
export const INTR_TYPE_NMI_INTR = 2 << 8;
export const INTR_TYPE_HARD_EXCEPTION = 3 << 8;
export const INTR_TYPE_SOFT_INTR = 4 << 8;
export const INTR_TYPE_PRIV_SW_EXCEPTION = 5 << 8;
export const INTR_TYPE_SOFT_EXCEPTION = 6 << 8;
export const INTR_TYPE_OTHER_EVENT = 7 << 8;

/** Interruption types by bits 10:8, with vmx.h name and the SDM's description. */
export const INTERRUPTION_TYPES: readonly (readonly [name: string, title: string])[] = [
  ['INTR_TYPE_EXT_INTR', 'external interrupt'],
  ['INTR_TYPE_RESERVED', 'reserved'],
  ['INTR_TYPE_NMI_INTR', 'NMI'],
  ['INTR_TYPE_HARD_EXCEPTION', 'hardware exception'],
  ['INTR_TYPE_SOFT_INTR', 'software interrupt'],
  ['INTR_TYPE_PRIV_SW_EXCEPTION', 'privileged software exception'],
  ['INTR_TYPE_SOFT_EXCEPTION', 'software exception'],
  ['INTR_TYPE_OTHER_EVENT', 'other event'],
];

export interface InterruptionInfo {
  readonly valid: boolean;
  readonly vector: number;
  /** Bits 10:8. */
  readonly type: number;
  readonly typeName: string;
  readonly errorCodeValid: boolean;
  /** Bit 12: NMI unblocking due to IRET (VM-exit interruption information only). */
  readonly nmiUnblocking: boolean;
  /** Bits 30:13 (and 12 for the VM-entry field): must be 0 on entry. */
  readonly reserved: number;
}

export function decodeInterruptionInfo(v: number): InterruptionInfo {
  const type = (v >>> 8) & 7;
  return {
    valid: (v & INTR_INFO_VALID_MASK) !== 0,
    vector: v & INTR_INFO_VECTOR_MASK,
    type,
    typeName: INTERRUPTION_TYPES[type][1],
    errorCodeValid: (v & INTR_INFO_DELIVER_CODE_MASK) !== 0,
    nmiUnblocking: (v & INTR_INFO_UNBLOCK_NMI) !== 0,
    reserved: (v & 0x7fffe000) >>> 0,
  };
}

/** Event name as a trace shows it: `#PF`, `NMI`, `ext-int 0x20`, `int 0x80`. */
export function interruptionEventName(info: InterruptionInfo): string {
  const t = info.type << 8;
  if (t === INTR_TYPE_EXT_INTR) return `ext-int ${hex(info.vector)}`;
  if (t === INTR_TYPE_NMI_INTR) return 'NMI';
  if (t === INTR_TYPE_SOFT_INTR) return `int ${hex(info.vector)}`;
  if (t === INTR_TYPE_PRIV_SW_EXCEPTION) return `int1 (${exceptionName(info.vector)})`;
  if (t === INTR_TYPE_OTHER_EVENT) return info.vector === 0 ? 'MTF' : `other event ${info.vector}`;
  return exceptionName(info.vector);
}

export function interruptionInfoParts(v: number): FieldPart[] {
  const i = decodeInterruptionInfo(v);
  const parts: FieldPart[] = [];
  parts.push(i.valid ? flag('VALID', 31) : clearFlag('INVALID', 31));
  parts.push(sub('type', i.type, 8, i.typeName));
  parts.push(sub('vector', i.vector, 0, interruptionEventName(i)));
  if (i.errorCodeValid) parts.push(flag('DELIVER_CODE', 11));
  if (i.nmiUnblocking) parts.push(flag('UNBLOCK_NMI', 12));
  return parts;
}

// ---- Guest non-register state (SDM §24.4.2) ----

export const GUEST_INTR_STATE_STI = 0x1;
export const GUEST_INTR_STATE_MOV_SS = 0x2;
export const GUEST_INTR_STATE_SMI = 0x4;
export const GUEST_INTR_STATE_NMI = 0x8;
export const GUEST_INTR_STATE_ENCLAVE_INTR = 0x10;

/** Interruptibility state (SDM Table 24-3); bits 31:5 reserved. */
export const INTERRUPTIBILITY_FLAGS: readonly FlagRow[] = [
  [0, 'BLOCKING_BY_STI'], [1, 'BLOCKING_BY_MOV_SS'], [2, 'BLOCKING_BY_SMI'], [3, 'BLOCKING_BY_NMI'], [4, 'ENCLAVE_INTERRUPTION'],
];

export const GUEST_ACTIVITY_ACTIVE = 0;
export const GUEST_ACTIVITY_HLT = 1;
export const GUEST_ACTIVITY_SHUTDOWN = 2;
export const GUEST_ACTIVITY_WAIT_SIPI = 3;
/** Activity states (SDM §24.4.2) by value, vmx.h names. */
export const ACTIVITY_STATES: readonly string[] = ['GUEST_ACTIVITY_ACTIVE', 'GUEST_ACTIVITY_HLT', 'GUEST_ACTIVITY_SHUTDOWN', 'GUEST_ACTIVITY_WAIT_SIPI'];

/** Pending debug exceptions (SDM Table 24-4): B3-B0, enabled breakpoint, BS, RTM. */
export const PENDING_DEBUG_FLAGS: readonly FlagRow[] = [
  [0, 'B0'], [1, 'B1'], [2, 'B2'], [3, 'B3'], [12, 'ENABLED_BP'], [14, 'BS'], [16, 'RTM'],
];

// ---- Segment access rights (SDM §24.4.1 Table 24-2) ----

export const VMX_AR_TYPE_MASK = 0x0f;
export const VMX_AR_S_MASK = 1 << 4;
export const VMX_AR_DPL_SHIFT = 5;
export const VMX_AR_DPL_MASK = 3 << 5;
export const VMX_AR_P_MASK = 1 << 7;
export const VMX_AR_AVL_MASK = 1 << 12;
export const VMX_AR_L_MASK = 1 << 13;
export const VMX_AR_DB_MASK = 1 << 14;
export const VMX_AR_G_MASK = 1 << 15;
export const VMX_AR_UNUSABLE_MASK = 1 << 16;
/** Bits 11:8 and 31:17 are reserved (must be 0 for usable segments, SDM §26.3.1.2). */
export const VMX_AR_RESERVED_MASK = 0xfffe0f00;

/** Code/data segment types (S=1) by type field (SDM Vol. 3A Table 3-1). */
const CODE_DATA_TYPES = [
  'data RO', 'data RO accessed', 'data RW', 'data RW accessed', 'data RO expand-down', 'data RO expand-down accessed',
  'data RW expand-down', 'data RW expand-down accessed', 'code XO', 'code XO accessed', 'code XR', 'code XR accessed',
  'code XO conforming', 'code XO conforming accessed', 'code XR conforming', 'code XR conforming accessed',
];
/** System segment types (S=0) in IA-32e mode / legacy mode (SDM Vol. 3A Table 3-2). */
const SYSTEM_TYPES = [
  'reserved', '16-bit TSS (available)', 'LDT', '16-bit TSS (busy)', '16-bit call gate', 'task gate', '16-bit interrupt gate', '16-bit trap gate',
  'reserved', '32/64-bit TSS (available)', 'reserved', '32/64-bit TSS (busy)', '32/64-bit call gate', 'reserved', '32/64-bit interrupt gate', '32/64-bit trap gate',
];

export interface AccessRights {
  readonly type: number;
  readonly typeName: string;
  /** Descriptor type: 1 code/data, 0 system. */
  readonly s: boolean;
  readonly dpl: number;
  readonly present: boolean;
  readonly avl: boolean;
  readonly l: boolean;
  readonly db: boolean;
  readonly g: boolean;
  readonly unusable: boolean;
  readonly reserved: number;
}

export function decodeAccessRights(v: number): AccessRights {
  const type = v & VMX_AR_TYPE_MASK;
  const s = (v & VMX_AR_S_MASK) !== 0;
  return {
    type, typeName: (s ? CODE_DATA_TYPES : SYSTEM_TYPES)[type], s,
    dpl: (v >>> VMX_AR_DPL_SHIFT) & 3, present: (v & VMX_AR_P_MASK) !== 0, avl: (v & VMX_AR_AVL_MASK) !== 0,
    l: (v & VMX_AR_L_MASK) !== 0, db: (v & VMX_AR_DB_MASK) !== 0, g: (v & VMX_AR_G_MASK) !== 0,
    unusable: (v & VMX_AR_UNUSABLE_MASK) !== 0, reserved: (v & VMX_AR_RESERVED_MASK) >>> 0,
  };
}

export function accessRightsParts(v: number): FieldPart[] {
  const a = decodeAccessRights(v);
  const parts: FieldPart[] = [];
  if (a.unusable) parts.push(flag('UNUSABLE', 16));
  parts.push(sub('type', a.type, 0, a.typeName));
  parts.push(a.s ? flag('S', 4) : clearFlag('SYSTEM', 4));
  parts.push(sub('DPL', a.dpl, 5));
  parts.push(...flagParts(v, [[7, 'P'], [12, 'AVL'], [13, 'L'], [14, 'D/B'], [15, 'G']]));
  return parts;
}

// ---- EPTP (SDM §24.6.11 Table 24-8) and VM functions (SDM §24.6.14) ----

export const VMX_EPTP_MT_UC = 0;
export const VMX_EPTP_MT_WB = 6;
export const VMX_EPTP_MT_MASK = 0x7;
export const VMX_EPTP_PWL_MASK = 0x38;
export const VMX_EPTP_PWL_4 = 0x18;
export const VMX_EPTP_PWL_5 = 0x20;
export const VMX_EPTP_AD_ENABLE_BIT = 1 << 6;
/** Bit 7: enable supervisor shadow-stack access rights. */
export const VMX_EPTP_SSS_ENABLE_BIT = 1 << 7;
/** Bits 11:8 reserved. */
export const VMX_EPTP_RESERVED_LOW = 0xf00;

/** Memory types (SDM Vol. 3A Table 11-2 / EPT memory types, §28.3.7). */
export const MEMORY_TYPES: readonly string[] = ['UC', 'WC', 'reserved2', 'reserved3', 'WT', 'WP', 'WB', 'UC-'];

export interface Eptp {
  readonly memoryType: number;
  /** Page-walk length (bits 5:3 plus 1). */
  readonly walkLength: number;
  readonly adEnabled: boolean;
  readonly sssEnabled: boolean;
  /** Physical address of the EPT PML4 table, as halves (bits 51:12). */
  readonly rootLo: number;
  readonly rootHi: number;
  readonly reserved: number;
}

export function decodeEptp(lo: number, hi: number): Eptp {
  return {
    memoryType: lo & VMX_EPTP_MT_MASK, walkLength: ((lo & VMX_EPTP_PWL_MASK) >>> 3) + 1,
    adEnabled: (lo & VMX_EPTP_AD_ENABLE_BIT) !== 0, sssEnabled: (lo & VMX_EPTP_SSS_ENABLE_BIT) !== 0,
    rootLo: (lo & ~0xfff) >>> 0, rootHi: hi & 0xfffff, reserved: lo & VMX_EPTP_RESERVED_LOW,
  };
}

export function eptpParts(lo: number, hi: number): FieldPart[] {
  const e = decodeEptp(lo, hi);
  const parts = [sub('memtype', e.memoryType, 0, MEMORY_TYPES[e.memoryType]), sub('walk_length_minus_1', e.walkLength - 1, 3, `${e.walkLength}-level`)];
  parts.push(...flagParts(lo, [[6, 'AD'], [7, 'SSS']]));
  parts.push(note('root', `root=${hex64(e.rootLo, e.rootHi)}`));
  return parts;
}

export const VMX_VMFUNC_EPTP_SWITCHING = 1 << 0;
export const VMFUNC_FLAGS: readonly FlagRow[] = [[0, 'EPTP_SWITCHING']];

// ---- Exit-reason field (SDM §24.9.1 Table 24-18) ----

export const VMX_EXIT_REASON_BASIC_MASK = 0xffff;
export const VMX_EXIT_REASONS_SGX_ENCLAVE_MODE = 0x08000000;
export const VMX_EXIT_REASONS_PENDING_MTF = 0x10000000;
export const VMX_EXIT_REASONS_FROM_VMX_ROOT = 0x20000000;
export const VMX_EXIT_REASONS_FAILED_VMENTRY = 0x80000000;
export const EXIT_REASON_FLAGS: readonly FlagRow[] = [
  [27, 'ENCLAVE_MODE'], [28, 'PENDING_MTF'], [29, 'FROM_VMX_ROOT'], [31, 'FAILED_VMENTRY'],
];

// ---- Architectural registers held in the VMCS ----

/** CR0 (SDM Vol. 3A §2.5). */
export const CR0_FLAGS: readonly FlagRow[] = [
  [0, 'PE'], [1, 'MP'], [2, 'EM'], [3, 'TS'], [4, 'ET'], [5, 'NE'], [16, 'WP'], [18, 'AM'], [29, 'NW'], [30, 'CD'], [31, 'PG'],
];
/** CR4 (SDM Vol. 3A §2.5). */
export const CR4_FLAGS: readonly FlagRow[] = [
  [0, 'VME'], [1, 'PVI'], [2, 'TSD'], [3, 'DE'], [4, 'PSE'], [5, 'PAE'], [6, 'MCE'], [7, 'PGE'], [8, 'PCE'],
  [9, 'OSFXSR'], [10, 'OSXMMEXCPT'], [11, 'UMIP'], [12, 'LA57'], [13, 'VMXE'], [14, 'SMXE'], [16, 'FSGSBASE'],
  [17, 'PCIDE'], [18, 'OSXSAVE'], [19, 'KL'], [20, 'SMEP'], [21, 'SMAP'], [22, 'PKE'], [23, 'CET'], [24, 'PKS'],
  [25, 'UINTR'], [27, 'LASS'], [28, 'LAM_SUP'],
];
/** IA32_EFER (SDM Vol. 3A §2.2.1). */
export const EFER_FLAGS: readonly FlagRow[] = [[0, 'SCE'], [8, 'LME'], [10, 'LMA'], [11, 'NXE']];
/** RFLAGS (SDM Vol. 1 §3.4.3); IOPL is bits 13:12 and shown separately. */
export const RFLAGS_FLAGS: readonly FlagRow[] = [
  [0, 'CF'], [1, 'reserved1'], [2, 'PF'], [4, 'AF'], [6, 'ZF'], [7, 'SF'], [8, 'TF'], [9, 'IF'], [10, 'DF'], [11, 'OF'],
  [14, 'NT'], [16, 'RF'], [17, 'VM'], [18, 'AC'], [19, 'VIF'], [20, 'VIP'], [21, 'ID'],
];
/** Page-fault error code (SDM Vol. 3A §4.7). */
export const PF_ERROR_FLAGS: readonly FlagRow[] = [
  [0, 'P'], [1, 'W'], [2, 'U'], [3, 'RSVD'], [4, 'I'], [5, 'PK'], [6, 'SS'], [7, 'HLAT'], [15, 'SGX'],
];

export function selectorParts(v: number): FieldPart[] {
  return [sub('index', v >>> 3, 3), (v & 4) !== 0 ? flag('LDT', 2) : clearFlag('GDT', 2), sub('RPL', v & 3, 0)];
}

/** IA32_PAT: eight memory-type entries PA0-PA7, one per byte (SDM Vol. 3A §11.12.2). */
export function patParts(lo: number, hi: number): FieldPart[] {
  const parts: FieldPart[] = [];
  for (let i = 0; i < 8; i++) {
    const t = ((i < 4 ? lo >>> (8 * i) : hi >>> (8 * (i - 4))) & 0xff);
    parts.push(sub(`PA${i}`, t, 8 * i, MEMORY_TYPES[t] ?? 'reserved'));
  }
  return parts;
}
