// The primary ATA (IDE) channel of a PC with one hard disk as device 0, programmed I/O
// only: command block at 0x1F0-0x1F7, control block at 0x3F6, IRQ14. References are to
// ATA/ATAPI-6 (T13/1410D rev. 3b), by clause title: "Interface register definitions and
// descriptions" (Status, Error, Device, Device Control with nIEN/SRST/HOB, the LBA48
// register pairs), the command descriptions (IDENTIFY DEVICE and its word table, READ/
// WRITE SECTORS (EXT), READ/WRITE MULTIPLE (EXT), SET MULTIPLE MODE, SET FEATURES, FLUSH
// CACHE (EXT), READ VERIFY SECTORS (EXT), INITIALIZE DEVICE PARAMETERS, EXECUTE DEVICE
// DIAGNOSTIC, CHECK POWER MODE, IDLE/STANDBY) and "Protocol" (PIO data-in, PIO data-out,
// non-data; software reset; the signature).
//
// Commands complete at once: BSY is never seen except while SRST is held, and each DRQ
// block is ready when the command (or the previous block) is written. The disk is an
// abstract `DiskBackingStore`: the CLI backs it with a host file, tests with a Uint8Array.
// Writes reach the store when each sector's data has been transferred.
//
// With no disk attached the channel is still decoded (a PC's IDE controller is always
// there) and every register reads 0: that is what Linux and QEMU take as "no device".
// Device 1 is never present: with DEV=1 selected, registers read 0 and commands other
// than EXECUTE DEVICE DIAGNOSTIC are ignored.

import type { IrqLine, PortDevice } from './io-bus.js';

export const ATA_PRIMARY_BASE = 0x1F0;
export const ATA_PRIMARY_CONTROL = 0x3F6;
export const ATA_PRIMARY_IRQ = 14;
export const SECTOR_SIZE = 512;

/** Where the disk's sectors live. `size` is in bytes; a partial last sector is not addressable. */
export interface DiskBackingStore {
  readonly size: number;
  /** Fill `buffer` (512 bytes) with sector `lba`. May throw on a host I/O error. */
  readSector(lba: number, buffer: Uint8Array): void;
  /** Store 512 bytes from `data` as sector `lba`. May throw on a host I/O error. */
  writeSector(lba: number, data: Uint8Array): void;
  /** Make written sectors durable (FLUSH CACHE). */
  flush?(): void;
}

/** A disk held in memory (tests, images loaded whole). Writes change `bytes`. */
export class MemoryDisk implements DiskBackingStore {
  constructor(readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.length;
  }

  readSector(lba: number, buffer: Uint8Array): void {
    buffer.set(this.bytes.subarray(lba * SECTOR_SIZE, (lba + 1) * SECTOR_SIZE));
  }

  writeSector(lba: number, data: Uint8Array): void {
    this.bytes.set(data.subarray(0, SECTOR_SIZE), lba * SECTOR_SIZE);
  }
}

export interface AtaDiskConfig {
  /** IDENTIFY model number, up to 40 characters (default "VMXLAB HARDDISK"). */
  model?: string;
  /** IDENTIFY serial number, up to 20 characters (default "VMXL00000001"). */
  serial?: string;
  /** IDENTIFY firmware revision, up to 8 characters (default "1.0"). */
  firmware?: string;
}

// Status register bits ("Status register").
const ST_BSY = 0x80;
const ST_DRDY = 0x40;
const ST_DSC = 0x10;
const ST_DRQ = 0x08;
const ST_ERR = 0x01;
const ST_IDLE = ST_DRDY | ST_DSC;
// Error register bits ("Error register").
const ERR_UNC = 0x40;
const ERR_IDNF = 0x10;
const ERR_ABRT = 0x04;
// Device register bits.
const DEV_LBA = 0x40;
const DEV_DEV1 = 0x10;
// Device Control register bits.
const CTL_HOB = 0x80;
const CTL_SRST = 0x04;
const CTL_NIEN = 0x02;

