// The 8259A programmable interrupt controller pair of a PC/AT: master at 0x20/0x21
// (IRQ0-7), slave at 0xA0/0xA1 (IRQ8-15) cascaded into the master's IR2, and the PIIX
// edge/level control registers (ELCR) at 0x4D0/0x4D1. References are to the Intel 8259A
// datasheet (order no. 231468): "Initialization Command Words", "Operation Command Words",
// "Interrupt Sequence", "Edge and Level Triggered Modes", "The Special Fully Nested Mode".
//
// Edge-triggered inputs latch a request into the IRR on a rising edge and keep it until
// the INTA cycle, even if the line drops earlier (what QEMU and real chipsets do, and what
// a one-tick PIT pulse needs); level-triggered inputs (ICW1.LTIM or the ELCR) make the
// IRR follow the line.

import type { ExtIntSource, IrqSink, PortDevice } from './io-bus.js';

/** One 8259A. */
class Pic8259Chip {
  irr = 0;
  isr = 0;
  imr = 0;
  /** Vector base from ICW2 (bits 7:3). */
  vectorBase = 0;
  /** Lowest-priority IR plus one: priority rotation state (OCW2 rotate / set priority). */
  priorityAdd = 0;
  /** Input levels seen, for edge detection. */
  lastLevel = 0;
  /** Level-triggered inputs (ICW1.LTIM sets all; the ELCR sets per input). */
  elcr = 0;
  /** Which ELCR bits exist (IRQ0, 1, 2, 8, 13 are always edge on a PC). */
  readonly elcrMask: number;
  ltim = false;
  /** Which register a read of the command port returns (OCW3 RR/RIS): false = IRR, true = ISR. */
  readIsr = false;
  /** OCW3 poll command issued: the next command-port read is the poll word. */
  poll = false;
  specialMask = false;
  autoEoi = false;
  rotateOnAutoEoi = false;
  specialFullyNested = false;
  single = false;
  /** ICW3: the master's slave bitmap, or the slave's id. */
  icw3 = 0;
  /** 0 = operational; 2/3/4 = the next ICW expected on the data port. */
  initStep = 0;
  needIcw4 = false;

  constructor(
    elcrMask: number,
    readonly isMaster: boolean,
  ) {
    this.elcrMask = elcrMask;
  }

  /** Inputs latched as requests: edge inputs keep their IRR bit, level inputs follow the line. */
  setInput(bit: number, level: boolean): void {
    const mask = 1 << bit;
    const levelMode = this.ltim || (this.elcr & mask) !== 0;
    if (levelMode) {
      if (level) this.irr |= mask;
      else this.irr &= ~mask;
    } else if (level && (this.lastLevel & mask) === 0) {
      this.irr |= mask;
    }
    if (level) this.lastLevel |= mask;
    else this.lastLevel &= ~mask;
  }

  /** Priority of a bit pattern's highest-priority member, 0 = highest; 8 = none. */
  private highest(bits: number): number {
    if (bits === 0) return 8;
    for (let p = 0; p < 8; p++) if (bits & (1 << ((p + this.priorityAdd) & 7))) return p;
    return 8;
  }

  /**
   * The IR that would be granted now, or -1. A request needs a higher priority than every
   * in-service level ("Fully Nested Mode"); in special mask mode masked in-service levels
   * do not block; in special fully nested mode the master lets the cascade input interrupt
   * its own in-service level (the slave resolves priority among its inputs).
   */
  pendingIr(): number {
    const req = this.irr & ~this.imr;
    const p = this.highest(req);
    if (p === 8) return -1;
    let inService = this.isr;
    if (this.specialMask) inService &= ~this.imr;
    if (this.specialFullyNested && this.isMaster && !this.single) inService &= ~this.icw3;
    const ps = this.highest(inService);
    return p < ps ? (p + this.priorityAdd) & 7 : -1;
  }

  /** INTA for input `ir`: in-service set (unless AEOI), edge request consumed. */
  ack(ir: number): void {
    const mask = 1 << ir;
    if (this.autoEoi) {
      if (this.rotateOnAutoEoi) this.priorityAdd = (ir + 1) & 7;
    } else {
      this.isr |= mask;
    }
    if (!(this.ltim || (this.elcr & mask) !== 0)) this.irr &= ~mask;
  }

