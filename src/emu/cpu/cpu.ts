// The x86-64 interpreter: fetch through the decoded-instruction cache, dispatch through one
// dense handler array, commit RIP after the handler returns, catch guest faults in one place.
//
// ## Execution model (DESIGN.md "Designing for speed" 1, 5, 6)
// - Decoded-instruction cache keyed by PHYSICAL address: icache[pfn][offset] holds the
//   DecodedInsn the decoder produced for the bytes there (in the decode mode recorded in the
//   instruction). Frames we decode from are marked in PhysicalMemory (markCode), which sends
//   every later write to them through onCodeWrite: the CPU then drops the frame's cache
//   (self-modifying code, loaders, the debugger's breakpoint writes all go through it).
//   Instructions that cross a page boundary are decoded every time and never cached.
//   The fetch window (fetchRipBase/fetchPage) remembers the current code page so that the
//   common case, the next instruction on the same page, costs one subtraction, one compare
//   and an array load; it is invalidated on anything that can change the mapping.
// - Breakpoints cost nothing on pages without one: fetchSlow, which every change of code page
//   goes through, stops at a breakpoint's RIP, and on a page holding breakpoints makes the
//   fetch window a copy of the page's array with their slots empty, so that only those
//   instructions leave the fast path (the debugger's breakpoints, not the guest's INT3).
// - Handlers: `handlers[d.entry](cpu, d)`, one per OPCODES entry (decoder entry = handler
//   index), plus one at the end for invalid encodings (#UD). Handlers read `nextRip`, write it
//   for branches, and throw CpuFault; `rip = nextRip` only after they return (precise faults).
// - run(budget) executes up to `budget` instructions and returns a StopReason; anything that
//   needs the loop's attention between instructions (an interrupt may have become pending, a
//   HLT, a stop request) sets `attention`, which the inner loop tests once per instruction.
//   `attentionAt` does the same at a given instruction count (the VMX-preemption timer).
// - Debug exceptions (debug.ts): while RFLAGS.TF or RF is set or an instruction breakpoint is
//   enabled, run() uses a second inner loop, executeDebug, with the per-instruction checks;
//   pending #DB traps are delivered by service(). The common loop has no check for them.
//
// ## Hooks for VMX non-root operation (issue 4)
// Two costs must stay zero in root mode and small in non-root mode:
// 1. Instructions that exit under a control: `handlers` is an instance field, not a module
//    constant. VM entry installs a second array built from the root one (ROOT_HANDLERS): for
//    every entry whose instruction can exit (the vmx table "instruction X exits when control
//    Y is set" lists them by mnemonic), the slot gets a wrapper that tests the control bits
//    (already decoded from the VMCS at entry) and throws a VmExit, or falls through to the
//    root handler. Entries that cannot exit keep the root handler, so ordinary guest code runs
//    exactly as fast as in root mode; VM exit puts ROOT_HANDLERS back. Because the arrays are
//    swapped per entry, changes of the controls take effect at the next VM entry, as on hardware.
//    Unconditionally exiting instructions (CPUID, INVD, VMX instructions) get wrappers too.
// 2. Events: every exception and interrupt goes through `deliverEvent` (exceptions.ts), which
//    first consults `eventFilter` when set (non-root mode: exception bitmap, external-interrupt
//    exiting, NMI exiting, triple fault) and otherwise delivers through the IDT. The interrupt
//    window / NMI window / preemption timer / MTF checks hang off `attention`, which the VMX
//    code sets at VM entry when any of those controls is on.
import { PhysicalMemory } from '../memory/physical-memory';
import { decode, DecodedInsn, PFX_LOCK, PFX_OPSIZE, type DecodeMode } from './decoder';
import { CpuMemory } from './cpu-memory';
import { BREAKPOINT_VECTOR, CpuFault, GP, VMEXIT_VECTOR } from './fault';
import type { Vmx } from '../vmx/vmx';
import { IF, RF, TF, VM } from './flags';
import { debugRegistersChanged, deliverDebugTraps, instructionBreakpoints, ioBreakpoints, singleStep } from './debug';
import { compileBlock, HOT_COUNT, type Block } from './blocks';
import { buildHandlers, INVALID_ENTRY, isLockable, isNearBranchJz, type Handler } from './handlers/index';
import { deliverEvent, EVENT_EXCEPTION, EVENT_EXTINT, EVENT_NMI } from './exceptions';
import {
  AR_DB, AR_L, CS, CR0_PE, EFER_LMA, MODE_COMPAT, MODE_LONG64, MODE_PROTECTED, MODE_REAL, MODE_V8086, SS, AR_P, AR_S,
  AR_TYPE_RW, AR_TYPE_ACCESSED, AR_TYPE_CODE, LDTR, TR,
} from './state';
import { ACC_EXEC, type Translator } from './translator';
import { resetMsrs, type MsrDevice } from './msrs';

