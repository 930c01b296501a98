// The 8254 programmable interval timer of a PC (ports 0x40-0x43, input clock 1.193182 MHz)
// and "system control port B" at 0x61, which gates channel 2 (bit 0) and shows its output
// (bit 5): kernels calibrate the TSC against that. References are to the Intel 8254
// datasheet (order no. 231164): "Control Word Format", "Read-Back Command", "Counter
// Latch Command", "Modes" 0-5, "Gate Pin Operations Summary".
//
// Counters are evaluated lazily from the virtual clock: each channel remembers the PIT
// tick at which its counting element was loaded and the value loaded; count and OUT at any
// later tick follow from the mode's arithmetic. Channel 0's OUT drives IRQ0: a clock
// timer is armed for its next rising edge, so no per-tick work happens.

import type { ClockTimer, Rate, VirtualClock } from '../clock.js';
import type { IrqLine, PortDevice } from './io-bus.js';

export const PIT_HZ = 1_193_182;

class PitChannel {
  /** Mode 0-5 (control word bits 3:1; 6 and 7 alias modes 2 and 3). */
  mode = 0;
  bcd = false;
  /** Read/write access: 1 = LSB only, 2 = MSB only, 3 = LSB then MSB. */
  rw = 3;
  /** Count register (CR) as written; 0 means the maximum (65536, or 10000 in BCD). */
  reload = 0;
  /** Tick at which the counting element was loaded (Infinity = waiting for a gate trigger). */
  loadTick = 0;
  /** Value loaded into the counting element at `loadTick` (1..modulus). */
  loadValue = 0x10000;
  /** Counting is suspended (gate low in modes 0 and 4): the count frozen at that moment. */
  frozen = -1;
  gate: boolean;
  /** A count was written and not yet loaded into the counting element ("null count"). */
  writeLsbNext = true;
  pendingLsb = 0;
  readLsbNext = true;
  latched = false;
  latchValue = 0;
  statusLatched = false;
  statusValue = 0;
  /** OUT when no count has been programmed since the control word (datasheet: per mode). */
  programmed = false;

  constructor(gate: boolean) {
    this.gate = gate;
  }

  get modulus(): number {
    return this.bcd ? 10000 : 0x10000;
  }

  get initial(): number {
    return this.reload === 0 ? this.modulus : this.reload;
  }
}

export interface PitSnapshot {
  channels: { mode: number; bcd: boolean; rw: number; reload: number; count: number; out: boolean; gate: boolean }[];
  portB: number;
}

function toBcd(v: number): number {
  return (v % 10) | ((Math.floor(v / 10) % 10) << 4) | ((Math.floor(v / 100) % 10) << 8) | ((Math.floor(v / 1000) % 10) << 12);
}

function fromBcd(v: number): number {
  return (v & 0xF) + ((v >> 4) & 0xF) * 10 + ((v >> 8) & 0xF) * 100 + ((v >> 12) & 0xF) * 1000;
}

export class Pit8254 implements PortDevice {
  readonly channels: PitChannel[] = [new PitChannel(true), new PitChannel(true), new PitChannel(false)];
  /** Port 0x61 bits 0-3 as written (gate 2, speaker data, parity/IO-check enables). */
  private portB = 0;
  private readonly rate: Rate;
  private readonly timer: ClockTimer;

  constructor(
    private readonly clock: VirtualClock,
    private readonly irq0: IrqLine,
  ) {
    this.rate = clock.rate(PIT_HZ);
    this.timer = clock.createTimer('pit-ch0', () => this.onChannel0Edge());
    // What PC firmware leaves: channel 0 in mode 3 with count 65536 (18.2 Hz system timer),
    // channel 1 in mode 2 with count 18 (DRAM refresh, 15 us), channel 2 in mode 3, gated off.
    this.programChannel(0, 3, 0);
    this.programChannel(1, 2, 18);
    this.programChannel(2, 3, 0);
  }

  private programChannel(n: number, mode: number, count: number): void {
    this.writeControl((n << 6) | 0x30 | (mode << 1));
    this.writeCounter(n, count & 0xFF);
    this.writeCounter(n, count >> 8);
  }

  private tick(): number {
    return this.rate.ticks(this.clock.now);
  }

  /** Ticks since the counting element was loaded (negative before the load). */
  private elapsed(ch: PitChannel, tick: number): number {
    return tick - ch.loadTick;
  }

  /** The counting element's value at `tick` (binary, 0..modulus-1 as the hardware shows it). */
  private countAt(ch: PitChannel, tick: number): number {
    if (ch.frozen >= 0) return ch.frozen;
    const n = ch.loadValue;
    const mod = ch.modulus;
    if (ch.loadTick === Infinity) return ch.initial % mod;
    const d = this.elapsed(ch, tick);
    if (d < 0) return n % mod;
    switch (ch.mode) {
      case 2: // rate generator: N, N-1, ..., 1, reload
        return n - (d % n);
      case 3: { // square wave: decrements by two (datasheet "Mode 3"); model N - 2d mod N
        const v = n - ((2 * d) % n);
        return v % mod;
      }
      default: // modes 0, 1, 4, 5 count down and wrap through zero
        return (((n - d) % mod) + mod) % mod;
    }
  }

