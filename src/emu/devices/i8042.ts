// The 8042 keyboard controller of a PC/AT (as the PS/2-era "KBC" firmware behaves): data
// port 0x60, status (read) / command (write) port 0x64, IRQ1. References are to the IBM
// PC/AT Technical Reference ("Keyboard Controller": status register, commands, input and
// output ports) and IBM PS/2 Hardware Interface Technical Reference ("Keyboard/Auxiliary
// Device Controller": the controller command byte, commands A7h-AEh, D0h-D4h, F0h-FFh).
//
// What kernels use it for here is the controller itself: the command byte, self-tests,
// the output port (the A20 gate and the CPU reset line) and "pulse output port" FEh, the
// classic way to reboot. No keyboard or mouse is attached: bytes sent to them get no
// answer, as with an unplugged keyboard. A20 is always enabled on this machine (as for
// port 0x92), so the A20 bit of the output port always reads 1.

import type { MachineStopRequest } from './debug-ports.js';
import type { IrqLine, PortDevice } from './io-bus.js';

export const I8042_DATA_PORT = 0x60;
export const I8042_COMMAND_PORT = 0x64;
export const I8042_IRQ = 1;

// Status register bits.
const ST_OBF = 0x01;
const ST_SYS = 0x04;
const ST_CMD = 0x08;
const ST_UNLOCKED = 0x10;
// Controller command byte bits.
const CB_KBD_INT = 0x01;
const CB_SYS = 0x04;
const CB_KBD_DISABLE = 0x10;
const CB_AUX_DISABLE = 0x20;
const CB_TRANSLATE = 0x40;
// Output port bits.
const OUT_RESET = 0x01; // active low: 0 asserts the CPU reset line
const OUT_A20 = 0x02;
const OUT_KBD_OBF = 0x10;

/** What firmware leaves: keyboard interrupt on, system flag set, no mouse, scancode translation. */
const FIRMWARE_COMMAND_BYTE = CB_KBD_INT | CB_SYS | CB_AUX_DISABLE | CB_TRANSLATE;

export interface I8042Snapshot {
  status: number;
  commandByte: number;
  outputPort: number;
  output: number[];
  pendingCommand: number;
}

export class I8042 implements PortDevice {
  /** The guest pulsed the reset line (command FEh, or output-port bit 0 written as 0). */
  onStop: (request: MachineStopRequest) => void = () => {};

  /** The controller's internal RAM; byte 0 is the command byte. */
  private readonly ram = new Uint8Array(32);
  private outputPort = OUT_RESET | OUT_A20;
  /** Bytes waiting in the output buffer (the head is what port 0x60 returns). */
  private readonly output: number[] = [];
  /** The command whose data byte the next write to port 0x60 supplies, or 0. */
  private pendingCommand = 0;
  /** Last write went to the command port (status bit 3). */
  private lastWasCommand = true;
  /** Self-test passed (status bit 2 follows the command byte's system flag, or this). */
  private systemFlag = true;

  constructor(private readonly irq1: IrqLine) {
    this.ram[0] = FIRMWARE_COMMAND_BYTE;
  }

  private get commandByte(): number {
    return this.ram[0];
  }

  private status(): number {
    let s = ST_UNLOCKED;
    if (this.output.length > 0) s |= ST_OBF;
    if (this.systemFlag || (this.commandByte & CB_SYS) !== 0) s |= ST_SYS;
    if (this.lastWasCommand) s |= ST_CMD;
    return s;
  }

  private updateIrq(): void {
    this.irq1.set(this.output.length > 0 && (this.commandByte & CB_KBD_INT) !== 0);
  }

  private respond(byte: number): void {
    this.output.push(byte & 0xFF);
    this.updateIrq();
  }

  portRead(port: number): number {
    if (port === I8042_COMMAND_PORT) return this.status();
    if (this.output.length === 0) return 0;
    const v = this.output.shift()!;
    this.updateIrq();
    return v;
  }

  portWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    const v = value & 0xFF;
    if (port === I8042_COMMAND_PORT) {
      this.lastWasCommand = true;
      this.pendingCommand = 0;
      this.command(v);
      return;
    }
    this.lastWasCommand = false;
    const cmd = this.pendingCommand;
    this.pendingCommand = 0;
    if (cmd >= 0x60 && cmd <= 0x7F) {
      // Write internal RAM byte (60h = the command byte).
      this.ram[cmd - 0x60] = v;
      this.updateIrq();
    } else if (cmd === 0xD1) {
      this.writeOutputPort(v);
    } else if (cmd === 0xD2) {
      // Write keyboard output buffer: the byte appears as if the keyboard had sent it.
      this.respond(v);
    }
    // Otherwise the byte is for the keyboard, and none is attached.
  }

  private command(cmd: number): void {
    if (cmd >= 0x20 && cmd <= 0x3F) {
      // Read internal RAM byte (20h = the command byte).
      this.respond(this.ram[cmd - 0x20]);
      return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7F) || cmd === 0xD1 || cmd === 0xD2) {
      this.pendingCommand = cmd;
      return;
    }
    if (cmd >= 0xF0) {
      // Pulse output port: bits 3:0 clear in the command are pulsed low for 6 us; bit 0
      // is the CPU reset line.
      if ((cmd & 0x01) === 0) this.onStop({ kind: 'reset', source: `i8042 command 0x${cmd.toString(16)}` });
      return;
    }
    switch (cmd) {
      case 0xA7: // disable auxiliary device
        this.ram[0] |= CB_AUX_DISABLE;
        return;
      case 0xA8: // enable auxiliary device
        this.ram[0] &= ~CB_AUX_DISABLE;
        return;
      case 0xAA: // controller self-test: 55h when good; sets the system flag
        this.systemFlag = true;
        this.respond(0x55);
        return;
      case 0xAB: // keyboard interface test: 00h = no clock/data line fault
        this.respond(0x00);
        return;
      case 0xAD: // disable keyboard interface
        this.ram[0] |= CB_KBD_DISABLE;
        return;
      case 0xAE: // enable keyboard interface
        this.ram[0] &= ~CB_KBD_DISABLE;
        return;
      case 0xD0: // read output port
        this.respond(this.readOutputPort());
        return;
      case 0xDD: // disable A20 (HP Vectra command; A20 stays on here)
      case 0xDF: // enable A20
        return;
      default:
        // Commands this controller does not implement are ignored, as the 8042 ignores them.
        return;
    }
  }

  private readOutputPort(): number {
    const v = (this.outputPort | OUT_A20) & ~OUT_KBD_OBF;
    return this.output.length > 0 ? v | OUT_KBD_OBF : v;
  }

  private writeOutputPort(v: number): void {
    this.outputPort = v;
    if ((v & OUT_RESET) === 0) this.onStop({ kind: 'reset', source: 'i8042 output port (reset line low)' });
  }

  snapshot(): I8042Snapshot {
    return {
      status: this.status(),
      commandByte: this.commandByte,
      outputPort: this.readOutputPort(),
      output: [...this.output],
      pendingCommand: this.pendingCommand,
    };
  }
}

/** Register the controller at 0x60 and 0x64 (0x61 is port B of the PIT, not the 8042's). */
export function registerI8042(bus: { register(name: string, base: number, count: number, device: PortDevice): void }, kbc: I8042): void {
  bus.register('i8042-data', I8042_DATA_PORT, 1, kbc);
  bus.register('i8042-command', I8042_COMMAND_PORT, 1, kbc);
}
