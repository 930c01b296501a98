/**
 * VM exits as software sees them: every basic exit reason of SDM Vol. 3D Appendix C ("VMX Basic
 * Exit Reasons"), the exit-qualification layouts of SDM §27.2.1 decoded per reason, the
 * VM-instruction error numbers of SDM §30.4, the VM-entry failure qualifications of SDM §26.8
 * and the VMX-abort indicators of SDM §27.7.
 *
 * Names are Linux uapi `asm/vmx.h` EXIT_REASON_* names (`linux: false` where vmx.h defines none;
 * those names are ours, same style). `short` is the name without EXIT_REASON_, the form KVM's
 * tracepoints and our trace print: `CR_ACCESS (28): mov %rax -> cr3`.
 *
 * The decoders take 64-bit values as two 32-bit halves and are for tools (trace, debugger,
 * hover): they allocate freely.
 */

import {
  type FieldPart, flag, sub, subHex, note, hex, hex64, flagParts, exceptionName, decodeInterruptionInfo,
  INTR_TYPE_HARD_EXCEPTION,
} from './bit-fields';

/** How the exit qualification of a reason is laid out (SDM §27.2.1). */
export type QualificationKind =
  | 'none'            // undefined or always 0 for this reason
  | 'exception'       // #DB: debug-exception bits; #PF: the faulting linear address (needs the interruption info)
  | 'sipi'            // SIPI vector
  | 'task-switch'
  | 'linear-address'  // INVLPG
  | 'displacement'    // instructions with a memory operand: the displacement, sign-extended
  | 'cr-access'
  | 'dr-access'
  | 'io'
  | 'entry-failure'   // reason 33: SDM §26.8 codes
  | 'msr-load-failure'// reason 34: index (from 1) of the failing MSR-load entry
  | 'apic-access'
  | 'eoi'             // vector of the virtualized EOI
  | 'ept-violation'
  | 'apic-write'      // offset on the APIC page
  | 'nmi-unblocking'; // PML full: bit 12 only

export interface ExitReason {
  readonly number: number;
  /** vmx.h name, e.g. EXIT_REASON_CPUID. */
  readonly name: string;
  /** Name without EXIT_REASON_: CPUID, CR_ACCESS. */
  readonly short: string;
  readonly linux: boolean;
  /** Human name, e.g. "RDTSC", "Control-register access". */
  readonly title: string;
  readonly qualification: QualificationKind;
}

type Row = readonly [n: number, short: string, title: string, qual?: QualificationKind, linux?: boolean];