/** Why run() returned. */
export type StopReason = 'budget' | 'halt' | 'exception' | 'triple-fault' | 'stop' | 'breakpoint';

/** Port I/O as the CPU sees it (IoBus implements it). */
export interface PortIo {
  in(port: number, size: 1 | 2 | 4): number;
  out(port: number, size: 1 | 2 | 4, value: number): void;
}

/** Interrupt inputs as the CPU sees them (InterruptHub implements it). */
export interface InterruptInputs {
  readonly intrPending: boolean;
  readonly nmiPending: boolean;
  acknowledge(): number;
  acknowledgeNmi(): void;
}

/** Handlers for the root (non-VMX or VMX root) operation; shared by every CPU. */
const ROOT_HANDLERS: readonly Handler[] = buildHandlers();
const NEAR_JZ = isNearBranchJz();
const LOCKABLE = isLockable();

const CACHE_PAGE = 4096;
/**
 * Most code pages the decoded-instruction cache holds at once; beyond that it starts over
 * (as Bochs flushes its icache), so code that wanders through memory cannot exhaust the heap.
 */
const MAX_CODE_PAGES = 256;
const NO_BREAKPOINTS: ReadonlySet<number> = new Set<number>();
const noBlock = (): void => undefined;

/**
 * The local APIC's parts that are wired into the core rather than reached through MMIO or
 * MSRs: the TPR behind CR8 (SDM Vol. 3 §10.8.6.1: CR8[3:0] = TPR[7:4]), the global enable
 * bit that CPUID.01H:EDX.APIC reflects (§10.4.3), and the optional features CPUID advertises.
 */
export interface CpuApic {
  /** IA32_APIC_BASE[11]. */
  readonly hardwareEnabled: boolean;
  /** x2APIC mode can be entered (CPUID.01H:ECX[21]). */
  readonly x2apicSupported: boolean;
  /** The timer has TSC-deadline mode (CPUID.01H:ECX[24]). */
  readonly tscDeadlineSupported: boolean;
  readTpr(): number;
  writeTpr(value: number): void;
}

/** The TSC as the CPU reads (RDTSC, IA32_TSC) and writes it (WRMSR IA32_TSC); the Clock implements it. */
export interface TscSource {
  tscLow(): number;
  tscHigh(): number;
  setTsc?(lo: number, hi: number): void;
}

export interface CpuOptions {
  io?: PortIo;
  interrupts?: InterruptInputs;
  /** Time-stamp counter source: current TSC as int32 halves (the machine's Clock). */
  tsc?: TscSource;
}

