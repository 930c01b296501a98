// QEMU's "pc-testdev": an ISA device that exists only for test kernels (kvm-unit-tests
// looks for it; QEMU adds it with `-device pc-testdev`). It has no datasheet; its
// behaviour is QEMU's hw/misc/pc-testdev.c, modelled here from that description:
//
//   ports 0xE0-0xE3     a 32-bit scratch register; an access of 1, 2 or 4 bytes at port
//                       0xE0+k reads/writes bytes k.. of it (kvm-unit-tests' emulator test
//                       checks IN/OUT/INS/OUTS of every width against it)
//   (QEMU also mirrors the register at 0xE8-0xEB; this board has the 0xE9 debug console
//   there, and no test kernel we know uses the mirror, so it is left out)
//   port  0xE4          "flush page": a 32-bit OUT of a guest-physical address asks the host
//                       to drop its mapping of that page, so the guest's next access to it
//                       takes the host's slow path (eventinj uses it to make an interrupt
//                       delivery touch a page the host must fault in). Only 4-byte writes
//                       count; reads return 0.
//   ports 0x2000-0x2017 interrupt lines: a byte OUT of v to 0x2000+n drives line n to
//                       (v != 0); reads return 0; wider accesses are not decoded
//   0xFF000000 (64 KiB) RAM-like MMIO: whatever is written is read back (kvm-unit-tests'
//                       emulator test runs string and locked instructions against it, so
//                       they take the emulator's MMIO path rather than plain RAM)
//
// What "flush" and "line n" reach is the machine's business: `onFlushPage` and `onIrqLine`.
import type { MmioDevice, PhysicalMemory } from '../memory/physical-memory.js';
import type { IoBus, IrqRouter, PortDevice } from './io-bus.js';

export const TESTDEV_SCRATCH_PORT = 0xE0;
export const TESTDEV_FLUSH_PORT = 0xE4;
export const TESTDEV_IRQ_PORT = 0x2000;
export const TESTDEV_IRQ_LINES = 24;
export const TESTDEV_IOMEM_BASE = 0xFF00_0000;
export const TESTDEV_IOMEM_SIZE = 0x1_0000;

export interface PcTestdevSnapshot {
  scratch: number;
  /** Level of each interrupt line, bit n = line n. */
  irqLines: number;
  /** Flush-page requests received so far. */
  flushes: number;
}

export class PcTestdev implements PortDevice {
  /** A 4-byte write to port 0xE4: drop host-side caches of the page holding this address. */
  onFlushPage: (pageAddress: number) => void = () => {};
  /** A write to port 0x2000+n: interrupt line n goes to `level`. */
  onIrqLine: (line: number, level: boolean) => void = () => {};
  /** The RAM behind the 0xFF000000 window. */
  readonly iomem = new Uint8Array(TESTDEV_IOMEM_SIZE);
  /** The window as an MMIO device (offsets relative to 0xFF000000). */
  readonly iomemDevice: MmioDevice;

  private scratch = 0;
  private irqLevels = 0;
  private flushes = 0;

  constructor() {
    const buf = this.iomem;
    this.iomemDevice = {
      mmioRead(offset: number, size: 1 | 2 | 4): number {
        let v = 0;
        for (let i = 0; i < size; i++) v |= buf[offset + i] << (8 * i);
        return v >>> 0;
      },
      mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
        for (let i = 0; i < size; i++) buf[offset + i] = value >>> (8 * i);
      },
    };
  }

  portRead(port: number, size: 1 | 2 | 4): number {
    if (isScratch(port)) {
      // Bytes k.. of the register for an access at port base+k (bytes beyond the register
      // belong to the next port's decode; through the bus every access arrives byte-wide).
      let v = 0;
      for (let i = 0, k = port & 3; i < size && k < 4; i++, k++) v |= ((this.scratch >>> (8 * k)) & 0xFF) << (8 * i);
      return v >>> 0;
    }
    return 0;
  }

  portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    if (isScratch(port)) {
      for (let i = 0, k = port & 3; i < size && k < 4; i++, k++) {
        const shift = 8 * k;
        this.scratch = ((this.scratch & ~(0xFF << shift)) | (((value >>> (8 * i)) & 0xFF) << shift)) >>> 0;
      }
      return;
    }
    if (port === TESTDEV_FLUSH_PORT) {
      if (size !== 4) return;
      this.flushes++;
      this.onFlushPage((value & ~0xFFF) >>> 0);
      return;
    }
    const line = port - TESTDEV_IRQ_PORT;
    if (line >= 0 && line < TESTDEV_IRQ_LINES && size === 1) {
      const level = value !== 0;
      if (level) this.irqLevels |= 1 << line;
      else this.irqLevels &= ~(1 << line);
      this.onIrqLine(line, level);
    }
  }

  snapshot(): PcTestdevSnapshot {
    return { scratch: this.scratch, irqLines: this.irqLevels >>> 0, flushes: this.flushes };
  }
}

function isScratch(port: number): boolean {
  return (port & ~3) === TESTDEV_SCRATCH_PORT;
}

/** The parts of the PC the test device is wired to. */
export interface PcTestdevWiring {
  io: IoBus;
  memory: PhysicalMemory;
  irqs: IrqRouter;
  /** Drives an IOAPIC input directly (lines 16-23). */
  ioapic: { setPin(pin: number, high: boolean): void };
}

/**
 * Put the test device on the machine. Lines 0-15 are the ISA IRQ lines (so they reach
 * both the 8259A pair and the IOAPIC, IRQ0 at IOAPIC input 2, as every ISA source does on
 * this board); lines 16-23 drive IOAPIC inputs 16-23, which have no ISA line.
 */
export function installPcTestdev(board: PcTestdevWiring, flushPage: (pageAddress: number) => void): PcTestdev {
  const dev = new PcTestdev();
  dev.onFlushPage = flushPage;
  dev.onIrqLine = (line, level) => {
    if (line < 16) board.irqs.line(line).set(level);
    else board.ioapic.setPin(line, level);
  };
  // The scratch ports are byte-decoded: the bus splits a word or dword access into byte
  // accesses at consecutive ports, which gives every width at every offset.
  board.io.register('pc-testdev scratch', TESTDEV_SCRATCH_PORT, 4, dev, true);
  board.io.register('pc-testdev flush', TESTDEV_FLUSH_PORT, 4, dev, false);
  board.io.register('pc-testdev irq lines', TESTDEV_IRQ_PORT, TESTDEV_IRQ_LINES, dev, false);
  board.memory.addMmio('pc-testdev iomem', TESTDEV_IOMEM_BASE, TESTDEV_IOMEM_SIZE, dev.iomemDevice);
  return dev;
}
