// The CMOS real-time clock and NVRAM of a PC (Motorola MC146818A compatible): index port
// 0x70 (bit 7 = NMI mask), data port 0x71, IRQ8. References are to the MC146818A
// datasheet: "Address Map" (Figure 2), "Register A/B/C/D", "Update Cycle", "Interrupts".
//
// Time is deterministic: the wall clock at power-on is a configured epoch (default
// 2024-01-01 00:00:00 UTC), and it advances with the virtual clock (instruction count),
// never with the host's time. The update cycle happens at every whole virtual second;
// UIP reads as 1 during the 244 us before it. Interrupt flags (register C) are derived
// from the virtual time elapsed since the last read of C; a clock timer is armed only
// while an interrupt is enabled.

import type { ClockTimer, VirtualClock } from '../clock.js';
import type { IrqLine, PortDevice } from './io-bus.js';

/** 2024-01-01T00:00:00Z. */
export const DEFAULT_RTC_EPOCH = 1_704_067_200;

const NS_PER_S = 1_000_000_000;
/** UIP is set this long before each update cycle (datasheet "Update Cycle"). */
const UIP_NS = 244_000;

const REG_A = 0x0A;
const REG_B = 0x0B;
const REG_C = 0x0C;
const REG_D = 0x0D;
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_DM_BINARY = 0x04;
const B_24H = 0x02;
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;

export interface CmosConfig {
  /** Wall-clock time at power-on, in seconds since 1970-01-01 UTC. */
  epochSeconds?: number;
  /** RAM size in bytes, reported in the NVRAM memory-size bytes as a BIOS sets them. */
  ramSize?: number;
}

export interface CmosSnapshot {
  index: number;
  nmiMasked: boolean;
  time: string;
  registerA: number;
  registerB: number;
  registerC: number;
}

export class CmosRtc implements PortDevice {
  /** Port 0x70 bit 7: NMI disabled while set. The CPU's NMI delivery consults it. */
  nmiMasked = false;
  private index = 0;
  private readonly nvram = new Uint8Array(128);
  /** Seconds added to epoch + virtual time (the guest set the clock). */
  private adjust = 0;
  private readonly epoch: number;
  private regC = 0;
  /** Virtual ns at which register C's flags were last brought up to date. */
  private flagsAt = 0;
  private readonly timer: ClockTimer;

  constructor(
    private readonly clock: VirtualClock,
    private readonly irq8: IrqLine,
    config: CmosConfig = {},
  ) {
    this.epoch = config.epochSeconds ?? DEFAULT_RTC_EPOCH;
    this.timer = clock.createTimer('rtc', () => this.onTimer());
    const n = this.nvram;
    n[REG_A] = 0x26; // 32.768 kHz time base, 1024 Hz periodic rate
    n[REG_B] = B_24H; // BCD, 24-hour mode
    n[REG_D] = 0x80; // VRT: the battery is good
    // NVRAM bytes a PC BIOS fills in (IBM PC/AT Technical Reference, CMOS map).
    n[0x10] = 0x00; // no floppy drives
    n[0x14] = 0x06; // equipment: math coprocessor, VGA/EGA
    n[0x15] = 640 & 0xFF; // base memory in KiB
    n[0x16] = 640 >> 8;
    const ram = config.ramSize ?? 128 * 1024 * 1024;
    const extKiB = Math.min(0xFFFF, Math.max(0, Math.floor((ram - 0x10_0000) / 1024)));
    n[0x17] = n[0x30] = extKiB & 0xFF;
    n[0x18] = n[0x31] = extKiB >> 8;
    const above16M = Math.min(0xFFFF, Math.max(0, Math.floor((ram - 0x100_0000) / 65536)));
    n[0x34] = above16M & 0xFF;
    n[0x35] = above16M >> 8;
  }

  private nowNs(): number {
    return this.clock.nanoseconds();
  }

  /** Seconds since 1970 the clock shows now. */
  private unixNow(): number {
    return this.epoch + this.adjust + Math.floor(this.nowNs() / NS_PER_S);
  }

