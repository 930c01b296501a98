import { describe, expect, it } from 'vitest';
import { DebugPorts, ResetControl, registerDebugPorts, registerResetControl } from '../../../src/emu/devices/debug-ports.js';
import type { MachineStopRequest } from '../../../src/emu/devices/debug-ports.js';
import { IoBus } from '../../../src/emu/devices/io-bus.js';

function setup(exitPort?: number) {
  const bus = new IoBus();
  const dev = new DebugPorts({ exitPort });
  registerDebugPorts(bus, dev);
  const stops: MachineStopRequest[] = [];
  dev.onStop = (s) => stops.push(s);
  return { bus, dev, stops };
}

describe('debug ports (QEMU isa-debug-exit, port 0xE9, POST 0x80, Bochs 0x8900)', () => {
  it('isa-debug-exit at 0xF4: value v ends the run with status (v << 1) | 1', () => {
    const { bus, stops } = setup();
    bus.out(0xF4, 1, 0x10);
    bus.out(0xF4, 4, 0x0);
    bus.out(0xF4, 2, 0x1234);
    expect(stops).toEqual([
      { kind: 'debug-exit', value: 0x10, status: 0x21 },
      { kind: 'debug-exit', value: 0, status: 1 },
      { kind: 'debug-exit', value: 0x1234, status: 0x2469 },
    ]);
  });

  it('the exit port is configurable (lvisor-style 0x501) and 0xF4 is then free', () => {
    const { bus, stops } = setup(0x501);
    bus.out(0xF4, 1, 1);
    expect(stops).toEqual([]);
    bus.out(0x501, 1, 1);
    expect(stops).toEqual([{ kind: 'debug-exit', value: 1, status: 3 }]);
  });

  it('"Shutdown" written to 0x8900 powers off, even after a false start', () => {
    const { bus, stops } = setup();
    for (const ch of 'ShutShutdown') bus.out(0x8900, 1, ch.charCodeAt(0));
    expect(stops).toEqual([{ kind: 'shutdown' }]);
  });

  it('0xE9 bytes go to the console and read back 0xE9; 0x80 keeps the POST code', () => {
    const { bus, dev } = setup();
    const text: number[] = [];
    dev.onConsole = (b) => text.push(b);
    for (const ch of 'hi\n') bus.out(0xE9, 1, ch.charCodeAt(0));
    expect(String.fromCharCode(...text)).toBe('hi\n');
    expect(bus.in(0xE9, 1)).toBe(0xE9);
    bus.out(0x80, 1, 0x42);
    expect(dev.postCode).toBe(0x42);
    expect(bus.in(0x80, 1)).toBe(0x42);
  });

  it('reset controls: port 0x92 bit 0 rising edge and 0xCF9 bit 2 request a reset; A20 reads enabled', () => {
    const bus = new IoBus();
    const rc = new ResetControl();
    registerResetControl(bus, rc);
    const stops: MachineStopRequest[] = [];
    rc.onStop = (s) => stops.push(s);
    expect(bus.in(0x92, 1) & 0x02).toBe(0x02);
    bus.out(0x92, 1, 0x02);
    expect(stops).toEqual([]);
    bus.out(0x92, 1, 0x03);
    bus.out(0xCF9, 1, 0x02);
    bus.out(0xCF9, 1, 0x06);
    expect(stops.map((s) => (s.kind === 'reset' ? s.source : s.kind))).toEqual(['port 0x92', 'port 0xcf9']);
    // A dword PCI config-address write at 0xCF8 is not a byte write to 0xCF9.
    bus.out(0xCF8, 4, 0x80000400);
    expect(stops.length).toBe(2);
  });
});