/** Largest READ/WRITE MULTIPLE block (IDENTIFY word 47). */
const MAX_MULTIPLE = 16;
const LBA28_LIMIT = 0x0FFF_FFFF;
/** Default CHS translation: 16 heads, 63 sectors per track, at most 16,383 cylinders. */
const DEFAULT_HEADS = 16;
const DEFAULT_SPT = 63;
const MAX_CYLINDERS = 16383;

// Direction of the PIO transfer in progress.
const XFER_NONE = 0;
const XFER_IN = 1;
const XFER_OUT = 2;

export interface AtaSnapshot {
  diskPresent: boolean;
  sectors: number;
  status: number;
  error: number;
  features: number;
  sectorCount: [number, number];
  lbaLow: [number, number];
  lbaMid: [number, number];
  lbaHigh: [number, number];
  device: number;
  deviceControl: number;
  interruptPending: boolean;
  lastCommand: number;
  transfer: { direction: 'none' | 'in' | 'out'; lba: number; sectorsLeft: number };
  multipleCount: number;
  writeCache: boolean;
  sectorsRead: number;
  sectorsWritten: number;
}

export class AtaChannel implements PortDevice {
  /** A host I/O error from the backing store (the guest sees UNC/ABRT; the machine can say why). */
  onHostError: (message: string) => void = () => {};

  readonly sectors: number;
  private readonly model: string;
  private readonly serial: string;
  private readonly firmware: string;

  // Command block registers; the `prev` halves are the LBA48 "previous content" (HOB) bytes.
  private features = 0;
  private count = 0;
  private countPrev = 0;
  private lbaLow = 0;
  private lbaLowPrev = 0;
  private lbaMid = 0;
  private lbaMidPrev = 0;
  private lbaHigh = 0;
  private lbaHighPrev = 0;
  private device = 0;
  private status = ST_IDLE;
  private error = 0x01;
  private control = 0;
  private intrq = false;
  private lastCommand = 0;

  // Settings changed by commands.
  private multipleCount = 0;
  private writeCache = true;
  private readAhead = true;
  private heads = DEFAULT_HEADS;
  private spt = DEFAULT_SPT;

  // The PIO transfer in progress.
  private transfer: number = XFER_NONE;
  private readonly buffer = new Uint8Array(SECTOR_SIZE * MAX_MULTIPLE);
  private pos = 0;
  private blockEnd = 0;
  /** LBA of the first sector in `buffer`. */
  private blockLba = 0;
  /** Sectors of the command not yet transferred, the current block included. */
  private sectorsLeft = 0;
  /** Sectors per DRQ block for this command. */
  private perBlock = 1;
  private sectorsRead = 0;
  private sectorsWritten = 0;

  constructor(
    private readonly irq: IrqLine,
    private readonly disk: DiskBackingStore | undefined = undefined,
    config: AtaDiskConfig = {},
  ) {
    this.sectors = disk === undefined ? 0 : Math.floor(disk.size / SECTOR_SIZE);
    this.model = config.model ?? 'VMXLAB HARDDISK';
    this.serial = config.serial ?? 'VMXL00000001';
    this.firmware = config.firmware ?? '1.0';
    this.setSignature();
  }

  // ---- register access -----------------------------------------------------------------------

  /** Device 0 answers: a disk is attached and DEV selects it. */
  private get selected(): boolean {
    return this.disk !== undefined && (this.device & DEV_DEV1) === 0;
  }

  portRead(port: number, size: 1 | 2 | 4): number {
    if (port === ATA_PRIMARY_BASE) return this.readData(size);
    if (!this.selected) return 0;
    const hob = (this.control & CTL_HOB) !== 0;
    switch (port) {
      case ATA_PRIMARY_BASE + 1:
        return this.error;
      case ATA_PRIMARY_BASE + 2:
        return hob ? this.countPrev : this.count;
      case ATA_PRIMARY_BASE + 3:
        return hob ? this.lbaLowPrev : this.lbaLow;
      case ATA_PRIMARY_BASE + 4:
        return hob ? this.lbaMidPrev : this.lbaMid;
      case ATA_PRIMARY_BASE + 5:
        return hob ? this.lbaHighPrev : this.lbaHigh;
      case ATA_PRIMARY_BASE + 6:
        return this.device;
      case ATA_PRIMARY_BASE + 7:
        // Reading Status acknowledges the interrupt; Alternate Status does not.
        this.intrq = false;
        this.updateIrq();
        return this.status;
      case ATA_PRIMARY_CONTROL:
        return this.status;
      default:
        return 0xFF;
    }
  }

  portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    if (port === ATA_PRIMARY_BASE) {
      this.writeData(size, value);
      return;
    }
    if (port === ATA_PRIMARY_CONTROL) {
      this.writeControl(value & 0xFF);
      return;
    }
    if (this.disk === undefined) return;
    const v = value & 0xFF;
    // A write to any command block register clears HOB ("Device Control register").
    this.control &= ~CTL_HOB;
    switch (port) {
      case ATA_PRIMARY_BASE + 1:
        this.features = v;
        return;
      case ATA_PRIMARY_BASE + 2:
        this.countPrev = this.count;
        this.count = v;
        return;
      case ATA_PRIMARY_BASE + 3:
        this.lbaLowPrev = this.lbaLow;
        this.lbaLow = v;
        return;
      case ATA_PRIMARY_BASE + 4:
        this.lbaMidPrev = this.lbaMid;
        this.lbaMid = v;
        return;
      case ATA_PRIMARY_BASE + 5:
        this.lbaHighPrev = this.lbaHigh;
        this.lbaHigh = v;
        return;
      case ATA_PRIMARY_BASE + 6:
        // Bits 7 and 5 are obsolete and read as written by hosts that set them.
        this.device = v;
        this.updateIrq();
        return;
      case ATA_PRIMARY_BASE + 7:
        this.command(v);
        return;
    }
  }

  private writeControl(v: number): void {
    const wasReset = (this.control & CTL_SRST) !== 0;
    this.control = v;
    if (this.disk !== undefined) {
      if ((v & CTL_SRST) !== 0) {
        // Software reset: BSY while SRST is held; the transfer is abandoned.
        this.transfer = XFER_NONE;
        this.intrq = false;
        this.status = ST_BSY;
      } else if (wasReset) {
        // SRST released: the reset completes with the signature and diagnostic code 01h.
        this.setSignature();
        this.status = ST_IDLE;
      }
    }
    this.updateIrq();
  }

  /** The ATA device signature (count 01h, LBA 000001h, device 00h) and diagnostic code 01h. */
  private setSignature(): void {
    this.count = 1;
    this.lbaLow = 1;
    this.lbaMid = 0;
    this.lbaHigh = 0;
    this.device = 0;
    this.error = 0x01;
  }

  /** INTRQ is driven by the selected device while an interrupt is pending and nIEN is 0. */
  private updateIrq(): void {
    this.irq.set(this.intrq && this.selected && (this.control & CTL_NIEN) === 0);
  }

  private interrupt(): void {
    this.intrq = true;
    this.updateIrq();
  }

  // ---- data port --------------------------------------------------------------------------------

  /**
   * The data register is 16 bits wide; a 32-bit access (PIIX-style 32-bit PIO) moves two
   * words, first word in the low half. A byte access is a word cycle with the high byte lost.
   */
  private readData(size: 1 | 2 | 4): number {
    if (size === 4) {
      const lo = this.readWord();
      return (lo | (this.readWord() << 16)) >>> 0;
    }
    const w = this.readWord();
    return size === 1 ? w & 0xFF : w;
  }

  private writeData(size: 1 | 2 | 4, value: number): void {
    this.writeWord(value & 0xFFFF);
    if (size === 4) this.writeWord(value >>> 16);
  }

  private readWord(): number {
    if (this.transfer !== XFER_IN || !this.selected) return 0;
    const b = this.buffer;
    const w = b[this.pos] | (b[this.pos + 1] << 8);
    this.pos += 2;
    if (this.pos >= this.blockEnd) this.endInBlock();
    return w;
  }

  private writeWord(w: number): void {
    if (this.transfer !== XFER_OUT || !this.selected) return;
    this.buffer[this.pos] = w & 0xFF;
    this.buffer[this.pos + 1] = w >> 8;
    this.pos += 2;
    if (this.pos >= this.blockEnd) this.endOutBlock();
  }

  // ---- commands ---------------------------------------------------------------------------------

  private command(cmd: number): void {
    this.lastCommand = cmd;
    // Writing Command clears a pending interrupt.
    this.intrq = false;
    if ((this.device & DEV_DEV1) !== 0) {
      // Device 1 is absent; only EXECUTE DEVICE DIAGNOSTIC is for both devices.
      if (cmd === 0x90) this.executeDiagnostic();
      this.updateIrq();
      return;
    }
    this.transfer = XFER_NONE;
    this.status = ST_IDLE;
    switch (cmd) {
      case 0xEC: // IDENTIFY DEVICE
        this.buffer.set(this.identifyData());
        this.startIn(0, 1, 1, false);
        return;
      case 0x20: // READ SECTORS
      case 0x21: // READ SECTORS without retry (obsolete alias)
        this.readWrite(false, false, 1);
        return;
      case 0x24: // READ SECTORS EXT
        this.readWrite(false, true, 1);
        return;
      case 0xC4: // READ MULTIPLE
      case 0x29: // READ MULTIPLE EXT
        if (this.multipleCount === 0) this.abort(ERR_ABRT);
        else this.readWrite(false, cmd === 0x29, this.multipleCount);
        return;
      case 0x30: // WRITE SECTORS
      case 0x31: // WRITE SECTORS without retry (obsolete alias)
        this.readWrite(true, false, 1);
        return;
      case 0x34: // WRITE SECTORS EXT
        this.readWrite(true, true, 1);
        return;
      case 0xC5: // WRITE MULTIPLE
      case 0x39: // WRITE MULTIPLE EXT
        if (this.multipleCount === 0) this.abort(ERR_ABRT);
        else this.readWrite(true, cmd === 0x39, this.multipleCount);
        return;
      case 0x40: // READ VERIFY SECTORS
      case 0x41: // READ VERIFY SECTORS without retry (obsolete alias)
      case 0x42: { // READ VERIFY SECTORS EXT
        const r = this.range(cmd === 0x42);
        if (r !== undefined) this.complete();
        return;
      }
      case 0xC6: // SET MULTIPLE MODE: 0 disables; otherwise a power of two up to word 47's maximum
        if (this.count === 0) this.multipleCount = 0;
        else if (this.count > MAX_MULTIPLE || (this.count & (this.count - 1)) !== 0) {
          this.abort(ERR_ABRT);
          return;
        } else this.multipleCount = this.count;
        this.complete();
        return;
      case 0xEF:
        this.setFeatures();
        return;
      case 0xE7: // FLUSH CACHE
      case 0xEA: // FLUSH CACHE EXT
        try {
          this.disk?.flush?.();
        } catch (e) {
          this.hostError('flush', e);
          this.abort(ERR_ABRT);
          return;
        }
        this.complete();
        return;
      case 0x91: // INITIALIZE DEVICE PARAMETERS: heads from the device register, sectors per track from count
        if (this.count === 0) {
          this.abort(ERR_ABRT);
          return;
        }
        this.heads = (this.device & 0x0F) + 1;
        this.spt = this.count;
        this.complete();
        return;
      case 0x90:
        this.executeDiagnostic();
        return;
      case 0xE5: // CHECK POWER MODE: always active or idle
        this.count = 0xFF;
        this.complete();
        return;
      case 0xE0: // STANDBY IMMEDIATE
      case 0xE1: // IDLE IMMEDIATE
      case 0xE2: // STANDBY
      case 0xE3: // IDLE
        this.complete();
        return;
      default:
        if ((cmd & 0xF0) === 0x10) {
          // RECALIBRATE (obsolete, 10h-1Fh): nothing to seek.
          this.complete();
          return;
        }
        // NOP, DEVICE RESET, PACKET, IDENTIFY PACKET DEVICE, DMA and the rest: not
        // supported by this device ("Error register": ABRT).
        this.abort(ERR_ABRT);
    }
  }

  private setFeatures(): void {
    switch (this.features) {
      case 0x02: // enable write cache
        this.writeCache = true;
        break;
      case 0x82: // disable write cache
        this.writeCache = false;
        break;
      case 0xAA: // enable read look-ahead
        this.readAhead = true;
        break;
      case 0x55: // disable read look-ahead
        this.readAhead = false;
        break;
      case 0x66: // disable reverting to power-on defaults
      case 0xCC: // enable reverting to power-on defaults
        break;
      case 0x03: {
        // Set transfer mode from the count register: PIO default (00h/01h) or PIO flow
        // control mode 0-4 (08h-0Ch). DMA modes abort: this device does no DMA.
        const mode = this.count;
        if (mode <= 0x01 || (mode >= 0x08 && mode <= 0x0C)) break;
        this.abort(ERR_ABRT);
        return;
      }
      default:
        this.abort(ERR_ABRT);
        return;
    }
    this.complete();
  }

  private executeDiagnostic(): void {
    this.transfer = XFER_NONE;
    this.setSignature();
    this.status = ST_IDLE;
    this.interrupt();
  }

  /** Non-data command done: status idle, interrupt. */
  private complete(): void {
    this.status = ST_IDLE;
    this.interrupt();
  }

  private abort(errorBits: number): void {
    this.transfer = XFER_NONE;
    this.error = errorBits;
    this.status = ST_IDLE | ST_ERR;
    this.interrupt();
  }

  /**
   * The command's first LBA and sector count from the registers (LBA28, LBA48 or CHS),
   * or undefined after aborting with IDNF when any sector lies beyond the end.
   */
  private range(ext: boolean): { lba: number; count: number } | undefined {
    let lba: number;
    let count: number;
    let limit: number;
    if (ext) {
      // 48-bit: the previous-content bytes are the high halves; count 0 means 65,536.
      const high = (this.lbaHighPrev << 16) | (this.lbaMidPrev << 8) | this.lbaLowPrev;
      lba = high * 0x100_0000 + ((this.lbaHigh << 16) | (this.lbaMid << 8) | this.lbaLow);
      count = ((this.countPrev << 8) | this.count) || 0x1_0000;
      limit = this.sectors;
    } else {
      count = this.count || 0x100;
      if ((this.device & DEV_LBA) !== 0) {
        lba = ((this.device & 0x0F) << 24) | (this.lbaHigh << 16) | (this.lbaMid << 8) | this.lbaLow;
        limit = Math.min(this.sectors, LBA28_LIMIT);
      } else {
        // CHS through the current translation; sector numbers start at 1.
        const cyl = (this.lbaHigh << 8) | this.lbaMid;
        const head = this.device & 0x0F;
        const sector = this.lbaLow;
        if (sector === 0 || sector > this.spt || head >= this.heads || cyl >= this.currentCylinders()) {
          this.abort(ERR_IDNF);
          return undefined;
        }
        lba = (cyl * this.heads + head) * this.spt + sector - 1;
        limit = Math.min(this.sectors, this.currentCylinders() * this.heads * this.spt);
      }
    }
    if (lba + count > limit) {
      this.abort(ERR_IDNF);
      return undefined;
    }
    return { lba, count };
  }

  private readWrite(write: boolean, ext: boolean, perBlock: number): void {
    const r = this.range(ext);
    if (r === undefined) return;
    if (write) {
      // PIO data-out: DRQ for the first block at once, without an interrupt.
      this.transfer = XFER_OUT;
      this.blockLba = r.lba;
      this.sectorsLeft = r.count;
      this.perBlock = perBlock;
      this.pos = 0;
      this.blockEnd = Math.min(perBlock, r.count) * SECTOR_SIZE;
      this.status = ST_IDLE | ST_DRQ;
      return;
    }
    this.startIn(r.lba, r.count, perBlock, true);
  }

  /** PIO data-in: load the first block (unless the caller filled the buffer), DRQ and interrupt. */
  private startIn(lba: number, count: number, perBlock: number, fromDisk: boolean): void {
    this.blockLba = lba;
    this.sectorsLeft = count;
    this.perBlock = perBlock;
    if (fromDisk && !this.loadBlock()) return;
    this.transfer = XFER_IN;
    this.pos = 0;
    this.blockEnd = Math.min(perBlock, count) * SECTOR_SIZE;
    this.status = ST_IDLE | ST_DRQ;
    this.interrupt();
  }

  /** Read the next block's sectors from the store; false after aborting with UNC. */
  private loadBlock(): boolean {
    const n = Math.min(this.perBlock, this.sectorsLeft);
    try {
      for (let i = 0; i < n; i++) this.disk!.readSector(this.blockLba + i, this.buffer.subarray(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE));
    } catch (e) {
      this.hostError(`read of sector ${this.blockLba}`, e);
      this.abort(ERR_UNC);
      return false;
    }
    this.sectorsRead += n;
    return true;
  }

  /** The host read the last word of a data-in block: next block with an interrupt, or done. */
  private endInBlock(): void {
    const n = this.blockEnd / SECTOR_SIZE;
    this.sectorsLeft -= n;
    this.blockLba += n;
    if (this.sectorsLeft === 0) {
      this.transfer = XFER_NONE;
      this.status = ST_IDLE;
      return;
    }
    if (!this.loadBlock()) return;
    this.pos = 0;
    this.blockEnd = Math.min(this.perBlock, this.sectorsLeft) * SECTOR_SIZE;
    this.interrupt();
  }

  /** The host wrote the last word of a data-out block: store it, then DRQ for the next one or finish; both interrupt. */
  private endOutBlock(): void {
    const n = this.blockEnd / SECTOR_SIZE;
    try {
      for (let i = 0; i < n; i++) this.disk!.writeSector(this.blockLba + i, this.buffer.subarray(i * SECTOR_SIZE, (i + 1) * SECTOR_SIZE));
    } catch (e) {
      this.hostError(`write of sector ${this.blockLba}`, e);
      this.abort(ERR_ABRT);
      return;
    }
    this.sectorsWritten += n;
    this.sectorsLeft -= n;
    this.blockLba += n;
    if (this.sectorsLeft === 0) {
      this.transfer = XFER_NONE;
      this.status = ST_IDLE;
    } else {
      this.pos = 0;
      this.blockEnd = Math.min(this.perBlock, this.sectorsLeft) * SECTOR_SIZE;
    }
    this.interrupt();
  }

  private hostError(what: string, e: unknown): void {
    this.onHostError(`ATA disk: ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
  }

  // ---- IDENTIFY DEVICE -------------------------------------------------------------------------

  /** Cylinders of the current CHS translation (at least 1, so tiny disks keep a geometry). */
  private currentCylinders(): number {
    const chsSectors = Math.min(this.sectors, MAX_CYLINDERS * DEFAULT_HEADS * DEFAULT_SPT);
    return Math.max(1, Math.min(0xFFFF, Math.floor(chsSectors / (this.heads * this.spt))));
  }

  /** The 256-word IDENTIFY DEVICE data ("IDENTIFY DEVICE", word table), as 512 little-endian bytes. */
  identifyData(): Uint8Array {
    const w = new Uint16Array(256);
    const total = this.sectors;
    const defaultCyl = Math.max(1, Math.min(MAX_CYLINDERS, Math.floor(total / (DEFAULT_HEADS * DEFAULT_SPT))));
    const curCyl = this.currentCylinders();
    const chsCapacity = Math.min(total, curCyl * this.heads * this.spt);
    const lba28 = Math.min(total, LBA28_LIMIT);
    w[0] = 0x0040; // ATA device (bit 15 = 0), fixed (bit 6, obsolete but still reported)
    w[1] = defaultCyl;
    w[3] = DEFAULT_HEADS;
    w[6] = DEFAULT_SPT;
    putString(w, 10, 20, this.serial);
    putString(w, 23, 8, this.firmware);
    putString(w, 27, 40, this.model);
    w[47] = 0x8000 | MAX_MULTIPLE;
    w[49] = 0x0A00; // bit 11 IORDY supported, bit 9 LBA supported; no DMA (bit 8 = 0)
    w[50] = 0x4000;
    w[51] = 0x0200; // PIO timing mode 2 (obsolete field)
    w[53] = 0x0003; // words 54-58 and 64-70 valid
    w[54] = curCyl;
    w[55] = this.heads;
    w[56] = this.spt;
    w[57] = chsCapacity & 0xFFFF;
    w[58] = chsCapacity >>> 16;
    w[59] = this.multipleCount === 0 ? 0 : 0x0100 | this.multipleCount;
    w[60] = lba28 & 0xFFFF;
    w[61] = lba28 >>> 16;
    w[64] = 0x0003; // PIO modes 3 and 4
    w[67] = 120; // minimum PIO cycle time without flow control (ns)
    w[68] = 120; // minimum PIO cycle time with IORDY (ns)
    w[80] = 0x007E; // major version: ATA-1 through ATA/ATAPI-6
    w[82] = 0x0060; // supported: bit 6 read look-ahead, bit 5 write cache
    w[83] = 0x7400; // bit 14 = 1; bit 13 FLUSH CACHE EXT, bit 12 FLUSH CACHE, bit 10 48-bit address
    w[84] = 0x4000;
    w[85] = (this.readAhead ? 0x0040 : 0) | (this.writeCache ? 0x0020 : 0);
    w[86] = 0x3400;
    w[87] = 0x4000;
    w[93] = 0x400B; // hardware reset result: device 0 passed diagnostics, number by jumper
    // Words 100-103: maximum user LBA for 48-bit commands (exact below 2^53).
    w[100] = total & 0xFFFF;
    w[101] = Math.floor(total / 0x1_0000) & 0xFFFF;
    w[102] = Math.floor(total / 0x1_0000_0000) & 0xFFFF;
    w[103] = Math.floor(total / 0x1_0000_0000_0000) & 0xFFFF;
    const bytes = new Uint8Array(w.buffer);
    // Word 255: signature A5h in bits 7:0 and a checksum in bits 15:8 that makes the 512 bytes sum to 0.
    bytes[510] = 0xA5;
    let sum = 0;
    for (let i = 0; i < 511; i++) sum += bytes[i];
    bytes[511] = (256 - (sum & 0xFF)) & 0xFF;
    return bytes;
  }

  snapshot(): AtaSnapshot {
    return {
      diskPresent: this.disk !== undefined,
      sectors: this.sectors,
      status: this.status,
      error: this.error,
      features: this.features,
      sectorCount: [this.count, this.countPrev],
      lbaLow: [this.lbaLow, this.lbaLowPrev],
      lbaMid: [this.lbaMid, this.lbaMidPrev],
      lbaHigh: [this.lbaHigh, this.lbaHighPrev],
      device: this.device,
      deviceControl: this.control,
      interruptPending: this.intrq,
      lastCommand: this.lastCommand,
      transfer: {
        direction: this.transfer === XFER_IN ? 'in' : this.transfer === XFER_OUT ? 'out' : 'none',
        lba: this.blockLba,
        sectorsLeft: this.transfer === XFER_NONE ? 0 : this.sectorsLeft,
      },
      multipleCount: this.multipleCount,
      writeCache: this.writeCache,
      sectorsRead: this.sectorsRead,
      sectorsWritten: this.sectorsWritten,
    };
  }
}

/** ATA strings: two characters per word, the first in the high byte, padded with spaces. */
function putString(w: Uint16Array, word: number, length: number, s: string): void {
  for (let i = 0; i < length; i += 2) {
    const a = i < s.length ? s.charCodeAt(i) & 0x7F : 0x20;
    const b = i + 1 < s.length ? s.charCodeAt(i + 1) & 0x7F : 0x20;
    w[word + i / 2] = (a << 8) | b;
  }
}

/**
 * Register the primary channel: the data port 0x1F0 decodes 16- and 32-bit accesses
 * itself, 0x1F1-0x1F7 are byte registers, 0x3F6 is Alternate Status / Device Control
 * (0x3F7 belongs to the floppy controller and is left alone).
 */
export function registerAta(bus: { register(name: string, base: number, count: number, device: PortDevice, byteWide?: boolean): void }, ata: AtaChannel): void {
  bus.register('ata0-data', ATA_PRIMARY_BASE, 1, ata, false);
  bus.register('ata0-command', ATA_PRIMARY_BASE + 1, 7, ata);
  bus.register('ata0-control', ATA_PRIMARY_CONTROL, 1, ata);
}