/** Appendix C, Table C-1. Numbers 35, 38, 42 and 71 are not used. */
const ROWS: readonly Row[] = [
  [0, 'EXCEPTION_NMI', 'Exception or NMI', 'exception'],
  [1, 'EXTERNAL_INTERRUPT', 'External interrupt'],
  [2, 'TRIPLE_FAULT', 'Triple fault'],
  [3, 'INIT_SIGNAL', 'INIT signal'],
  [4, 'SIPI_SIGNAL', 'Start-up IPI (SIPI)', 'sipi'],
  [5, 'IO_SMI', 'I/O system-management interrupt', 'none', false],
  [6, 'OTHER_SMI', 'Other SMI'],
  [7, 'INTERRUPT_WINDOW', 'Interrupt window'],
  [8, 'NMI_WINDOW', 'NMI window'],
  [9, 'TASK_SWITCH', 'Task switch', 'task-switch'],
  [10, 'CPUID', 'CPUID'],
  [11, 'GETSEC', 'GETSEC', 'none', false],
  [12, 'HLT', 'HLT'],
  [13, 'INVD', 'INVD'],
  [14, 'INVLPG', 'INVLPG', 'linear-address'],
  [15, 'RDPMC', 'RDPMC'],
  [16, 'RDTSC', 'RDTSC'],
  [17, 'RSM', 'RSM', 'none', false],
  [18, 'VMCALL', 'VMCALL'],
  [19, 'VMCLEAR', 'VMCLEAR', 'displacement'],
  [20, 'VMLAUNCH', 'VMLAUNCH'],
  [21, 'VMPTRLD', 'VMPTRLD', 'displacement'],
  [22, 'VMPTRST', 'VMPTRST', 'displacement'],
  [23, 'VMREAD', 'VMREAD', 'displacement'],
  [24, 'VMRESUME', 'VMRESUME'],
  [25, 'VMWRITE', 'VMWRITE', 'displacement'],
  [26, 'VMOFF', 'VMXOFF'],
  [27, 'VMON', 'VMXON', 'displacement'],
  [28, 'CR_ACCESS', 'Control-register access', 'cr-access'],
  [29, 'DR_ACCESS', 'MOV DR', 'dr-access'],
  [30, 'IO_INSTRUCTION', 'I/O instruction', 'io'],
  [31, 'MSR_READ', 'RDMSR'],
  [32, 'MSR_WRITE', 'WRMSR'],
  [33, 'INVALID_STATE', 'VM-entry failure due to invalid guest state', 'entry-failure'],
  [34, 'MSR_LOAD_FAIL', 'VM-entry failure due to MSR loading', 'msr-load-failure'],
  [36, 'MWAIT_INSTRUCTION', 'MWAIT'],
  [37, 'MONITOR_TRAP_FLAG', 'Monitor trap flag'],
  [39, 'MONITOR_INSTRUCTION', 'MONITOR'],
  [40, 'PAUSE_INSTRUCTION', 'PAUSE'],
  [41, 'MCE_DURING_VMENTRY', 'VM-entry failure due to machine-check event'],
  [43, 'TPR_BELOW_THRESHOLD', 'TPR below threshold'],
  [44, 'APIC_ACCESS', 'APIC access', 'apic-access'],
  [45, 'EOI_INDUCED', 'Virtualized EOI', 'eoi'],
  [46, 'GDTR_IDTR', 'Access to GDTR or IDTR', 'displacement'],
  [47, 'LDTR_TR', 'Access to LDTR or TR', 'displacement'],
  [48, 'EPT_VIOLATION', 'EPT violation', 'ept-violation'],
  [49, 'EPT_MISCONFIG', 'EPT misconfiguration'],
  [50, 'INVEPT', 'INVEPT', 'displacement'],
  [51, 'RDTSCP', 'RDTSCP'],
  [52, 'PREEMPTION_TIMER', 'VMX-preemption timer expired'],
  [53, 'INVVPID', 'INVVPID', 'displacement'],
  [54, 'WBINVD', 'WBINVD or WBNOINVD'],
  [55, 'XSETBV', 'XSETBV'],
  [56, 'APIC_WRITE', 'APIC write', 'apic-write'],
  [57, 'RDRAND', 'RDRAND'],
  [58, 'INVPCID', 'INVPCID', 'displacement'],
  [59, 'VMFUNC', 'VMFUNC'],
  [60, 'ENCLS', 'ENCLS'],
  [61, 'RDSEED', 'RDSEED'],
  [62, 'PML_FULL', 'Page-modification log full', 'nmi-unblocking'],
  [63, 'XSAVES', 'XSAVES', 'displacement'],
  [64, 'XRSTORS', 'XRSTORS', 'displacement'],
  [65, 'PCONFIG', 'PCONFIG', 'none', false],
  [66, 'SPP', 'SPP-related event', 'none', false],
  [67, 'UMWAIT', 'UMWAIT'],
  [68, 'TPAUSE', 'TPAUSE'],
  [69, 'LOADIWKEY', 'LOADIWKEY', 'none', false],
  [70, 'ENCLV', 'ENCLV', 'none', false],
  [72, 'ENQCMD_PASID_FAIL', 'ENQCMD PASID translation failure', 'none', false],
  [73, 'ENQCMDS_PASID_FAIL', 'ENQCMDS PASID translation failure', 'none', false],
  [74, 'BUS_LOCK', 'Bus lock'],
  [75, 'NOTIFY', 'Instruction timeout'],
  [76, 'SEAMCALL', 'SEAMCALL'],
  [77, 'TDCALL', 'TDCALL'],
  [78, 'RDMSRLIST', 'RDMSRLIST', 'none', false],
  [79, 'WRMSRLIST', 'WRMSRLIST', 'none', false],
  [80, 'URDMSR', 'URDMSR', 'none', false],
  [81, 'UWRMSR', 'UWRMSR', 'none', false],
  [84, 'MSR_READ_IMM', 'RDMSR (immediate form)'],
  [85, 'MSR_WRITE_IMM', 'WRMSR (immediate form)'],
];