export class Cpu extends CpuMemory {
  /** The dispatch array in use (ROOT_HANDLERS, or a VMX non-root array, see the module comment). */
  handlers: readonly Handler[] = ROOT_HANDLERS;
  /** Instructions retired since creation. */
  icount = 0;
  /** Stop with 'exception' instead of delivering a fault (differential tests, "break on exception"). */
  stopOnException = false;
  /** The last fault raised (for 'exception' and 'triple-fault' stops, and traces). */
  lastFault: CpuFault | undefined = undefined;
  /** Chain of vectors that led to a triple fault (for the shutdown message). */
  readonly faultChain: number[] = [];
  io: PortIo | undefined;
  interrupts: InterruptInputs | undefined;
  tsc: TscSource | undefined;
  /** MSRs owned by devices (local APIC, clock), asked before the CPU's own (msrs.ts). */
  msrDevice: MsrDevice | undefined = undefined;
  /** The local APIC as the CPU itself sees it (CR8, CPUID); undefined: CR8 is a plain register. */
  apic: CpuApic | undefined = undefined;
  /**
   * Called at the start of every event delivery, before the VMX event filter (traces: one
   * call per exception or interrupt, none per instruction). `rip` and `cs` are the current
   * ones: the faulting instruction, the INT n, or where an interrupt arrives; errorCode is -1
   * when the event has none.
   */
  onEvent: ((kind: number, vector: number, errorCode: number, rip: number, cs: number) => void) | undefined = undefined;
  /** Local APIC ID reported by CPUID. */
  apicId = 0;
  /** Logical processors of the machine, as CPUID.01H:EBX[23:16] reports them (machine/processor.ts). */
  logicalProcessors = 1;
  /**
   * The other logical processors sharing this memory (SMP, machine/processor.ts). Decoded code is
   * cached per processor but marked per frame in the shared memory: a frame one of them marks
   * as code loses every processor's write fast path, and only the last one to drop its
   * decoded copy lets writes take the fast path again.
   */
  peers: readonly Cpu[] = [];
  /** CPUID.1:ECX.VMX, set by the VMX implementation. */
  vmxAvailable = false;
  /** VMX (issue 4, src/emu/vmx/vmx.ts attachVmx); undefined: VMX instructions raise #UD. */
  vmx: Vmx | undefined = undefined;
  /** VMX non-root: consulted by deliverEvent for every event; true = it caused a VM exit instead. */
  eventFilter: ((kind: number, vector: number, errorCode: number, returnRip: number) => boolean) | undefined = undefined;
  /** VMX non-root: deliverEvent finished delivering an event the filter let through. */
  eventDelivered: (() => void) | undefined = undefined;
  /** VMX non-root: checks between instructions (windows, preemption timer, MTF, exiting interrupts); true = a VM exit happened. */
  nonRootService: (() => boolean) | undefined = undefined;
  /**
   * Instruction count at which the run loop looks between instructions even without
   * `attention` (the VMX-preemption timer's earliest possible expiry); every look resets it to
   * Infinity and whoever needs it sets it again, always above icount.
   */
  attentionAt = Infinity;
  /** The interrupt shadow comes from MOV SS / POP SS, not STI (VMX interruptibility state, VMLAUNCH error 26). */
  movSsShadow = false;
  /** icount of the instruction that runs inside the interrupt shadow service() just consumed (VMX needs "this instruction is shadowed"). */
  shadowIcount = -1;
  /**
   * Debugger breakpoints: RIP values to stop before (run() returns 'breakpoint' with RIP at
   * the instruction; the next run executes it). The set may change between runs; see the
   * module comment for how pages without breakpoints keep the fast path.
   */
  breakpoints: ReadonlySet<number> = NO_BREAKPOINTS;
  /**
   * Hot straight-line code runs as compiled blocks (blocks.ts); `blockThreshold` is how often
   * the loop starts at an instruction before it compiles one from there (tests set 1 to
   * compile everything they run, or turn blocks off to compare with the plain loop).
   */
  blocksEnabled = true;
  blockThreshold = HOT_COUNT;
  /** Blocks compiled so far (statistics, tests). */
  blocksCompiled = 0;
  /** The breakpoint last reported, as RIP and icount: the run that resumes there executes it. */
  private breakpointRip = NaN;
  private breakpointIcount = -1;
  /** On a page with breakpoints, the fetch window is this copy of the page's array without them. */
  private breakpointView: (DecodedInsn | undefined)[] | undefined = undefined;
  /** The icache page the view copies (undefined: no valid view) and the RIP of the page's first byte. */
  private breakpointViewOf: (DecodedInsn | undefined)[] | undefined = undefined;
  private breakpointViewBase = NaN;
  /** Set by stop(): run() returns 'stop' before the next instruction. */
  private stopRequested = false;
  private pendingStop: StopReason | undefined = undefined;

  // ---- decoded-instruction cache ----
  private readonly icache: ((DecodedInsn | undefined)[] | undefined)[] = [];
  private readonly pagePool: (DecodedInsn | undefined)[][] = [];
  private readonly codePages: number[] = [];
  private readonly scratch = new Uint8Array(16);
  private readonly crossInsn = new DecodedInsn();
  private readonly invalidInsn = new DecodedInsn();

  constructor(mem: PhysicalMemory, mmu: Translator, opts: CpuOptions = {}) {
    super(mem, mmu);
    this.io = opts.io;
    this.interrupts = opts.interrupts;
    this.tsc = opts.tsc;
    mem.onCodeWrite = (pfn) => this.dropCodePage(pfn);
    this.reset();
  }

  /** Power-up / RESET state (SDM Vol. 3 §9.1.1, Table 9-1). */
  reset(): void {
    this.regs.fill(0);
    this.regs[4] = 0x600; // EDX: family/model/stepping signature (matches CPUID leaf 1 EAX's low bits)
    this.flagsVal = 2;
    this.lazyMask = 0;
    this.rip = 0xfff0;
    for (let s = 0; s < 6; s++) this.loadSegmentCache(s, 0, 0, 0, 0xffff, AR_P | AR_S | AR_TYPE_RW | AR_TYPE_ACCESSED);
    this.loadSegmentCache(CS, 0xf000, 0xffff0000 | 0, 0, 0xffff, AR_P | AR_S | AR_TYPE_CODE | AR_TYPE_RW | AR_TYPE_ACCESSED);
    this.loadSegmentCache(LDTR, 0, 0, 0, 0xffff, AR_P | 2);
    this.loadSegmentCache(TR, 0, 0, 0, 0xffff, AR_P | 11);
    this.gdtrBase = 0; this.gdtrLimit = 0xffff;
    this.idtrBase = 0; this.idtrLimit = 0xffff;
    this.cr0 = 0x60000010; this.cr2 = 0; this.cr3Lo = 0; this.cr3Hi = 0; this.cr4 = 0; this.cr8 = 0;
    this.efer = 0;
    this.dr.fill(0); this.dr6 = 0xffff0ff0; this.dr7 = 0x400;
    this.debug.pending = 0;
    debugRegistersChanged(this);
    this.halted = false;
    this.waitForSipi = false;
    this.interruptShadow = false;
    this.nmiBlocked = false;
    this.iretUnblocksNmi = true;
    this.faultChain.length = 0;
    this.fpu.reset();
    resetMsrs(this);
    this.vmx?.reset(); // RESET leaves VMX operation (SDM Vol. 3C §23.7)
    this.pagingChanged(true);
  }

