// The I/O APIC of a PC: an Intel 82093AA-compatible IOAPIC with 24 inputs, memory-mapped
// at 0xFEC00000 (where the MADT says it is). References are to the Intel 82093AA I/O
// Advanced Programmable Interrupt Controller datasheet (order no. 290566): §3.0 "Register
// Description" (IOREGSEL, IOWIN, Table 2 "IOAPIC Registers"), §3.2.1 IOAPICID, §3.2.2
// IOAPICVER, §3.2.3 IOAPICARB, §3.2.4 IOREDTBL[23:0] (the redirection-entry fields).
//
// Wiring (the MADT's interrupt source overrides describe it to the OS): ISA IRQ n reaches
// input n, except that IRQ0 (the PIT) reaches input 2, as on PIIX-based PCs and QEMU.
// ISA IRQ2 is the 8259A cascade and is not wired here. Inputs 16-23 are PCI INTx lines;
// `setPin` drives any input directly.
//
// Messages go straight to the local APICs they address (no bus arbitration delay): fixed
// and NMI messages to every APIC the destination matches, lowest priority to the matching
// APIC with the lowest processor priority (the first such in APIC-ID order), INIT to each
// matching APIC's processor. Level-triggered
// entries set Remote IRR when the local APIC accepts the message and clear it when the
// local APIC broadcasts an EOI for that vector (`eoi`); while the input stays active the
// interrupt is sent again. Switching an entry to edge-triggered clears Remote IRR, which
// is how kernels without a directed-EOI register clear a stuck entry.

import type { MmioDevice, PhysicalMemory } from '../memory/physical-memory.js';
import type { IrqRouter, IrqSink } from './io-bus.js';

export const IOAPIC_DEFAULT_BASE = 0xFEC0_0000;
export const IOAPIC_PINS = 24;
/** IOAPICVER (§3.2.2): version 0x11, maximum redirection entry 23 in bits 23:16. */
export const IOAPIC_VERSION = ((IOAPIC_PINS - 1) << 16) | 0x11;

// Register offsets from the base (§3.0).
const IOREGSEL = 0x00;
const IOWIN = 0x10;
// Register indices (Table 2).
const REG_ID = 0x00;
const REG_VERSION = 0x01;
const REG_ARB = 0x02;
const REG_REDTBL = 0x10;

// Redirection-entry fields, low dword (§3.2.4).
const RTE_VECTOR = 0xFF;
const RTE_DELIVERY_SHIFT = 8;
const RTE_DEST_LOGICAL = 1 << 11;
const RTE_DELIVERY_STATUS = 1 << 12;
const RTE_POLARITY_LOW = 1 << 13;
const RTE_REMOTE_IRR = 1 << 14;
const RTE_LEVEL = 1 << 15;
const RTE_MASKED = 1 << 16;
/** Bits software can write in the low dword (delivery status and Remote IRR are read-only). */
const RTE_LOW_WRITABLE = 0x1_AFFF;
/** Destination field, high dword bits 63:56. */
const RTE_HIGH_WRITABLE = 0xFF00_0000;

const DM_FIXED = 0;
const DM_LOWEST = 1;
const DM_SMI = 2;
const DM_NMI = 4;
const DM_INIT = 5;
const DM_EXTINT = 7;
const DELIVERY_MODE_NAMES = ['fixed', 'lowest-priority', 'smi', 'reserved', 'nmi', 'init', 'reserved', 'extint'] as const;
export type IoApicDeliveryMode = (typeof DELIVERY_MODE_NAMES)[number];

/** What receives the IOAPIC's interrupt messages: a local APIC (`LocalApic` fits). */
export interface IoApicTarget {
  acceptsDestination(destination: number, logical: boolean): boolean;
  acceptInterrupt(vector: number, levelTriggered: boolean): void;
  acceptNmi(): void;
  /** INIT delivery mode; absent: the message is unsupported (onUnsupportedDelivery). */
  acceptInit?(): void;
  /** PPR, for lowest-priority delivery (absent: 0). */
  processorPriority?(): number;
}

export interface IoApicConfig {
  /** IOAPIC ID at reset (default 0, as in the MADT). */
  id?: number;
  /** Physical base address (default 0xFEC00000). */
  base?: number;
}

export interface IoApicEntrySnapshot {
  pin: number;
  /** Raw 64-bit entry as [low, high] dwords. */
  raw: [number, number];
  vector: number;
  deliveryMode: IoApicDeliveryMode;
  logical: boolean;
  activeLow: boolean;
  remoteIrr: boolean;
  levelTriggered: boolean;
  masked: boolean;
  destination: number;
  /** The input pin's current (electrical) level. */
  inputHigh: boolean;
}

export interface IoApicSnapshot {
  id: number;
  arbitrationId: number;
  version: number;
  ioregsel: number;
  entries: IoApicEntrySnapshot[];
}