export const EXIT_REASONS: readonly ExitReason[] = ROWS.map(([number, short, title, qualification = 'none', linux = true]) => ({
  number, name: `EXIT_REASON_${short}`, short, linux, title, qualification,
}));

const BY_NUMBER: readonly (ExitReason | undefined)[] = (() => {
  const t: (ExitReason | undefined)[] = [];
  for (const r of EXIT_REASONS) t[r.number] = r;
  return t;
})();

/** The reason with this basic number (bits 15:0 of the exit-reason field), if the SDM defines one. */
export function exitReason(basic: number): ExitReason | undefined { return BY_NUMBER[basic]; }

/** The reason by vmx.h name (EXIT_REASON_CPUID) or short name (CPUID). */
export function exitReasonByName(name: string): ExitReason | undefined {
  const n = name.startsWith('EXIT_REASON_') ? name.slice(12) : name;
  return EXIT_REASONS.find((r) => r.short === n);
}

/** Reason numbers as named constants for the emulator's code (EXIT_REASON.CPUID === 10). */
export const EXIT_REASON: Readonly<Record<string, number>> = Object.fromEntries(EXIT_REASONS.map((r) => [r.short, r.number]));

// ---- Exit qualification (SDM §27.2.1) ----

/** Extra VMCS state some qualifications need to be read correctly. */
export interface QualificationContext {
  /** VM-exit interruption information (reason 0: tells #DB from #PF). */
  readonly interruptionInfo?: number;
}

export interface DecodedQualification {
  readonly parts: readonly FieldPart[];
  /** One line for traces: `mov %rax -> cr3`, `out 1 byte port 0x3f8`. */
  readonly summary: string;
}

/** General-purpose registers by the 4-bit number qualifications use (SDM Table 27-3 etc.). */
export const GPR_NAMES: readonly string[] = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];

/** "Exit Qualification for Debug Exceptions": B3-B0, BLD, BD, BS, RTM. */
const DEBUG_QUAL_FLAGS = [[0, 'B0'], [1, 'B1'], [2, 'B2'], [3, 'B3'], [11, 'BLD'], [13, 'BD'], [14, 'BS'], [16, 'RTM']] as const;

export const TASK_SWITCH_SOURCES: readonly string[] = ['CALL', 'IRET', 'JMP', 'task gate in IDT'];
export const CR_ACCESS_TYPES: readonly string[] = ['MOV to CR', 'MOV from CR', 'CLTS', 'LMSW'];
/** "Exit Qualification for APIC-Access VM Exits", bits 15:12. */
export const APIC_ACCESS_TYPES: Readonly<Record<number, string>> = {
  0: 'linear access for a data read during instruction execution',
  1: 'linear access for a data write during instruction execution',
  2: 'linear access for an instruction fetch',
  3: 'linear access (read or write) during event delivery',
  10: 'guest-physical access during event delivery',
  15: 'guest-physical access for an instruction fetch or during instruction execution',
};
/** VM-entry failure qualifications for reason 33 (SDM §26.8), vmx.h ENTRY_FAIL_* names. */
export const ENTRY_FAILURE_QUALIFICATIONS: Readonly<Record<number, readonly [name: string, title: string]>> = {
  0: ['ENTRY_FAIL_DEFAULT', 'default (no further detail)'],
  2: ['ENTRY_FAIL_PDPTE', 'failure loading the PDPTEs (SDM 26.3.1.6)'],
  3: ['ENTRY_FAIL_NMI', 'NMI injection into a guest blocking events by STI'],
  4: ['ENTRY_FAIL_VMCS_LINK_PTR', 'invalid VMCS link pointer (SDM 26.3.1.5)'],
};