  // ---- state changes that affect decoding, translation or the mode ----------------------------

  /**
   * Counts loadSegmentCache calls: a VM exit saves the guest's segment registers only when one
   * was loaded since the VM entry (vm-exit.ts; WRMSR and SWAPGS change FS/GS bases without
   * it, and the exit always saves those).
   */
  segmentLoads = 0;

  /**
   * Loads a segment register's selector and hidden part directly (reset, VM entry, tests,
   * loaders). `modeLater`: the caller loads CS next, which recomputes the mode (VM entries and
   * exits load SS then CS: one updateMode instead of two).
   */
  loadSegmentCache(seg: number, sel: number, baseLo: number, baseHi: number, limit: number, ar: number, modeLater = false): void {
    this.segmentLoads++;
    this.segSel[seg] = sel & 0xffff;
    this.segBaseLo[seg] = baseLo | 0;
    this.segBaseHi[seg] = baseHi | 0;
    this.segLimit[seg] = limit >>> 0;
    this.segAr[seg] = ar;
    if ((seg === CS || seg === SS) && !modeLater) this.updateMode();
  }

  /** Recomputes the operating mode, code size, stack size and CPL (SDM Vol. 3 §2.2, §5.5). */
  updateMode(): void {
    const oldCpl = this.cpl;
    const csAr = this.segAr[CS];
    if ((this.cr0 & CR0_PE) === 0) {
      this.mode = MODE_REAL; this.codeBits = (csAr & AR_DB) !== 0 ? 32 : 16; this.cpl = 0;
    } else if ((this.flagsVal & VM) !== 0) {
      this.mode = MODE_V8086; this.codeBits = 16; this.cpl = 3;
    } else {
      this.cpl = (this.segAr[SS] >> 5) & 3;
      if ((this.efer & EFER_LMA) !== 0 && (csAr & AR_L) !== 0) { this.mode = MODE_LONG64; this.codeBits = 64; }
      else {
        this.mode = (this.efer & EFER_LMA) !== 0 ? MODE_COMPAT : MODE_PROTECTED;
        this.codeBits = (csAr & AR_DB) !== 0 ? 32 : 16;
      }
    }
    this.long64 = this.mode === MODE_LONG64;
    this.stackSize = this.long64 ? 8 : (this.segAr[SS] & AR_DB) !== 0 && this.mode !== MODE_V8086 ? 4 : 2;
    if (this.cpl !== oldCpl) this.cplChanged(oldCpl);
    this.fetchRipBase = NaN;
    this.updateAlignmentCheck(); // CPL or CR0.AM may have changed (alignment.ts)
  }

  /**
   * CR0/CR3/CR4/EFER changed: tell the MMU (which flushes its TLB as the SDM says for what
   * changed; `cr3Loaded` for MOV to CR3 and whole-state loads), drop cached translations,
   * recompute the mode. `pdptes`: PAE PDPTE values to load instead of reading memory
   * (Translator.setPagingState).
   */
  pagingChanged(cr3Loaded = false, pdptes?: Int32Array): void {
    this.mmu.setPagingState(this.cr0, this.cr3Lo, this.cr3Hi, this.cr4, this.efer, cr3Loaded, pdptes);
    this.flushSoftTlb();
    this.updateMode();
  }

  /** Drops cached translations after an MMU flush (MOV CR3, INVLPG, ...); the caller flushed the MMU. */
  translationsChanged(): void {
    this.flushSoftTlb();
    this.fetchRipBase = NaN;
  }

  // ---- the decoded-instruction cache ---------------------------------------------------------

  /** A write reached code frame `pfn` (PhysicalMemory.onCodeWrite): drop what was decoded from it. */
  dropCodePage(pfn: number): void {
    this.recyclePage(pfn);
    this.releaseCodePage(pfn);
    this.fetchRipBase = NaN;
    const i = this.codePages.indexOf(pfn);
    if (i >= 0) this.codePages.splice(i, 1);
  }

  /** Writes to `pfn` may take the fast path again, unless another processor still holds code decoded from it. */
  private releaseCodePage(pfn: number): void {
    for (const p of this.peers) if (p.icache[pfn] !== undefined) return;
    this.mem.clearCode(pfn);
  }

  /** Empties a frame's decoded-instruction array and keeps it for reuse (code rewritten often, e.g. by loaders, costs no garbage). */
  private recyclePage(pfn: number): void {
    const page = this.icache[pfn];
    if (page === undefined) return;
    if (page === this.breakpointViewOf) this.breakpointViewOf = undefined;
    this.icache[pfn] = undefined;
    this.forgetFetchWindows(page);
    page.fill(undefined);
    if (this.pagePool.length < 16) this.pagePool.push(page);
  }