  private get binary(): boolean {
    return (this.nvram[REG_B] & B_DM_BINARY) !== 0;
  }

  private encode(v: number): number {
    return this.binary ? v : ((Math.floor(v / 10) << 4) | (v % 10));
  }

  private decode(v: number): number {
    return this.binary ? v : ((v >> 4) * 10 + (v & 0xF));
  }

  private encodeHour(h: number): number {
    if (this.nvram[REG_B] & B_24H) return this.encode(h);
    const pm = h >= 12;
    const h12 = h % 12 === 0 ? 12 : h % 12;
    return this.encode(h12) | (pm ? 0x80 : 0);
  }

  private decodeHour(v: number): number {
    if (this.nvram[REG_B] & B_24H) return this.decode(v);
    const h12 = this.decode(v & 0x7F) % 12;
    return (v & 0x80) ? h12 + 12 : h12;
  }

  /** Write the time `unix` into registers 0, 2, 4, 6-9 and the century byte 0x32. */
  private materialize(unix: number): void {
    const d = new Date(unix * 1000);
    const n = this.nvram;
    n[0x00] = this.encode(d.getUTCSeconds());
    n[0x02] = this.encode(d.getUTCMinutes());
    n[0x04] = this.encodeHour(d.getUTCHours());
    n[0x06] = this.encode(d.getUTCDay() + 1);
    n[0x07] = this.encode(d.getUTCDate());
    n[0x08] = this.encode(d.getUTCMonth() + 1);
    n[0x09] = this.encode(d.getUTCFullYear() % 100);
    n[0x32] = this.encode(Math.floor(d.getUTCFullYear() / 100));
  }

  /** The time held in the registers, as seconds since 1970. */
  private registersTime(): number {
    const n = this.nvram;
    const year = this.decode(n[0x32]) * 100 + this.decode(n[0x09]);
    return Math.floor(Date.UTC(year, this.decode(n[0x08]) - 1, this.decode(n[0x07]), this.decodeHour(n[0x04]), this.decode(n[0x02]), this.decode(n[0x00])) / 1000);
  }

  private get updating(): boolean {
    return (this.nvram[REG_B] & B_SET) === 0;
  }

  /** Periodic interrupt period in ns for register A's rate select, or 0 when off (datasheet Table 5). */
  private periodNs(): number {
    const rs = this.nvram[REG_A] & 0x0F;
    if (rs === 0) return 0;
    const hz = rs <= 2 ? 32768 >> (rs + 6) : 32768 >> (rs - 1);
    return NS_PER_S / hz;
  }

  /** Bring register C's flags up to `ns`: PF on periodic ticks, UF/AF on update cycles passed. */
  private updateFlags(ns: number): void {
    const from = this.flagsAt;
    if (ns <= from) return;
    this.flagsAt = ns;
    const period = this.periodNs();
    if (period > 0 && Math.floor(ns / period) > Math.floor(from / period)) this.regC |= C_PF;
    if (this.updating && Math.floor(ns / NS_PER_S) > Math.floor(from / NS_PER_S)) {
      this.regC |= C_UF;
      if (this.alarmMatches()) this.regC |= C_AF;
    }
    const enabled = this.nvram[REG_B] & (B_PIE | B_AIE | B_UIE);
    if ((this.regC & enabled & 0x70) !== 0) this.regC |= C_IRQF;
    this.irq8.set((this.regC & C_IRQF) !== 0);
  }

  /** Alarm registers 1, 3, 5 against the current time; values 0xC0-0xFF match anything. */
  private alarmMatches(): boolean {
    const d = new Date(this.unixNow() * 1000);
    const n = this.nvram;
    const match = (alarm: number, v: number) => (alarm & 0xC0) === 0xC0 || alarm === v;
    return match(n[0x01], this.encode(d.getUTCSeconds())) && match(n[0x03], this.encode(d.getUTCMinutes())) && match(n[0x05], this.encodeHour(d.getUTCHours()));
  }