/** Sign-extended displacement as signed hex (`-0x10`, `0x8`). */
function signedHex(lo: number, hi: number): string {
  if ((hi | 0) === -1 && (lo | 0) < 0) return `-${hex(-(lo | 0))}`;
  return hex64(lo, hi);
}

function decodeCrAccess(q: number): DecodedQualification {
  const cr = q & 0xf;
  const type = (q >>> 4) & 3;
  const lmswMem = ((q >>> 6) & 1) !== 0;
  const gpr = (q >>> 8) & 0xf;
  const src = (q >>> 16) & 0xffff;
  const parts: FieldPart[] = [sub('cr', cr, 0), sub('access', type, 4, CR_ACCESS_TYPES[type])];
  let summary: string;
  switch (type) {
    case 0: parts.push(sub('gpr', gpr, 8, GPR_NAMES[gpr])); summary = `mov %${GPR_NAMES[gpr]} -> cr${cr}`; break;
    case 1: parts.push(sub('gpr', gpr, 8, GPR_NAMES[gpr])); summary = `mov cr${cr} -> %${GPR_NAMES[gpr]}`; break;
    case 2: summary = 'clts'; break;
    default:
      parts.push(sub('lmsw_operand', lmswMem ? 1 : 0, 6, lmswMem ? 'memory' : 'register'), subHex('lmsw_source', src, 16, 4));
      summary = `lmsw ${hex(src, 4)} (${lmswMem ? 'memory' : 'register'} operand)`;
  }
  return { parts, summary };
}

function decodeDrAccess(q: number): DecodedQualification {
  const dr = q & 7;
  const fromDr = ((q >>> 4) & 1) !== 0;
  const gpr = (q >>> 8) & 0xf;
  return {
    parts: [sub('dr', dr, 0), sub('direction', fromDr ? 1 : 0, 4, fromDr ? 'MOV from DR' : 'MOV to DR'), sub('gpr', gpr, 8, GPR_NAMES[gpr])],
    summary: fromDr ? `mov dr${dr} -> %${GPR_NAMES[gpr]}` : `mov %${GPR_NAMES[gpr]} -> dr${dr}`,
  };
}

function decodeIo(q: number): DecodedQualification {
  const sizeCode = q & 7;
  const size = sizeCode + 1;
  const isIn = ((q >>> 3) & 1) !== 0;
  const string = ((q >>> 4) & 1) !== 0;
  const rep = ((q >>> 5) & 1) !== 0;
  const imm = ((q >>> 6) & 1) !== 0;
  const port = (q >>> 16) & 0xffff;
  const parts: FieldPart[] = [
    sub('size_minus_1', sizeCode, 0, size === 1 ? '1 byte' : `${size} bytes`),
    sub('direction', isIn ? 1 : 0, 3, isIn ? 'IN' : 'OUT'),
  ];
  if (string) parts.push(flag('STRING', 4));
  if (rep) parts.push(flag('REP', 5));
  parts.push(sub('operand', imm ? 1 : 0, 6, imm ? 'immediate' : 'DX'), subHex('port', port, 16));
  const op = (isIn ? 'in' : 'out') + (string ? 's' : '');
  const summary = `${rep ? 'rep ' : ''}${op} ${size === 1 ? '1 byte' : `${size} bytes`} port ${hex(port)}${imm ? '' : ' (dx)'}`;
  return { parts, summary };
}