  /** Drops every decoded instruction (cache full, or the debugger rewrote memory wholesale). */
  flushDecodeCache(): void {
    for (const pfn of this.codePages) {
      this.recyclePage(pfn);
      this.releaseCodePage(pfn);
    }
    this.codePages.length = 0;
    this.fetchRipBase = NaN;
  }

  /** The decoded instruction at RIP (fault: #PF on fetch, #GP beyond the CS limit). */
  fetch(): DecodedInsn {
    const off = this.rip - this.fetchRipBase;
    if (off >= 0 && off < CACHE_PAGE) {
      const d = this.fetchPage[off | 0];
      if (d !== undefined && d.mode === this.codeBits) return d;
    }
    return this.fetchSlow();
  }

  private fetchSlow(): DecodedInsn {
    const rip = this.rip;
    const breakpoints = this.breakpoints.size !== 0;
    if (breakpoints && this.breakpoints.has(rip)) this.breakpointHit(rip);
    let lo: number, hi: number;
    if (this.long64) {
      lo = rip | 0;
      hi = Math.floor(rip / 4294967296) | 0;
    } else {
      if (rip > this.segLimit[CS]) throw new CpuFault(GP, 0, 'instruction fetch beyond the CS limit');
      lo = (rip + this.segBaseLo[CS]) | 0;
      hi = 0;
    }
    const phys = this.translate(lo, hi, ACC_EXEC, this.cpl);
    const mode = this.codeBits as DecodeMode;
    const pageOff = lo & 0xfff;
    const pfn = Math.floor(phys / 4096);
    const bytes = phys < 4294967296 ? this.mem.pageForRead(pfn) : undefined;
    if (bytes === undefined) {
      // MMIO or nothing: decode from bytes read through the bus, never cached.
      for (let k = 0; k < 15; k++) this.scratch[k] = phys + k < 4294967296 ? this.mem.read8(phys + k) : 0xff;
      this.fetchRipBase = NaN;
      return this.finishDecode(this.scratch.subarray(0, 15), 0, mode, this.crossInsn, false);
    }
    let page = this.icache[pfn];
    if (page === undefined) {
      if (this.codePages.length >= MAX_CODE_PAGES) this.flushDecodeCache();
      page = this.pagePool.pop() ?? new Array<DecodedInsn | undefined>(CACHE_PAGE).fill(undefined);
      this.icache[pfn] = page;
      this.codePages.push(pfn);
      this.mem.markCode(pfn);
      this.dropWritePfn(pfn);
      for (const p of this.peers) p.dropWritePfn(pfn);
    }
    this.fetchPage = page;
    this.fetchRipBase = rip - pageOff;
    if (breakpoints) this.breakpointWindow(page, rip - pageOff);
    else this.keepFetchWindow();
    let d = page[pageOff];
    if (d !== undefined && d.mode === mode) {
      // Decoded before; only the fetch window had closed (a VM entry or exit, a TLB flush).
      if (this.fetchPage !== page && !this.breakpoints.has(rip)) this.fetchPage[pageOff] = d;
      return d;
    }
    // A new object even when the slot held this instruction decoded in another mode: cached
    // instructions never change, which is what lets blocks (blocks.ts) hold on to them.
    d = new DecodedInsn();
    page[pageOff] = d;
    if (pageOff <= 4096 - 15) {
      const r = this.finishDecode(bytes, pageOff, mode, d, false);
      if (this.fetchPage !== page && !this.breakpoints.has(rip)) this.fetchPage[pageOff] = r;
      return r;
    }
    const n = 4096 - pageOff;
    const buf = this.scratch.subarray(0, n);
    buf.set(bytes.subarray(pageOff));
    const r = this.finishDecode(buf, 0, mode, d, true);
    if (r !== this.invalidInsn) return r;
    // The instruction may continue on the next page: fetch it (its #PF is the instruction's).
    page[pageOff] = undefined;
    const nlo = (lo + n) | 0;
    const nhi = this.long64 && (lo >>> 0) + n > 0xffffffff ? (hi + 1) | 0 : hi;
    const phys2 = this.translate(nlo, nhi, ACC_EXEC, this.cpl);
    for (let k = 0; k < 15 - n; k++) this.scratch[n + k] = this.mem.read8(phys2 + k);
    return this.finishDecode(this.scratch.subarray(0, 15), 0, mode, this.crossInsn, false);
  }

  /** A breakpoint at `rip`: stop, unless this is the run resuming from it (same RIP, nothing retired since). */
  private breakpointHit(rip: number): void {
    if (rip === this.breakpointRip && this.icount === this.breakpointIcount) return;
    this.breakpointRip = rip;
    this.breakpointIcount = this.icount;
    throw new CpuFault(BREAKPOINT_VECTOR, -1, 'breakpoint');
  }