export class IoApic implements MmioDevice, IrqSink {
  /**
   * Called when an entry fires in a delivery mode this machine does not model (SMI, INIT
   * to a target without `acceptInit`, ExtINT through the IOAPIC, reserved modes): the
   * message is dropped and the machine can say so.
   */
  onUnsupportedDelivery: (pin: number, mode: IoApicDeliveryMode) => void = () => {};
  readonly base: number;

  /** The local APICs on the bus, in APIC-ID order. */
  private readonly targets: readonly IoApicTarget[];
  private id: number;
  private arbitrationId: number;
  private ioregsel = 0;
  private readonly low = new Int32Array(IOAPIC_PINS);
  private readonly high = new Int32Array(IOAPIC_PINS);
  /** Electrical level of each input, bit n = input n. */
  private pinLevels = 0;

  constructor(target: IoApicTarget | readonly IoApicTarget[], config: IoApicConfig = {}) {
    this.targets = Array.isArray(target) ? target : [target as IoApicTarget];
    this.id = (config.id ?? 0) & 0xF;
    this.arbitrationId = this.id;
    this.base = config.base ?? IOAPIC_DEFAULT_BASE;
    // Reset state (§3.2.4): every entry masked; the other fields are undefined on the
    // chip and zero here.
    this.low.fill(RTE_MASKED);
  }

  // ---- inputs ---------------------------------------------------------------------------

  /** An ISA IRQ line changed (IrqRouter fan-out): IRQ0 reaches input 2, IRQ2 is the cascade. */
  setIrq(irq: number, level: boolean): void {
    if (irq === 2) return;
    this.setPin(irq === 0 ? 2 : irq, level);
  }

  /** Input `pin` is driven to electrical level `high`. */
  setPin(pin: number, high: boolean): void {
    if (pin < 0 || pin >= IOAPIC_PINS) return;
    const bit = 1 << pin;
    const was = (this.pinLevels & bit) !== 0;
    if (was === high) return;
    if (high) this.pinLevels |= bit;
    else this.pinLevels &= ~bit;
    const lo = this.low[pin];
    if ((lo & RTE_LEVEL) !== 0) {
      this.serviceLevel(pin);
    } else if (this.active(pin) && (lo & RTE_MASKED) === 0) {
      // Edge-sensitive inputs fire on the transition to the active level; an edge on a
      // masked input is ignored, not held pending (§3.2.4, "Interrupt Mask").
      this.deliver(pin);
    }
  }

  /** The input's level as the entry's polarity reads it (§3.2.4, "Interrupt Input Pin Polarity"). */
  private active(pin: number): boolean {
    const high = (this.pinLevels & (1 << pin)) !== 0;
    return (this.low[pin] & RTE_POLARITY_LOW) !== 0 ? !high : high;
  }

  /** A level-triggered input is (re)sent while active, unmasked and not awaiting EOI. */
  private serviceLevel(pin: number): void {
    const lo = this.low[pin];
    if ((lo & (RTE_MASKED | RTE_REMOTE_IRR)) === 0 && this.active(pin)) this.deliver(pin);
  }

  /** Send the interrupt message of entry `pin`. */
  private deliver(pin: number): void {
    const lo = this.low[pin];
    const mode = (lo >> RTE_DELIVERY_SHIFT) & 7;
    const level = (lo & RTE_LEVEL) !== 0;
    const logical = (lo & RTE_DEST_LOGICAL) !== 0;
    const destination = this.high[pin] >>> 24;
    switch (mode) {
      case DM_FIXED: {
        let accepted = false;
        for (const t of this.targets) {
          if (!t.acceptsDestination(destination, logical)) continue;
          if (level && !accepted) this.low[pin] = lo | RTE_REMOTE_IRR;
          accepted = true;
          t.acceptInterrupt(lo & RTE_VECTOR, level);
        }
        return;
      }
      case DM_LOWEST: {
        let best: IoApicTarget | undefined;
        for (const t of this.targets) {
          if (t.acceptsDestination(destination, logical) && (best === undefined || (t.processorPriority?.() ?? 0) < (best.processorPriority?.() ?? 0))) best = t;
        }
        if (best === undefined) return;
        if (level) this.low[pin] = lo | RTE_REMOTE_IRR;
        best.acceptInterrupt(lo & RTE_VECTOR, level);
        return;
      }
      case DM_NMI:
        // NMI is edge-sensitive whatever the trigger bit says (§3.2.4, "Delivery Mode").
        for (const t of this.targets) if (t.acceptsDestination(destination, logical)) t.acceptNmi();
        return;
      case DM_INIT:
        if (this.targets.every((t) => t.acceptInit !== undefined)) {
          for (const t of this.targets) if (t.acceptsDestination(destination, logical)) t.acceptInit!();
          return;
        }
        this.onUnsupportedDelivery(pin, DELIVERY_MODE_NAMES[mode]);
        return;
      case DM_SMI:
      case DM_EXTINT:
      default:
        this.onUnsupportedDelivery(pin, DELIVERY_MODE_NAMES[mode]);
    }
  }