function decodeEptViolation(q: number): DecodedQualification {
  const bit = (n: number): boolean => ((q >>> n) & 1) !== 0;
  const access = [bit(0) ? 'read' : '', bit(1) ? 'write' : '', bit(2) ? 'fetch' : ''].filter(Boolean);
  const perm = `${bit(3) ? 'r' : '-'}${bit(4) ? 'w' : '-'}${bit(5) ? 'x' : '-'}${bit(6) ? 'u' : ''}`;
  const parts: FieldPart[] = flagParts(q, [
    [0, 'DATA_READ'], [1, 'DATA_WRITE'], [2, 'INSN_FETCH'], [3, 'READABLE'], [4, 'WRITABLE'], [5, 'EXECUTABLE'],
    [6, 'USER_EXECUTABLE'], [7, 'GUEST_LINEAR_VALID'],
  ]);
  if (bit(7)) parts.push(bit(8) ? flag('TRANSLATED_ACCESS', 8) : { name: 'PAGING_STRUCTURE_ACCESS', value: 0, lsb: 8, text: 'PAGING_STRUCTURE_ACCESS' });
  parts.push(...flagParts(q, [[9, 'USER_MODE_LINEAR'], [10, 'WRITABLE_LINEAR'], [11, 'XD_LINEAR'], [12, 'NMI_UNBLOCKING'], [13, 'SHADOW_STACK'], [16, 'ASYNC']]));
  let summary = `${access.join('+') || 'no access bits'} not permitted (EPT ${perm})`;
  if (bit(7)) summary += bit(8) ? ', guest-linear valid' : ', during guest paging-structure access';
  else summary += ', no guest-linear address';
  if (bit(12)) summary += ', NMI unblocking';
  return { parts, summary };
}

/**
 * Decodes the exit qualification of `reason` (basic number). Reasons whose qualification the
 * SDM leaves undefined (or 0) give no parts and an empty summary.
 */
export function decodeQualification(reason: number, qualLo: number, qualHi = 0, ctx: QualificationContext = {}): DecodedQualification {
  const kind = exitReason(reason)?.qualification ?? 'none';
  const q = qualLo >>> 0;
  switch (kind) {
    case 'none': return { parts: [], summary: '' };
    case 'exception': {
      if (ctx.interruptionInfo === undefined) return { parts: [], summary: '' };
      const info = decodeInterruptionInfo(ctx.interruptionInfo);
      const hwOrSw = info.type << 8;
      if (info.vector === 14 && hwOrSw === INTR_TYPE_HARD_EXCEPTION) {
        return { parts: [note('linear', `linear=${hex64(q, qualHi)}`)], summary: `#PF at ${hex64(q, qualHi)}` };
      }
      if (info.vector === 1) {
        const parts = flagParts(q, DEBUG_QUAL_FLAGS);
        return { parts, summary: `#DB [${parts.map((p) => p.text).join(', ')}]` };
      }
      return { parts: [], summary: exceptionName(info.vector) };
    }
    case 'sipi': return { parts: [subHex('vector', q & 0xff, 0)], summary: `SIPI vector ${hex(q & 0xff)} (start at ${hex((q & 0xff) << 12)})` };
    case 'task-switch': {
      const sel = q & 0xffff;
      const src = (q >>> 30) & 3;
      return { parts: [subHex('selector', sel, 0, 4), sub('source', src, 30, TASK_SWITCH_SOURCES[src])], summary: `task switch by ${TASK_SWITCH_SOURCES[src]} to TSS ${hex(sel, 4)}` };
    }
    case 'linear-address': return { parts: [note('linear', `linear=${hex64(q, qualHi)}`)], summary: `linear address ${hex64(q, qualHi)}` };
    case 'displacement': return { parts: [note('displacement', `displacement=${signedHex(q, qualHi)}`)], summary: `displacement ${signedHex(q, qualHi)}` };
    case 'cr-access': return decodeCrAccess(q);
    case 'dr-access': return decodeDrAccess(q);
    case 'io': return decodeIo(q);
    case 'entry-failure': {
      const e = ENTRY_FAILURE_QUALIFICATIONS[q];
      return { parts: [sub('code', q, 0, e?.[0] ?? 'reserved')], summary: e === undefined ? `qualification ${q}` : e[1] };
    }
    case 'msr-load-failure': return { parts: [sub('entry', q, 0)], summary: `MSR-load entry ${q} failed` };
    case 'apic-access': {
      const off = q & 0xfff;
      const type = (q >>> 12) & 0xf;
      const parts: FieldPart[] = [sub('access', type, 12, APIC_ACCESS_TYPES[type] ?? 'reserved')];
      if (type < 4) parts.push(subHex('offset', off, 0, 3));
      if (((q >>> 16) & 1) !== 0) parts.push(flag('NMI_UNBLOCKING', 16));
      return { parts, summary: `${APIC_ACCESS_TYPES[type] ?? `access type ${type}`}${type < 4 ? ` at offset ${hex(off, 3)}` : ''}` };
    }
    case 'eoi': return { parts: [subHex('vector', q & 0xff, 0)], summary: `EOI for vector ${hex(q & 0xff)}` };
    case 'ept-violation': return decodeEptViolation(q);
    case 'apic-write': return { parts: [subHex('offset', q & 0xfff, 0, 3)], summary: `APIC write at offset ${hex(q & 0xfff, 3)}` };
    case 'nmi-unblocking': return ((q >>> 12) & 1) !== 0 ? { parts: [flag('NMI_UNBLOCKING', 12)], summary: 'NMI unblocking' } : { parts: [], summary: '' };
  }
}

