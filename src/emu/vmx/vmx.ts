/**
 * One logical processor's VMX: whether it is in VMX operation (root or non-root), the VMXON
 * and current-VMCS pointers, the controls decoded from the VMCS at the last VM entry (so the
 * non-root hooks test plain numbers, not memory), the last exit and entry failure, and the
 * per-reason statistics tools ask for (issue 4 §7). The behaviour lives in one file per area,
 * as Bochs splits it: discovery.ts (CPUID/MSRs/CR fixed bits), instructions.ts (SDM ch. 30),
 * vm-entry.ts (ch. 26), vm-exit.ts (ch. 27), non-root.ts (ch. 25), ept.ts (ch. 28).
 *
 * `attachVmx(cpu)` gives a CPU its VMX: CPUID.1:ECX.VMX, the capability MSRs, CR4.VMXE and
 * the VMX instructions then behave as on an Intel core with VT-x.
 */

import type { Cpu, TscSource } from '../cpu/cpu';
import type { Handler } from '../cpu/handlers/index';
import { VmEntryChecker, type EntryCheckFailure } from './entry-checks';
import { CurrentVmcs } from './vmcs';
import { Mmu } from '../mmu/mmu';
import { TransitionMsrs } from './transition-msrs';
import { TransitionStateCache } from './state-cache';
import { EptTranslator, setNested } from './ept';
import { buildNonRootHandlers, makeEventFilter, makeService, tripleFaultExit } from './non-root';
import { checkFixedCrBits, readVmxMsr, writeVmxMsr } from './discovery';
import { PREEMPTION_TIMER_RATE } from './capabilities';
import { CPU_MTF, PIN_EXT_INTR } from './control-bits';

/** What a VM exit reports to listeners (machine events, traces). */
export interface VmExitEvent {
  /** The full exit-reason field (bit 31: VM-entry failure). */
  readonly exitReason: number;
  readonly qualificationLo: number;
  readonly qualificationHi: number;
  readonly interruptionInfo: number;
  /** Guest RIP saved in the VMCS (where the guest resumes unless the VMM moves it). */
  readonly guestRip: number;
  /** Instruction length for instruction exits (0 otherwise). */
  readonly instructionLength: number;
  /** Virtual TSC at the exit. */
  readonly tsc: number;
  /** For VM-entry failures (reason 33/34): the check that failed, as a sentence. */
  readonly message?: string;
}

export interface VmEntryEvent {
  readonly launch: boolean;
  readonly guestRip: number;
  readonly tsc: number;
}

/** A failed VM entry, as the CLI and the debugger show it. */
export interface VmEntryFailureRecord {
  readonly failure: EntryCheckFailure | undefined;
  /** `VM entry failed: ... (SDM x.y): ...` */
  readonly message: string;
  readonly icount: number;
}

export class Vmx {
  /** In VMX operation (after VMXON, before VMXOFF). */
  inVmx = false;
  /** In VMX non-root operation (between a VM entry and the next VM exit). */
  nonRoot = false;
  /** Physical address of the VMXON region; -1 outside VMX operation. */
  vmxonPtr = -1;
  readonly vmcs: CurrentVmcs;
  /** The CPU's MMU when it is ours (VPID/EP4TA-tagged contexts, translation-context.ts), else undefined. */
  readonly mmu: Mmu | undefined;
  readonly checker = new VmEntryChecker();
  readonly ept: EptTranslator;
  /** The root dispatch array (what the CPU runs outside non-root operation). */
  readonly rootHandlers: readonly Handler[];
  /** The non-root dispatch array: exiting instructions wrapped (non-root.ts). */
  readonly nonRootHandlers: readonly Handler[];

  // ---- controls of the current VM entry (decoded at entry when a control field changed, SDM ch. 24) ----
  /** A control-area field was written (or the current VMCS changed) since the controls were decoded. */
  controlsDirty = true;
  pin = 0;
  proc = 0;
  /** Secondary controls in force (0 when "activate secondary controls" is 0). */
  proc2 = 0;
  /** The guest's VPID: VIRTUAL_PROCESSOR_ID with "enable VPID", else 0 (SDM §28.1, translation-context.ts). */
  vpid = 0;
  exitCtl = 0;
  entryCtl = 0;
  exceptionBitmap = 0;
  pfecMask = 0;
  pfecMatch = 0;
  cr0Mask = 0;
  cr0Shadow = 0;
  cr4Mask = 0;
  cr4Shadow = 0;
  cr3TargetCount = 0;
  readonly cr3Targets = new Float64Array(4);
  ioBitmapA = 0;
  ioBitmapB = 0;
  msrBitmap = 0;
  tscOffsetLo = 0;
  tscOffsetHi = 0;
  /** VMX-preemption timer: TSC value at which it reaches zero (Infinity: not active). */
  timerDeadline = Infinity;
  /** Scratch for the PAE PDPTE registers moved between the VMCS and the MMU (lo, hi pairs; SDM §26.3.2.4, §27.3.4). */
  readonly pdptes = new Int32Array(8);
  /** Instruction count at entry (MTF: exit once an instruction completed). */
  entryIcount = 0;
  /**
   * An MTF VM exit is pending without an instruction having completed (SDM §25.5.2): after
   * the delivery of an injected event, of an event delivered before the first instruction,
   * or of a fault the first instruction caused; or because the entry injected a pending MTF
   * VM exit (interruption type 7, whatever the "monitor trap flag" control).
   */
  mtfPending = false;
  /** The last entry checked fields the exit may clear or rewrite (injection, pending debug exceptions). */
  entryHadExtras = false;
  /** The guest executed a WRMSR that did not exit (or an MSR list ran): MSRs may differ from the VMCS. */
  guestMsrWritten = true;
  /** What the last transitions stored in the MSRs they load (skips stores of unchanged values). */
  readonly msrs = new TransitionMsrs();
  /** Decoded host state and guest segment registers the transitions load (state-cache.ts). */
  readonly stateCache = new TransitionStateCache();
  /** An INIT arrived in VMX operation: blocked in root operation, a VM exit in non-root operation (signals.ts). */
  initLatched = false;
  /** The vector of a SIPI that arrived in the guest's wait-for-SIPI state, until its VM exit; -1: none (signals.ts). */
  sipiVector = -1;

