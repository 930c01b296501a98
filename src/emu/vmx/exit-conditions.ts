/**
 * "Instruction X exits when control Y is set": which instructions cause VM exits in VMX non-root
 * operation and under which VM-execution controls (SDM Vol. 3C §25.1.2 "Instructions That Cause
 * VM Exits Unconditionally", §25.1.3 "Instructions That Cause VM Exits Conditionally", §25.2
 * for exceptions and task switches). Written once; the CPU's exit checks, the CLI trace and the
 * language server's hover read it.
 *
 * Keys are mnemonics as src/emu/cpu/isa/opcodes.ts spells them; where one mnemonic covers several
 * instructions (mov to/from CRn and DRn) the entry names the opcode (`form`) and the register.
 * Instructions the SDM lists that our ISA table does not have yet (RDRAND, RDSEED, XSAVES,
 * XRSTORS, ENCLS, ENCLV, UMWAIT, TPAUSE, PCONFIG, LOADIWKEY, ENQCMD, RDMSRLIST...) are not here;
 * their exit reasons are in exit-reasons.ts.
 *
 * `rule` says how the CPU decides: 'always' and 'control' need nothing but the listed control
 * bits (all must be 1; secondary controls count only when CPU_BASED_ACTIVATE_SECONDARY_CONTROLS
 * is 1, so it is listed with them); the other rules name the bitmap, mask or state the decision
 * also reads.
 */

import { EXIT_REASON } from './exit-reasons';

export type ExitRule =
  | 'always'           // unconditional (SDM 25.1.2)
  | 'control'          // exits iff every control in `controls` is 1
  | 'io'               // unconditional I/O exiting, or the I/O bitmaps when "use I/O bitmaps" is 1
  | 'msr'              // always, or the MSR bitmaps when "use MSR bitmaps" is 1
  | 'cr-mask'          // a bit owned by the host (guest/host mask) would change or differs from the read shadow
  | 'cr3-target'       // CR3-load exiting, unless the value is one of the first CR3_TARGET_COUNT CR3-target values
  | 'exception-bitmap' // the exception the instruction raises is selected by the exception bitmap
  | 'task-switch'      // any task switch exits (SDM 25.2)
  | 'smm'              // only in system-management mode
  | 'vmfunc';          // the VM function is not enabled or fails

export interface ExitCondition {
  readonly mnemonic: string;
  /** Restricts the entry to one encoding of the mnemonic (map 1 = 0F) and, for mov CRn/DRn, one register. */
  readonly form?: { readonly map: number; readonly opcode: number; readonly register?: string };
  /** The instruction as the SDM names it: "MOV to CR3". */
  readonly what: string;
  readonly reason: number;
  readonly rule: ExitRule;
  /** Control bits (controls.ts names) that enable the exit; see `rule`. */
  readonly controls: readonly string[];
  /** VMCS fields (beyond the control fields) the decision reads. */
  readonly fields: readonly string[];
  /** One line: when it exits. */
  readonly when: string;
  /** Where the SDM says so. */
  readonly sdm: string;
  /** What happens instead of an exit when a control disables the instruction. */
  readonly ud?: string;
}

const SEC = 'CPU_BASED_ACTIVATE_SECONDARY_CONTROLS';
type Form = ExitCondition['form'];

function always(mnemonic: string, what: string, reason: number, note = ''): ExitCondition {
  return { mnemonic, what, reason, rule: 'always', controls: [], fields: [], when: `always exits in VMX non-root operation${note}`, sdm: 'SDM 25.1.2' };
}

function entry(mnemonic: string, what: string, reason: number, rule: ExitRule, controls: readonly string[], when: string, extra: { form?: Form; fields?: readonly string[]; ud?: string; sdm?: string } = {}): ExitCondition {
  return { mnemonic, form: extra.form, what, reason, rule, controls, fields: extra.fields ?? [], when, sdm: extra.sdm ?? 'SDM 25.1.3', ud: extra.ud };
}