/**
 * One trace line for an exit: `CR_ACCESS (28): mov %rax -> cr3`. `exitReasonField` is the full
 * 32-bit exit-reason field (bit 31 marks a VM-entry failure, SDM §24.9.1).
 */
export function formatExit(exitReasonField: number, qualLo: number, qualHi = 0, ctx: QualificationContext = {}): string {
  const basic = exitReasonField & 0xffff;
  const r = exitReason(basic);
  const head = `${r?.short ?? 'UNKNOWN'} (${basic})${(exitReasonField & 0x80000000) !== 0 ? ' [VM-entry failure]' : ''}`;
  const { summary } = decodeQualification(basic, qualLo, qualHi, ctx);
  return summary === '' ? head : `${head}: ${summary}`;
}

// ---- VM-instruction error numbers (SDM §30.4, Table 30-1) ----

export interface VmInstructionError {
  readonly number: number;
  /** vmx.h enum vm_instruction_error_number name. */
  readonly name: string;
  readonly description: string;
}

export const VM_INSTRUCTION_ERRORS: readonly VmInstructionError[] = ([
  [1, 'VMXERR_VMCALL_IN_VMX_ROOT_OPERATION', 'VMCALL executed in VMX root operation'],
  [2, 'VMXERR_VMCLEAR_INVALID_ADDRESS', 'VMCLEAR with invalid physical address'],
  [3, 'VMXERR_VMCLEAR_VMXON_POINTER', 'VMCLEAR with VMXON pointer'],
  [4, 'VMXERR_VMLAUNCH_NONCLEAR_VMCS', 'VMLAUNCH with non-clear VMCS'],
  [5, 'VMXERR_VMRESUME_NONLAUNCHED_VMCS', 'VMRESUME with non-launched VMCS'],
  [6, 'VMXERR_VMRESUME_AFTER_VMXOFF', 'VMRESUME after VMXOFF (VMXOFF and VMXON between VMLAUNCH and VMRESUME)'],
  [7, 'VMXERR_ENTRY_INVALID_CONTROL_FIELD', 'VM entry with invalid control field(s)'],
  [8, 'VMXERR_ENTRY_INVALID_HOST_STATE_FIELD', 'VM entry with invalid host-state field(s)'],
  [9, 'VMXERR_VMPTRLD_INVALID_ADDRESS', 'VMPTRLD with invalid physical address'],
  [10, 'VMXERR_VMPTRLD_VMXON_POINTER', 'VMPTRLD with VMXON pointer'],
  [11, 'VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID', 'VMPTRLD with incorrect VMCS revision identifier'],
  [12, 'VMXERR_UNSUPPORTED_VMCS_COMPONENT', 'VMREAD/VMWRITE from/to unsupported VMCS component'],
  [13, 'VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT', 'VMWRITE to read-only VMCS component'],
  [15, 'VMXERR_VMXON_IN_VMX_ROOT_OPERATION', 'VMXON executed in VMX root operation'],
  [16, 'VMXERR_ENTRY_INVALID_EXECUTIVE_VMCS_POINTER', 'VM entry with invalid executive-VMCS pointer'],
  [17, 'VMXERR_ENTRY_NONLAUNCHED_EXECUTIVE_VMCS', 'VM entry with non-launched executive VMCS'],
  [18, 'VMXERR_ENTRY_EXECUTIVE_VMCS_POINTER_NOT_VMXON_POINTER', 'VM entry with executive-VMCS pointer not VMXON pointer (when attempting to deactivate the dual-monitor treatment of SMIs and SMM)'],
  [19, 'VMXERR_VMCALL_NONCLEAR_VMCS', 'VMCALL with non-clear VMCS (when attempting to activate the dual-monitor treatment of SMIs and SMM)'],
  [20, 'VMXERR_VMCALL_INVALID_VM_EXIT_CONTROL_FIELDS', 'VMCALL with invalid VM-exit control fields'],
  [22, 'VMXERR_VMCALL_INCORRECT_MSEG_REVISION_ID', 'VMCALL with incorrect MSEG revision identifier (when attempting to activate the dual-monitor treatment of SMIs and SMM)'],
  [23, 'VMXERR_VMXOFF_UNDER_DUAL_MONITOR_TREATMENT_OF_SMIS_AND_SMM', 'VMXOFF under dual-monitor treatment of SMIs and SMM'],
  [24, 'VMXERR_VMCALL_INVALID_SMM_MONITOR_FEATURES', 'VMCALL with invalid SMM-monitor features (when attempting to activate the dual-monitor treatment of SMIs and SMM)'],
  [25, 'VMXERR_ENTRY_INVALID_VM_EXECUTION_CONTROL_FIELDS_IN_EXECUTIVE_VMCS', 'VM entry with invalid VM-execution control fields in executive VMCS (when attempting to return from SMM)'],
  [26, 'VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS', 'VM entry with events blocked by MOV SS'],
  [28, 'VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID', 'Invalid operand to INVEPT/INVVPID'],
] as const).map(([number, name, description]) => ({ number, name, description }));

