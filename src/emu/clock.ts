// The deterministic virtual clock. All guest-visible time (TSC, PIT, APIC timer, RTC)
// derives from ONE quantity: the number of instructions the CPU has retired. The same
// program with the same inputs therefore sees the same time, which is what makes runs
// reproducible, traces comparable and reverse debugging possible (DESIGN.md).
//
// Model: the CPU retires a nominal `instructionsPerSecond` (default 100 M/s, i.e. one
// instruction = 10 ns of virtual time) and the TSC counts at `tscHz` (default 2 GHz, so
// 20 TSC ticks per instruction). Device clocks (PIT 1.193182 MHz, APIC timer bus clock,
// RTC) convert from the instruction count with exact integer arithmetic (`Rate`), so no
// rounding drift accumulates and no BigInt is needed.
//
// The CPU loop runs in slices: it asks `instructionsUntilNextEvent()`, runs at most that
// many instructions while adding them to `now`, then calls `runDue()`, which fires the
// timers whose deadline has come. Timers are preallocated `ClockTimer` objects owned by
// devices (a handful exist), so scheduling allocates nothing.

/** Largest integer a double holds exactly. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
 * An exact conversion between instruction counts and ticks of another clock running at
 * `hz` when instructions run at `ips`: ticks(n) = floor(n * hz / ips). The fraction is
 * reduced and the product split (quotient/remainder) so every intermediate stays below
 * 2^53; the constructor rejects rates for which that cannot be guaranteed.
 */
export class Rate {
  /** Reduced numerator (ticks) and denominator (instructions). */
  readonly num: number;
  readonly den: number;

  constructor(hz: number, ips: number) {
    if (!Number.isSafeInteger(hz) || hz <= 0 || !Number.isSafeInteger(ips) || ips <= 0) {
      throw new ClockConfigError(`clock rates must be positive integers (got ${hz} Hz over ${ips} instructions/s)`);
    }
    const g = gcd(hz, ips);
    this.num = hz / g;
    this.den = ips / g;
    if (this.num * this.den > MAX_SAFE) {
      throw new ClockConfigError(`clock rate ${hz} Hz is not exactly representable against ${ips} instructions/s; choose rates with a larger common divisor`);
    }
  }

  /** Ticks elapsed after `n` instructions: floor(n * num / den). */
  ticks(n: number): number {
    const q = Math.floor(n / this.den);
    const r = n - q * this.den;
    return q * this.num + Math.floor((r * this.num) / this.den);
  }

  /** The first instruction count at which `ticks(n) >= k`: ceil(k * den / num). */
  instructionsFor(k: number): number {
    const q = Math.floor(k / this.num);
    const r = k - q * this.num;
    return q * this.den + Math.ceil((r * this.den) / this.num);
  }
}

export class ClockConfigError extends Error {
  override readonly name = 'ClockConfigError';
}

export interface ClockConfig {
  /** TSC frequency in Hz (default 2 GHz). */
  tscHz?: number;
  /** Nominal instructions per second of virtual time (default 100 M). */
  instructionsPerSecond?: number;
}

export const DEFAULT_TSC_HZ = 2_000_000_000;
export const DEFAULT_INSTRUCTIONS_PER_SECOND = 100_000_000;

/** A timer owned by a device: fires `callback(now)` once when `clock.now >= deadline`. */
export class ClockTimer {
  /** Instruction count at which the timer fires; Infinity when not armed. */
  deadline = Infinity;

  constructor(
    readonly name: string,
    readonly callback: (now: number) => void,
  ) {}
}

export class VirtualClock {
  /** Backing store of `now` (MachineClock derives `now` from the CPU's counter instead). */
  protected time = 0;

  /**
   * Instructions retired so far. The CPU adds to it; devices read it. An accessor on the
   * class (not an own property redefined per instance, which would put the clock's object
   * in V8's slow dictionary mode: every read of it cost ~90 ns).
   */
  get now(): number {
    return this.time;
  }

  set now(v: number) {
    this.time = v;
  }

  /** Deadline of the earliest armed timer (Infinity when none): the CPU loop compares `now` against it. */
  nextDeadline = Infinity;
  readonly tscHz: number;
  readonly instructionsPerSecond: number;
  /** Instructions -> TSC ticks. */
  readonly tscRate: Rate;
  /** Instructions -> nanoseconds of virtual time. */
  readonly nsRate: Rate;
  /** Added to the derived TSC value; WRMSR IA32_TIME_STAMP_COUNTER sets it (SDM Vol. 3 §18.17). */
  private tscOffset = 0;
  private readonly timers: ClockTimer[] = [];