const R = EXIT_REASON;
const MOV_TO_CR = (register: string): Form => ({ map: 1, opcode: 0x22, register });
const MOV_FROM_CR = (register: string): Form => ({ map: 1, opcode: 0x20, register });
const io = (m: string, what: string): ExitCondition => entry(m, what, R.IO_INSTRUCTION, 'io', ['CPU_BASED_UNCOND_IO_EXITING', 'CPU_BASED_USE_IO_BITMAPS'],
  'exits if "use I/O bitmaps" is 0 and "unconditional I/O exiting" is 1, or if "use I/O bitmaps" is 1 and the bitmap bit of any port accessed is 1',
  { fields: ['IO_BITMAP_A', 'IO_BITMAP_B'] });
const desc = (m: string, what: string, reason: number): ExitCondition => entry(m, what, reason, 'control', [SEC, 'SECONDARY_EXEC_DESC'], 'exits when "descriptor-table exiting" is 1');

export const EXIT_CONDITIONS: readonly ExitCondition[] = [
  // ---- SDM 25.1.2: unconditional ----
  always('cpuid', 'CPUID', R.CPUID),
  always('getsec', 'GETSEC', R.GETSEC, ' (#UD first if CR4.SMXE = 0)'),
  always('invd', 'INVD', R.INVD),
  always('xsetbv', 'XSETBV', R.XSETBV),
  always('vmcall', 'VMCALL', R.VMCALL),
  always('vmclear', 'VMCLEAR', R.VMCLEAR),
  always('vmlaunch', 'VMLAUNCH', R.VMLAUNCH),
  always('vmptrld', 'VMPTRLD', R.VMPTRLD),
  always('vmptrst', 'VMPTRST', R.VMPTRST),
  always('vmread', 'VMREAD', R.VMREAD, ' (no VMCS shadowing on this core)'),
  always('vmresume', 'VMRESUME', R.VMRESUME),
  always('vmwrite', 'VMWRITE', R.VMWRITE, ' (no VMCS shadowing on this core)'),
  always('vmxoff', 'VMXOFF', R.VMOFF),
  always('vmxon', 'VMXON', R.VMON),
  always('invept', 'INVEPT', R.INVEPT),
  always('invvpid', 'INVVPID', R.INVVPID),

  // ---- SDM 25.1.3: conditional ----
  entry('clts', 'CLTS', R.CR_ACCESS, 'cr-mask', [], 'exits when CR0.TS (bit 3) is set in both the CR0 guest/host mask and the CR0 read shadow',
    { fields: ['CR0_GUEST_HOST_MASK', 'CR0_READ_SHADOW'] }),
  entry('hlt', 'HLT', R.HLT, 'control', ['CPU_BASED_HLT_EXITING'], 'exits when "HLT exiting" is 1'),
  io('in', 'IN'), io('out', 'OUT'), io('insb', 'INSB'), io('ins', 'INS/INSW/INSD'), io('outsb', 'OUTSB'), io('outs', 'OUTS/OUTSW/OUTSD'),
  entry('invlpg', 'INVLPG', R.INVLPG, 'control', ['CPU_BASED_INVLPG_EXITING'], 'exits when "INVLPG exiting" is 1'),
  entry('invpcid', 'INVPCID', R.INVPCID, 'control', [SEC, 'SECONDARY_EXEC_ENABLE_INVPCID', 'CPU_BASED_INVLPG_EXITING'],
    'exits when "enable INVPCID" and "INVLPG exiting" are both 1', { ud: '#UD when "enable INVPCID" is 0' }),
  desc('lgdt', 'LGDT', R.GDTR_IDTR), desc('lidt', 'LIDT', R.GDTR_IDTR), desc('sgdt', 'SGDT', R.GDTR_IDTR), desc('sidt', 'SIDT', R.GDTR_IDTR),
  desc('lldt', 'LLDT', R.LDTR_TR), desc('ltr', 'LTR', R.LDTR_TR), desc('sldt', 'SLDT', R.LDTR_TR), desc('str', 'STR', R.LDTR_TR),
  entry('lmsw', 'LMSW', R.CR_ACCESS, 'cr-mask', [],
    'exits when a CR0 bit among PE, MP, EM, TS that is set in the CR0 guest/host mask would get a value different from the CR0 read shadow (PE is only ever set, never cleared, by LMSW)',
    { fields: ['CR0_GUEST_HOST_MASK', 'CR0_READ_SHADOW'] }),
  entry('monitor', 'MONITOR', R.MONITOR_INSTRUCTION, 'control', ['CPU_BASED_MONITOR_EXITING'], 'exits when "MONITOR exiting" is 1'),
  entry('mov', 'MOV from CR3', R.CR_ACCESS, 'control', ['CPU_BASED_CR3_STORE_EXITING'], 'exits when "CR3-store exiting" is 1', { form: MOV_FROM_CR('cr3') }),
  entry('mov', 'MOV from CR8', R.CR_ACCESS, 'control', ['CPU_BASED_CR8_STORE_EXITING'], 'exits when "CR8-store exiting" is 1', { form: MOV_FROM_CR('cr8') }),
  entry('mov', 'MOV to CR0', R.CR_ACCESS, 'cr-mask', [], 'exits when a bit set in the CR0 guest/host mask would get a value different from the CR0 read shadow',
    { form: MOV_TO_CR('cr0'), fields: ['CR0_GUEST_HOST_MASK', 'CR0_READ_SHADOW'] }),
  entry('mov', 'MOV to CR3', R.CR_ACCESS, 'cr3-target', ['CPU_BASED_CR3_LOAD_EXITING'],
    'exits when "CR3-load exiting" is 1 and the value is not one of the first CR3_TARGET_COUNT CR3-target values',
    { form: MOV_TO_CR('cr3'), fields: ['CR3_TARGET_COUNT', 'CR3_TARGET_VALUE0', 'CR3_TARGET_VALUE1', 'CR3_TARGET_VALUE2', 'CR3_TARGET_VALUE3'] }),
  entry('mov', 'MOV to CR4', R.CR_ACCESS, 'cr-mask', [], 'exits when a bit set in the CR4 guest/host mask would get a value different from the CR4 read shadow',
    { form: MOV_TO_CR('cr4'), fields: ['CR4_GUEST_HOST_MASK', 'CR4_READ_SHADOW'] }),
  entry('mov', 'MOV to CR8', R.CR_ACCESS, 'control', ['CPU_BASED_CR8_LOAD_EXITING'], 'exits when "CR8-load exiting" is 1', { form: MOV_TO_CR('cr8') }),
  entry('mov', 'MOV from DR', R.DR_ACCESS, 'control', ['CPU_BASED_MOV_DR_EXITING'], 'exits when "MOV-DR exiting" is 1', { form: { map: 1, opcode: 0x21 } }),
  entry('mov', 'MOV to DR', R.DR_ACCESS, 'control', ['CPU_BASED_MOV_DR_EXITING'], 'exits when "MOV-DR exiting" is 1', { form: { map: 1, opcode: 0x23 } }),
  entry('mwait', 'MWAIT', R.MWAIT_INSTRUCTION, 'control', ['CPU_BASED_MWAIT_EXITING'], 'exits when "MWAIT exiting" is 1'),
  entry('pause', 'PAUSE', R.PAUSE_INSTRUCTION, 'control', ['CPU_BASED_PAUSE_EXITING'], 'exits when "PAUSE exiting" is 1 (PAUSE-loop exiting is not supported by this core)'),
  entry('rdmsr', 'RDMSR', R.MSR_READ, 'msr', ['CPU_BASED_USE_MSR_BITMAPS'],
    'exits unless "use MSR bitmaps" is 1 and the read bitmap bit for ECX is 0 (ECX outside 0-1FFFH and C0000000H-C0001FFFH always exits)', { fields: ['MSR_BITMAP'] }),
  entry('wrmsr', 'WRMSR', R.MSR_WRITE, 'msr', ['CPU_BASED_USE_MSR_BITMAPS'],
    'exits unless "use MSR bitmaps" is 1 and the write bitmap bit for ECX is 0 (ECX outside 0-1FFFH and C0000000H-C0001FFFH always exits)', { fields: ['MSR_BITMAP'] }),
  entry('rdpmc', 'RDPMC', R.RDPMC, 'control', ['CPU_BASED_RDPMC_EXITING'], 'exits when "RDPMC exiting" is 1'),
  entry('rdtsc', 'RDTSC', R.RDTSC, 'control', ['CPU_BASED_RDTSC_EXITING'], 'exits when "RDTSC exiting" is 1 (otherwise TSC offsetting applies if enabled)'),
  entry('rdtscp', 'RDTSCP', R.RDTSCP, 'control', [SEC, 'SECONDARY_EXEC_ENABLE_RDTSCP', 'CPU_BASED_RDTSC_EXITING'],
    'exits when "enable RDTSCP" and "RDTSC exiting" are both 1', { ud: '#UD when "enable RDTSCP" is 0' }),
  entry('rsm', 'RSM', R.RSM, 'smm', [], 'exits when executed in system-management mode (outside SMM, RSM is #UD)'),
  entry('wbinvd', 'WBINVD', R.WBINVD, 'control', [SEC, 'SECONDARY_EXEC_WBINVD_EXITING'], 'exits when "WBINVD exiting" is 1'),
  entry('wbnoinvd', 'WBNOINVD', R.WBINVD, 'control', [SEC, 'SECONDARY_EXEC_WBINVD_EXITING'], 'exits when "WBINVD exiting" is 1'),
  entry('vmfunc', 'VMFUNC', R.VMFUNC, 'vmfunc', [SEC, 'SECONDARY_EXEC_ENABLE_VMFUNC'],
    'exits when the function in EAX is not enabled in the VM-function controls, or the function fails (EPTP switching: ECX >= 512 or an invalid EPTP list entry)',
    { fields: ['VM_FUNCTION_CONTROL', 'EPTP_LIST_ADDRESS'], ud: '#UD when "enable VM functions" is 0' }),

  // ---- SDM 25.2: exceptions raised by an instruction, task switches ----
  entry('int3', 'INT3', R.EXCEPTION_NMI, 'exception-bitmap', [], 'exits when bit 3 (#BP) of the exception bitmap is 1', { fields: ['EXCEPTION_BITMAP'], sdm: 'SDM 25.2' }),
  entry('int1', 'INT1 (ICEBP)', R.EXCEPTION_NMI, 'exception-bitmap', [], 'exits when bit 1 (#DB) of the exception bitmap is 1', { fields: ['EXCEPTION_BITMAP'], sdm: 'SDM 25.2' }),
  entry('into', 'INTO', R.EXCEPTION_NMI, 'exception-bitmap', [], 'exits when OF = 1 and bit 4 (#OF) of the exception bitmap is 1', { fields: ['EXCEPTION_BITMAP'], sdm: 'SDM 25.2' }),
  entry('ljmp', 'JMP far', R.TASK_SWITCH, 'task-switch', [], 'exits when the target is a TSS or task gate (task switches always exit)', { sdm: 'SDM 25.2' }),
  entry('lcall', 'CALL far', R.TASK_SWITCH, 'task-switch', [], 'exits when the target is a TSS or task gate (task switches always exit)', { sdm: 'SDM 25.2' }),
  entry('iret', 'IRET', R.TASK_SWITCH, 'task-switch', [], 'exits when EFLAGS.NT = 1 outside IA-32e mode (a task return; task switches always exit)', { sdm: 'SDM 25.2' }),
];