  /** The highest-priority in-service level (for non-specific EOI), or -1. */
  private highestInService(): number {
    const p = this.highest(this.isr);
    return p === 8 ? -1 : (p + this.priorityAdd) & 7;
  }

  writeCommand(v: number): void {
    if (v & 0x10) {
      // ICW1 ("Initialization Command Words"): edge sense reset, IMR cleared, IR7 lowest
      // priority, special mask mode cleared, status read = IRR; IC4=0 zeroes ICW4 functions.
      this.initStep = 2;
      this.needIcw4 = (v & 0x01) !== 0;
      this.single = (v & 0x02) !== 0;
      this.ltim = (v & 0x08) !== 0;
      this.imr = 0;
      this.isr = 0;
      this.irr = 0;
      this.lastLevel = 0;
      this.priorityAdd = 0;
      this.specialMask = false;
      this.readIsr = false;
      this.poll = false;
      this.autoEoi = false;
      this.rotateOnAutoEoi = false;
      this.specialFullyNested = false;
      return;
    }
    if (v & 0x08) {
      // OCW3: P (poll), RR/RIS (register read), ESMM/SMM (special mask mode).
      if (v & 0x04) this.poll = true;
      if (v & 0x02) this.readIsr = (v & 0x01) !== 0;
      if (v & 0x40) this.specialMask = (v & 0x20) !== 0;
      return;
    }
    // OCW2: R, SL, EOI in bits 7:5, L2-L0 in bits 2:0.
    const level = v & 7;
    switch (v >> 5) {
      case 0b001: { // non-specific EOI
        const ir = this.highestInService();
        if (ir >= 0) this.isr &= ~(1 << ir);
        break;
      }
      case 0b011: // specific EOI
        this.isr &= ~(1 << level);
        break;
      case 0b101: { // rotate on non-specific EOI
        const ir = this.highestInService();
        if (ir >= 0) {
          this.isr &= ~(1 << ir);
          this.priorityAdd = (ir + 1) & 7;
        }
        break;
      }
      case 0b111: // rotate on specific EOI
        this.isr &= ~(1 << level);
        this.priorityAdd = (level + 1) & 7;
        break;
      case 0b100: // set rotate in automatic EOI mode
        this.rotateOnAutoEoi = true;
        break;
      case 0b000: // clear rotate in automatic EOI mode
        this.rotateOnAutoEoi = false;
        break;
      case 0b110: // set priority: L2-L0 becomes the lowest priority
        this.priorityAdd = (level + 1) & 7;
        break;
      default: // 0b010: no operation
        break;
    }
  }

  writeData(v: number): void {
    switch (this.initStep) {
      case 2: // ICW2: T7-T3 of the vector (8086 mode)
        this.vectorBase = v & 0xF8;
        this.initStep = this.single ? (this.needIcw4 ? 4 : 0) : 3;
        return;
      case 3: // ICW3: slave bitmap (master) or slave id (slave)
        this.icw3 = v;
        this.initStep = this.needIcw4 ? 4 : 0;
        return;
      case 4: // ICW4: uPM (bit 0), AEOI (bit 1), BUF/M-S (bits 3:2), SFNM (bit 4)
        this.autoEoi = (v & 0x02) !== 0;
        this.specialFullyNested = (v & 0x10) !== 0;
        this.initStep = 0;
        return;
      default: // OCW1: the interrupt mask
        this.imr = v;
    }
  }

  readCommand(): number {
    return this.readIsr ? this.isr : this.irr;
  }
}

export interface PicSnapshot {
  master: { irr: number; isr: number; imr: number; vectorBase: number; elcr: number };
  slave: { irr: number; isr: number; imr: number; vectorBase: number; elcr: number };
}

/**
 * The master/slave pair. State after construction is what PC firmware leaves: both chips
 * initialised (ICW4 8086 mode, cascade on IR2), vectors 0x08 and 0x70 (the BIOS layout),
 * every input masked except the cascade.
 */
export class Pic8259Pair implements PortDevice, IrqSink, ExtIntSource {
  readonly master = new Pic8259Chip(0xF8, true);
  readonly slave = new Pic8259Chip(0xDE, false);
  intOutput = false;
  onChange: () => void = () => {};

  constructor() {
    this.program(this.master, 0x08, 0x04);
    this.program(this.slave, 0x70, 0x02);
    this.master.imr = 0xFB;
    this.slave.imr = 0xFF;
  }

