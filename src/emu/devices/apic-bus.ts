// The system bus between the local APICs of a multiprocessor: interprocessor interrupts
// (IPIs) sent through a local APIC's ICR reach the APICs they address, and the xAPIC
// register page, which every processor sees at the same physical address, answers each
// access with the registers of the processor that makes it. References are to the Intel SDM
// Vol. 3A chapter 11 "Advanced Programmable Interrupt Controller (APIC)" (chapter 10 before
// 2023): "Issuing Interprocessor Interrupts" (the ICR fields, Table "Valid Combinations for
// the Pentium 4 and Intel Xeon Processors' Local xAPIC Interrupt Command Register"),
// "Determining IPI Destination" (physical and logical destination modes, flat and cluster
// models, broadcast), "Interrupt Command Register (ICR)" in x2APIC mode, and "Lowest Priority
// Delivery Mode".
//
// A machine with one processor has no bus: its local APIC keeps its own register page and
// treats the IPIs it cannot deliver as before (local-apic.ts).

import type { MmioDevice, MmioRegion, PhysicalMemory } from '../memory/physical-memory.js';
import { LAPIC_DEFAULT_BASE, type LocalApic } from './local-apic.js';

// ICR delivery modes ("Interrupt Command Register").
const DM_FIXED = 0;
const DM_LOWEST = 1;
const DM_NMI = 4;
const DM_INIT = 5;
const DM_STARTUP = 6;

/** One IPI as the sending APIC's ICR describes it. */
export interface IpiMessage {
  vector: number;
  /** Delivery mode, ICR bits 10:8. */
  mode: number;
  /** Level flag (bit 14): 0 with trigger mode 1 and INIT is "INIT level de-assert". */
  assert: boolean;
  /** Trigger mode (bit 15): level. */
  level: boolean;
  /** Destination mode (bit 11). */
  logical: boolean;
  /** Destination shorthand (bits 19:18): 0 none, 1 self, 2 all including self, 3 all excluding self. */
  shorthand: number;
  /** The destination field: 8 bits in xAPIC mode, 32 in x2APIC mode. */
  destination: number;
}

export class ApicBus implements MmioDevice {
  readonly apics: LocalApic[] = [];
  /** The processor whose instructions run now: xAPIC page accesses are its own APIC's. */
  current = 0;
  /** The xAPIC page every processor decodes at IA32_APIC_BASE (one region shared by all). */
  readonly region: MmioRegion;

  constructor(memory: PhysicalMemory) {
    this.region = memory.addMmio('local-apic', LAPIC_DEFAULT_BASE, 0x1000, this);
  }

  attach(apic: LocalApic): void {
    this.apics.push(apic);
  }

  /**
   * Deliver `m` from `from` to every APIC it addresses ("Determining IPI Destination"). Fixed
   * and NMI messages reach every target; lowest priority reaches the target with the lowest
   * processor priority (ties: the lowest APIC ID, which is how our arbitration IDs order);
   * INIT and SIPI go to each target's processor. INIT level de-assert only resynchronizes
   * arbitration IDs, and SMI has no SMM to enter here: both reach no processor.
   */
  send(from: LocalApic, m: IpiMessage): void {
    if (m.mode === DM_INIT && !m.assert && m.level) return; // INIT level de-assert
    const targets: LocalApic[] = [];
    for (const a of this.apics) {
      const self = a === from;
      if (m.shorthand === 1 ? self : m.shorthand === 2 ? true : m.shorthand === 3 ? !self : a.addressedBy(m.destination, m.logical, from.x2apicMode)) targets.push(a);
    }
    if (targets.length === 0) return;
    switch (m.mode) {
      case DM_FIXED:
        for (const t of targets) t.acceptInterrupt(m.vector, false);
        return;
      case DM_LOWEST: {
        let best = targets[0];
        for (const t of targets) if (t.processorPriority() < best.processorPriority()) best = t;
        best.acceptInterrupt(m.vector, false);
        return;
      }
      case DM_NMI:
        for (const t of targets) t.acceptNmi();
        return;
      case DM_INIT:
        for (const t of targets) t.acceptInit();
        return;
      case DM_STARTUP:
        for (const t of targets) t.acceptStartup(m.vector);
        return;
      default:
        return;
    }
  }

  // ---- the shared xAPIC page -------------------------------------------------------------

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    const a = this.apics[this.current];
    // A processor whose APIC does not decode the page (disabled, or in x2APIC mode) reads the open bus.
    if (a === undefined || !a.xapicDecoded) return size === 4 ? 0xFFFF_FFFF : size === 2 ? 0xFFFF : 0xFF;
    return a.mmioRead(offset, size);
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    const a = this.apics[this.current];
    if (a !== undefined && a.xapicDecoded) a.mmioWrite(offset, size, value);
  }
}
