// Port I/O dispatch and interrupt wiring: what sits between the CPU and the devices.
//
// Port I/O: one dense table of 65,536 entries maps each port to the device decoding it.
// A device registered as byte-wide sees a 16/32-bit access as consecutive byte accesses
// (port, port+1, ...), each decoded on its own, which is what an ISA bus does. Ports no
// device claims read as all ones (the data bus floats high) and ignore writes, as on a PC.
//
// Interrupts: devices drive ISA IRQ lines (`IrqLine`), which fan out to the interrupt
// controllers listening to them (the 8259A pair; an IOAPIC later). The CPU looks at one
// object, `InterruptHub`: `intrPending` says whether a maskable interrupt is waiting
// (a field, kept current by the controllers' change notifications, so the CPU can test
// it cheaply), `acknowledge()` runs the INTA cycle and returns the vector, and the NMI
// input is `nmiPending` / `acknowledgeNmi()`. Devices never see the CPU.

/** A device decoding I/O ports. `size` is 1, 2 or 4 bytes; values are zero-extended. */
export interface PortDevice {
  portRead(port: number, size: 1 | 2 | 4): number;
  portWrite(port: number, size: 1 | 2 | 4, value: number): void;
}

export class IoConfigError extends Error {
  override readonly name = 'IoConfigError';
}

export interface PortRange {
  readonly name: string;
  readonly base: number;
  readonly count: number;
  readonly byteWide: boolean;
}

export class IoBus {
  private readonly devices: (PortDevice | undefined)[] = new Array<PortDevice | undefined>(0x10000).fill(undefined);
  /** 1 where the decoding device only handles byte accesses. */
  private readonly byteWide = new Uint8Array(0x10000);
  private readonly ranges: PortRange[] = [];
  /** Optional observer of accesses no device decodes (tracing, "unknown port" diagnostics). */
  onUnclaimed: ((port: number, size: 1 | 2 | 4, write: boolean, value: number) => void) | undefined = undefined;

  /**
   * Let `device` decode ports [base, base+count). With `byteWide` (the default; ISA
   * devices are 8-bit) wider accesses are split into byte accesses by the bus.
   */
  register(name: string, base: number, count: number, device: PortDevice, byteWide = true): void {
    if (!Number.isInteger(base) || !Number.isInteger(count) || base < 0 || count <= 0 || base + count > 0x10000) {
      throw new IoConfigError(`port range ${name} 0x${base.toString(16)}+${count} is outside the 64 KiB I/O space`);
    }
    for (let p = base; p < base + count; p++) {
      if (this.devices[p] !== undefined) {
        const other = this.ranges.find((r) => p >= r.base && p < r.base + r.count);
        throw new IoConfigError(`port 0x${p.toString(16)} of ${name} is already decoded by ${other?.name ?? 'another device'}`);
      }
    }
    for (let p = base; p < base + count; p++) {
      this.devices[p] = device;
      this.byteWide[p] = byteWide ? 1 : 0;
    }
    this.ranges.push({ name, base, count, byteWide });
  }

  /** The registered ranges, for the debugger and diagnostics. */
  get portRanges(): readonly PortRange[] {
    return this.ranges;
  }

  /**
   * IN: read `size` bytes from `port` (zero-extended; 32-bit values are unsigned). A wide
   * access to a byte-wide device is split into byte accesses; an access whose first port
   * nothing decodes is unclaimed as a whole (so a dword at 0xCF8 never reaches a
   * byte device at 0xCF9).
   */
  in(port: number, size: 1 | 2 | 4): number {
    const d = this.devices[port];
    if (d === undefined) return this.unclaimedRead(port, size);
    if (size === 1 || this.byteWide[port] === 0) return d.portRead(port, size);
    let v = 0;
    for (let i = 0; i < size; i++) {
      const p = (port + i) & 0xFFFF;
      const di = this.devices[p];
      v |= (di === undefined ? this.unclaimedRead(p, 1) : di.portRead(p, 1)) << (8 * i);
    }
    return v >>> 0;
  }

  /** OUT: write the low `size` bytes of `value` to `port` (split like `in`). */
  out(port: number, size: 1 | 2 | 4, value: number): void {
    const v = size === 1 ? value & 0xFF : size === 2 ? value & 0xFFFF : value >>> 0;
    const d = this.devices[port];
    if (d === undefined) {
      if (this.onUnclaimed !== undefined) this.onUnclaimed(port, size, true, v);
      return;
    }
    if (size === 1 || this.byteWide[port] === 0) {
      d.portWrite(port, size, v);
      return;
    }
    for (let i = 0; i < size; i++) {
      const p = (port + i) & 0xFFFF;
      const di = this.devices[p];
      const b = (v >>> (8 * i)) & 0xFF;
      if (di !== undefined) di.portWrite(p, 1, b);
      else if (this.onUnclaimed !== undefined) this.onUnclaimed(p, 1, true, b);
    }
  }

