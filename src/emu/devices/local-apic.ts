// The local APIC of a logical processor: xAPIC registers memory-mapped at IA32_APIC_BASE
// (0xFEE00000 by default), x2APIC registers as MSRs 0x800-0x8FF, the APIC timer
// (one-shot, periodic, TSC-deadline) and interrupt acceptance/priority. References are to
// the Intel SDM Vol. 3A chapter 11 "Advanced Programmable Interrupt Controller (APIC)"
// (numbered chapter 10 in editions before 2023; section titles are given to find them):
// Table "Local APIC Register Address Map", "Local Vector Table", "APIC Timer", "Task
// Priority", "Processor Priority", "Interrupt Acceptance for Fixed Interrupts", "End of
// Interrupt", "Error Handling", "Interrupt Command Register", "Local APIC Status and
// Location" (IA32_APIC_BASE), "x2APIC Mode" and its "x2APIC State Transitions".
//
// The CPU side talks to it through `InterruptHub` (interrupt pending / acknowledge) and
// the MSR functions here: `readApicBase`/`writeApicBase`, `x2apicRead`/`x2apicWrite`,
// `readTscDeadline`/`writeTscDeadline`; each returns false where the SDM says #GP.
//
// On a multiprocessor (config.bus, apic-bus.ts) the APICs share the xAPIC page and send
// their IPIs over the bus; INIT and SIPI messages reach the processor through `onInit` /
// `onStartup` (machine/processor.ts). Alone, an APIC delivers only what targets itself and
// records the rest (`ipiLog`).

import type { ClockTimer, Rate, VirtualClock } from '../clock.js';
import type { MmioDevice, MmioRegion, PhysicalMemory } from '../memory/physical-memory.js';
import type { ApicBus } from './apic-bus.js';
import type { LocalInterruptSource } from './io-bus.js';

export const LAPIC_DEFAULT_BASE = 0xFEE0_0000;
/**
 * Version register: version 0x15 (an integrated APIC as on Nehalem and later cores),
 * Max LVT Entry 6 (seven LVT entries: CMCI, timer, thermal, performance, LINT0, LINT1,
 * error); bit 24 clear: no EOI-broadcast suppression (there is no IOAPIC directed EOI).
 */
export const LAPIC_VERSION = 0x0006_0015;
/** Default APIC timer input clock (the bus/core crystal clock a kernel calibrates against). */
export const DEFAULT_APIC_TIMER_HZ = 100_000_000;

// IA32_APIC_BASE bits ("Local APIC Status and Location").
const BASE_BSP = 0x100;
const BASE_EXTD = 0x400;
const BASE_EN = 0x800;

// Register offsets ("Local APIC Register Address Map").
const R_ID = 0x02;
const R_VERSION = 0x03;
const R_TPR = 0x08;
const R_APR = 0x09;
const R_PPR = 0x0A;
const R_EOI = 0x0B;
const R_RRD = 0x0C;
const R_LDR = 0x0D;
const R_DFR = 0x0E;
const R_SVR = 0x0F;
const R_ISR = 0x10;
const R_TMR = 0x18;
const R_IRR = 0x20;
const R_ESR = 0x28;
const R_LVT_CMCI = 0x2F;
const R_ICR_LO = 0x30;
const R_ICR_HI = 0x31;
const R_LVT_TIMER = 0x32;
const R_LVT_ERROR = 0x37;
const R_TIMER_INITIAL = 0x38;
const R_TIMER_CURRENT = 0x39;
const R_TIMER_DIVIDE = 0x3E;
const R_SELF_IPI = 0x3F;

// LVT indices in `lvt` (register offset order, CMCI first).
const LVT_CMCI = 0;
const LVT_TIMER = 1;
const LVT_THERMAL = 2;
const LVT_PERF = 3;
const LVT_LINT0 = 4;
const LVT_LINT1 = 5;
const LVT_ERROR = 6;
const LVT_MASKED = 0x1_0000;
/** Writable bits of each LVT register (fields present per "Local Vector Table" figure). */
const LVT_WRITABLE = [
  0x1_07FF, // CMCI: vector, delivery mode, mask
  0x7_00FF, // timer: vector, mask, timer mode (bits 18:17)
  0x1_07FF, // thermal
  0x1_07FF, // performance counters
  0x1_A7FF, // LINT0: vector, delivery mode, polarity, trigger mode, mask
  0x1_A7FF, // LINT1
  0x1_00FF, // error: vector, mask
];

const TIMER_ONESHOT = 0;
const TIMER_PERIODIC = 1;
const TIMER_TSC_DEADLINE = 2;

