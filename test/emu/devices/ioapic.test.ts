import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/emu/clock.js';
import { InterruptHub, IrqRouter } from '../../../src/emu/devices/io-bus.js';
import { IOAPIC_VERSION, IoApic, registerIoApic } from '../../../src/emu/devices/ioapic.js';
import { LocalApic } from '../../../src/emu/devices/local-apic.js';
import { Pic8259Pair } from '../../../src/emu/devices/pic8259.js';
import { PhysicalMemory } from '../../../src/emu/memory/physical-memory.js';

const IOAPIC = 0xFEC00000;
const LAPIC = 0xFEE00000;
const EDGE = 0;
const LEVEL = 1 << 15;
const MASKED = 1 << 16;
const REMOTE_IRR = 1 << 14;

function setup() {
  const clock = new VirtualClock();
  const mem = new PhysicalMemory({ ramSize: 16 << 20 });
  const lapic = new LocalApic(clock, mem);
  const pic = new Pic8259Pair();
  const irqs = new IrqRouter();
  irqs.connect(pic);
  const ioapic = new IoApic(lapic);
  registerIoApic(mem, irqs, ioapic, lapic);
  const hub = new InterruptHub(pic, lapic);
  mem.write32(LAPIC + 0xF0, 0x1FF); // software-enable the local APIC
  const read = (reg: number) => {
    mem.write32(IOAPIC, reg);
    return mem.read32(IOAPIC + 0x10) >>> 0;
  };
  const write = (reg: number, v: number) => {
    mem.write32(IOAPIC, reg);
    mem.write32(IOAPIC + 0x10, v);
  };
  const redir = (pin: number, low: number, dest = 0) => {
    write(0x11 + 2 * pin, dest << 24);
    write(0x10 + 2 * pin, low);
  };
  const eoi = () => mem.write32(LAPIC + 0xB0, 0);
  const tmrBit = (v: number) => ((mem.read32(LAPIC + 0x180 + 0x10 * (v >> 5)) >>> (v & 31)) & 1) === 1;
  return { clock, mem, lapic, pic, irqs, ioapic, hub, read, write, redir, eoi, tmrBit };
}

