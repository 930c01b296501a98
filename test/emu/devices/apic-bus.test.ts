// The APIC bus of a multiprocessor (src/emu/devices/apic-bus.ts): IPIs through each local
// APIC's ICR reach the APICs the SDM says they address (Vol. 3A ch. 11 "Issuing
// Interprocessor Interrupts", "Determining IPI Destination"), the IOAPIC routes to every
// APIC, and the shared xAPIC page answers with the registers of the processor accessing it.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/emu/clock.js';
import { ApicBus } from '../../../src/emu/devices/apic-bus.js';
import { InterruptHub, IrqRouter } from '../../../src/emu/devices/io-bus.js';
import { IoApic, registerIoApic } from '../../../src/emu/devices/ioapic.js';
import { LocalApic } from '../../../src/emu/devices/local-apic.js';
import { Pic8259Pair } from '../../../src/emu/devices/pic8259.js';
import { PhysicalMemory } from '../../../src/emu/memory/physical-memory.js';

const LAPIC = 0xFEE00000;
const ICR_LO = 0x300;
const ICR_HI = 0x310;
const LDR = 0xD0;
const DFR = 0xE0;
const SVR = 0xF0;

function setup(n = 4) {
  const clock = new VirtualClock();
  const mem = new PhysicalMemory({ ramSize: 16 << 20 });
  const bus = new ApicBus(mem);
  const pic = new Pic8259Pair();
  const apics: LocalApic[] = [];
  const signals: string[] = [];
  for (let id = 0; id < n; id++) {
    const a = new LocalApic(clock, mem, { apicId: id, bus });
    a.onInit = () => signals.push(`init->${id}`);
    a.onStartup = (v) => signals.push(`sipi ${v.toString(16)}->${id}`);
    apics.push(a);
  }
  const hubs = apics.map((a) => new InterruptHub(pic, a));
  /** Register access through the shared page, as processor `cpu`. */
  const wr = (cpu: number, off: number, v: number) => {
    bus.current = cpu;
    mem.write32(LAPIC + off, v);
  };
  const rd = (cpu: number, off: number) => {
    bus.current = cpu;
    return mem.read32(LAPIC + off) >>> 0;
  };
  for (let id = 0; id < n; id++) wr(id, SVR, 0x1FF);
  /** Which processors have `vector` pending (acknowledging it, then EOI). */
  const got = (vector: number): number[] => {
    const who: number[] = [];
    hubs.forEach((h, id) => {
      if (h.intrPending && h.acknowledge() === vector) who.push(id);
      if (apics[id].x2apicMode) apics[id].x2apicWrite(0x80B, 0, 0);
      else wr(id, 0xB0, 0);
    });
    return who;
  };
  const ipi = (from: number, lo: number, dest = 0) => {
    wr(from, ICR_HI, dest << 24);
    wr(from, ICR_LO, lo);
  };
  return { mem, bus, apics, hubs, signals, wr, rd, got, ipi, pic, clock };
}

describe('the shared xAPIC page', () => {
  it('answers each access with the accessing processor\'s own registers', () => {
    const { rd, apics } = setup(3);
    expect([0, 1, 2].map((cpu) => rd(cpu, 0x20) >>> 24)).toEqual([0, 1, 2]);
    expect(apics.map((a) => (a.readApicBase() & 0x100) !== 0)).toEqual([true, false, false]); // BSP flag on APIC 0 only
  });

  it('a processor whose APIC is in x2APIC mode or disabled reads the open bus there, the others are unaffected', () => {
    const { rd, apics } = setup(2);
    expect(apics[1].writeApicBase(0xFEE00C00, 0)).toBe(true); // x2APIC
    expect(rd(1, 0x20)).toBe(0xFFFFFFFF);
    expect(rd(0, 0x30) & 0xFF).toBe(0x15);
    expect(apics[0].writeApicBase(0xFEE00000, 0)).toBe(true); // globally disabled (BSP bit is read-only)
    expect(rd(0, 0x20)).toBe(0xFFFFFFFF);
  });

  it('after power-up only the bootstrap processor has LINT0 in ExtINT mode (virtual wire); the others are masked', () => {
    const { rd } = setup(2);
    expect(rd(0, 0x350)).toBe(0x700);
    expect(rd(1, 0x350)).toBe(0x10000);
  });
});