  private armTimer(): void {
    const b = this.nvram[REG_B];
    const ns = this.nowNs();
    let next = Infinity;
    const period = this.periodNs();
    if ((b & B_PIE) && period > 0) next = (Math.floor(ns / period) + 1) * period;
    if ((b & (B_UIE | B_AIE)) && this.updating) next = Math.min(next, (Math.floor(ns / NS_PER_S) + 1) * NS_PER_S);
    if (next === Infinity || (this.regC & C_IRQF) !== 0) {
      // Nothing enabled, or the interrupt is already asserted until register C is read.
      this.clock.cancel(this.timer);
      return;
    }
    this.clock.schedule(this.timer, this.clock.nsRate.instructionsFor(Math.ceil(next)));
  }

  private onTimer(): void {
    this.updateFlags(this.nowNs());
    this.armTimer();
  }

  private readRegister(i: number): number {
    const n = this.nvram;
    if (i <= 9 || i === 0x32) {
      if (this.updating && i !== 0x01 && i !== 0x03 && i !== 0x05) this.materialize(this.unixNow());
      return n[i];
    }
    switch (i) {
      case REG_A: {
        const frac = this.nowNs() % NS_PER_S;
        return (n[REG_A] & 0x7F) | (this.updating && frac >= NS_PER_S - UIP_NS ? 0x80 : 0);
      }
      case REG_C: {
        // Reading C returns and clears every flag, releasing IRQ8.
        this.updateFlags(this.nowNs());
        const v = this.regC;
        this.regC = 0;
        this.irq8.lower();
        this.armTimer();
        return v;
      }
      case REG_D:
        return 0x80;
      default:
        return n[i];
    }
  }

  private writeRegister(i: number, v: number): void {
    const n = this.nvram;
    if (i <= 9 || i === 0x32) {
      if (i === 0x01 || i === 0x03 || i === 0x05) {
        n[i] = v;
        return;
      }
      // Setting the clock: start from the current time, change one field, and (if the
      // clock is running) continue from the result.
      if (this.updating) this.materialize(this.unixNow());
      n[i] = v;
      if (this.updating) this.adjust += this.registersTime() - this.unixNow();
      return;
    }
    switch (i) {
      case REG_A:
        this.updateFlags(this.nowNs());
        n[REG_A] = v & 0x7F; // UIP is read-only
        this.armTimer();
        return;
      case REG_B: {
        this.updateFlags(this.nowNs());
        const wasSet = (n[REG_B] & B_SET) !== 0;
        // SET=1 freezes the time registers for the program to write; clearing it starts
        // the clock again from what was written ("Register B", bit 7). SET also clears UIE.
        if (!wasSet && (v & B_SET)) this.materialize(this.unixNow());
        n[REG_B] = (v & B_SET) ? v & ~B_UIE : v;
        if (wasSet && !(v & B_SET)) this.adjust += this.registersTime() - this.unixNow();
        this.armTimer();
        return;
      }
      case REG_C:
      case REG_D: // read-only
        return;
      default:
        n[i] = v;
    }
  }

  portRead(port: number): number {
    // Reading the index port is not supported by the chip; the bus floats.
    if (port === 0x70) return 0xFF;
    return this.readRegister(this.index);
  }

  portWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    if (port === 0x70) {
      this.index = value & 0x7F;
      this.nmiMasked = (value & 0x80) !== 0;
      return;
    }
    this.writeRegister(this.index, value & 0xFF);
  }

  /** The wall-clock time the RTC shows now, seconds since 1970 (for the debugger). */
  currentTime(): number {
    return this.updating ? this.unixNow() : this.registersTime();
  }

  snapshot(): CmosSnapshot {
    return {
      index: this.index,
      nmiMasked: this.nmiMasked,
      time: new Date(this.currentTime() * 1000).toISOString(),
      registerA: this.nvram[REG_A],
      registerB: this.nvram[REG_B],
      registerC: this.regC,
    };
  }
}

/** Register the RTC's ports 0x70-0x71 on `bus`. */
export function registerCmos(bus: { register(name: string, base: number, count: number, device: PortDevice): void }, rtc: CmosRtc): void {
  bus.register('cmos-rtc', 0x70, 2, rtc);
}
