import { describe, expect, it } from 'vitest';
import type { MachineStopRequest } from '../../../src/emu/devices/debug-ports.js';
import { I8042, registerI8042 } from '../../../src/emu/devices/i8042.js';
import { IoBus, IrqRouter } from '../../../src/emu/devices/io-bus.js';

function setup() {
  const bus = new IoBus();
  const irqs = new IrqRouter();
  const kbc = new I8042(irqs.line(1));
  registerI8042(bus, kbc);
  const stops: MachineStopRequest[] = [];
  kbc.onStop = (r) => stops.push(r);
  const cmd = (c: number) => bus.out(0x64, 1, c);
  const data = (d: number) => bus.out(0x60, 1, d);
  const status = () => bus.in(0x64, 1);
  const read = () => bus.in(0x60, 1);
  const irq = () => irqs.line(1).asserted;
  return { bus, kbc, stops, cmd, data, status, read, irq };
}

describe('8042 keyboard controller (IBM PC/AT and PS/2 technical references)', () => {
  it('status register: system flag and "not inhibited" set after POST; output buffer empty', () => {
    const { status } = setup();
    expect(status() & 0x01).toBe(0);
    expect(status() & 0x14).toBe(0x14);
  });

  it('command AAh (self-test) answers 55h through the output buffer; OBF and IRQ1 follow the buffer', () => {
    const { cmd, status, read, irq } = setup();
    cmd(0xAA);
    expect(status() & 0x01).toBe(1);
    expect(irq()).toBe(true); // command byte bit 0: keyboard interrupt enabled
    expect(read()).toBe(0x55);
    expect(status() & 0x01).toBe(0);
    expect(irq()).toBe(false);
    cmd(0xAB); // keyboard interface test: no fault
    expect(read()).toBe(0x00);
  });

  it('commands 20h/60h read and write the command byte; bit 0 gates IRQ1; bit 3 of status tracks command/data writes', () => {
    const { cmd, data, read, status, irq } = setup();
    cmd(0x20);
    const initial = read();
    expect(initial & 0x04).toBe(0x04);
    cmd(0x60);
    data(0x44); // interrupts off, system flag, translation
    expect(status() & 0x08).toBe(0);
    cmd(0x20);
    expect(status() & 0x08).toBe(0x08);
    expect(irq()).toBe(false);
    expect(read()).toBe(0x44);
  });

  it('commands ADh/AEh disable and enable the keyboard interface (command byte bit 4); A7h/A8h the auxiliary one (bit 5)', () => {
    const { cmd, read } = setup();
    cmd(0xAD);
    cmd(0x20);
    expect(read() & 0x10).toBe(0x10);
    cmd(0xAE);
    cmd(0x20);
    expect(read() & 0x10).toBe(0);
    cmd(0xA8);
    cmd(0x20);
    expect(read() & 0x20).toBe(0);
    cmd(0xA7);
    cmd(0x20);
    expect(read() & 0x20).toBe(0x20);
  });

  it('command FEh pulses the reset line: the run ends as a reboot; FFh pulses nothing', () => {
    const { cmd, stops } = setup();
    cmd(0xFF);
    expect(stops).toEqual([]);
    cmd(0xFE);
    expect(stops).toEqual([{ kind: 'reset', source: 'i8042 command 0xfe' }]);
  });

  it('command D1h writes the output port: bit 0 low asserts reset; bit 1 is the A20 gate (always on here); D0h reads it back', () => {
    const { cmd, data, read, stops } = setup();
    cmd(0xD1);
    data(0xDF); // A20 on, reset inactive: the classic A20 enable
    expect(stops).toEqual([]);
    cmd(0xD0);
    expect(read() & 0x03).toBe(0x03);
    cmd(0xD1);
    data(0xDD); // A20 off: not modelled, still reads on
    cmd(0xD0);
    expect(read() & 0x02).toBe(0x02);
    cmd(0xD1);
    data(0xFE);
    expect(stops.map((s) => s.kind)).toEqual(['reset']);
  });

  it('command D2h puts a byte in the output buffer as keyboard data; bytes for the absent keyboard get no answer', () => {
    const { cmd, data, read, status, irq } = setup();
    cmd(0xD2);
    data(0x1E);
    expect(irq()).toBe(true);
    expect(read()).toBe(0x1E);
    data(0xFF); // keyboard reset: nobody answers
    expect(status() & 0x01).toBe(0);
  });
});
