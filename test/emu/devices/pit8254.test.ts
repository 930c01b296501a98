import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/emu/clock.js';
import { InterruptHub, IoBus, IrqRouter } from '../../../src/emu/devices/io-bus.js';
import { Pic8259Pair, registerPic } from '../../../src/emu/devices/pic8259.js';
import { PIT_HZ, Pit8254, registerPit } from '../../../src/emu/devices/pit8254.js';

function setup() {
  const clock = new VirtualClock();
  const bus = new IoBus();
  const irqs = new IrqRouter();
  const pic = new Pic8259Pair();
  irqs.connect(pic);
  registerPic(bus, pic);
  const hub = new InterruptHub(pic);
  const pit = new Pit8254(clock, irqs.line(0));
  registerPit(bus, pit);
  /** Instructions per PIT tick is ~83.8 at the default 100 M instructions/s. */
  const ticks = (n: number) => clock.advance(Math.ceil((n * clock.instructionsPerSecond) / PIT_HZ));
  return { clock, bus, pic, hub, pit, ticks };
}

describe('8254 PIT (Intel 8254 datasheet)', () => {
  it('"Mode 0": channel 2 gated by port 0x61 bit 0, OUT (bit 5) rises N+1 clocks after the count is written (TSC calibration)', () => {
    const { clock, bus } = setup();
    // Linux pit_calibrate_tsc(): gate on, speaker off, channel 2 mode 0 binary lobyte/hibyte.
    bus.out(0x61, 1, (bus.in(0x61, 1) & ~0x02) | 0x01);
    bus.out(0x43, 1, 0xB0);
    const N = 11932; // ~10 ms
    bus.out(0x42, 1, N & 0xFF);
    bus.out(0x42, 1, N >> 8);
    const start = clock.now;
    expect(bus.in(0x61, 1) & 0x20).toBe(0);
    let polls = 0;
    while ((bus.in(0x61, 1) & 0x20) === 0) {
      clock.advance(10);
      polls++;
      expect(polls).toBeLessThan(200_000);
    }
    const elapsed = clock.now - start;
    // N+1 PIT clocks of 1/1193182 s each, at 100 M instructions/s.
    const expected = ((N + 1) * clock.instructionsPerSecond) / PIT_HZ;
    expect(Math.abs(elapsed - expected)).toBeLessThanOrEqual(10 + 84);
    // The TSC measured over that interval is what a kernel would calibrate to: 2 GHz.
    const tscHz = (elapsed * 20) / ((N + 1) / PIT_HZ);
    expect(Math.abs(tscHz - 2e9) / 2e9).toBeLessThan(0.001);
  });

  it('"Mode 2": channel 0 rate generator raises IRQ0 every N clocks', () => {
    const { clock, bus, hub } = setup();
    bus.out(0x21, 1, 0xFA); // unmask IRQ0 on the (firmware-initialised) master
    bus.out(0x43, 1, 0x34); // channel 0, lobyte/hibyte, mode 2
    const N = 1193; // ~1 kHz
    bus.out(0x40, 1, N & 0xFF);
    bus.out(0x40, 1, N >> 8);
    let irqs = 0;
    const end = clock.now + clock.instructionsPerSecond / 10; // 100 ms of virtual time
    while (clock.now < end) {
      const step = Math.min(clock.instructionsUntilNextEvent(), end - clock.now);
      clock.advance(step === Infinity ? end - clock.now : step);
      if (hub.intrPending) {
        expect(hub.acknowledge()).toBe(0x08);
        bus.out(0x20, 1, 0x20);
        irqs++;
      }
    }
    // 0.1 s * 1193182 / 1193 = 100.01 periods
    expect(irqs).toBe(100);
  });

  it('"Counter Latch Command": the latched count holds while counting continues; LSB then MSB', () => {
    const { bus, ticks } = setup();
    bus.out(0x43, 1, 0x34);
    bus.out(0x40, 1, 0x00);
    bus.out(0x40, 1, 0x10); // 0x1000
    ticks(1 + 0x100);
    bus.out(0x43, 1, 0x00); // latch channel 0
    ticks(0x50);
    const lo = bus.in(0x40, 1);
    const hi = bus.in(0x40, 1);
    expect((hi << 8) | lo).toBe(0x0F00);
    // Unlatched reads follow the running count.
    const lo2 = bus.in(0x40, 1);
    const hi2 = bus.in(0x40, 1);
    expect((hi2 << 8) | lo2).toBe(0x0F00 - 0x50);
  });

  it('"Read-Back Command": status byte shows OUT, null count, RW mode, mode and BCD', () => {
    const { bus, ticks } = setup();
    bus.out(0x43, 1, 0xB1); // channel 2, lobyte/hibyte, mode 0, BCD
    bus.out(0x42, 1, 0x00);
    bus.out(0x42, 1, 0x10); // BCD 1000
    bus.out(0x43, 1, 0xE8); // read-back: status only (COUNT bit set = don't latch count), channel 2
    expect(bus.in(0x42, 1)).toBe(0x40 | 0x30 | 0x00 | 0x01); // OUT low, null count, RW=3, mode 0, BCD
    bus.out(0x61, 1, 0x01); // gate on
    ticks(5);
    bus.out(0x43, 1, 0xC8); // read-back: count and status of channel 2
    expect(bus.in(0x42, 1)).toBe(0x31); // status first; count loaded now
    const lo = bus.in(0x42, 1);
    const hi = bus.in(0x42, 1);
    // Gate was low from the load until the ticks: counting was suspended, so the count is
    // 1000 minus the clocks after the gate rose (minus the load clock).
    const v = (hi << 8) | lo;
    expect(v >> 12).toBe(0x0);
    expect(v).toBeGreaterThanOrEqual(0x0995);
    expect(v).toBeLessThanOrEqual(0x0999);
    ticks(1100);
    bus.out(0x43, 1, 0xE8);
    expect(bus.in(0x42, 1) & 0x80).toBe(0x80); // terminal count reached: OUT high
  });

  it('"Mode 3": square wave, OUT high for ceil(N/2) and low for floor(N/2) clocks', () => {
    const { bus, ticks, pit } = setup();
    bus.out(0x61, 1, 0x01);
    bus.out(0x43, 1, 0xB6); // channel 2, mode 3
    bus.out(0x42, 1, 100);
    bus.out(0x42, 1, 0);
    ticks(2);
    expect(pit.output(2)).toBe(true);
    ticks(50);
    expect(pit.output(2)).toBe(false);
    ticks(50);
    expect(pit.output(2)).toBe(true);
    // Gate low forces OUT high.
    ticks(55);
    expect(pit.output(2)).toBe(false);
    bus.out(0x61, 1, 0x00);
    expect(pit.output(2)).toBe(true);
  });

  it('"Gate": in mode 0 a low gate suspends counting and a high gate resumes it', () => {
    const { bus, ticks } = setup();
    bus.out(0x61, 1, 0x01);
    bus.out(0x43, 1, 0xB0);
    bus.out(0x42, 1, 0x00);
    bus.out(0x42, 1, 0x02); // 512
    ticks(101);
    bus.out(0x61, 1, 0x00);
    const read = () => {
      bus.out(0x43, 1, 0x80);
      const lo = bus.in(0x42, 1);
      return lo | (bus.in(0x42, 1) << 8);
    };
    const frozen = read();
    ticks(300);
    expect(read()).toBe(frozen);
    bus.out(0x61, 1, 0x01);
    ticks(10);
    expect(frozen - read()).toBeGreaterThanOrEqual(9);
    expect(frozen - read()).toBeLessThanOrEqual(11);
  });

  it('"Control Word Format": LSB-only and MSB-only access modes', () => {
    const { bus, ticks } = setup();
    bus.out(0x43, 1, 0x90); // channel 2, LSB only, mode 0
    bus.out(0x42, 1, 0x80);
    bus.out(0x61, 1, 0x01);
    ticks(0x11);
    expect(bus.in(0x42, 1)).toBe(0x70);
    bus.out(0x43, 1, 0xA0); // MSB only
    bus.out(0x42, 1, 0x02); // 0x0200
    ticks(0x101);
    expect(bus.in(0x42, 1)).toBe(0x01);
  });

  it('port 0x61 bit 4 toggles with the refresh clock (every 18 PIT clocks)', () => {
    const { bus, ticks } = setup();
    const seen = new Set<number>();
    for (let i = 0; i < 6; i++) {
      seen.add(bus.in(0x61, 1) & 0x10);
      ticks(9);
    }
    expect(seen).toEqual(new Set([0, 0x10]));
  });

  it('snapshots channel state for the debugger', () => {
    const { pit } = setup();
    const s = pit.snapshot();
    expect(s.channels[0].mode).toBe(3);
    expect(s.channels[1].reload).toBe(18);
    expect(s.channels[2].gate).toBe(false);
  });
});
