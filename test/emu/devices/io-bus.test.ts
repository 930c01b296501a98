import { describe, expect, it } from 'vitest';
import { IoBus, IoConfigError, IrqRouter } from '../../../src/emu/devices/io-bus.js';
import type { PortDevice } from '../../../src/emu/devices/io-bus.js';

class Regs implements PortDevice {
  log: string[] = [];
  portRead(port: number, size: 1 | 2 | 4): number {
    this.log.push(`in${size} ${port.toString(16)}`);
    return (port & 0xFF) + 1;
  }
  portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    this.log.push(`out${size} ${port.toString(16)}=${value.toString(16)}`);
  }
}

describe('IoBus', () => {
  it('unclaimed ports read all ones and ignore writes, as on a PC', () => {
    const bus = new IoBus();
    expect(bus.in(0x1234, 1)).toBe(0xFF);
    expect(bus.in(0x1234, 2)).toBe(0xFFFF);
    expect(bus.in(0x1234, 4)).toBe(0xFFFFFFFF);
    const seen: string[] = [];
    bus.onUnclaimed = (p, s, w, v) => seen.push(`${w ? 'out' : 'in'}${s} ${p.toString(16)} ${v.toString(16)}`);
    bus.out(0xCF8, 4, 0x80000000);
    expect(seen).toEqual(['out4 cf8 80000000']);
  });

  it('splits wide accesses to byte-wide devices into byte accesses on consecutive ports', () => {
    const bus = new IoBus();
    const d = new Regs();
    bus.register('d', 0x300, 2, d);
    expect(bus.in(0x300, 2)).toBe(0x0201);
    // Port 0x302 is unclaimed: its byte floats high.
    expect(bus.in(0x300, 4)).toBe(0xFFFF0201);
    bus.out(0x300, 2, 0xABCD);
    expect(d.log).toEqual(['in1 300', 'in1 301', 'in1 300', 'in1 301', 'out1 300=cd', 'out1 301=ab']);
  });

  it('passes full-width accesses to wide devices, truncating the value to the width', () => {
    const bus = new IoBus();
    const d = new Regs();
    bus.register('wide', 0x500, 4, d, false);
    bus.out(0x500, 2, 0x12345678);
    expect(bus.in(0x500, 4)).toBe(1);
    expect(d.log).toEqual(['out2 500=5678', 'in4 500']);
  });

  it('refuses overlapping registrations with a message naming both', () => {
    const bus = new IoBus();
    bus.register('uart', 0x3F8, 8, new Regs());
    expect(() => bus.register('other', 0x3FF, 2, new Regs())).toThrow(IoConfigError);
    expect(() => bus.register('other', 0x3FF, 2, new Regs())).toThrow(/already decoded by uart/);
  });
});

describe('IrqRouter', () => {
  it('forwards line level changes (only changes) to every connected controller', () => {
    const r = new IrqRouter();
    const seen: string[] = [];
    r.connect({ setIrq: (irq, level) => seen.push(`${irq}:${level ? 1 : 0}`) });
    const l = r.line(4);
    l.raise();
    l.raise();
    l.lower();
    r.line(0).pulse();
    expect(seen).toEqual(['4:1', '4:0', '0:1', '0:0']);
    expect(r.levels()).toBe(0);
    l.raise();
    expect(r.levels()).toBe(0x10);
    expect(() => r.line(16)).toThrow(IoConfigError);
  });
});
