// A 16550A UART (COM1 at 0x3F8, IRQ4 on a PC). References are to the National
// Semiconductor / TI PC16550D datasheet: Table II "Summary of Registers", Table IV
// "Interrupt Control Functions", sections 8.4 (LCR), 8.5 (LSR), 8.6 (FCR), 8.7 (MCR),
// 8.8 (MSR) and "Loopback Mode".
//
// Transmission is instantaneous: a byte written to the THR goes to the `onOutput`
// callback at once, so THRE/TEMT read back as 1 and the THR-empty interrupt is raised
// again right away. Input comes from `receive()` into the receiver FIFO (unbounded here:
// the host side never overruns, it waits). As on a PC, the chip's INTR output reaches the
// IRQ line only while MCR.OUT2 is set.

import type { IrqLine, PortDevice } from './io-bus.js';

export const COM1_BASE = 0x3F8;
export const COM1_IRQ = 4;

// IER bits (Table II).
const IER_RDA = 0x01;
const IER_THRE = 0x02;
const IER_RLS = 0x04;
const IER_MS = 0x08;
// LSR bits (§8.5).
const LSR_DR = 0x01;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
// MCR bits (§8.7).
const MCR_DTR = 0x01;
const MCR_RTS = 0x02;
const MCR_OUT1 = 0x04;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;

/** FCR receiver trigger levels (bits 7:6), §8.6. */
const TRIGGER_LEVELS = [1, 4, 8, 14];

export interface UartSnapshot {
  ier: number;
  iir: number;
  lcr: number;
  mcr: number;
  lsr: number;
  msr: number;
  scr: number;
  divisor: number;
  fifoEnabled: boolean;
  rxQueued: number;
}

export class Uart16550 implements PortDevice {
  /** Called with every byte the guest transmits (not in loopback mode). */
  onOutput: (byte: number) => void = () => {};

  private readonly base: number;
  private ier = 0;
  private lcr = 0;
  private mcr = 0;
  private scr = 0;
  private dll = 0x0C; // 9600 baud, as firmware leaves it
  private dlm = 0;
  private fcr = 0;
  /** Line-status error bits (OE, PE, FE, BI) until LSR is read. */
  private lsrErrors = 0;
  /** MSR delta bits (3:0) until MSR is read; inputs (7:4) are derived. */
  private msrDelta = 0;
  private lastModemInputs = 0;
  /** A THR-empty interrupt is pending (set when THR empties; cleared by reading IIR with it shown, or writing THR). */
  private thrEmptyPending = false;
  /** Received bytes not yet read; the FIFO (or the 1-byte RBR in non-FIFO mode) is its head. */
  private rx: number[] = [];
  private rxHead = 0;

  constructor(
    private readonly irq: IrqLine,
    base = COM1_BASE,
  ) {
    this.base = base;
  }

  /** Bytes from the host (stdin, debug console) for the guest to read. */
  receive(bytes: Uint8Array | readonly number[]): void {
    for (const b of bytes) this.rx.push(b & 0xFF);
    this.updateIrq();
  }

  /** Bytes received but not yet read by the guest. */
  get rxQueued(): number {
    return this.rx.length - this.rxHead;
  }

  private get fifoEnabled(): boolean {
    return (this.fcr & 1) !== 0;
  }

  private get dlab(): boolean {
    return (this.lcr & 0x80) !== 0;
  }

