import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/emu/clock.js';
import { InterruptHub, IoBus, IrqRouter } from '../../../src/emu/devices/io-bus.js';
import { LAPIC_VERSION, LocalApic } from '../../../src/emu/devices/local-apic.js';
import { Pic8259Pair, registerPic } from '../../../src/emu/devices/pic8259.js';
import { PhysicalMemory } from '../../../src/emu/memory/physical-memory.js';

const BASE = 0xFEE00000;

function setup() {
  const clock = new VirtualClock();
  const mem = new PhysicalMemory({ ramSize: 16 << 20 });
  const apic = new LocalApic(clock, mem);
  const pic = new Pic8259Pair();
  const bus = new IoBus();
  registerPic(bus, pic);
  const irqs = new IrqRouter();
  irqs.connect(pic);
  const hub = new InterruptHub(pic, apic);
  const rd = (off: number) => mem.read32(BASE + off) >>> 0;
  const wr = (off: number, v: number) => mem.write32(BASE + off, v);
  const enable = () => wr(0xF0, 0x1FF);
  return { clock, mem, apic, pic, bus, irqs, hub, rd, wr, enable };
}

describe('local APIC (Intel SDM Vol. 3A ch. 11)', () => {
  it('"Local APIC Version Register": version 0x15 with Max LVT Entry 6; ID in bits 31:24; APIC base 0xFEE00900', () => {
    const { rd, apic } = setup();
    expect(rd(0x30)).toBe(LAPIC_VERSION);
    expect((rd(0x30) >>> 16) & 0xFF).toBe(6);
    expect(rd(0x20)).toBe(0);
    expect(apic.readApicBase()).toBe(0xFEE00900);
    expect(rd(0xF0)).toBe(0xFF); // SVR reset value: software disabled
    expect(rd(0xE0)).toBe(0xFFFFFFFF); // DFR flat model
  });

  it('"Software Enabling/Disabling": a software-disabled APIC keeps LVT entries masked', () => {
    const { rd, wr, enable } = setup();
    wr(0x320, 0x20030);
    expect(rd(0x320)).toBe(0x30030);
    enable();
    wr(0x320, 0x20030);
    expect(rd(0x320)).toBe(0x20030);
    wr(0xF0, 0xFF);
    expect(rd(0x320) & 0x10000).toBe(0x10000);
  });

  it('"Interrupt Command Register": a fixed self-IPI goes IRR -> (INTA) ISR -> (EOI) cleared', () => {
    const { rd, wr, hub, enable } = setup();
    enable();
    wr(0x300, 0x40041); // shorthand self, fixed, vector 0x41
    expect(rd(0x200 + 0x20)).toBe(1 << 1); // IRR bit 0x41: register 2, bit 1
    expect(hub.intrPending).toBe(true);
    expect(hub.acknowledge()).toBe(0x41);
    expect(rd(0x100 + 0x20)).toBe(1 << 1); // ISR
    expect(rd(0xA0)).toBe(0x40); // PPR = in-service class
    expect(hub.intrPending).toBe(false);
    wr(0xB0, 0);
    expect(rd(0x100 + 0x20)).toBe(0);
    expect(rd(0xA0)).toBe(0);
  });

  it('"Task and Processor Priorities": an interrupt is delivered only when its class exceeds PPR', () => {
    const { wr, hub, enable, rd } = setup();
    enable();
    wr(0x80, 0x50);
    wr(0x300, 0x40055);
    expect(hub.intrPending).toBe(false);
    expect(rd(0xA0)).toBe(0x50);
    wr(0x300, 0x40061);
    expect(hub.intrPending).toBe(true);
    expect(hub.acknowledge()).toBe(0x61);
    wr(0x80, 0x00);
    expect(hub.intrPending).toBe(false); // 0x55 is below the in-service 0x61
    wr(0xB0, 0);
    expect(hub.acknowledge()).toBe(0x55);
  });

  it('"Error Handling": illegal vectors set ESR bits, which a write latches; the error LVT fires', () => {
    const { rd, wr, hub, enable } = setup();
    enable();
    wr(0x370, 0xEE); // error LVT, unmasked, vector 0xEE
    wr(0x300, 0x40005); // send illegal vector
    wr(0x280, 0);
    expect(rd(0x280)).toBe(0x20);
    expect(hub.acknowledge()).toBe(0xEE);
    wr(0x280, 0);
    expect(rd(0x280)).toBe(0);
    rd(0x400); // reserved register
    wr(0x280, 0);
    expect(rd(0x280)).toBe(0x80);
  });

  it('"APIC Timer" one-shot: counts down at bus clock / divide and interrupts once', () => {
    const { clock, rd, wr, hub, enable } = setup();
    enable();
    wr(0x3E0, 0x3); // divide by 16
    wr(0x320, 0x40); // one-shot, vector 0x40
    wr(0x380, 1000);
    // 100 MHz bus, 100 M instructions/s: one bus tick per instruction.
    clock.advance(1600);
    expect(rd(0x390)).toBe(900);
    const left = clock.instructionsUntilNextEvent();
    expect(left).toBe(14400);
    clock.advance(left - 1);
    expect(hub.intrPending).toBe(false);
    clock.advance(1);
    expect(hub.intrPending).toBe(true);
    expect(rd(0x390)).toBe(0);
    expect(hub.acknowledge()).toBe(0x40);
    wr(0xB0, 0);
    clock.advance(100000);
    expect(hub.intrPending).toBe(false);
  });

  it('"APIC Timer" periodic: reloads and interrupts every initial-count * divisor clocks', () => {
    const { clock, wr, hub, enable } = setup();
    enable();
    wr(0x3E0, 0xB); // divide by 1
    wr(0x320, 0x20000 | 0x30);
    wr(0x380, 500);
    let n = 0;
    for (let i = 0; i < 10; i++) {
      clock.advance(clock.instructionsUntilNextEvent());
      if (hub.intrPending) {
        expect(hub.acknowledge()).toBe(0x30);
        wr(0xB0, 0);
        n++;
      }
    }
    expect(n).toBe(10);
    expect(clock.now).toBe(5000);
  });

  it('"TSC-Deadline Mode": IA32_TSC_DEADLINE arms the timer; it fires at the TSC value and reads 0 after', () => {
    const { clock, wr, hub, enable, apic } = setup();
    enable();
    const out = new Int32Array(2);
    apic.writeTscDeadline(100000, 0); // ignored outside TSC-deadline mode
    apic.readTscDeadline(out, 0);
    expect(out[0]).toBe(0);
    wr(0x320, 0x40000 | 0x50);
    apic.writeTscDeadline(clock.tscLow() + 20000, 0);
    apic.readTscDeadline(out, 0);
    expect(out[0]).toBe(20000);
    expect(clock.instructionsUntilNextEvent()).toBe(1000); // 20 TSC ticks per instruction
    clock.advance(1000);
    expect(hub.acknowledge()).toBe(0x50);
    apic.readTscDeadline(out, 0);
    expect(out[0]).toBe(0);
  });

  it('"Local APIC Status and Location": clearing then re-setting the global enable leaves a working APIC in reset state', () => {
    const { apic, rd, wr, enable, hub, mem } = setup();
    enable();
    wr(0x80, 0x20);
    expect(apic.writeApicBase(0xFEE00100, 0)).toBe(true); // EN=0 (kvm-unit-tests does this)
    expect(apic.hardwareEnabled).toBe(false);
    expect(mem.read32(BASE + 0x30)).toBe(-1); // the xAPIC page is gone
    expect(apic.passesExtInt()).toBe(true); // the 8259A reaches the CPU directly
    expect(apic.writeApicBase(0xFEE00900, 0)).toBe(true);
    expect(rd(0x30)).toBe(LAPIC_VERSION);
    expect(rd(0x80)).toBe(0); // reset state
    expect(rd(0xF0)).toBe(0xFF);
    expect(rd(0x350) & 0x10000).toBe(0x10000);
    enable();
    wr(0x300, 0x40042);
    expect(hub.acknowledge()).toBe(0x42);
  });

  it('IA32_APIC_BASE: reserved bits and invalid x2APIC transitions #GP ("x2APIC State Transitions")', () => {
    const { apic } = setup();
    expect(apic.writeApicBase(0xFEE00901, 0)).toBe(false); // reserved bit 0
    expect(apic.writeApicBase(0xFEE00400, 0)).toBe(false); // EXTD without EN
    expect(apic.writeApicBase(0xFEE00D00, 0)).toBe(true); // xAPIC -> x2APIC
    expect(apic.writeApicBase(0xFEE00900, 0)).toBe(false); // x2APIC -> xAPIC
    expect(apic.writeApicBase(0xFEE00100, 0)).toBe(true); // x2APIC -> disabled
    expect(apic.writeApicBase(0xFEE00D00, 0)).toBe(false); // disabled -> x2APIC
  });

  it('relocating the APIC base moves the register page', () => {
    const { apic, mem } = setup();
    expect(apic.writeApicBase(0xFED00900, 0)).toBe(true);
    expect(mem.read32(0xFED00030) >>> 0).toBe(LAPIC_VERSION);
    expect(mem.read32(BASE + 0x30)).toBe(-1);
  });

  it('"x2APIC Register Address Space": MSR access, 32-bit ID, derived LDR, SELF IPI, #GP rules', () => {
    const { apic, hub, mem } = setup();
    const out = new Int32Array(2);
    expect(apic.x2apicRead(0x802, out, 0)).toBe(false); // not in x2APIC mode
    expect(apic.writeApicBase(0xFEE00D00, 0)).toBe(true);
    expect(mem.read32(BASE + 0x30)).toBe(-1); // no MMIO in x2APIC mode
    expect(apic.x2apicRead(0x802, out, 0)).toBe(true);
    expect(out[0]).toBe(0);
    expect(apic.x2apicRead(0x80D, out, 0)).toBe(true);
    expect(out[0]).toBe(1); // cluster 0, bit 0
    expect(apic.x2apicRead(0x803, out, 0)).toBe(true);
    expect(out[0]).toBe(LAPIC_VERSION);
    expect(apic.x2apicRead(0x80B, out, 0)).toBe(false); // EOI is write-only
    expect(apic.x2apicRead(0x80E, out, 0)).toBe(false); // no DFR in x2APIC mode
    expect(apic.x2apicWrite(0x802, 5, 0)).toBe(false); // ID read-only
    expect(apic.x2apicWrite(0x80F, 0x1FF, 0)).toBe(true);
    expect(apic.x2apicWrite(0x83F, 0x66, 0)).toBe(true); // SELF IPI
    expect(hub.acknowledge()).toBe(0x66);
    expect(apic.x2apicWrite(0x80B, 1, 0)).toBe(false); // non-zero EOI
    expect(apic.x2apicWrite(0x80B, 0, 0)).toBe(true);
    expect(apic.x2apicRead(0x810 + 3, out, 0)).toBe(true);
    expect(out[0]).toBe(0);
    expect(apic.x2apicWrite(0x830, 0x000C4500, 0)).toBe(true); // INIT to all but self
    expect(apic.ipiLog.at(-1)).toMatchObject({ deliveryMode: 'init', shorthand: 'all-but-self' });
  });

  it('broadcast INIT/SIPI is recorded for SMP and does not wedge the only CPU', () => {
    const { apic, wr, rd, hub, enable } = setup();
    enable();
    const seen: string[] = [];
    apic.onIpi = (i) => seen.push(`${i.deliveryMode}/${i.shorthand}/${i.vector.toString(16)}`);
    wr(0x300, 0xC4500); // INIT, all excluding self
    wr(0x300, 0xC4608); // SIPI vector 8, all excluding self
    wr(0x310, 0xFF000000);
    wr(0x300, 0x4500); // INIT to destination 0xFF (broadcast, includes self)
    expect(seen).toEqual(['init/all-but-self/0', 'startup/all-but-self/8', 'init/none/0']);
    expect(rd(0x300) & 0x1000).toBe(0); // delivery status idle
    wr(0x300, 0x40077);
    expect(hub.acknowledge()).toBe(0x77);
  });

  it('virtual wire: the 8259A reaches the CPU through LINT0 in ExtINT mode; masking LINT0 blocks it', () => {
    const { bus, irqs, hub, rd, wr, enable } = setup();
    bus.out(0x21, 1, 0xFA); // unmask IRQ0 on the master
    expect(rd(0x350)).toBe(0x700);
    irqs.line(0).pulse();
    expect(hub.intrPending).toBe(true);
    enable();
    wr(0x350, 0x10700);
    expect(hub.intrPending).toBe(false);
    wr(0x350, 0x700);
    expect(hub.acknowledge()).toBe(0x08);
  });

  it('an NMI IPI to self latches an NMI for the CPU', () => {
    const { wr, hub, enable } = setup();
    enable();
    wr(0x300, 0x40400);
    expect(hub.nmiPending).toBe(true);
    hub.acknowledgeNmi();
    expect(hub.nmiPending).toBe(false);
  });
});