  /** The fetch window of a page with breakpoints (RIPs base..base+4095): the page's array minus their slots. */
  private breakpointWindow(page: (DecodedInsn | undefined)[], base: number): void {
    if (this.breakpointViewOf === page && this.breakpointViewBase === base) {
      this.fetchPage = this.breakpointView!;
      return;
    }
    let view: (DecodedInsn | undefined)[] | undefined;
    for (const b of this.breakpoints) {
      const off = b - base;
      if (off < 0 || off >= CACHE_PAGE) continue;
      if (view === undefined) {
        view = this.breakpointView ??= new Array<DecodedInsn | undefined>(CACHE_PAGE);
        for (let k = 0; k < CACHE_PAGE; k++) view[k] = page[k];
      }
      view[off] = undefined;
    }
    if (view === undefined) return;
    this.breakpointViewOf = page;
    this.breakpointViewBase = base;
    this.fetchPage = view;
  }

  /**
   * Decodes into `d` and applies what the table-driven decoder leaves to the CPU: Intel's
   * treatment of 66 on near branches in 64-bit mode (ignored: operand size 64, rel32; SDM
   * Vol. 2 JMP/CALL/Jcc "64-bit mode"; the shared decoder follows objdump's AMD reading, so
   * such bytes are re-decoded with the 66 prefixes replaced by a null segment prefix, which
   * changes no length), and LOCK validity (#UD, SDM Vol. 2 LOCK). Returns the invalid
   * instruction marker (entry INVALID_ENTRY) for undecodable bytes; when `maybeShort`, that
   * result is not final (more bytes may follow on the next page).
   */
  private finishDecode(buf: Uint8Array, off: number, mode: DecodeMode, d: DecodedInsn, maybeShort: boolean): DecodedInsn {
    if (!decode(buf, off, mode, d)) {
      if (maybeShort) return this.invalidInsn;
      d.entry = INVALID_ENTRY;
      d.mode = mode;
      return d;
    }
    if (mode === 64 && (d.prefixes & PFX_OPSIZE) !== 0 && NEAR_JZ[d.entry] !== 0) {
      const n = Math.min(15, buf.length - off);
      const copy = this.scratch.subarray(0, n);
      copy.set(buf.subarray(off, off + n));
      for (let k = 0; k < d.prefixLength; k++) if (copy[k] === 0x66) copy[k] = 0x2e;
      decode(copy, 0, mode, d);
    }
    if ((d.prefixes & PFX_LOCK) !== 0 && (LOCKABLE[d.entry] === 0 || d.mod === 3)) d.entry = INVALID_ENTRY;
    return d;
  }

  // ---- running ---------------------------------------------------------------------------------

  /** Asks run() to return 'stop' before the next instruction (safe to call from device callbacks). */
  stop(): void {
    this.stopRequested = true;
    this.attention = true;
  }

  /** Executes at most `budget` instructions. */
  run(budget: number): StopReason {
    const limit = this.icount + budget;
    this.attention = true;
    this.syncSoftTlb(); // the debugger or VMX code may have flushed the MMU between slices
    this.updateAlignmentCheck(); // tools may have edited RFLAGS.AC between slices
    if (this.breakpoints.size !== 0 || this.breakpointViewOf !== undefined) {
      // Breakpoints may have changed since the last run: look at the page again.
      this.breakpointViewOf = undefined;
      this.fetchRipBase = NaN;
      this.forgetFetchWindows(undefined); // a bank's window may hold a slot that now has one
    }
    for (;;) {
      if (this.attention || this.icount >= this.attentionAt) {
        const r = this.service();
        if (r !== undefined) return r;
      }
      if (this.icount >= limit) return 'budget';
      const until = this.attentionAt < limit ? this.attentionAt : limit;
      try {
        // RFLAGS.TF/RF and instruction breakpoints need per-instruction checks: a loop of their
        // own, so that the common loop pays nothing for them (TF/RF changes and MOV DR set attention).
        if ((this.flagsVal & (TF | RF)) !== 0 || this.debug.execEnabled !== 0) this.executeDebug(until);
        else this.execute(until);
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        const r = this.fault(e);
        if (r !== undefined) return r;
      }
    }
  }

  /** Executes exactly one instruction (or delivers one pending event); for stepping. */
  step(): StopReason {
    return this.run(1);
  }

  /** The inner loop: the hot path. */
  private execute(limit: number): void {
    const handlers = this.handlers;
    const blocks = this.blocksEnabled;
    const breakpoints = this.breakpoints.size !== 0;
    while (this.icount < limit) {
      const d = this.fetch();
      if (blocks) {
        let b = d.block;
        if ((b === undefined || b.handlers !== handlers) && ++d.starts >= this.blockThreshold) b = this.compileBlockAt(d, handlers);
        if (b !== undefined && b.handlers === handlers && this.icount + b.count <= limit && !(breakpoints && this.breakpointInside(b))) {
          b.code(this, b.insns);
          if (this.attention) return;
          continue;
        }
      }
      this.nextRip = this.rip + d.length;
      handlers[d.entry](this, d);
      this.rip = this.nextRip;
      this.icount++;
      if (this.attention) return;
    }
  }