describe('"Determining IPI Destination"', () => {
  it('physical destination: the APIC with that ID only; 0xFF: everyone', () => {
    const { ipi, got } = setup();
    ipi(0, 0x4041, 2);
    expect(got(0x41)).toEqual([2]);
    ipi(3, 0x4042, 0);
    expect(got(0x42)).toEqual([0]);
    ipi(1, 0x4043, 0xFF);
    expect(got(0x43)).toEqual([0, 1, 2, 3]);
    ipi(1, 0x4044, 7); // no such APIC
    expect(got(0x44)).toEqual([]);
  });

  it('shorthands: self, all including self, all excluding self (the destination field is ignored)', () => {
    const { ipi, got } = setup();
    ipi(2, 0x44051, 0);
    expect(got(0x51)).toEqual([2]);
    ipi(2, 0x84052, 0);
    expect(got(0x52)).toEqual([0, 1, 2, 3]);
    ipi(2, 0xC4053, 2);
    expect(got(0x53)).toEqual([0, 1, 3]);
  });

  it('logical destination, flat model: every APIC whose LDR shares a bit with the mask', () => {
    const { ipi, got, wr } = setup();
    for (let id = 0; id < 4; id++) wr(id, LDR, (1 << id) << 24);
    ipi(0, 0x4861, 0b1010);
    expect(got(0x61)).toEqual([1, 3]);
    ipi(0, 0x4862, 0xFF);
    expect(got(0x62)).toEqual([0, 1, 2, 3]);
  });

  it('logical destination, cluster model: cluster in the high nibble, members in the low one', () => {
    const { ipi, got, wr } = setup();
    for (let id = 0; id < 4; id++) {
      wr(id, DFR, 0x0FFFFFFF);
      wr(id, LDR, (((id >> 1) << 4) | (1 << (id & 1))) << 24); // clusters 0 and 1, two members each
    }
    ipi(0, 0x4863, 0x13); // cluster 1, members 0 and 1
    expect(got(0x63)).toEqual([2, 3]);
    ipi(0, 0x4864, 0x02);
    expect(got(0x64)).toEqual([1]);
  });

  it('lowest priority: the addressed APIC with the lowest processor priority (ties: the lowest ID)', () => {
    const { ipi, got, wr, hubs } = setup();
    for (let id = 0; id < 4; id++) wr(id, LDR, (1 << id) << 24);
    wr(1, 0x80, 0x40);
    wr(2, 0x80, 0x20);
    wr(3, 0x80, 0x20);
    ipi(0, 0x4971, 0b1110); // lowest priority, logical: APICs 1-3
    expect(got(0x71)).toEqual([2]);
    expect(hubs[3].intrPending).toBe(false);
  });

  it('x2APIC: the ICR is one MSR write with a 32-bit destination; FFFFFFFFH broadcasts', () => {
    const { apics, got } = setup();
    for (const a of apics) expect(a.writeApicBase(0xFEE00C00 | (a.initialId === 0 ? 0x100 : 0), 0)).toBe(true);
    expect(apics[0].x2apicWrite(0x830, 0x4081, 3)).toBe(true);
    expect(got(0x81)).toEqual([3]);
    expect(apics[1].x2apicWrite(0x830, 0x4082, 0xFFFFFFFF)).toBe(true);
    expect(got(0x82)).toEqual([0, 1, 2, 3]);
    expect(apics[2].x2apicWrite(0x83F, 0x83, 0)).toBe(true); // SELF IPI register
    expect(got(0x83)).toEqual([2]);
  });
});

describe('delivery modes', () => {
  it('NMI latches an NMI at the target only', () => {
    const { ipi, hubs } = setup(3);
    ipi(0, 0x4400, 2);
    expect(hubs.map((h) => h.nmiPending)).toEqual([false, false, true]);
  });

  it('INIT and SIPI reach the targets\' processors; INIT level de-assert reaches none', () => {
    const { ipi, signals } = setup(3);
    ipi(0, 0xC4500); // INIT, assert, all excluding self
    ipi(0, 0xC8500); // INIT level de-assert (level 0, trigger 1): arbitration IDs only
    ipi(0, 0xC4612); // SIPI vector 0x12
    ipi(1, 0x4500, 2);
    expect(signals).toEqual(['init->1', 'init->2', 'sipi 12->1', 'sipi 12->2', 'init->2']);
  });

  it('a fixed IPI with a vector below 16 is a send error, delivered nowhere', () => {
    const { ipi, got, rd, wr } = setup(2);
    ipi(0, 0x400F, 1);
    expect(got(0x0F)).toEqual([]);
    wr(0, 0x280, 0);
    expect(rd(0, 0x280) & 0x20).toBe(0x20); // send illegal vector
  });

  it('INIT resets the target APIC to its power-up registers but keeps its ID', () => {
    const { apics, rd, wr } = setup(2);
    wr(1, LDR, 0x02000000);
    wr(1, 0x80, 0x30);
    apics[1].initReset();
    expect(rd(1, 0x20) >>> 24).toBe(1);
    expect(rd(1, LDR)).toBe(0);
    expect(rd(1, 0x80)).toBe(0);
    expect(rd(1, SVR)).toBe(0xFF); // software-disabled again
    expect(rd(1, 0x320)).toBe(0x10000); // LVT masked
  });
});

describe('the IOAPIC on a multiprocessor bus', () => {
  it('routes a redirection entry to the APIC its destination names, and INIT to that processor', () => {
    const { mem, apics, got, signals } = setup(3);
    const irqs = new IrqRouter();
    const ioapic = new IoApic(apics);
    registerIoApic(mem, irqs, ioapic, apics);
    const redir = (pin: number, low: number, dest: number) => {
      mem.write32(0xFEC00000, 0x11 + 2 * pin);
      mem.write32(0xFEC00010, dest << 24);
      mem.write32(0xFEC00000, 0x10 + 2 * pin);
      mem.write32(0xFEC00010, low);
    };
    redir(4, 0x55, 2);
    irqs.line(4).pulse();
    expect(got(0x55)).toEqual([2]);
    redir(5, 0x56, 0xFF);
    irqs.line(5).pulse();
    expect(got(0x56)).toEqual([0, 1, 2]);
    redir(6, 0x500, 1);
    irqs.line(6).pulse();
    expect(signals).toEqual(['init->1']);
  });
});
