// The machine's clock follows the CPU's instruction counter exactly (devices read the time
// in the middle of a slice) and reports timers armed before the end of the running slice.
import { describe, expect, it } from 'vitest';
import { MachineClock } from '../../../src/emu/machine/machine-clock';

describe('MachineClock', () => {
  it('now = instructions retired + time skipped while halted', () => {
    const clock = new MachineClock();
    const cpu = { icount: 0 };
    clock.attach(cpu);
    cpu.icount = 1234;
    expect(clock.now).toBe(1234);
    // 100 M instructions per second, 2 GHz TSC: 20 ticks per instruction.
    expect(clock.tsc()).toBe(1234 * 20);
    const t = clock.createTimer('t', () => {});
    clock.schedule(t, 5000);
    expect(clock.skipToNextEvent()).toBe(true);
    expect(clock.now).toBe(5000);
    cpu.icount = 1300;
    expect(clock.now).toBe(5066);
  });

  it('attaching keeps the time already elapsed', () => {
    const clock = new MachineClock();
    clock.now = 77;
    const cpu = { icount: 10 };
    clock.attach(cpu);
    expect(clock.now).toBe(77);
    cpu.icount = 11;
    expect(clock.now).toBe(78);
  });

  it('a deadline inside the running slice is reported, one after it is not', () => {
    const clock = new MachineClock();
    const cpu = { icount: 0 };
    clock.attach(cpu);
    let cuts = 0;
    clock.onEarlierDeadline = () => cuts++;
    const t = clock.createTimer('t', () => {});
    clock.schedule(t, 100); // no slice running
    expect(cuts).toBe(0);
    clock.sliceEnd = 1000;
    clock.schedule(t, 2000);
    expect(cuts).toBe(0);
    clock.schedule(t, 999);
    expect(cuts).toBe(1);
  });
});