  private lsr(): number {
    return (this.rxQueued > 0 ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT;
  }

  /** Modem inputs CTS, DSR, RI, DCD (MSR bits 4-7): in loopback they are RTS, DTR, OUT1, OUT2 (§"Loopback Mode"). */
  private modemInputs(): number {
    if ((this.mcr & MCR_LOOP) === 0) return 0;
    const m = this.mcr;
    return ((m & MCR_RTS) ? 0x10 : 0) | ((m & MCR_DTR) ? 0x20 : 0) | ((m & MCR_OUT1) ? 0x40 : 0) | ((m & MCR_OUT2) ? 0x80 : 0);
  }

  private updateModemInputs(): void {
    const now = this.modemInputs();
    const changed = now ^ this.lastModemInputs;
    if (changed & 0x10) this.msrDelta |= 0x01; // DCTS
    if (changed & 0x20) this.msrDelta |= 0x02; // DDSR
    if ((this.lastModemInputs & 0x40) !== 0 && (now & 0x40) === 0) this.msrDelta |= 0x04; // TERI: RI trailing edge
    if (changed & 0x80) this.msrDelta |= 0x08; // DDCD
    this.lastModemInputs = now;
  }

  /**
   * The interrupt identification (Table IV), by priority: receiver line status (0x6),
   * received data available (0x4) or character timeout (0xC, FIFO mode, data below the
   * trigger level), THR empty (0x2), modem status (0x0); 0x1 = none pending.
   */
  private interruptId(): number {
    if ((this.ier & IER_RLS) && this.lsrErrors !== 0) return 0x06;
    if ((this.ier & IER_RDA) && this.rxQueued > 0) {
      if (!this.fifoEnabled) return 0x04;
      return this.rxQueued >= TRIGGER_LEVELS[this.fcr >> 6] ? 0x04 : 0x0C;
    }
    if ((this.ier & IER_THRE) && this.thrEmptyPending) return 0x02;
    if ((this.ier & IER_MS) && (this.msrDelta & 0x0F)) return 0x00;
    return 0x01;
  }

  private updateIrq(): void {
    const pending = this.interruptId() !== 0x01;
    // On a PC the UART's INTR reaches the bus through a gate enabled by OUT2; in loopback
    // the interrupt output is internal (datasheet "Loopback Mode") and still drives IRQ
    // in practice only if OUT2 is set.
    this.irq.set(pending && (this.mcr & MCR_OUT2) !== 0 && (this.mcr & MCR_LOOP) === 0);
  }

  private readRbr(): number {
    if (this.rxQueued === 0) return 0;
    const b = this.rx[this.rxHead++];
    if (this.rxHead === this.rx.length) {
      this.rx = [];
      this.rxHead = 0;
    } else if (this.rxHead > 4096) {
      this.rx = this.rx.slice(this.rxHead);
      this.rxHead = 0;
    }
    return b;
  }

  private transmit(byte: number): void {
    if (this.mcr & MCR_LOOP) {
      // Loopback: the transmitter output is connected to the receiver input.
      this.rx.push(byte);
    } else {
      this.onOutput(byte);
    }
    // The byte moves out at once, so the THR is empty again.
    this.thrEmptyPending = true;
  }

  portRead(port: number): number {
    let v: number;
    switch (port - this.base) {
      case 0:
        if (this.dlab) return this.dll;
        v = this.readRbr();
        break;
      case 1:
        return this.dlab ? this.dlm : this.ier;
      case 2: {
        const id = this.interruptId();
        // Reading IIR while it shows THR empty clears that interrupt (Table IV).
        if (id === 0x02) this.thrEmptyPending = false;
        v = id | (this.fifoEnabled ? 0xC0 : 0);
        break;
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5:
        v = this.lsr();
        this.lsrErrors = 0;
        break;
      case 6:
        v = (this.modemInputs() & 0xF0) | this.msrDelta;
        this.msrDelta = 0;
        break;
      default:
        return this.scr;
    }
    this.updateIrq();
    return v;
  }

  portWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    value &= 0xFF;
    switch (port - this.base) {
      case 0:
        if (this.dlab) {
          this.dll = value;
          return;
        }
        this.transmit(value);
        break;
      case 1:
        if (this.dlab) {
          this.dlm = value;
          return;
        }
        {
          const wasThre = (this.ier & IER_THRE) !== 0;
          this.ier = value & 0x0F;
          // Enabling the THRE interrupt while the THR is empty raises it (Table IV:
          // "THR empty" is set whenever THRE is 1 and the interrupt gets enabled).
          if (!wasThre && (this.ier & IER_THRE)) this.thrEmptyPending = true;
        }
        break;
      case 2:
        // FCR: bit 0 enables the FIFOs, bit 1 clears the receiver FIFO, bit 2 the transmitter's.
        if (((value ^ this.fcr) & 1) !== 0 || (value & 0x02) !== 0) {
          this.rx = [];
          this.rxHead = 0;
        }
        this.fcr = value & 0xC9;
        break;
      case 3:
        this.lcr = value;
        return;
      case 4:
        this.mcr = value & 0x1F;
        this.updateModemInputs();
        break;
      case 5: // LSR is read-only (factory test)
      case 6: // MSR is read-only
        return;
      default:
        this.scr = value;
        return;
    }
    this.updateIrq();
  }

  /**
   * A break condition on the line (the host's "send break"): a zero character enters the
   * receiver FIFO with LSR.BI set (§8.5 bit 4), which raises the line-status interrupt.
   */
  sendBreak(): void {
    this.rx.push(0);
    this.lsrErrors |= LSR_BI;
    this.updateIrq();
  }

  snapshot(): UartSnapshot {
    return {
      ier: this.ier,
      iir: this.interruptId() | (this.fifoEnabled ? 0xC0 : 0),
      lcr: this.lcr,
      mcr: this.mcr,
      lsr: this.lsr(),
      msr: (this.modemInputs() & 0xF0) | this.msrDelta,
      scr: this.scr,
      divisor: (this.dlm << 8) | this.dll,
      fifoEnabled: this.fifoEnabled,
      rxQueued: this.rxQueued,
    };
  }
}

/** Register `uart` at its eight ports on `bus`. */
export function registerUart(bus: { register(name: string, base: number, count: number, device: PortDevice): void }, uart: Uart16550, base = COM1_BASE): void {
  bus.register(`uart@0x${base.toString(16)}`, base, 8, uart);
}
