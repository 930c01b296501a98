import { describe, expect, it } from 'vitest';
import { InterruptHub, IoBus, IrqRouter } from '../../../src/emu/devices/io-bus.js';
import { Pic8259Pair, registerPic } from '../../../src/emu/devices/pic8259.js';

/** A PC's PIC pair, initialised the way Linux and most kernels do it (vectors 0x20/0x28). */
function setup(opts: { aeoi?: boolean; sfnm?: boolean } = {}) {
  const bus = new IoBus();
  const pic = new Pic8259Pair();
  registerPic(bus, pic);
  const irqs = new IrqRouter();
  irqs.connect(pic);
  const hub = new InterruptHub(pic);
  const icw4 = 0x01 | (opts.aeoi ? 0x02 : 0) | (opts.sfnm ? 0x10 : 0);
  bus.out(0x20, 1, 0x11); // ICW1: edge, cascade, ICW4 needed
  bus.out(0x21, 1, 0x20); // ICW2
  bus.out(0x21, 1, 0x04); // ICW3: slave on IR2
  bus.out(0x21, 1, icw4); // ICW4
  bus.out(0xA0, 1, 0x11);
  bus.out(0xA1, 1, 0x28);
  bus.out(0xA1, 1, 0x02);
  bus.out(0xA1, 1, 0x01);
  bus.out(0x21, 1, 0x00); // OCW1: unmask all
  bus.out(0xA1, 1, 0x00);
  return { bus, pic, irqs, hub };
}