  /**
   * The local APIC broadcast an EOI for a level-triggered `vector`: every level entry
   * with that vector clears Remote IRR, and fires again if its input is still active.
   */
  eoi(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const lo = this.low[pin];
      if ((lo & RTE_VECTOR) !== vector || (lo & RTE_LEVEL) === 0 || (lo & RTE_REMOTE_IRR) === 0) continue;
      this.low[pin] = lo & ~RTE_REMOTE_IRR;
      this.serviceLevel(pin);
    }
  }

  // ---- registers ----------------------------------------------------------------------------

  private readRegister(index: number): number {
    switch (index) {
      case REG_ID:
        return this.id << 24;
      case REG_VERSION:
        return IOAPIC_VERSION;
      case REG_ARB:
        return this.arbitrationId << 24;
    }
    if (index >= REG_REDTBL && index < REG_REDTBL + 2 * IOAPIC_PINS) {
      const pin = (index - REG_REDTBL) >> 1;
      return (index & 1) === 0 ? this.low[pin] >>> 0 : this.high[pin] >>> 0;
    }
    // Indices Table 2 does not list read as zero.
    return 0;
  }

  private writeRegister(index: number, value: number): void {
    if (index === REG_ID) {
      // Only bits 27:24 are implemented; writing the ID also loads the arbitration ID
      // (§3.2.3: "loaded with the IOAPIC ID whenever the ID register is written").
      this.id = (value >>> 24) & 0xF;
      this.arbitrationId = this.id;
      return;
    }
    if (index < REG_REDTBL || index >= REG_REDTBL + 2 * IOAPIC_PINS) return; // version, arbitration: read-only
    const pin = (index - REG_REDTBL) >> 1;
    if ((index & 1) === 1) {
      this.high[pin] = value & RTE_HIGH_WRITABLE;
      return;
    }
    const old = this.low[pin];
    let lo = (value & RTE_LOW_WRITABLE) | (old & RTE_REMOTE_IRR);
    // Remote IRR is meaningless for edge-triggered entries and reads as 0 (software
    // clears a stuck level entry by switching it to edge and back).
    if ((lo & RTE_LEVEL) === 0) lo &= ~RTE_REMOTE_IRR;
    this.low[pin] = lo & ~RTE_DELIVERY_STATUS;
    // Unmasking (or reprogramming) a level entry whose input is active sends it now.
    if ((lo & RTE_LEVEL) !== 0) this.serviceLevel(pin);
  }

  // ---- MMIO (§3.0: IOREGSEL at +0x00, IOWIN at +0x10) ------------------------------------------

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    const reg = offset & ~3;
    const shift = 8 * (offset & 3);
    let v: number;
    if (reg === IOREGSEL) v = this.ioregsel;
    else if (reg === IOWIN) v = this.readRegister(this.ioregsel);
    else return 0;
    const shifted = v >>> shift;
    return size === 4 ? shifted >>> 0 : shifted & (size === 2 ? 0xFFFF : 0xFF);
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset === IOREGSEL) {
      // Bits 7:0 select the register; the chip latches the low byte of any write.
      this.ioregsel = value & 0xFF;
      return;
    }
    // IOWIN is a 32-bit register; narrower writes are not defined and are ignored.
    if (offset === IOWIN && size === 4) this.writeRegister(this.ioregsel, value | 0);
  }

  snapshot(): IoApicSnapshot {
    const entries: IoApicEntrySnapshot[] = [];
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const lo = this.low[pin];
      entries.push({
        pin,
        raw: [lo >>> 0, this.high[pin] >>> 0],
        vector: lo & RTE_VECTOR,
        deliveryMode: DELIVERY_MODE_NAMES[(lo >> RTE_DELIVERY_SHIFT) & 7],
        logical: (lo & RTE_DEST_LOGICAL) !== 0,
        activeLow: (lo & RTE_POLARITY_LOW) !== 0,
        remoteIrr: (lo & RTE_REMOTE_IRR) !== 0,
        levelTriggered: (lo & RTE_LEVEL) !== 0,
        masked: (lo & RTE_MASKED) !== 0,
        destination: this.high[pin] >>> 24,
        inputHigh: (this.pinLevels & (1 << pin)) !== 0,
      });
    }
    return { id: this.id, arbitrationId: this.arbitrationId, version: IOAPIC_VERSION, ioregsel: this.ioregsel, entries };
  }
}

/**
 * Put the IOAPIC on the machine: its register page in physical memory, the ISA IRQ lines
 * fanned out to it (the 8259A pair stays connected to the same lines), and the local
 * APIC's EOI broadcast for level-triggered vectors.
 */
export function registerIoApic(
  memory: PhysicalMemory,
  irqs: IrqRouter,
  ioapic: IoApic,
  lapics: { onLevelEoi: (vector: number) => void } | readonly { onLevelEoi: (vector: number) => void }[],
): void {
  memory.addMmio('ioapic', ioapic.base, 0x1000, ioapic);
  irqs.connect(ioapic);
  for (const lapic of Array.isArray(lapics) ? lapics : [lapics]) lapic.onLevelEoi = (vector: number) => ioapic.eoi(vector);
}