  private unclaimedRead(port: number, size: 1 | 2 | 4): number {
    const v = size === 1 ? 0xFF : size === 2 ? 0xFFFF : 0xFFFF_FFFF;
    if (this.onUnclaimed !== undefined) this.onUnclaimed(port, size, false, v);
    return v;
  }
}

// ---- interrupt wiring -------------------------------------------------------------------

/** An interrupt controller input stage: follows the level of numbered request lines. */
export interface IrqSink {
  setIrq(irq: number, level: boolean): void;
}

/** One ISA interrupt request line, as a device sees it. */
export class IrqLine {
  private level = false;

  constructor(
    private readonly router: IrqRouter,
    readonly irq: number,
  ) {}

  get asserted(): boolean {
    return this.level;
  }

  set(level: boolean): void {
    if (level === this.level) return;
    this.level = level;
    this.router.deliver(this.irq, level);
  }

  raise(): void {
    this.set(true);
  }

  lower(): void {
    this.set(false);
  }

  /** A rising then falling edge (an edge-triggered request, e.g. the PIT's output). */
  pulse(): void {
    this.set(false);
    this.set(true);
    this.set(false);
  }
}

/** The ISA IRQ lines 0-15 and the controllers wired to them. */
export class IrqRouter {
  private readonly sinks: IrqSink[] = [];
  private readonly lines: IrqLine[] = [];

  constructor() {
    for (let i = 0; i < 16; i++) this.lines.push(new IrqLine(this, i));
  }

  connect(sink: IrqSink): void {
    this.sinks.push(sink);
  }

  line(irq: number): IrqLine {
    const l = this.lines[irq];
    if (l === undefined) throw new IoConfigError(`there is no ISA IRQ line ${irq}`);
    return l;
  }

  /** Current level of every line, bit n = IRQ n (for the debugger). */
  levels(): number {
    let v = 0;
    for (let i = 0; i < 16; i++) if (this.lines[i].asserted) v |= 1 << i;
    return v;
  }

  deliver(irq: number, level: boolean): void {
    for (const s of this.sinks) s.setIrq(irq, level);
  }
}

/** The legacy 8259A pair as the CPU (or the local APIC's LINT0) sees it. */
export interface ExtIntSource {
  /** Level of the master's INT output. */
  readonly intOutput: boolean;
  /** The INTA cycle: the vector, with the in-service state updated. */
  acknowledge(): number;
  /** Called by the source whenever `intOutput` may have changed. */
  onChange: () => void;
}

/** The local APIC as the CPU sees it (SDM Vol. 3 ch. 11 "Advanced Programmable Interrupt Controller"). */
export interface LocalInterruptSource {
  /** A fixed interrupt is in the IRR with priority above the PPR. */
  hasDeliverable(): boolean;
  /** Moves the highest deliverable IRR vector to the ISR and returns it (the spurious vector if none). */
  acknowledge(): number;
  /** The 8259A's INT output reaches the CPU: APIC globally disabled, or LINT0 unmasked in ExtINT mode. */
  passesExtInt(): boolean;
  /** An NMI (LINT1 in NMI mode, or an NMI IPI) is latched. */
  readonly nmiLatched: boolean;
  takeNmi(): void;
  onChange: () => void;
}

/**
 * What the CPU asks about interrupts. The arbitration follows a PC with a local APIC in
 * virtual-wire mode: the APIC's own interrupts first, then the 8259A through LINT0
 * (ExtINT is delivered without APIC priority checks, SDM Vol. 3 §11.6.1).
 */
export class InterruptHub {
  /** A maskable interrupt waits (the CPU checks this when RFLAGS.IF=1). */
  intrPending = false;
  /** An NMI waits (not blocked by RFLAGS.IF). */
  nmiPending = false;

  constructor(
    private readonly pic: ExtIntSource,
    private readonly lapic: LocalInterruptSource | undefined = undefined,
  ) {
    const update = (): void => this.update();
    pic.onChange = update;
    if (lapic !== undefined) lapic.onChange = update;
    this.update();
  }

  update(): void {
    const l = this.lapic;
    if (l === undefined) {
      this.intrPending = this.pic.intOutput;
      this.nmiPending = false;
      return;
    }
    this.intrPending = l.hasDeliverable() || (this.pic.intOutput && l.passesExtInt());
    this.nmiPending = l.nmiLatched;
  }

  /**
   * The interrupt-acknowledge cycle: returns the vector to deliver, or -1 when nothing is
   * pending any more (the CPU then continues without an interrupt).
   */
  acknowledge(): number {
    const l = this.lapic;
    let vector = -1;
    if (l !== undefined && l.hasDeliverable()) vector = l.acknowledge();
    else if (this.pic.intOutput && (l === undefined || l.passesExtInt())) vector = this.pic.acknowledge();
    this.update();
    return vector;
  }

  /** The CPU starts delivering the NMI (vector 2). */
  acknowledgeNmi(): void {
    this.lapic?.takeNmi();
    this.update();
  }
}