// ESR bits ("Error Handling").
const ESR_SEND_ILLEGAL_VECTOR = 0x20;
const ESR_RECEIVE_ILLEGAL_VECTOR = 0x40;
const ESR_ILLEGAL_REGISTER = 0x80;

// ICR delivery modes ("Interrupt Command Register").
const DM_FIXED = 0;
const DM_LOWEST = 1;
const DM_NMI = 4;
const DM_INIT = 5;
const DM_EXTINT = 7;

/** An IPI this APIC sent that targets other processors (recorded for tools, `ipiLog`). */
export interface IpiRecord {
  /** Instruction count when it was sent. */
  at: number;
  deliveryMode: 'fixed' | 'lowest-priority' | 'smi' | 'nmi' | 'init' | 'init-deassert' | 'startup' | 'reserved';
  vector: number;
  /** 'none' = destination field; 'self', 'all', 'all-but-self' = shorthands. */
  shorthand: 'none' | 'self' | 'all' | 'all-but-self';
  destination: number;
  logical: boolean;
}

export interface LocalApicConfig {
  /** Initial APIC ID (default 0). */
  apicId?: number;
  /** APIC timer input clock in Hz (default 100 MHz). */
  timerHz?: number;
  /** CPUID advertises x2APIC: EXTD may be set (default true). */
  x2apic?: boolean;
  /** CPUID advertises TSC-deadline mode (default true). */
  tscDeadline?: boolean;
  /** The multiprocessor bus (apic-bus.ts): shared xAPIC page, IPIs to the other APICs. */
  bus?: ApicBus;
}

export interface LocalApicSnapshot {
  apicBase: number;
  mode: 'disabled' | 'xapic' | 'x2apic';
  id: number;
  tpr: number;
  ppr: number;
  svr: number;
  ldr: number;
  dfr: number;
  isr: number[];
  irr: number[];
  tmr: number[];
  esr: number;
  icr: [number, number];
  lvt: { cmci: number; timer: number; thermal: number; perf: number; lint0: number; lint1: number; error: number };
  timer: { initial: number; current: number; divide: number; deadline: number };
  nmiLatched: boolean;
}

const IPI_LOG_LIMIT = 64;