  private program(chip: Pic8259Chip, base: number, icw3: number): void {
    chip.writeCommand(0x11);
    chip.writeData(base);
    chip.writeData(icw3);
    chip.writeData(0x01);
  }

  setIrq(irq: number, level: boolean): void {
    if (irq < 8) this.master.setInput(irq, level);
    else if (irq < 16) this.slave.setInput(irq - 8, level);
    else return;
    this.update();
  }

  /**
   * Recompute the slave's INT into master IR2 and the master's INT output. The cascade
   * request follows the slave's INT level (the slave holds INT high exactly while it has
   * a request to present), so it is never latched like an external edge.
   */
  private update(): void {
    if (this.slave.pendingIr() >= 0) this.master.irr |= 0x04;
    else this.master.irr &= ~0x04;
    const out = this.master.pendingIr() >= 0;
    if (out !== this.intOutput) {
      this.intOutput = out;
      this.onChange();
    }
  }

  /**
   * The INTA sequence ("Interrupt Sequence"). With no request left at the first INTA the
   * master returns its IR7 vector without setting an in-service bit (spurious interrupt).
   * A cascaded request (IR2) puts IR2 in service and the slave supplies the vector; the
   * cascade input follows the slave's INT, so the slave always has a request to present.
   */
  acknowledge(): number {
    const m = this.master;
    const ir = m.pendingIr();
    let vector: number;
    if (ir < 0) {
      vector = m.vectorBase | 7;
    } else if (ir === 2 && !m.single) {
      m.ack(2);
      const sir = this.slave.pendingIr();
      this.slave.ack(sir);
      vector = this.slave.vectorBase | sir;
    } else {
      m.ack(ir);
      vector = m.vectorBase | ir;
    }
    this.update();
    return vector;
  }

  /** The OCW3 poll word: bit 7 = request pending, bits 2:0 = its level; acknowledges it like INTA. */
  private pollRead(chip: Pic8259Chip): number {
    chip.poll = false;
    const ir = chip.pendingIr();
    if (ir < 0) return 0;
    if (chip === this.master && ir === 2 && !chip.single) {
      chip.ack(2);
      const sir = this.slave.pendingIr();
      if (sir >= 0) this.slave.ack(sir);
    } else {
      chip.ack(ir);
    }
    this.update();
    return 0x80 | ir;
  }

  portRead(port: number): number {
    switch (port) {
      case 0x20:
        return this.master.poll ? this.pollRead(this.master) : this.master.readCommand();
      case 0x21:
        return this.master.imr;
      case 0xA0:
        return this.slave.poll ? this.pollRead(this.slave) : this.slave.readCommand();
      case 0xA1:
        return this.slave.imr;
      case 0x4D0:
        return this.master.elcr;
      case 0x4D1:
        return this.slave.elcr;
      default:
        return 0xFF;
    }
  }

  portWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    switch (port) {
      case 0x20:
        this.master.writeCommand(value);
        break;
      case 0x21:
        this.master.writeData(value);
        break;
      case 0xA0:
        this.slave.writeCommand(value);
        break;
      case 0xA1:
        this.slave.writeData(value);
        break;
      case 0x4D0:
        this.master.elcr = value & this.master.elcrMask;
        break;
      case 0x4D1:
        this.slave.elcr = value & this.slave.elcrMask;
        break;
      default:
        return;
    }
    this.update();
  }

  /** Vector base programmed by ICW2 for the master (0) or slave (1), for diagnostics. */
  vectorBase(chip: 0 | 1): number {
    return chip === 0 ? this.master.vectorBase : this.slave.vectorBase;
  }

  snapshot(): PicSnapshot {
    const s = (c: Pic8259Chip) => ({ irr: c.irr, isr: c.isr, imr: c.imr, vectorBase: c.vectorBase, elcr: c.elcr });
    return { master: s(this.master), slave: s(this.slave) };
  }
}

/** Register the pair's ports (0x20-0x21, 0xA0-0xA1, ELCR 0x4D0-0x4D1) on `bus`. */
export function registerPic(bus: { register(name: string, base: number, count: number, device: PortDevice): void }, pic: Pic8259Pair): void {
  bus.register('pic-master', 0x20, 2, pic);
  bus.register('pic-slave', 0xA0, 2, pic);
  bus.register('pic-elcr', 0x4D0, 2, pic);
}