describe('8259A PIC pair (Intel 8259A datasheet)', () => {
  it('firmware state: vectors 0x08/0x70, everything but the cascade masked', () => {
    const pic = new Pic8259Pair();
    expect(pic.vectorBase(0)).toBe(0x08);
    expect(pic.vectorBase(1)).toBe(0x70);
    expect(pic.snapshot().master.imr).toBe(0xFB);
    expect(pic.snapshot().slave.imr).toBe(0xFF);
  });

  it('"Initialization Command Words": ICW1 clears IMR; ICW2 sets the vector base (T7-T3); OCW1 reads back', () => {
    const { bus, pic } = setup();
    bus.out(0x21, 1, 0xA5);
    expect(bus.in(0x21, 1)).toBe(0xA5);
    bus.out(0x20, 1, 0x11);
    expect(bus.in(0x21, 1)).toBe(0); // IMR cleared by ICW1
    bus.out(0x21, 1, 0x47); // low 3 bits ignored in 8086 mode
    bus.out(0x21, 1, 0x04);
    bus.out(0x21, 1, 0x01);
    expect(pic.vectorBase(0)).toBe(0x40);
  });

  it('"Interrupt Sequence": an edge sets IRR, INTA moves it to ISR and returns base+IR', () => {
    const { bus, irqs, hub } = setup();
    expect(hub.intrPending).toBe(false);
    irqs.line(1).pulse();
    expect(hub.intrPending).toBe(true);
    bus.out(0x20, 1, 0x0A); // OCW3: read IRR
    expect(bus.in(0x20, 1)).toBe(0x02);
    expect(hub.acknowledge()).toBe(0x21);
    expect(hub.intrPending).toBe(false);
    expect(bus.in(0x20, 1)).toBe(0x00);
    bus.out(0x20, 1, 0x0B); // OCW3: read ISR
    expect(bus.in(0x20, 1)).toBe(0x02);
    bus.out(0x20, 1, 0x20); // OCW2: non-specific EOI
    expect(bus.in(0x20, 1)).toBe(0x00);
  });

  it('"Fully Nested Mode": a lower-priority request waits for the EOI of a higher one; higher ones nest', () => {
    const { bus, irqs, hub } = setup();
    irqs.line(3).pulse();
    expect(hub.acknowledge()).toBe(0x23);
    irqs.line(5).pulse();
    expect(hub.intrPending).toBe(false); // IR5 < IR3 in priority
    irqs.line(1).pulse();
    expect(hub.intrPending).toBe(true); // IR1 nests
    expect(hub.acknowledge()).toBe(0x21);
    bus.out(0x20, 1, 0x20); // EOI clears the highest in service: IR1
    expect(hub.intrPending).toBe(false);
    bus.out(0x20, 1, 0x63); // specific EOI for IR3
    expect(hub.intrPending).toBe(true);
    expect(hub.acknowledge()).toBe(0x25);
  });

  it('IMR (OCW1) masks requests but the IRR still latches them', () => {
    const { bus, irqs, hub } = setup();
    bus.out(0x21, 1, 0x01);
    irqs.line(0).pulse();
    expect(hub.intrPending).toBe(false);
    bus.out(0x20, 1, 0x0A);
    expect(bus.in(0x20, 1)).toBe(0x01);
    bus.out(0x21, 1, 0x00);
    expect(hub.acknowledge()).toBe(0x20);
  });

  it('cascade on IR2: a slave request comes through master IR2; both need EOI', () => {
    const { bus, irqs, hub, pic } = setup();
    irqs.line(12).pulse();
    expect(hub.intrPending).toBe(true);
    expect(hub.acknowledge()).toBe(0x2C);
    expect(pic.snapshot().master.isr).toBe(0x04);
    expect(pic.snapshot().slave.isr).toBe(0x10);
    irqs.line(9).pulse();
    expect(hub.intrPending).toBe(false); // master IR2 in service blocks (no SFNM)
    bus.out(0xA0, 1, 0x20);
    bus.out(0x20, 1, 0x20);
    expect(hub.acknowledge()).toBe(0x29);
  });

  it('"Special Fully Nested Mode": the master lets a higher-priority slave request through IR2 in service', () => {
    const { irqs, hub } = setup({ sfnm: true });
    irqs.line(12).pulse();
    expect(hub.acknowledge()).toBe(0x2C);
    irqs.line(9).pulse();
    expect(hub.intrPending).toBe(true);
    expect(hub.acknowledge()).toBe(0x29);
  });

  it('spurious interrupts: a request gone before INTA gives IR7 of the master, with no ISR bit', () => {
    const { bus, irqs, hub, pic } = setup();
    // Level-triggered IRQ5 (ELCR) that drops before the acknowledge.
    bus.out(0x4D0, 1, 0x20);
    expect(bus.in(0x4D0, 1)).toBe(0x20);
    irqs.line(5).raise();
    expect(hub.intrPending).toBe(true);
    irqs.line(5).lower();
    expect(pic.acknowledge()).toBe(0x27);
    expect(pic.snapshot().master.isr).toBe(0);
    // A vanished slave request takes the cascade request (master IR2) with it.
    bus.out(0x4D1, 1, 0x02);
    irqs.line(9).raise();
    expect(hub.intrPending).toBe(true);
    irqs.line(9).lower();
    expect(hub.intrPending).toBe(false);
    expect(pic.acknowledge()).toBe(0x27);
    expect(pic.snapshot().master.isr).toBe(0);
    expect(pic.snapshot().slave.isr).toBe(0);
  });

  it('ELCR: IRQ0, 1, 2, 8 and 13 cannot be level-triggered; level IRR follows the line', () => {
    const { bus, irqs, hub } = setup();
    bus.out(0x4D0, 1, 0xFF);
    bus.out(0x4D1, 1, 0xFF);
    expect(bus.in(0x4D0, 1)).toBe(0xF8);
    expect(bus.in(0x4D1, 1)).toBe(0xDE);
    irqs.line(10).raise();
    expect(hub.acknowledge()).toBe(0x2A);
    bus.out(0xA0, 1, 0x20);
    bus.out(0x20, 1, 0x20);
    expect(hub.intrPending).toBe(true); // still asserted: requested again
    irqs.line(10).lower();
    expect(hub.intrPending).toBe(false);
  });

  it('"Automatic End of Interrupt Mode": no ISR bit is set', () => {
    const { irqs, hub, pic } = setup({ aeoi: true });
    irqs.line(4).pulse();
    expect(hub.acknowledge()).toBe(0x24);
    expect(pic.snapshot().master.isr).toBe(0);
  });

  it('OCW2 rotation and set-priority change which request wins', () => {
    const { bus, irqs, hub } = setup();
    bus.out(0x20, 1, 0xC4); // set priority: IR4 lowest, so IR5 highest
    irqs.line(3).pulse();
    irqs.line(6).pulse();
    expect(hub.acknowledge()).toBe(0x26);
    bus.out(0x20, 1, 0xA0); // rotate on non-specific EOI: IR6 becomes lowest
    expect(hub.acknowledge()).toBe(0x23);
  });

  it('OCW3 poll command returns 0x80|level and acknowledges', () => {
    const { bus, irqs, pic } = setup();
    irqs.line(6).pulse();
    bus.out(0x20, 1, 0x0C);
    expect(bus.in(0x20, 1)).toBe(0x86);
    expect(pic.snapshot().master.isr).toBe(0x40);
    bus.out(0x20, 1, 0x0C);
    expect(bus.in(0x20, 1)).toBe(0x00);
  });

  it('special mask mode lets lower-priority requests through masked in-service levels', () => {
    const { bus, irqs, hub } = setup();
    irqs.line(1).pulse();
    expect(hub.acknowledge()).toBe(0x21);
    irqs.line(4).pulse();
    expect(hub.intrPending).toBe(false);
    bus.out(0x21, 1, 0x02); // mask IR1 (in service)
    bus.out(0x20, 1, 0x68); // OCW3: set special mask mode
    expect(hub.intrPending).toBe(true);
    expect(hub.acknowledge()).toBe(0x24);
  });
});