/** Error numbers as constants for the emulator's code (VMXERR.UNSUPPORTED_VMCS_COMPONENT === 12). */
export const VMXERR: Readonly<Record<string, number>> = Object.fromEntries(VM_INSTRUCTION_ERRORS.map((e) => [e.name.slice(7), e.number]));

export function vmInstructionError(n: number): VmInstructionError | undefined {
  return VM_INSTRUCTION_ERRORS.find((e) => e.number === n);
}

// ---- VMX-abort indicators (SDM §27.7) ----

export const VMX_ABORTS: Readonly<Record<number, readonly [name: string, title: string]>> = {
  1: ['VMX_ABORT_SAVE_GUEST_MSR_FAIL', 'failure saving guest MSRs'],
  2: ['VMX_ABORT_LOAD_HOST_PDPTE_FAIL', 'host checking of the PDPTEs failed'],
  3: ['VMX_ABORT_VMCS_CORRUPTED', 'the current VMCS has been corrupted'],
  4: ['VMX_ABORT_LOAD_HOST_MSR_FAIL', 'failure loading host MSRs'],
  5: ['VMX_ABORT_MACHINE_CHECK', 'machine-check event during VM exit'],
  6: ['VMX_ABORT_HOST_NOT_64BIT', 'the logical processor was in IA-32e mode before the VM exit and the "host address-space size" VM-exit control was 0'],
};