  /** OUT at `tick` (datasheet "Modes"). */
  private outAt(ch: PitChannel, tick: number): boolean {
    if (!ch.programmed) return ch.mode !== 0;
    const n = ch.loadValue;
    switch (ch.mode) {
      case 0: { // low from the control word until terminal count, then high
        if (ch.frozen >= 0) return false;
        const d = this.elapsed(ch, tick);
        return d >= n;
      }
      case 1: { // hardware one-shot: low from the trigger until terminal count
        if (ch.loadTick === Infinity) return true;
        const d = this.elapsed(ch, tick);
        return d < 0 || d >= n;
      }
      case 2: { // low for one clock when the count reaches 1
        if (!ch.gate) return true;
        const d = this.elapsed(ch, tick);
        return d < 0 || d % n !== n - 1;
      }
      case 3: { // high for ceil(N/2) clocks, low for floor(N/2)
        if (!ch.gate) return true;
        const d = this.elapsed(ch, tick);
        return d < 0 || d % n < (n + 1) >> 1;
      }
      default: { // modes 4 and 5: one-clock low strobe when the count reaches 0
        if (ch.loadTick === Infinity || ch.frozen >= 0) return true;
        return this.elapsed(ch, tick) !== n;
      }
    }
  }

  /** The tick of OUT's next rising edge after `tick` (for IRQ0), or Infinity. */
  private nextRisingEdge(ch: PitChannel, tick: number): number {
    if (!ch.programmed || !ch.gate || ch.loadTick === Infinity || ch.frozen >= 0) return Infinity;
    const n = ch.loadValue;
    const d = this.elapsed(ch, tick);
    switch (ch.mode) {
      case 0:
      case 1:
        return d < n ? ch.loadTick + n : Infinity;
      case 2:
      case 3: // the output rises at every multiple of N
        return ch.loadTick + (d < 0 ? n : (Math.floor(d / n) + 1) * n);
      default: // 4, 5: rises one clock after the strobe
        return d < n + 1 ? ch.loadTick + n + 1 : Infinity;
    }
  }

  private armChannel0(): void {
    const ch = this.channels[0];
    const edge = this.nextRisingEdge(ch, this.tick());
    if (edge === Infinity) this.clock.cancel(this.timer);
    else this.clock.schedule(this.timer, this.rate.instructionsFor(edge));
  }

  private onChannel0Edge(): void {
    this.irq0.pulse();
    this.armChannel0();
  }

  // ---- programming ----------------------------------------------------------------------

  private writeControl(v: number): void {
    const sc = v >> 6;
    if (sc === 3) {
      this.readBack(v);
      return;
    }
    const ch = this.channels[sc];
    const rw = (v >> 4) & 3;
    if (rw === 0) {
      // Counter latch command: the first latch holds until read.
      if (!ch.latched) {
        ch.latched = true;
        ch.latchValue = this.countAt(ch, this.tick());
        ch.readLsbNext = true;
      }
      return;
    }
    let mode = (v >> 1) & 7;
    if (mode > 5) mode -= 4;
    ch.mode = mode;
    ch.bcd = (v & 1) !== 0;
    ch.rw = rw;
    ch.writeLsbNext = true;
    ch.readLsbNext = true;
    ch.latched = false;
    ch.statusLatched = false;
    ch.programmed = false;
    ch.frozen = -1;
    ch.loadTick = Infinity;
    if (sc === 0) this.armChannel0();
  }

  /** Read-Back command: bit 5 = 0 latches counts, bit 4 = 0 latches status, bits 3:1 select channels. */
  private readBack(v: number): void {
    const tick = this.tick();
    for (let n = 0; n < 3; n++) {
      if ((v & (2 << n)) === 0) continue;
      const ch = this.channels[n];
      if ((v & 0x20) === 0 && !ch.latched) {
        ch.latched = true;
        ch.latchValue = this.countAt(ch, tick);
        ch.readLsbNext = true;
      }
      if ((v & 0x10) === 0 && !ch.statusLatched) {
        ch.statusLatched = true;
        const nullCount = !ch.programmed || tick < ch.loadTick;
        ch.statusValue = (this.outAt(ch, tick) ? 0x80 : 0) | (nullCount && ch.loadTick !== Infinity ? 0x40 : 0) | (ch.rw << 4) | (ch.mode << 1) | (ch.bcd ? 1 : 0);
      }
    }
  }

  private writeCounter(n: number, byte: number): void {
    const ch = this.channels[n];
    let value: number;
    if (ch.rw === 1) value = byte;
    else if (ch.rw === 2) value = byte << 8;
    else if (ch.writeLsbNext) {
      ch.pendingLsb = byte;
      ch.writeLsbNext = false;
      return;
    } else {
      value = ch.pendingLsb | (byte << 8);
      ch.writeLsbNext = true;
    }
    ch.reload = ch.bcd ? fromBcd(value) : value;
    this.loadCount(n, ch);
  }