function highestBit(words: Int32Array): number {
  for (let i = 7; i >= 0; i--) {
    const w = words[i];
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}

export class LocalApic implements MmioDevice, LocalInterruptSource {
  onChange: () => void = () => {};
  /** An EOI retired a level-triggered vector (an IOAPIC clears its Remote IRR on this). */
  onLevelEoi: (vector: number) => void = () => {};
  /** Called for every IPI that targets other processors (INIT, SIPI, ...). */
  onIpi: (ipi: IpiRecord) => void = () => {};
  /** An INIT message reached this APIC (from an IPI or an IOAPIC entry): its processor takes it. */
  onInit: () => void = () => {};
  /** A start-up IPI (SIPI) with this vector reached this APIC. */
  onStartup: (vector: number) => void = () => {};
  /** The last IPIs sent to other processors, oldest first (at most 64). */
  readonly ipiLog: IpiRecord[] = [];
  nmiLatched = false;

  readonly initialId: number;
  private readonly x2apicSupported: boolean;
  private readonly tscDeadlineSupported: boolean;
  private apicBase: number;
  private readonly region: MmioRegion;
  private readonly bus: ApicBus | undefined;
  private readonly rate: Rate;
  private readonly timer: ClockTimer;

  // Architectural registers (`id` as the register reads: bits 31:24 in xAPIC mode).
  private id = 0;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0;
  private svr = 0;
  private readonly isr = new Int32Array(8);
  private readonly tmr = new Int32Array(8);
  private readonly irr = new Int32Array(8);
  private esr = 0;
  /** Errors detected since the last ESR write (they move into ESR when it is written). */
  private pendingErrors = 0;
  private icrLo = 0;
  private icrHi = 0;
  private readonly lvt = new Int32Array(7);
  private divideConfig = 0;
  // Timer state: counting started at bus tick `timerStart` from `timerInitial`.
  private timerInitial = 0;
  private timerStart = 0;
  private timerDivisor = 2;
  private timerRunning = false;
  /** IA32_TSC_DEADLINE as a double (0 = disarmed). */
  private tscDeadline = 0;

  constructor(
    private readonly clock: VirtualClock,
    private readonly memory: PhysicalMemory,
    config: LocalApicConfig = {},
  ) {
    this.initialId = config.apicId ?? 0;
    this.x2apicSupported = config.x2apic ?? true;
    this.tscDeadlineSupported = config.tscDeadline ?? true;
    this.rate = clock.rate(config.timerHz ?? DEFAULT_APIC_TIMER_HZ);
    this.timer = clock.createTimer(this.initialId === 0 ? 'lapic-timer' : `lapic-timer-${this.initialId}`, () => this.onTimer());
    this.apicBase = LAPIC_DEFAULT_BASE | BASE_EN | (this.initialId === 0 ? BASE_BSP : 0);
    this.bus = config.bus;
    if (this.bus !== undefined) {
      this.region = this.bus.region;
      this.bus.attach(this);
    } else {
      this.region = memory.addMmio('local-apic', LAPIC_DEFAULT_BASE, 0x1000, this);
    }
    this.resetRegisters();
    if ((this.apicBase & BASE_BSP) !== 0) {
      // What PC firmware leaves for the OS on the bootstrap processor (and what QEMU models):
      // LINT0 in ExtINT mode, unmasked, so the 8259A reaches the CPU ("virtual wire"); LINT1
      // delivers NMI. Application processors keep the power-up state, every LVT entry masked.
      this.lvt[LVT_LINT0] = DM_EXTINT << 8;
      this.lvt[LVT_LINT1] = DM_NMI << 8;
    }
  }

  /**
   * INIT ("Local APIC State After an INIT Reset ('Wait-for-SIPI' State)"): the registers
   * return to their power-up state except the APIC ID (and arbitration ID); IA32_APIC_BASE,
   * and with it xAPIC/x2APIC mode, is left as it is.
   */
  initReset(): void {
    const id = this.id;
    const ldr = this.ldr;
    this.resetRegisters();
    this.id = id;
    if (this.x2apicMode) this.ldr = ldr; // the x2APIC logical ID is derived from the ID, read-only
    this.onChange();
  }

  /** Power-up state of the registers ("Local APIC State After Power-Up or Reset"). */
  private resetRegisters(): void {
    this.id = (this.initialId << 24) >>> 0;
    this.tpr = 0;
    this.ldr = 0;
    this.dfr = -1;
    this.svr = 0xFF;
    this.isr.fill(0);
    this.tmr.fill(0);
    this.irr.fill(0);
    this.esr = 0;
    this.pendingErrors = 0;
    this.icrLo = 0;
    this.icrHi = 0;
    this.lvt.fill(LVT_MASKED);
    this.divideConfig = 0;
    this.timerDivisor = 2;
    this.timerInitial = 0;
    this.timerRunning = false;
    this.tscDeadline = 0;
    this.nmiLatched = false;
    this.clock.cancel(this.timer);
  }

  // ---- state queries ------------------------------------------------------------------

  get hardwareEnabled(): boolean {
    return (this.apicBase & BASE_EN) !== 0;
  }

  get x2apicMode(): boolean {
    return (this.apicBase & BASE_EXTD) !== 0;
  }

  /** The xAPIC register page decodes this APIC's registers (enabled, not in x2APIC mode). */
  get xapicDecoded(): boolean {
    return (this.apicBase & (BASE_EN | BASE_EXTD)) === BASE_EN;
  }

  get softwareEnabled(): boolean {
    return (this.svr & 0x100) !== 0;
  }

  /** Physical base of the xAPIC register page. */
  get baseAddress(): number {
    return (this.apicBase & 0xFFFF_F000) >>> 0;
  }

  /** PPR ("Processor Priority Register"): TPR, or the in-service class if higher. */
  private ppr(): number {
    const isrv = Math.max(highestBit(this.isr), 0);
    return (this.tpr & 0xF0) >= (isrv & 0xF0) ? this.tpr & 0xFF : isrv & 0xF0;
  }

  /** APR (Pentium/P6 "Arbitration Priority"): kept as those processors compute it. */
  private apr(): number {
    const isrv = Math.max(highestBit(this.isr), 0);
    const irrv = Math.max(highestBit(this.irr), 0);
    if ((this.tpr & 0xF0) >= (irrv & 0xF0) && (this.tpr & 0xF0) > (isrv & 0xF0)) return this.tpr & 0xFF;
    return Math.max(this.tpr & 0xF0, isrv & 0xF0, irrv & 0xF0);
  }

  /** PPR, for lowest-priority arbitration ("Lowest Priority Delivery Mode"). */
  processorPriority(): number {
    return this.ppr();
  }

  hasDeliverable(): boolean {
    if (!this.hardwareEnabled || !this.softwareEnabled) return false;
    const v = highestBit(this.irr);
    return v >= 0 && (v & 0xF0) > (this.ppr() & 0xF0);
  }

  /** INTA: highest IRR vector into the ISR; the spurious vector if its priority no longer suffices. */
  acknowledge(): number {
    const v = highestBit(this.irr);
    if (v < 0 || !this.softwareEnabled || (v & 0xF0) <= (this.ppr() & 0xF0)) return this.svr & 0xFF;
    this.irr[v >> 5] &= ~(1 << (v & 31));
    this.isr[v >> 5] |= 1 << (v & 31);
    this.onChange();
    return v;
  }

  passesExtInt(): boolean {
    if (!this.hardwareEnabled) return true;
    const l = this.lvt[LVT_LINT0];
    return (l & LVT_MASKED) === 0 && ((l >> 8) & 7) === DM_EXTINT;
  }

  takeNmi(): void {
    this.nmiLatched = false;
  }

  // ---- interrupt acceptance -------------------------------------------------------------

  /**
   * A fixed interrupt arrives ("Interrupt Acceptance for Fixed Interrupts"): vectors 0-15
   * are illegal and set "Receive Illegal Vector" in the error status instead.
   */
  acceptInterrupt(vector: number, levelTriggered = false): void {
    if (!this.hardwareEnabled) return;
    vector &= 0xFF;
    if (vector < 16) {
      this.signalError(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    const w = vector >> 5;
    const bit = 1 << (vector & 31);
    this.irr[w] |= bit;
    if (levelTriggered) this.tmr[w] |= bit;
    else this.tmr[w] &= ~bit;
    this.onChange();
  }

  /**
   * Does an interrupt message from the system bus (an IOAPIC redirection entry) with this
   * 8-bit destination address this APIC? ("Determining IPI Destination": physical mode
   * matches the APIC ID or the broadcast 0xFF; logical mode matches LDR under DFR.)
   */
  acceptsDestination(destination: number, logical: boolean): boolean {
    if (!this.hardwareEnabled) return false;
    if (logical) return this.matchesLogical(destination);
    return destination === 0xFF || destination === this.id >>> (this.x2apicMode ? 0 : 24);
  }

  /**
   * Does an IPI's destination field address this APIC ("Determining IPI Destination")?
   * Physical mode: the APIC ID, or the broadcast ID (0xFF in xAPIC mode, FFFFFFFFH from an
   * x2APIC sender); logical mode: the broadcast ID, or a match of LDR under DFR's model.
   */
  addressedBy(destination: number, logical: boolean, fromX2apic: boolean): boolean {
    if (!this.hardwareEnabled) return false;
    const broadcast = fromX2apic ? 0xFFFF_FFFF : 0xFF;
    if (destination >>> 0 === broadcast) return true;
    if (logical) return this.matchesLogical(destination);
    return destination >>> 0 === this.id >>> (this.x2apicMode ? 0 : 24);
  }

  /** An INIT message (IPI or IOAPIC): the processor takes it (a disabled APIC receives no messages). */
  acceptInit(): void {
    if (this.hardwareEnabled) this.onInit();
  }

  /** A start-up message (SIPI) with `vector`. */
  acceptStartup(vector: number): void {
    if (this.hardwareEnabled) this.onStartup(vector & 0xFF);
  }

  /** An NMI message from the system bus (IOAPIC entry in NMI delivery mode). */
  acceptNmi(): void {
    if (!this.hardwareEnabled) return;
    this.nmiLatched = true;
    this.onChange();
  }

  /** Deliver through an LVT entry unless it is masked. */
  private deliverLvt(index: number): void {
    const l = this.lvt[index];
    if ((l & LVT_MASKED) !== 0) return;
    const mode = (l >> 8) & 7;
    if (index !== LVT_TIMER && index !== LVT_ERROR && mode === DM_NMI) {
      this.nmiLatched = true;
      this.onChange();
      return;
    }
    this.acceptInterrupt(l & 0xFF, false);
  }

  private signalError(bits: number): void {
    const fresh = (this.pendingErrors & bits) !== bits;
    this.pendingErrors |= bits;
    if (fresh) this.deliverLvt(LVT_ERROR);
  }

  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    const w = v >> 5;
    const bit = 1 << (v & 31);
    this.isr[w] &= ~bit;
    if ((this.tmr[w] & bit) !== 0) this.onLevelEoi(v);
    this.onChange();
  }

  // ---- timer ("APIC Timer") ---------------------------------------------------------------

  private timerMode(): number {
    return (this.lvt[LVT_TIMER] >> 17) & 3;
  }

  private busTick(): number {
    return this.rate.ticks(this.clock.now);
  }

  private currentCount(): number {
    if (!this.timerRunning || this.timerMode() === TIMER_TSC_DEADLINE) return 0;
    const dec = Math.floor((this.busTick() - this.timerStart) / this.timerDivisor);
    if (this.timerMode() === TIMER_PERIODIC) return this.timerInitial - (dec % this.timerInitial);
    return dec >= this.timerInitial ? 0 : this.timerInitial - dec;
  }

  private startTimer(initial: number): void {
    this.timerInitial = initial;
    this.timerStart = this.busTick();
    this.timerRunning = initial !== 0;
    this.armTimer();
  }

  private armTimer(): void {
    if (this.timerMode() === TIMER_TSC_DEADLINE) {
      if (this.tscDeadline === 0) this.clock.cancel(this.timer);
      else this.clock.schedule(this.timer, this.clock.instructionAtTsc(this.tscDeadline % 0x1_0000_0000, Math.floor(this.tscDeadline / 0x1_0000_0000)));
      return;
    }
    if (!this.timerRunning) {
      this.clock.cancel(this.timer);
      return;
    }
    const period = this.timerInitial * this.timerDivisor;
    const elapsed = this.busTick() - this.timerStart;
    let fireTick: number;
    if (this.timerMode() === TIMER_PERIODIC) fireTick = this.timerStart + (Math.floor(elapsed / period) + 1) * period;
    else if (elapsed < period) fireTick = this.timerStart + period;
    else {
      this.clock.cancel(this.timer);
      return;
    }
    this.clock.schedule(this.timer, this.rate.instructionsFor(fireTick));
  }

  private onTimer(): void {
    if (this.timerMode() === TIMER_TSC_DEADLINE) {
      // The deadline MSR resets to 0 when the timer fires.
      this.tscDeadline = 0;
    } else if (this.timerMode() !== TIMER_PERIODIC) {
      this.timerRunning = false;
    }
    this.deliverLvt(LVT_TIMER);
    this.armTimer();
  }

  private setDivide(v: number): void {
    // Divide configuration: bits 3, 1:0; 0b111 = divide by 1, otherwise 2 << value.
    const code = ((v & 8) >> 1) | (v & 3);
    const current = this.currentCount();
    const divisor = code === 7 ? 1 : 2 << code;
    this.divideConfig = v & 0xB;
    if (divisor === this.timerDivisor) return;
    this.timerDivisor = divisor;
    if (this.timerRunning && this.timerMode() !== TIMER_TSC_DEADLINE) {
      // Continue from the current count at the new rate.
      const initial = this.timerInitial;
      this.timerStart = this.busTick() - (initial - current) * divisor;
      this.armTimer();
    }
  }

  private writeLvt(index: number, value: number): void {
    let v = value & LVT_WRITABLE[index];
    // A software-disabled APIC keeps every LVT entry masked ("Software Enabling/Disabling").
    if (!this.softwareEnabled) v |= LVT_MASKED;
    if (index === LVT_TIMER) {
      let mode = (v >> 17) & 3;
      if (mode === TIMER_TSC_DEADLINE && !this.tscDeadlineSupported) mode = TIMER_ONESHOT;
      if (mode === 3) mode = TIMER_ONESHOT;
      v = (v & ~0x6_0000) | (mode << 17);
      const oldMode = this.timerMode();
      this.lvt[index] = v;
      if (mode !== oldMode) {
        // Changing the timer mode disarms the timer ("TSC-Deadline Mode").
        this.timerRunning = false;
        this.timerInitial = 0;
        this.tscDeadline = 0;
        this.clock.cancel(this.timer);
      }
      return;
    }
    this.lvt[index] = v;
    this.onChange();
  }

  // ---- ICR ("Interrupt Command Register") -------------------------------------------------

  private sendIpi(lo: number, hi: number): void {
    const vector = lo & 0xFF;
    const mode = (lo >> 8) & 7;
    const logical = (lo & 0x800) !== 0;
    const level = (lo & 0x4000) !== 0;
    const shorthand = (lo >> 18) & 3;
    const destination = this.x2apicMode ? hi >>> 0 : hi >>> 24;
    const broadcast = this.x2apicMode ? 0xFFFF_FFFF : 0xFF;
    let self: boolean;
    let others: boolean;
    if (shorthand === 1) {
      self = true;
      others = false;
    } else if (shorthand === 2) {
      self = true;
      others = true;
    } else if (shorthand === 3) {
      self = false;
      others = true;
    } else if (destination === broadcast) {
      self = true;
      others = true;
    } else {
      self = logical ? this.matchesLogical(destination) : destination === this.id >>> (this.x2apicMode ? 0 : 24);
      others = !self || logical;
    }
    if ((mode === DM_FIXED || mode === DM_LOWEST) && vector < 16) {
      this.signalError(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    if (this.bus !== undefined) {
      if (others) this.recordIpi(lo, mode, vector, logical, level, shorthand, destination);
      this.bus.send(this, { vector, mode, assert: level, level: (lo & 0x8000) !== 0, logical, shorthand, destination });
      return;
    }
    if (self) {
      if (mode === DM_FIXED || mode === DM_LOWEST) this.acceptInterrupt(vector, false);
      else if (mode === DM_NMI) {
        this.nmiLatched = true;
        this.onChange();
      }
      // INIT, SIPI and SMI to this processor are recorded below; a broadcast INIT/SIPI
      // must not stop the (only) CPU, which is what real kernels expect of the BSP.
    }
    if (others || (self && mode !== DM_FIXED && mode !== DM_LOWEST && mode !== DM_NMI)) this.recordIpi(lo, mode, vector, logical, level, shorthand, destination);
  }

  private recordIpi(lo: number, mode: number, vector: number, logical: boolean, level: boolean, shorthand: number, destination: number): void {
    const names = ['fixed', 'lowest-priority', 'smi', 'reserved', 'nmi', 'init', 'startup', 'reserved'] as const;
    let deliveryMode: IpiRecord['deliveryMode'] = names[mode];
    if (mode === DM_INIT && !level && (lo & 0x8000) !== 0) deliveryMode = 'init-deassert';
    const rec: IpiRecord = {
      at: this.clock.now,
      deliveryMode,
      vector,
      shorthand: (['none', 'self', 'all', 'all-but-self'] as const)[shorthand],
      destination,
      logical,
    };
    this.ipiLog.push(rec);
    if (this.ipiLog.length > IPI_LOG_LIMIT) this.ipiLog.shift();
    this.onIpi(rec);
  }

  /** Logical destination match: flat model (DFR 0xF) ANDs the 8-bit masks; cluster model matches cluster then bits. */
  private matchesLogical(dest: number): boolean {
    if (this.x2apicMode) {
      return (dest >>> 16) === (this.ldr >>> 16) && (dest & this.ldr & 0xFFFF) !== 0;
    }
    const mine = this.ldr >>> 24;
    if (((this.dfr >>> 28) & 0xF) === 0xF) return (dest & mine) !== 0;
    return (dest >> 4) === (mine >> 4) && (dest & mine & 0xF) !== 0;
  }

  // ---- register file -------------------------------------------------------------------

  /** Read register `reg` (offset >> 4); undefined for reserved offsets. */
  private readRegister(reg: number): number | undefined {
    if (reg >= R_ISR && reg < R_ISR + 8) return this.isr[reg - R_ISR];
    if (reg >= R_TMR && reg < R_TMR + 8) return this.tmr[reg - R_TMR];
    if (reg >= R_IRR && reg < R_IRR + 8) return this.irr[reg - R_IRR];
    if (reg >= R_LVT_TIMER && reg <= R_LVT_ERROR) return this.lvt[reg - R_LVT_TIMER + LVT_TIMER];
    switch (reg) {
      case R_ID:
        return this.id;
      case R_VERSION:
        return LAPIC_VERSION;
      case R_TPR:
        return this.tpr;
      case R_APR:
        return this.apr();
      case R_PPR:
        return this.ppr();
      case R_EOI:
      case R_RRD:
        return 0;
      case R_LDR:
        return this.ldr;
      case R_DFR:
        return this.dfr;
      case R_SVR:
        return this.svr;
      case R_ESR:
        return this.esr;
      case R_LVT_CMCI:
        return this.lvt[LVT_CMCI];
      case R_ICR_LO:
        return this.icrLo;
      case R_ICR_HI:
        return this.icrHi;
      case R_TIMER_INITIAL:
        return this.timerInitial;
      case R_TIMER_CURRENT:
        return this.currentCount();
      case R_TIMER_DIVIDE:
        return this.divideConfig;
      default:
        return undefined;
    }
  }

  /** Write register `reg`; returns false for read-only or reserved registers. */
  private writeRegister(reg: number, v: number): boolean {
    if (reg >= R_LVT_TIMER && reg <= R_LVT_ERROR) {
      this.writeLvt(reg - R_LVT_TIMER + LVT_TIMER, v);
      return true;
    }
    switch (reg) {
      case R_ID:
        // The xAPIC ID (bits 31:24) is writable on most processors.
        this.id = (v & 0xFF00_0000) >>> 0;
        return true;
      case R_TPR:
        this.tpr = v & 0xFF;
        this.onChange();
        return true;
      case R_EOI:
        this.eoi();
        return true;
      case R_LDR:
        this.ldr = v & 0xFF00_0000;
        return true;
      case R_DFR:
        this.dfr = v | 0x0FFF_FFFF;
        return true;
      case R_SVR: {
        // Bits 7:0 spurious vector, 8 APIC software enable, 9 focus processor checking.
        this.svr = v & 0x3FF;
        if (!this.softwareEnabled) for (let i = 0; i < 7; i++) this.lvt[i] |= LVT_MASKED;
        this.onChange();
        return true;
      }
      case R_ESR:
        // A write latches the errors detected since the previous write ("Error Status Register").
        this.esr = this.pendingErrors;
        this.pendingErrors = 0;
        return true;
      case R_LVT_CMCI:
        this.writeLvt(LVT_CMCI, v);
        return true;
      case R_ICR_LO:
        // Delivery status (bit 12) always reads idle: IPIs are delivered at once.
        this.icrLo = v & 0x000C_CFFF;
        this.sendIpi(this.icrLo, this.icrHi);
        return true;
      case R_ICR_HI:
        this.icrHi = v & 0xFF00_0000;
        return true;
      case R_TIMER_INITIAL:
        if (this.timerMode() !== TIMER_TSC_DEADLINE) this.startTimer(v >>> 0);
        return true;
      case R_TIMER_DIVIDE:
        this.setDivide(v);
        return true;
      default:
        return false;
    }
  }

  // ---- xAPIC MMIO -----------------------------------------------------------------------

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    const reg = offset >> 4;
    const byte = offset & 0xF;
    if (byte >= 4) return 0;
    const v = this.readRegister(reg);
    if (v === undefined) {
      this.signalError(ESR_ILLEGAL_REGISTER);
      return 0;
    }
    const shifted = v >>> (8 * byte);
    return size === 4 ? shifted >>> 0 : shifted & (size === 2 ? 0xFFFF : 0xFF);
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    // Registers are accessed as aligned dwords; narrower or misaligned writes are
    // undefined on hardware and ignored here.
    if (size !== 4 || (offset & 0xF) !== 0) return;
    const reg = offset >> 4;
    if (reg === R_VERSION || reg === R_APR || reg === R_PPR || reg === R_RRD || (reg >= R_ISR && reg < R_IRR + 8) || reg === R_TIMER_CURRENT) return;
    if (!this.writeRegister(reg, value | 0)) this.signalError(ESR_ILLEGAL_REGISTER);
  }

  // ---- IA32_APIC_BASE (MSR 0x1B) ---------------------------------------------------------

  /** Low half of IA32_APIC_BASE (the high half is 0: the APIC lives below 4 GiB here). */
  readApicBase(): number {
    return this.apicBase >>> 0;
  }

  /**
   * WRMSR IA32_APIC_BASE. Returns false (#GP) for reserved bits, a base at or above
   * 4 GiB (not modelled), or an invalid x2APIC state transition ("x2APIC State
   * Transitions": EN=0/EXTD=1 is invalid; x2APIC -> xAPIC and disabled -> x2APIC must go
   * through the other state). Clearing EN disables the APIC and resets its state; setting
   * it again starts from the power-up state (kvm-unit-tests does exactly this).
   */
  writeApicBase(lo: number, hi: number): boolean {
    if (hi !== 0 || (lo & 0x2FF) !== 0) return false;
    const en = (lo & BASE_EN) !== 0;
    const extd = (lo & BASE_EXTD) !== 0;
    if (extd && !this.x2apicSupported) return false;
    if (extd && !en) return false;
    const wasEn = this.hardwareEnabled;
    const wasExtd = this.x2apicMode;
    if (wasEn && wasExtd && en && !extd) return false;
    if (!wasEn && en && extd) return false;
    const base = (lo & 0xFFFF_F000) >>> 0;
    this.apicBase = (base | (lo & (BASE_EN | BASE_EXTD)) | (this.apicBase & BASE_BSP)) >>> 0;
    if (base !== this.region.base) this.memory.moveMmio(this.region, base);
    if (wasEn && !en) this.resetRegisters();
    if (!wasExtd && extd) {
      // Entering x2APIC mode: the 32-bit x2APIC ID, and the logical ID derived from it
      // (cluster in bits 31:16, one-hot position in bits 15:0).
      this.id = this.initialId;
      this.ldr = ((this.initialId >>> 4) << 16) | (1 << (this.initialId & 0xF));
    }
    // The xAPIC page is decoded only in xAPIC mode (a shared page asks xapicDecoded per access).
    if (this.bus === undefined) this.region.enabled = en && !extd;
    this.onChange();
    return true;
  }

  // ---- x2APIC MSRs 0x800-0x8FF ("x2APIC Register Address Space") -------------------------

  /** RDMSR of an x2APIC register: false (#GP) outside x2APIC mode or for write-only/absent registers. */
  x2apicRead(msr: number, out: Int32Array, index: number): boolean {
    if (!this.x2apicMode || msr < 0x800 || msr > 0x8FF) return false;
    const reg = msr - 0x800;
    if (reg === R_EOI || reg === R_SELF_IPI || reg === R_APR || reg === R_RRD || reg === R_DFR || reg === R_ICR_HI) return false;
    if (reg === R_ICR_LO) {
      out[index] = this.icrLo;
      out[index + 1] = this.icrHi;
      return true;
    }
    const v = this.readRegister(reg);
    if (v === undefined) return false;
    out[index] = v;
    out[index + 1] = 0;
    return true;
  }

  /** WRMSR of an x2APIC register: false (#GP) for read-only, absent registers or reserved bits. */
  x2apicWrite(msr: number, lo: number, hi: number): boolean {
    if (!this.x2apicMode || msr < 0x800 || msr > 0x8FF) return false;
    const reg = msr - 0x800;
    switch (reg) {
      case R_ICR_LO:
        this.icrHi = hi;
        this.icrLo = lo & 0x000C_CFFF;
        this.sendIpi(this.icrLo, hi);
        return true;
      case R_SELF_IPI:
        if (hi !== 0 || (lo & ~0xFF) !== 0) return false;
        this.sendIpi((lo & 0xFF) | (1 << 18), 0);
        return true;
      case R_EOI:
      case R_ESR:
        // Writes of non-zero values #GP in x2APIC mode.
        if (lo !== 0 || hi !== 0) return false;
        return this.writeRegister(reg, 0);
      case R_TPR:
      case R_SVR:
      case R_LVT_CMCI:
      case R_TIMER_INITIAL:
      case R_TIMER_DIVIDE:
        if (hi !== 0) return false;
        return this.writeRegister(reg, lo);
      default:
        if (reg >= R_LVT_TIMER && reg <= R_LVT_ERROR) {
          if (hi !== 0) return false;
          return this.writeRegister(reg, lo);
        }
        // ID, version, LDR, PPR, ISR/TMR/IRR, current count are read-only; the rest absent.
        return false;
    }
  }

  // ---- IA32_TSC_DEADLINE (MSR 0x6E0) -------------------------------------------------------

  /** RDMSR IA32_TSC_DEADLINE: reads 0 unless the timer is in TSC-deadline mode. */
  readTscDeadline(out: Int32Array, index: number): void {
    const d = this.timerMode() === TIMER_TSC_DEADLINE ? this.tscDeadline : 0;
    out[index] = d % 0x1_0000_0000 | 0;
    out[index + 1] = Math.floor(d / 0x1_0000_0000) | 0;
  }

  /** WRMSR IA32_TSC_DEADLINE: arms (non-zero) or disarms (zero) the timer; ignored in other modes. */
  writeTscDeadline(lo: number, hi: number): void {
    if (this.timerMode() !== TIMER_TSC_DEADLINE) return;
    this.tscDeadline = (hi >>> 0) * 0x1_0000_0000 + (lo >>> 0);
    this.armTimer();
  }

  snapshot(): LocalApicSnapshot {
    return {
      apicBase: this.apicBase >>> 0,
      mode: !this.hardwareEnabled ? 'disabled' : this.x2apicMode ? 'x2apic' : 'xapic',
      id: this.id >>> 0,
      tpr: this.tpr,
      ppr: this.ppr(),
      svr: this.svr,
      ldr: this.ldr >>> 0,
      dfr: this.dfr >>> 0,
      isr: Array.from(this.isr, (w) => w >>> 0),
      irr: Array.from(this.irr, (w) => w >>> 0),
      tmr: Array.from(this.tmr, (w) => w >>> 0),
      esr: this.esr,
      icr: [this.icrLo >>> 0, this.icrHi >>> 0],
      lvt: {
        cmci: this.lvt[LVT_CMCI] >>> 0,
        timer: this.lvt[LVT_TIMER] >>> 0,
        thermal: this.lvt[LVT_THERMAL] >>> 0,
        perf: this.lvt[LVT_PERF] >>> 0,
        lint0: this.lvt[LVT_LINT0] >>> 0,
        lint1: this.lvt[LVT_LINT1] >>> 0,
        error: this.lvt[LVT_ERROR] >>> 0,
      },
      timer: { initial: this.timerInitial, current: this.currentCount(), divide: this.divideConfig, deadline: this.tscDeadline },
      nmiLatched: this.nmiLatched,
    };
  }
}