describe('I/O APIC (Intel 82093AA datasheet)', () => {
  it('§3.2.2 IOAPICVER: version 0x11 with 24 entries (0x00170011), read-only', () => {
    const { read, write } = setup();
    expect(IOAPIC_VERSION).toBe(0x00170011);
    expect(read(1)).toBe(0x00170011);
    write(1, 0xFFFFFFFF ^ 0x00170011);
    expect(read(1)).toBe(0x00170011);
  });

  it('§3.2.1/§3.2.3 IOAPICID: only bits 27:24 writable; the write loads IOAPICARB, which is read-only', () => {
    const { read, write } = setup();
    expect(read(0)).toBe(0);
    write(0, 0xFFFFFFFF);
    expect(read(0)).toBe(0x0F000000);
    expect(read(2)).toBe(0x0F000000);
    write(2, 0);
    expect(read(2)).toBe(0x0F000000);
    write(0, 0x05000000);
    expect(read(0)).toBe(0x05000000);
    expect(read(2)).toBe(0x05000000);
  });

  it('§3.2.4 IOREDTBL: entries reset masked; delivery status and Remote IRR are read-only; destination in bits 63:56', () => {
    const { read, write } = setup();
    for (let pin = 0; pin < 24; pin++) expect(read(0x10 + 2 * pin)).toBe(MASKED);
    write(0x10 + 2 * 5, 0xFFFFFFFF);
    expect(read(0x10 + 2 * 5)).toBe(0x1AFFF); // bits 12 and 14 stay 0, bits 31:17 reserved
    write(0x11 + 2 * 5, 0xFFFFFFFF);
    expect(read(0x11 + 2 * 5)).toBe(0xFF000000);
    expect(read(0x60)).toBe(0); // beyond entry 23
  });

  it('§3.0 IOREGSEL/IOWIN: byte reads of IOWIN see the selected register bytes', () => {
    const { mem } = setup();
    mem.write32(IOAPIC, 1);
    expect(mem.read8(IOAPIC)).toBe(1);
    expect(mem.read8(IOAPIC + 0x10)).toBe(0x11);
    expect(mem.read8(IOAPIC + 0x12)).toBe(0x17);
    expect(mem.read16(IOAPIC + 0x10)).toBe(0x0011);
  });

  it('§3.2.4 edge-triggered fixed delivery into the local APIC (TMR clear); the ISA line also reaches the 8259A', () => {
    const { irqs, hub, redir, pic, tmrBit, eoi } = setup();
    redir(14, 0x76 | EDGE);
    irqs.line(14).pulse();
    expect(hub.intrPending).toBe(true);
    expect(pic.snapshot().slave.irr & (1 << 6)).toBe(1 << 6); // IRQ14 latched by the slave too
    expect(hub.acknowledge()).toBe(0x76);
    expect(tmrBit(0x76)).toBe(false);
    eoi();
    expect(hub.intrPending).toBe(false);
  });

  it('MADT interrupt source override: ISA IRQ0 (PIT) reaches input 2, not input 0', () => {
    const { irqs, hub, redir } = setup();
    redir(0, 0x31);
    redir(2, 0x30);
    irqs.line(0).pulse();
    expect(hub.acknowledge()).toBe(0x30);
    expect(hub.intrPending).toBe(false);
  });

  it('§3.2.4 level-triggered: Remote IRR set on delivery, cleared by the EOI broadcast; re-sent while the input stays active', () => {
    const { irqs, hub, redir, read, eoi, tmrBit } = setup();
    redir(14, 0x77 | LEVEL);
    irqs.line(14).raise();
    expect(read(0x10 + 28) & REMOTE_IRR).toBe(REMOTE_IRR);
    expect(hub.acknowledge()).toBe(0x77);
    expect(tmrBit(0x77)).toBe(true);
    expect(hub.intrPending).toBe(false);
    eoi(); // input still high: Remote IRR clears and the interrupt is sent again
    expect(hub.intrPending).toBe(true);
    expect(read(0x10 + 28) & REMOTE_IRR).toBe(REMOTE_IRR);
    expect(hub.acknowledge()).toBe(0x77);
    irqs.line(14).lower();
    eoi();
    expect(read(0x10 + 28) & REMOTE_IRR).toBe(0);
    expect(hub.intrPending).toBe(false);
  });

  it('§3.2.4 level-triggered: an input toggled while Remote IRR is set is not sent twice (coalesced)', () => {
    const { irqs, hub, redir, eoi } = setup();
    redir(14, 0x98 | LEVEL);
    irqs.line(14).raise();
    expect(hub.acknowledge()).toBe(0x98);
    irqs.line(14).lower();
    irqs.line(14).raise();
    irqs.line(14).lower();
    eoi();
    expect(hub.intrPending).toBe(false);
  });

  it('§3.2.4 Interrupt Mask: an edge on a masked input is lost; a masked active level input is sent on unmask', () => {
    const { irqs, hub, redir, eoi } = setup();
    redir(14, 0x81 | EDGE | MASKED);
    irqs.line(14).pulse();
    redir(14, 0x81 | EDGE);
    expect(hub.intrPending).toBe(false);
    irqs.line(14).pulse();
    expect(hub.acknowledge()).toBe(0x81);
    eoi();

    redir(15, 0x82 | LEVEL | MASKED);
    irqs.line(15).raise();
    expect(hub.intrPending).toBe(false);
    redir(15, 0x82 | LEVEL);
    expect(hub.acknowledge()).toBe(0x82);
    // The handler masks the entry before its EOI: nothing more until unmasked again.
    redir(15, 0x82 | LEVEL | MASKED);
    eoi();
    expect(hub.intrPending).toBe(false);
    redir(15, 0x82 | LEVEL);
    expect(hub.acknowledge()).toBe(0x82);
  });

  it('switching a level entry to edge clears a stuck Remote IRR (what kernels without an EOI register do)', () => {
    const { irqs, hub, redir, read } = setup();
    redir(9, 0x59 | LEVEL);
    irqs.line(9).raise();
    expect(hub.acknowledge()).toBe(0x59);
    expect(read(0x10 + 18) & REMOTE_IRR).toBe(REMOTE_IRR);
    redir(9, 0x59 | EDGE | MASKED);
    expect(read(0x10 + 18) & REMOTE_IRR).toBe(0);
  });

  it('§3.2.4 Interrupt Input Pin Polarity: an active-low entry sees a low input as a request', () => {
    const { hub, redir, irqs, eoi } = setup();
    redir(10, 0x5A | LEVEL | (1 << 13));
    expect(hub.acknowledge()).toBe(0x5A);
    irqs.line(10).raise(); // electrically high = inactive for this entry
    eoi();
    expect(hub.intrPending).toBe(false);
  });

  it('§3.2.4 Destination Mode: physical ID must match (0xFF broadcasts); logical matches the LDR', () => {
    const { irqs, hub, redir, mem, read, eoi } = setup();
    redir(5, 0x45 | LEVEL, 1); // APIC ID 1 does not exist
    irqs.line(5).raise();
    expect(hub.intrPending).toBe(false);
    expect(read(0x10 + 10) & REMOTE_IRR).toBe(0);
    irqs.line(5).lower();
    redir(5, 0x45, 0xFF);
    irqs.line(5).raise();
    expect(hub.acknowledge()).toBe(0x45);
    eoi();
    irqs.line(5).lower();
    mem.write32(LAPIC + 0xD0, 0x02000000); // LDR: logical ID bit 1 (flat model)
    redir(6, 0x46 | (1 << 11), 0x01);
    irqs.line(6).pulse();
    expect(hub.intrPending).toBe(false);
    redir(6, 0x46 | (1 << 11), 0x03);
    irqs.line(6).pulse();
    expect(hub.acknowledge()).toBe(0x46);
  });

  it('§3.2.4 Delivery Mode NMI raises the NMI input; INIT reaches the processor; ExtINT/SMI are reported as not modelled', () => {
    const { irqs, hub, redir, ioapic, lapic } = setup();
    const unsupported: string[] = [];
    let inits = 0;
    lapic.onInit = () => inits++;
    ioapic.onUnsupportedDelivery = (pin, mode) => unsupported.push(`${pin}:${mode}`);
    redir(3, 4 << 8);
    irqs.line(3).pulse();
    expect(hub.nmiPending).toBe(true);
    expect(hub.intrPending).toBe(false);
    redir(4, 7 << 8);
    irqs.line(4).pulse();
    redir(7, 5 << 8);
    irqs.line(7).pulse();
    redir(9, (5 << 8) | (1 << 11), 0x02); // INIT, logical destination no APIC has: nobody
    irqs.line(9).pulse();
    redir(10, 2 << 8);
    irqs.line(10).pulse();
    expect(inits).toBe(1);
    expect(unsupported).toEqual(['4:extint', '10:smi']);
  });

  it('snapshot decodes each entry for the debugger', () => {
    const { redir, ioapic, irqs } = setup();
    redir(14, 0x76 | LEVEL | (1 << 11) | MASKED, 0x0F);
    irqs.line(14).raise();
    const e = ioapic.snapshot().entries[14];
    expect(e).toMatchObject({ vector: 0x76, deliveryMode: 'fixed', logical: true, levelTriggered: true, masked: true, destination: 0x0F, inputHigh: true, remoteIrr: false });
  });
});