  /**
   * A new count was written: the counting element loads it on the next CLK pulse in
   * modes 0, 2, 3 and 4 (modes 2 and 3 keep the current cycle when already counting);
   * modes 1 and 5 wait for a gate trigger.
   */
  private loadCount(n: number, ch: PitChannel): void {
    const tick = this.tick();
    const wasCounting = ch.programmed && ch.loadTick !== Infinity && (ch.mode === 2 || ch.mode === 3);
    ch.programmed = true;
    ch.frozen = -1;
    if (ch.mode === 1 || ch.mode === 5) {
      ch.loadTick = Infinity;
      ch.loadValue = ch.initial;
    } else if (wasCounting && tick >= ch.loadTick) {
      // "Mode 2/3: writing a new count while counting does not affect the current period":
      // the new count takes effect at the next reload.
      const d = tick - ch.loadTick;
      const periods = Math.floor(d / ch.loadValue) + 1;
      ch.loadTick += periods * ch.loadValue;
      ch.loadValue = ch.initial;
    } else {
      ch.loadTick = tick + 1;
      ch.loadValue = ch.initial;
      if (!ch.gate && (ch.mode === 0 || ch.mode === 4)) ch.frozen = ch.loadValue % ch.modulus;
    }
    if (n === 0) this.armChannel0();
  }

  private readCounter(n: number): number {
    const ch = this.channels[n];
    if (ch.statusLatched) {
      ch.statusLatched = false;
      return ch.statusValue;
    }
    const raw = ch.latched ? ch.latchValue : this.countAt(ch, this.tick());
    const v = ch.bcd ? toBcd(raw % 10000) : raw & 0xFFFF;
    let byte: number;
    if (ch.rw === 1) byte = v & 0xFF;
    else if (ch.rw === 2) byte = v >> 8;
    else {
      byte = ch.readLsbNext ? v & 0xFF : v >> 8;
      ch.readLsbNext = !ch.readLsbNext;
      if (!ch.readLsbNext) return byte; // the latch holds until its MSB is read too
    }
    ch.latched = false;
    return byte;
  }

  /** Gate input of channel 2 (port 0x61 bit 0) changed: "Gate Pin Operations Summary". */
  private setGate2(level: boolean): void {
    const ch = this.channels[2];
    if (level === ch.gate) return;
    const tick = this.tick();
    ch.gate = level;
    if (!ch.programmed) return;
    if (!level) {
      // Modes 0 and 4 suspend counting; modes 2 and 3 stop (OUT forced high) until the next rising gate.
      if (ch.mode === 0 || ch.mode === 4) ch.frozen = this.countAt(ch, tick);
      return;
    }
    if ((ch.mode === 0 || ch.mode === 4) && ch.frozen >= 0) {
      // Resume counting from the frozen value: shift the load point so countAt continues from it.
      const frozen = ch.frozen;
      ch.frozen = -1;
      const remaining = frozen === 0 ? ch.modulus : frozen;
      ch.loadTick = tick + 1 - (ch.loadValue - remaining);
      return;
    }
    // Rising edge: modes 1, 2, 3, 5 (re)load the initial count on the next clock.
    if (ch.mode !== 0 && ch.mode !== 4) {
      ch.loadTick = tick + 1;
      ch.loadValue = ch.initial;
    }
  }

  // ---- port interface -------------------------------------------------------------------

  portRead(port: number): number {
    switch (port) {
      case 0x40:
      case 0x41:
      case 0x42:
        return this.readCounter(port - 0x40);
      case 0x61: {
        const tick = this.tick();
        // Bit 4 toggles with every DRAM refresh request (channel 1's 15.085 us period on a
        // PC/AT; delay loops poll it); bit 5 is channel 2's OUT.
        const refresh = Math.floor(tick / 18) & 1;
        return (this.portB & 0x0F) | (refresh << 4) | (this.outAt(this.channels[2], tick) ? 0x20 : 0);
      }
      default: // 0x43 is write-only
        return 0xFF;
    }
  }

  portWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    switch (port) {
      case 0x40:
      case 0x41:
      case 0x42:
        this.writeCounter(port - 0x40, value & 0xFF);
        break;
      case 0x43:
        this.writeControl(value & 0xFF);
        break;
      case 0x61:
        this.portB = value & 0x0F;
        this.setGate2((value & 1) !== 0);
        break;
    }
  }

  /** OUT of channel `n` now (channel 2's is also port 0x61 bit 5). */
  output(n: number): boolean {
    return this.outAt(this.channels[n], this.tick());
  }

  snapshot(): PitSnapshot {
    const tick = this.tick();
    return {
      channels: this.channels.map((ch) => ({ mode: ch.mode, bcd: ch.bcd, rw: ch.rw, reload: ch.reload, count: this.countAt(ch, tick), out: this.outAt(ch, tick), gate: ch.gate })),
      portB: this.portB,
    };
  }
}

/** Register the PIT (0x40-0x43) and port B (0x61) on `bus`. */
export function registerPit(bus: { register(name: string, base: number, count: number, device: PortDevice): void }, pit: Pit8254): void {
  bus.register('pit', 0x40, 4, pit);
  bus.register('port-b', 0x61, 1, pit);
}
