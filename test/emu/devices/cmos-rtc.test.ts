import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/emu/clock.js';
import { CmosRtc, DEFAULT_RTC_EPOCH, registerCmos } from '../../../src/emu/devices/cmos-rtc.js';
import { IoBus, IrqRouter } from '../../../src/emu/devices/io-bus.js';

function setup(epochSeconds = DEFAULT_RTC_EPOCH) {
  const clock = new VirtualClock();
  const bus = new IoBus();
  const irqs = new IrqRouter();
  const rtc = new CmosRtc(clock, irqs.line(8), { epochSeconds, ramSize: 64 << 20 });
  registerCmos(bus, rtc);
  const read = (i: number) => {
    bus.out(0x70, 1, i);
    return bus.in(0x71, 1);
  };
  const write = (i: number, v: number) => {
    bus.out(0x70, 1, i);
    bus.out(0x71, 1, v);
  };
  const second = clock.instructionsPerSecond;
  return { clock, bus, rtc, read, write, second, irq8: () => irqs.line(8).asserted };
}

describe('CMOS RTC (MC146818A datasheet)', () => {
  it('"Address Map": time registers in BCD, 24-hour mode, from the configured epoch (deterministic)', () => {
    // 2021-03-14 15:09:26 UTC, a Sunday
    const { read } = setup(Date.UTC(2021, 2, 14, 15, 9, 26) / 1000);
    expect([read(0), read(2), read(4), read(6), read(7), read(8), read(9), read(0x32)]).toEqual([0x26, 0x09, 0x15, 0x01, 0x14, 0x03, 0x21, 0x20]);
  });

  it('advances with virtual time only', () => {
    const { read, clock, second } = setup();
    expect(read(0)).toBe(0x00);
    clock.advance(61 * second);
    expect(read(0)).toBe(0x01);
    expect(read(2)).toBe(0x01);
  });

  it('"Register B": binary and 12-hour modes change the encoding', () => {
    const { read, write } = setup(Date.UTC(2024, 0, 1, 23, 45, 0) / 1000);
    write(0x0B, 0x04); // binary, 12-hour
    expect(read(2)).toBe(45);
    expect(read(4)).toBe(0x80 | 11); // 11 PM
  });

  it('"Register B" SET: stops updates; the written time runs on after SET clears', () => {
    const { read, write, clock, second, rtc } = setup();
    write(0x0B, 0x82);
    write(0x04, 0x13); // 13:xx BCD
    write(0x02, 0x37);
    clock.advance(5 * second);
    expect(read(0)).toBe(0x00); // frozen
    write(0x0B, 0x02);
    clock.advance(3 * second);
    expect([read(4), read(2), read(0)]).toEqual([0x13, 0x37, 0x03]);
    expect(rtc.snapshot().time).toBe('2024-01-01T13:37:03.000Z');
  });

  it('"Register A" UIP is set in the 244 us before each update cycle', () => {
    const { read, clock, second } = setup();
    expect(read(0x0A) & 0x80).toBe(0);
    clock.advance(second - (second * 200e-6));
    expect(read(0x0A)).toBe(0x80 | 0x26);
    clock.advance(second * 300e-6);
    expect(read(0x0A)).toBe(0x26);
  });

  it('"Interrupts": periodic interrupt at the rate-select frequency on IRQ8; reading C clears IRQF', () => {
    const { read, write, clock, irq8 } = setup();
    write(0x0A, 0x2F); // rate 15: 2 Hz
    write(0x0B, 0x42); // PIE
    let count = 0;
    const end = clock.now + 2 * clock.instructionsPerSecond;
    while (clock.now < end) {
      clock.advance(Math.min(clock.instructionsUntilNextEvent(), end - clock.now));
      if (irq8()) {
        expect(read(0x0C) & 0xE0).toBe(0xC0); // IRQF | PF (UF may also be set: updates happen on whole seconds)
        expect(irq8()).toBe(false);
        count++;
      }
    }
    expect(count).toBe(4);
  });

  it('update-ended flag is set once per second and reported in C even without UIE', () => {
    const { read, clock, second } = setup();
    expect(read(0x0C) & 0x10).toBe(0);
    clock.advance(second);
    expect(read(0x0C) & 0x10).toBe(0x10);
    expect(read(0x0C)).toBe(0x00);
  });

  it('port 0x70 bit 7 masks NMI; D reports a valid battery; NVRAM holds the memory size', () => {
    const { bus, read, write, rtc } = setup();
    bus.out(0x70, 1, 0x8D);
    expect(rtc.nmiMasked).toBe(true);
    expect(bus.in(0x71, 1)).toBe(0x80);
    bus.out(0x70, 1, 0x0D);
    expect(rtc.nmiMasked).toBe(false);
    expect(read(0x15) | (read(0x16) << 8)).toBe(640);
    expect(read(0x17) | (read(0x18) << 8)).toBe(63 * 1024);
    write(0x40, 0x5A);
    expect(read(0x40)).toBe(0x5A);
  });
});