  /**
   * The event being delivered through the guest IDT (IDT-vectoring information format, valid
   * bit set), its error code and, for software events, instruction length: an exit before the
   * delivery completes reports it (SDM §27.2.4). 0 when no delivery is under way.
   */
  vectoringInfo = 0;
  vectoringError = 0;
  vectoringLen = 0;
  /**
   * The guest's CR2. CR2 is not part of the VMCS; the CPU writes the faulting address to it
   * before deciding whether a #PF exits, and a #PF VM exit must leave it unchanged (SDM
   * §27.1), so the exit puts this value back.
   */
  guestCr2 = 0;

  // ---- exit information being assembled (vm-exit.ts) ----
  exitQualLo = 0;
  exitQualHi = 0;
  exitGuestLinear = 0;
  exitGuestPhysical = 0;
  exitInstrLen = 0;
  exitInstrInfo = 0;
  exitIntrInfo = 0;
  exitIntrError = 0;

  // ---- for tools ----
  /** TSC cycles per VMX-preemption-timer tick: 2^IA32_VMX_MISC[4:0] (SDM §25.5.1). */
  readonly timerTicks = 2 ** PREEMPTION_TIMER_RATE;
  /** Non-zero after a VMX abort (SDM §27.7): the indicator. */
  abortIndicator = 0;
  /** The last VM exit (undefined before the first): kept as numbers, an object only when asked for. */
  private exitEvent: VmExitEvent | undefined = undefined;
  private exitSeen = false;
  private exitReasonField = 0;
  private exitQualLoSeen = 0;
  private exitQualHiSeen = 0;
  private exitIntrInfoSeen = 0;
  private exitRipSeen = 0;
  private exitLenSeen = 0;
  private exitTscSeen = 0;
  private exitMessage: string | undefined = undefined;
  /** The last VM-entry failure (VMfailValid 7/8 or exit 33/34), with the failing check. */
  lastEntryFailure: VmEntryFailureRecord | undefined = undefined;
  /** VM exits per basic reason. */
  readonly exitCounts = new Float64Array(128);
  /** Virtual-TSC cycles spent in root operation after an exit, per basic reason (until the next entry, or until VMCLEAR of the current VMCS). */
  readonly rootCycles = new Float64Array(128);
  entries = 0;
  /** Reason and TSC of the last exit, for rootCycles. */
  lastExitReason = -1;
  lastExitTsc = 0;
  onExit: ((e: VmExitEvent) => void) | undefined = undefined;
  onEntry: ((e: VmEntryEvent) => void) | undefined = undefined;

  /** Scratch for the entry checks' facts (no allocation per entry). */
  readonly entryFacts = { hostLma: false, currentVmcsLo: 0, currentVmcsHi: 0 };
  /** Physical memory as the entry checks read it. */
  readonly physReader: { readPhys32(address: number): number };
  /** The non-root hooks installed on the CPU at VM entry (non-root.ts). */
  readonly eventFilter: (kind: number, vector: number, errorCode: number, returnRip: number) => boolean;
  readonly service: () => boolean;
  readonly eventDelivered: () => void;

  constructor(readonly cpu: Cpu) {
    this.vmcs = new CurrentVmcs(cpu.mem);
    this.mmu = cpu.mmu instanceof Mmu ? cpu.mmu : undefined;
    this.ept = new EptTranslator(this);
    this.rootHandlers = cpu.handlers;
    this.nonRootHandlers = buildNonRootHandlers(this, this.rootHandlers);
    const vmcs = this.vmcs;
    this.physReader = { readPhys32: (a) => vmcs.read32(a) };
    this.eventFilter = makeEventFilter(this);
    this.service = makeService(this);
    this.eventDelivered = () => {
      this.vectoringInfo = 0;
      if ((this.proc & CPU_MTF) !== 0) {
        this.mtfPending = true; // MTF exits on the boundary after the delivery (SDM §25.5.2)
        cpu.attention = true;
      }
    };
  }