  /** A debugger breakpoint on an instruction of block `b` after its first (fetch stops at the first one): it must run instruction by instruction. */
  private breakpointInside(b: Block): boolean {
    const start = this.rip;
    for (const a of this.breakpoints) if (a > start && a < start + b.bytes) return true;
    return false;
  }

  /** Compiles the block that starts with `d` (just fetched through the fetch window) for `handlers`, if it is cached. */
  private compileBlockAt(d: DecodedInsn, handlers: readonly Handler[]): Block | undefined {
    d.starts = 0; // a block for another handler array is compiled when that one gets hot again
    const off = this.rip - this.fetchRipBase;
    if (!(off >= 0 && off < CACHE_PAGE) || this.fetchPage[off] !== d) return undefined;
    const block = compileBlock(this.fetchPage, off, d, handlers, ROOT_HANDLERS);
    if (block !== undefined) this.blocksCompiled++;
    // Too short for a block: remember that for this handler array (count Infinity never fits a budget).
    d.block = block ?? { handlers, count: Infinity, bytes: 0, code: noBlock, insns: [] };
    return d.block;
  }

  /**
   * The inner loop while RFLAGS.TF or RF is set or an instruction breakpoint is enabled
   * (debug.ts): instruction breakpoints before each instruction unless RF suppresses them, RF
   * cleared once the instruction completes (SDM Vol. 3B §18.3.1.1; IRET may set it again), a
   * single-step trap after it when TF was set at its start (§18.3.1.4).
   */
  private executeDebug(limit: number): void {
    const handlers = this.handlers;
    const dbg = this.debug;
    while (this.icount < limit) {
      const flags = this.flagsVal;
      if ((flags & RF) === 0 && dbg.execEnabled !== 0) instructionBreakpoints(this);
      const d = this.fetch();
      this.nextRip = this.rip + d.length;
      dbg.stepCancel = false;
      this.flagsVal = flags & ~RF;
      try {
        handlers[d.entry](this, d);
      } catch (e) {
        this.flagsVal |= flags & RF; // not completed: RF still applies to it
        throw e;
      }
      this.rip = this.nextRip;
      this.icount++;
      if ((flags & TF) !== 0 && !dbg.stepCancel) singleStep(this);
      if (this.attention || ((this.flagsVal & (TF | RF)) === 0 && dbg.execEnabled === 0)) return;
    }
  }

  /** Between instructions: stop requests, interrupts, HLT. Returns a stop reason or undefined to go on. */
  private service(): StopReason | undefined {
    this.attention = false;
    this.attentionAt = Infinity;
    if (!this.alignCheck) this.updateAlignmentCheck(); // an instruction may have suspended it (alignment.ts checkItemAlignment)
    if (this.stopRequested) {
      this.stopRequested = false;
      return 'stop';
    }
    if (this.pendingStop !== undefined) {
      const r = this.pendingStop;
      this.pendingStop = undefined;
      return r;
    }
    const nonRoot = this.nonRootService;
    if (nonRoot !== undefined && nonRoot()) return undefined;
    if (this.waitForSipi) {
      // Inactive until a SIPI (the machine delivers it between slices): no instruction, no interrupt.
      this.attention = true;
      return 'halt';
    }
    if (this.debug.pending !== 0) {
      // Debug traps of the last instruction come before NMI and interrupts (SDM Vol. 3A §6.9).
      try {
        // In VMX non-root operation the checks below MTF wait for the #DB (non-root.ts): look again after it.
        if (deliverDebugTraps(this) && this.nonRootService !== undefined && this.nonRootService()) return undefined;
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        this.attention = true; // the checks the #DB went before have not been made: next boundary
        const r = this.fault(e);
        if (r !== undefined) return r;
      }
    }
    if (this.interruptShadow) {
      // The shadow covers exactly one instruction: look again after it.
      this.interruptShadow = false;
      this.shadowIcount = this.icount;
      this.attention = true;
      return undefined;
    }
    const intr = this.interrupts;
    if (intr !== undefined) {
      let delivered = false;
      try {
        if (intr.nmiPending && !this.nmiBlocked) {
          // A blocked NMI stays latched until IRET unblocks it (SDM Vol. 3A §6.7.1); the
          // blocking starts with the delivery, and an exit during it saves it (SDM §27.1).
          intr.acknowledgeNmi();
          this.halted = false;
          delivered = true;
          this.nmiBlocked = true;
          deliverEvent(this, EVENT_NMI, 2, -1);
        } else if (intr.intrPending && (this.flagsVal & IF) !== 0) {
          const v = intr.acknowledge();
          if (v >= 0) {
            this.halted = false;
            delivered = true;
            deliverEvent(this, EVENT_EXTINT, v, -1);
          }
        }
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        const r = this.fault(e);
        if (r !== undefined) return r;
      }
      // VMX non-root: the boundary after an event's delivery is an instruction boundary of
      // its own (an MTF VM exit pending after the delivery happens there, SDM §25.5.2).
      if (delivered && nonRoot !== undefined && this.nonRootService !== undefined && nonRoot()) return undefined;
    }
    if (this.halted) {
      this.attention = true;
      return 'halt';
    }
    return undefined;
  }