  constructor(config: ClockConfig = {}) {
    this.tscHz = config.tscHz ?? DEFAULT_TSC_HZ;
    this.instructionsPerSecond = config.instructionsPerSecond ?? DEFAULT_INSTRUCTIONS_PER_SECOND;
    this.tscRate = new Rate(this.tscHz, this.instructionsPerSecond);
    this.nsRate = new Rate(1_000_000_000, this.instructionsPerSecond);
  }

  /** A conversion from this clock's instruction count to a device clock of `hz`. */
  rate(hz: number): Rate {
    return new Rate(hz, this.instructionsPerSecond);
  }

  /** Create a timer for a device; it is registered once and armed with `schedule`. */
  createTimer(name: string, callback: (now: number) => void): ClockTimer {
    const t = new ClockTimer(name, callback);
    this.timers.push(t);
    return t;
  }

  /** Arm `timer` to fire at instruction count `deadline` (replaces an earlier arming). */
  schedule(timer: ClockTimer, deadline: number): void {
    timer.deadline = deadline;
    if (deadline < this.nextDeadline) this.nextDeadline = deadline;
    else this.recomputeDeadline();
  }

  cancel(timer: ClockTimer): void {
    if (timer.deadline === Infinity) return;
    timer.deadline = Infinity;
    this.recomputeDeadline();
  }

  /** How many instructions the CPU may run before a timer is due (0 when one is due now). */
  instructionsUntilNextEvent(): number {
    const d = this.nextDeadline - this.now;
    return d > 0 ? d : 0;
  }

  /** Advance `now` by `n` instructions and fire the timers that became due. */
  advance(n: number): void {
    this.now += n;
    if (this.now >= this.nextDeadline) this.runDue();
  }

  /**
   * Fire every timer whose deadline is <= now, earliest first. A callback may re-arm its
   * own timer (periodic modes) or others; a timer re-armed at or before `now` fires again.
   */
  runDue(): void {
    for (;;) {
      let first: ClockTimer | undefined;
      for (const t of this.timers) {
        if (t.deadline <= this.now && (first === undefined || t.deadline < first.deadline)) first = t;
      }
      if (first === undefined) break;
      first.deadline = Infinity;
      first.callback(this.now);
    }
    this.recomputeDeadline();
  }

  /**
   * Jump to the next timer deadline (HLT with interrupts enabled: nothing runs until an
   * interrupt, so virtual time skips ahead). Returns false when no timer is armed.
   */
  skipToNextEvent(): boolean {
    if (this.nextDeadline === Infinity) return false;
    if (this.nextDeadline > this.now) this.now = this.nextDeadline;
    this.runDue();
    return true;
  }

  /** Virtual nanoseconds since power-on. */
  nanoseconds(): number {
    return this.nsRate.ticks(this.now);
  }

  /** The TSC value as a double (exact below 2^53, i.e. for ~52 days at 2 GHz). */
  tsc(): number {
    return this.tscRate.ticks(this.now) + this.tscOffset;
  }

  /** Low 32 bits of the TSC (RDTSC's EAX), as an unsigned number. */
  tscLow(): number {
    return this.tsc() % 0x1_0000_0000;
  }

  /** High 32 bits of the TSC (RDTSC's EDX). */
  tscHigh(): number {
    return Math.floor(this.tsc() / 0x1_0000_0000) >>> 0;
  }

  /** WRMSR IA32_TIME_STAMP_COUNTER: later reads count on from `hi:lo`. */
  setTsc(lo: number, hi: number): void {
    this.tscOffset = (hi >>> 0) * 0x1_0000_0000 + (lo >>> 0) - this.tscRate.ticks(this.now);
  }

  /** The instruction count at which the TSC reaches `hi:lo` (for TSC-deadline timers). */
  instructionAtTsc(lo: number, hi: number): number {
    const target = (hi >>> 0) * 0x1_0000_0000 + (lo >>> 0) - this.tscOffset;
    return target <= 0 ? 0 : this.tscRate.instructionsFor(target);
  }

  snapshot(): { now: number; tsc: number; timers: { name: string; deadline: number }[] } {
    return {
      now: this.now,
      tsc: this.tsc(),
      timers: this.timers.filter((t) => t.deadline !== Infinity).map((t) => ({ name: t.name, deadline: t.deadline })),
    };
  }

  private recomputeDeadline(): void {
    let d = Infinity;
    for (const t of this.timers) if (t.deadline < d) d = t.deadline;
    this.nextDeadline = d;
  }
}