  // ---- hooks the CPU calls (cpu.ts, msrs.ts, handlers/system.ts) ----

  /** RDMSR of a VMX capability MSR (discovery.ts); false for other MSRs. */
  readMsr(index: number): boolean {
    return readVmxMsr(this.cpu, index);
  }

  /** WRMSR: #GP for the read-only capability MSRs. */
  writeMsr(index: number): void {
    writeVmxMsr(index);
    this.msrs.forget(); // called for every WRMSR of an MSR the CPU stores (msrs.ts), SYSENTER and PAT among them
  }

  /** MOV to CR0/CR4 in VMX operation: the fixed bits (SDM §23.8). */
  checkCrWrite(cr: number, value: number): void {
    checkFixedCrBits(this, cr, value);
  }

  /** A triple fault in non-root operation: VM exit (reason 2). */
  tripleFault(): void {
    tripleFaultExit(this);
  }

  /**
   * The CPU halted: the TSC value at which the VMX-preemption timer ends the halt with a VM
   * exit, or Infinity. In non-root operation the timer counts down in the HLT state as in the
   * active state (SDM §25.5.1), so a guest HLT with IF=0 still ends in exit reason 52.
   */
  haltTimerDeadline(): number {
    return this.nonRoot ? this.timerDeadline : Infinity;
  }

  /**
   * The CPU halted: an external interrupt ends the halt with a VM exit whatever RFLAGS.IF is
   * ("external-interrupt exiting" in non-root operation, SDM §25.2). NMIs need no such
   * question: they end a halt in either case (NMI exiting or delivery through the guest IDT).
   */
  interruptsExit(): boolean {
    return this.nonRoot && (this.pin & PIN_EXT_INTR) !== 0;
  }

  /** The virtual TSC (the CPU's clock, or the instruction count without one). */
  tscNow(): number {
    const t = this.cpu.tsc as (TscSource & { tsc?: () => number }) | undefined;
    if (t === undefined) return this.cpu.icount;
    // The machine's clock has the whole value as one number; other sources give halves.
    return t.tsc !== undefined ? t.tsc() : (t.tscHigh() >>> 0) * 4294967296 + (t.tscLow() >>> 0);
  }

  /** Is there a current VMCS (SDM §24.1: the pointer is not FFFFFFFF_FFFFFFFFH)? */
  get hasCurrentVmcs(): boolean {
    return this.vmcs.base >= 0;
  }

  /** Records a finished VM exit for tools and tells the listener (vm-exit.ts); allocates only for a listener. */
  recordExit(exitReason: number, guestRip: number, tsc: number, message: string | undefined): void {
    this.exitSeen = true;
    this.exitEvent = undefined;
    this.exitReasonField = exitReason;
    this.exitQualLoSeen = this.exitQualLo;
    this.exitQualHiSeen = this.exitQualHi;
    this.exitIntrInfoSeen = this.exitIntrInfo;
    this.exitRipSeen = guestRip;
    this.exitLenSeen = this.exitInstrLen;
    this.exitTscSeen = tsc;
    this.exitMessage = message;
    if (this.onExit !== undefined) this.onExit(this.lastExit!);
  }

  /** The last VM exit (undefined before the first). */
  get lastExit(): VmExitEvent | undefined {
    if (!this.exitSeen) return undefined;
    return this.exitEvent ??= {
      exitReason: this.exitReasonField, qualificationLo: this.exitQualLoSeen, qualificationHi: this.exitQualHiSeen,
      interruptionInfo: this.exitIntrInfoSeen, guestRip: this.exitRipSeen, instructionLength: this.exitLenSeen,
      tsc: this.exitTscSeen, message: this.exitMessage,
    };
  }

  /**
   * The current VMCS region was changed behind VMWRITE's back (a debugger's edit), or another
   * VMCS became current (VMPTRLD, VMCLEAR, VMXON, VMXOFF): re-decode and re-check it.
   */
  vmcsChanged(): void {
    this.checker.invalidate();
    this.stateCache.invalidate();
    this.controlsDirty = true;
  }

  /** Forget everything (processor reset, SDM §23.7: RESET leaves VMX operation). */
  reset(): void {
    const c = this.cpu;
    c.handlers = this.rootHandlers;
    c.eventFilter = undefined;
    c.eventDelivered = undefined;
    c.nonRootService = undefined;
    setNested(c, null);
    this.timerDeadline = Infinity;
    this.inVmx = false;
    this.nonRoot = false;
    this.initLatched = false;
    this.sipiVector = -1;
    this.vmxonPtr = -1;
    this.vmcs.base = -1;
    this.lastEntryFailure = undefined;
    this.exitSeen = false;
    this.exitEvent = undefined;
    this.msrs.forget();
    this.vmcsChanged();
  }
}

/** Gives `cpu` VMX (CPUID.1:ECX.VMX = 1, capability MSRs, VMX instructions); returns its state. */
export function attachVmx(cpu: Cpu): Vmx {
  const v = new Vmx(cpu);
  cpu.vmx = v;
  cpu.vmxAvailable = true;
  return v;
}
