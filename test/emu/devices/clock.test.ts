import { describe, expect, it } from 'vitest';
import { ClockConfigError, Rate, VirtualClock } from '../../../src/emu/clock.js';

describe('VirtualClock (deterministic time from the instruction count)', () => {
  it('derives the TSC and nanoseconds from instructions (default 2 GHz TSC, 100 M instructions/s)', () => {
    const c = new VirtualClock();
    c.advance(1000);
    expect(c.tsc()).toBe(20_000);
    expect(c.nanoseconds()).toBe(10_000);
    c.advance(2 ** 32); // past a 32-bit wrap of the TSC's low half
    const t = c.tsc();
    expect(c.tscHigh() * 2 ** 32 + c.tscLow()).toBe(t);
  });

  it('converts exactly to other clocks without drift (Rate)', () => {
    const r = new Rate(1_193_182, 100_000_000);
    // floor(n * 1193182 / 1e8) computed without overflow even for large n
    for (const n of [0, 1, 83, 84, 99_999_999, 100_000_000, 123_456_789_012, 9e12]) {
      const exact = (BigInt(n) * 1_193_182n) / 100_000_000n;
      expect(BigInt(r.ticks(n))).toBe(exact);
      const k = r.ticks(n);
      const first = r.instructionsFor(k);
      expect(r.ticks(first)).toBeGreaterThanOrEqual(k);
      if (first > 0) expect(r.ticks(first - 1)).toBeLessThan(k);
    }
    expect(() => new Rate(3_000_000_007, 99_999_989)).toThrow(ClockConfigError);
  });

  it('fires timers at their deadline, earliest first, and reports instructions until the next event', () => {
    const c = new VirtualClock();
    const fired: string[] = [];
    const a = c.createTimer('a', (now) => fired.push(`a@${now}`));
    const b = c.createTimer('b', (now) => {
      fired.push(`b@${now}`);
      c.schedule(b, now + 100); // periodic re-arm
    });
    expect(c.instructionsUntilNextEvent()).toBe(Infinity);
    c.schedule(a, 250);
    c.schedule(b, 100);
    expect(c.instructionsUntilNextEvent()).toBe(100);
    c.advance(99);
    expect(fired).toEqual([]);
    c.advance(1);
    expect(fired).toEqual(['b@100']);
    expect(c.instructionsUntilNextEvent()).toBe(100);
    c.advance(200);
    expect(fired).toEqual(['b@100', 'b@300', 'a@300']);
    c.cancel(b);
    expect(c.nextDeadline).toBe(Infinity);
  });

  it('skips idle time to the next event (HLT) and is reproducible', () => {
    const run = () => {
      const c = new VirtualClock({ tscHz: 3_000_000_000 });
      const log: number[] = [];
      const t = c.createTimer('t', (now) => {
        log.push(now, c.tsc());
        if (log.length < 10) c.schedule(t, now + 12345);
      });
      c.schedule(t, 777);
      while (c.skipToNextEvent());
      return log;
    };
    expect(run()).toEqual(run());
    expect(run()[1]).toBe(777 * 30);
  });

  it('WRMSR TSC sets the counter, which keeps counting (SDM Vol. 3 §18.17)', () => {
    const c = new VirtualClock();
    c.advance(500);
    c.setTsc(0x10, 0x1);
    expect(c.tscHigh()).toBe(1);
    expect(c.tscLow()).toBe(0x10);
    c.advance(1);
    expect(c.tscLow()).toBe(0x10 + 20);
    expect(c.instructionAtTsc(0x10 + 40, 1)).toBe(c.now + 1);
  });
});