/** The entries for a mnemonic (several for mov), in table order; empty when it never exits. */
export function exitConditionsFor(mnemonic: string): readonly ExitCondition[] {
  return EXIT_CONDITIONS.filter((c) => c.mnemonic === mnemonic);
}

/** Hover text: `vmread: always exits in VMX non-root operation (SDM 25.1.2)`. */
export function exitConditionText(c: ExitCondition): string {
  return `${c.what}: ${c.when}${c.ud === undefined ? '' : `; ${c.ud}`} (${c.sdm})`;
}

/**
 * Instructions that reveal or change privileged state but run at any CPL without faulting, the
 * reason classic x86 could not be trap-and-emulate virtualized (Robin & Irvine, 2000). In VMX
 * non-root operation they do NOT cause VM exits unless a control says so; under VT-x they act on
 * the guest's own registers, which is what makes them harmless.
 */
export interface SensitiveInstruction {
  readonly mnemonic: string;
  readonly what: string;
  /** What it exposes or silently does. */
  readonly sensitivity: string;
  /** How it behaves in VMX non-root operation. */
  readonly inVmx: string;
  /** The control that makes it exit, if any. */
  readonly exitControl?: string;
  readonly sdm: string;
}

export const SENSITIVE_UNPRIVILEGED: readonly SensitiveInstruction[] = [
  { mnemonic: 'sgdt', what: 'SGDT', sensitivity: 'stores GDTR (base and limit) at any CPL', inVmx: 'stores the guest\'s GDTR; exits only when "descriptor-table exiting" is 1', exitControl: 'SECONDARY_EXEC_DESC', sdm: 'SDM 25.1.3' },
  { mnemonic: 'sidt', what: 'SIDT', sensitivity: 'stores IDTR (base and limit) at any CPL', inVmx: 'stores the guest\'s IDTR; exits only when "descriptor-table exiting" is 1', exitControl: 'SECONDARY_EXEC_DESC', sdm: 'SDM 25.1.3' },
  { mnemonic: 'sldt', what: 'SLDT', sensitivity: 'stores the LDTR selector at any CPL', inVmx: 'stores the guest\'s LDTR selector; exits only when "descriptor-table exiting" is 1', exitControl: 'SECONDARY_EXEC_DESC', sdm: 'SDM 25.1.3' },
  { mnemonic: 'str', what: 'STR', sensitivity: 'stores the TR selector at any CPL', inVmx: 'stores the guest\'s TR selector; exits only when "descriptor-table exiting" is 1', exitControl: 'SECONDARY_EXEC_DESC', sdm: 'SDM 25.1.3' },
  { mnemonic: 'smsw', what: 'SMSW', sensitivity: 'stores CR0[15:0] at any CPL (unless CR4.UMIP)', inVmx: 'never exits; bits set in the CR0 guest/host mask read from the CR0 read shadow', sdm: 'SDM 25.3' },
  { mnemonic: 'pushf', what: 'PUSHF', sensitivity: 'pushes RFLAGS including IF and IOPL at any CPL', inVmx: 'never exits; pushes the guest\'s RFLAGS', sdm: 'SDM 25.1' },
  { mnemonic: 'popf', what: 'POPF', sensitivity: 'silently leaves IF/IOPL unchanged when CPL is too high, instead of faulting', inVmx: 'never exits; acts on the guest\'s RFLAGS at the guest\'s CPL', sdm: 'SDM 25.1' },
  { mnemonic: 'lar', what: 'LAR', sensitivity: 'reveals a descriptor\'s access rights at any CPL', inVmx: 'never exits; reads the guest\'s descriptor tables', sdm: 'SDM 25.1' },
  { mnemonic: 'lsl', what: 'LSL', sensitivity: 'reveals a segment limit at any CPL', inVmx: 'never exits; reads the guest\'s descriptor tables', sdm: 'SDM 25.1' },
  { mnemonic: 'verr', what: 'VERR', sensitivity: 'reveals whether a segment is readable at the current CPL', inVmx: 'never exits; reads the guest\'s descriptor tables', sdm: 'SDM 25.1' },
  { mnemonic: 'verw', what: 'VERW', sensitivity: 'reveals whether a segment is writable at the current CPL', inVmx: 'never exits; reads the guest\'s descriptor tables', sdm: 'SDM 25.1' },
];
