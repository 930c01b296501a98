// The ports test kernels use to talk to the emulator around them, as QEMU and Bochs
// provide them:
//   0x80   POST code (firmware progress; also the classic "I/O delay" port)
//   0xE9   debug console: bytes written appear on the host (Bochs/QEMU "port E9 hack");
//          reads return 0xE9 so a guest can detect it
//   0xF4   QEMU isa-debug-exit (port configurable; lvisor-style setups use 0x501):
//          writing v ends the run with exit status (v << 1) | 1
//   0x8900 the Bochs/QEMU legacy power-off port: the string "Shutdown" written byte by
//          byte powers the machine off (a clean shutdown, status 0)
// and the PC reset controls: port 0x92 (PS/2 system control port A: bit 0 = fast reset,
// bit 1 = A20, which is always on here) and 0xCF9 (PIIX reset control: bit 2 resets).

import type { PortDevice } from './io-bus.js';

/** How a device asked the run to end. */
export type MachineStopRequest =
  | { kind: 'debug-exit'; value: number; status: number }
  | { kind: 'shutdown' }
  | { kind: 'reset'; source: string };

export interface DebugPortsConfig {
  /** isa-debug-exit base port (default 0xF4). */
  exitPort?: number;
  /** Bytes the isa-debug-exit device decodes at its base (QEMU's iosize; default 4). */
  exitPortSize?: 1 | 2 | 4;
}

export const DEFAULT_EXIT_PORT = 0xF4;
const POST_PORT = 0x80;
const E9_PORT = 0xE9;
const SHUTDOWN_PORT = 0x8900;
const SHUTDOWN_STRING = 'Shutdown';

export class DebugPorts implements PortDevice {
  /** Bytes written to port 0xE9. */
  onConsole: (byte: number) => void = () => {};
  /** Every POST code written to port 0x80. */
  onPost: (code: number) => void = () => {};
  /** The guest asked to end the run (debug exit or "Shutdown"). */
  onStop: (request: MachineStopRequest) => void = () => {};
  /** Last POST code written. */
  postCode = 0;
  readonly exitPort: number;
  readonly exitPortSize: 1 | 2 | 4;
  /** How much of "Shutdown" has been written to 0x8900 so far. */
  private shutdownMatched = 0;

  constructor(config: DebugPortsConfig = {}) {
    this.exitPort = config.exitPort ?? DEFAULT_EXIT_PORT;
    this.exitPortSize = config.exitPortSize ?? 4;
  }

  portRead(port: number): number {
    if (port === E9_PORT) return 0xE9;
    if (port === POST_PORT) return this.postCode;
    // isa-debug-exit and 0x8900 have no readable state.
    return 0xFF;
  }

  portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    if (port === this.exitPort) {
      // The device sees the access width the CPU used, up to the size it decodes.
      const width = Math.min(size, this.exitPortSize);
      const v = width === 4 ? value >>> 0 : value & (width === 2 ? 0xFFFF : 0xFF);
      this.onStop({ kind: 'debug-exit', value: v, status: ((v << 1) | 1) >>> 0 });
      return;
    }
    switch (port) {
      case POST_PORT:
        this.postCode = value & 0xFF;
        this.onPost(this.postCode);
        return;
      case E9_PORT:
        this.onConsole(value & 0xFF);
        return;
      case SHUTDOWN_PORT: {
        const ch = value & 0xFF;
        if (ch === SHUTDOWN_STRING.charCodeAt(this.shutdownMatched)) this.shutdownMatched++;
        else this.shutdownMatched = ch === SHUTDOWN_STRING.charCodeAt(0) ? 1 : 0;
        if (this.shutdownMatched === SHUTDOWN_STRING.length) {
          this.shutdownMatched = 0;
          this.onStop({ kind: 'shutdown' });
        }
        return;
      }
    }
  }
}

/** Register the debug ports on `bus`: 0x80, 0xE9, the exit port and 0x8900. */
export function registerDebugPorts(bus: { register(name: string, base: number, count: number, device: PortDevice, byteWide?: boolean): void }, dev: DebugPorts): void {
  bus.register('post', POST_PORT, 1, dev);
  bus.register('debug-console', E9_PORT, 1, dev);
  bus.register('isa-debug-exit', dev.exitPort, 1, dev, false);
  bus.register('bochs-shutdown', SHUTDOWN_PORT, 1, dev);
}

/** Port 0x92 (system control port A) and 0xCF9 (reset control register). */
export class ResetControl implements PortDevice {
  onStop: (request: MachineStopRequest) => void = () => {};
  private port92 = 0x02;
  private cf9 = 0;

  portRead(port: number): number {
    // Bit 1 of port 0x92: A20 gate, always enabled on this machine.
    return port === 0x92 ? this.port92 | 0x02 : this.cf9;
  }

  portWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    if (port === 0x92) {
      // Bit 0: a 0->1 transition pulses the CPU reset line ("fast reset").
      const rising = (value & 1) !== 0 && (this.port92 & 1) === 0;
      this.port92 = value & 0xFF;
      if (rising) this.onStop({ kind: 'reset', source: 'port 0x92' });
      return;
    }
    // 0xCF9: bit 1 selects hard reset, bit 2 starts it.
    this.cf9 = value & 0x0A;
    if (value & 0x04) this.onStop({ kind: 'reset', source: 'port 0xcf9' });
  }
}

/** Register the reset controls on `bus`. 0xCF9 is one byte inside the PCI config range 0xCF8-0xCFF. */
export function registerResetControl(bus: { register(name: string, base: number, count: number, device: PortDevice): void }, dev: ResetControl): void {
  bus.register('system-control-a', 0x92, 1, dev);
  bus.register('reset-control', 0xCF9, 1, dev);
}