  /** A fault escaped a handler (or event delivery): deliver it, or stop. */
  private fault(f: CpuFault): StopReason | undefined {
    if (f.vector === VMEXIT_VECTOR) return undefined; // a VM exit already left the instruction (src/emu/vmx/vm-exit.ts)
    if (f.vector === BREAKPOINT_VECTOR) return 'breakpoint';
    this.lastFault = f;
    this.debug.pending = 0; // a fault ends the instruction: its debug traps, and any MOV SS held back, are lost
    if (this.stopOnException) { this.debug.event = 0; return 'exception'; }
    this.faultChain.length = 0;
    this.faultChain.push(f.vector);
    const r = this.deliverFault(f);
    this.debug.event = 0;
    return r;
  }

  /**
   * Delivers `f`; a fault during its delivery is handled as SDM Vol. 3 §6.15 Table 6-5 says:
   * benign first event, or contributory then #PF: the second one is delivered serially;
   * contributory then contributory, #PF then contributory or #PF: #DF; any fault while
   * delivering #DF: shutdown (triple fault). `faultChain` lists the events whose delivery
   * was attempted, e.g. #UD, #GP, #DF for a `ud2` with no IDT.
   */
  private deliverFault(f: CpuFault): StopReason | undefined {
    let event = f;
    for (;;) {
      try {
        deliverEvent(this, EVENT_EXCEPTION, event.vector, event.errorCode);
        return undefined;
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        if (e.vector === VMEXIT_VECTOR) return undefined;
        if (event.vector === 8) return this.shutdown();
        const first = event.vector;
        const second = e.vector;
        const contributory = (v: number): boolean => v === 0 || (v >= 10 && v <= 13);
        const df = (contributory(first) && contributory(second)) || (first === 14 && (contributory(second) || second === 14));
        event = df ? new CpuFault(8, 0, `double fault: ${e.detail}`) : e;
        this.faultChain.push(event.vector);
        this.lastFault = event;
      }
    }
  }

  /** A triple fault: shutdown, or in VMX non-root operation a VM exit (SDM Vol. 3C §25.2, reason 2). */
  private shutdown(): StopReason | undefined {
    const v = this.vmx;
    if (v !== undefined && v.nonRoot) {
      v.tripleFault();
      return undefined;
    }
    return 'triple-fault';
  }

  /** Request a stop reason after the current instruction (HLT with nothing to wake it, shutdown). */
  requestStop(reason: StopReason): void {
    this.pendingStop = reason;
    this.attention = true;
  }

  /** IN from a port (through the machine's bus; open bus when there is none). */
  portIn(port: number, size: number): number {
    this.attention = true; // a device access may change interrupt state
    if (this.debug.ioAll !== 0) ioBreakpoints(this, port, size);
    const io = this.io;
    if (io === undefined) return size === 4 ? -1 : size === 2 ? 0xffff : 0xff;
    return io.in(port, size as 1 | 2 | 4);
  }

  /** OUT to a port. */
  portOut(port: number, size: number, v: number): void {
    this.attention = true;
    if (this.debug.ioAll !== 0) ioBreakpoints(this, port, size);
    this.io?.out(port, size as 1 | 2 | 4, size === 4 ? v >>> 0 : v & (size === 2 ? 0xffff : 0xff));
  }

  /** RFLAGS.IF and friends changed: interrupts may be deliverable now. */
  checkInterrupts(): void {
    this.attention = true;
  }

  /** CR8: the local APIC's TPR[7:4] when there is one (SDM Vol. 3 §10.8.6.1), else the plain register. */
  readCr8(): number {
    const a = this.apic;
    return a === undefined ? this.cr8 : (a.readTpr() >> 4) & 15;
  }

  /** MOV to CR8 (bits 3:0, checked by the caller): TPR[7:4] = value, TPR[3:0] = 0. */
  writeCr8(value: number): void {
    const a = this.apic;
    if (a === undefined) this.cr8 = value;
    else a.writeTpr(value << 4);
    this.checkInterrupts();
  }

  /** True when CS/SS descriptors describe protected-mode code (not real or virtual-8086 mode). */
  get protectedMode(): boolean {
    return this.mode === MODE_PROTECTED || this.mode === MODE_COMPAT || this.mode === MODE_LONG64;
  }

}
