import { describe, expect, it } from 'vitest';
import { AtaChannel, type DiskBackingStore, MemoryDisk, registerAta } from '../../../src/emu/devices/ata.js';
import { IoBus, IrqRouter } from '../../../src/emu/devices/io-bus.js';

const DATA = 0x1F0;
const ERROR = 0x1F1;
const FEATURES = 0x1F1;
const COUNT = 0x1F2;
const LBA_LO = 0x1F3;
const LBA_MID = 0x1F4;
const LBA_HI = 0x1F5;
const DEVICE = 0x1F6;
const STATUS = 0x1F7;
const COMMAND = 0x1F7;
const ALT_STATUS = 0x3F6;
const DEVICE_CONTROL = 0x3F6;

/** A disk whose sector n holds bytes (n*7 + i) & 0xFF, with the accesses recorded. */
class PatternDisk implements DiskBackingStore {
  readonly reads: number[] = [];
  readonly writes = new Map<number, Uint8Array>();
  flushes = 0;
  failReads = false;
  constructor(readonly size: number) {}
  readSector(lba: number, buffer: Uint8Array): void {
    if (this.failReads) throw new Error('EIO');
    this.reads.push(lba);
    for (let i = 0; i < 512; i++) buffer[i] = (lba * 7 + i) & 0xFF;
  }
  writeSector(lba: number, data: Uint8Array): void {
    this.writes.set(lba, data.slice(0, 512));
  }
  flush(): void {
    this.flushes++;
  }
}

function setup(disk: DiskBackingStore | null = new MemoryDisk(new Uint8Array(4096 * 512))) {
  const bus = new IoBus();
  const irqs = new IrqRouter();
  const ata = new AtaChannel(irqs.line(14), disk ?? undefined);
  registerAta(bus, ata);
  const irq = () => irqs.line(14).asserted;
  const lba28 = (cmd: number, lba: number, count: number) => {
    bus.out(COUNT, 1, count);
    bus.out(LBA_LO, 1, lba & 0xFF);
    bus.out(LBA_MID, 1, (lba >> 8) & 0xFF);
    bus.out(LBA_HI, 1, (lba >> 16) & 0xFF);
    bus.out(DEVICE, 1, 0xE0 | ((lba >> 24) & 0x0F));
    bus.out(COMMAND, 1, cmd);
  };
  const readWords = (n: number) => Array.from({ length: n }, () => bus.in(DATA, 2));
  return { bus, ata, irq, lba28, readWords };
}

function identifyWords(s: ReturnType<typeof setup>): number[] {
  s.bus.out(DEVICE, 1, 0xA0);
  s.bus.out(COMMAND, 1, 0xEC);
  expect(s.bus.in(STATUS, 1)).toBe(0x58);
  return s.readWords(256);
}

function ataString(words: number[], first: number, count: number): string {
  let s = '';
  for (let i = first; i < first + count; i++) s += String.fromCharCode(words[i] >> 8, words[i] & 0xFF);
  return s;
}

describe('ATA disk (ATA/ATAPI-6, T13/1410D)', () => {
  it('"Signature and persistence": after power-on the registers hold the ATA signature, status DRDY', () => {
    const { bus } = setup();
    expect([bus.in(COUNT, 1), bus.in(LBA_LO, 1), bus.in(LBA_MID, 1), bus.in(LBA_HI, 1), bus.in(DEVICE, 1)]).toEqual([1, 1, 0, 0, 0]);
    expect(bus.in(ERROR, 1)).toBe(0x01);
    expect(bus.in(STATUS, 1)).toBe(0x50);
  });

  it('IDENTIFY DEVICE: PIO data-in with DRQ and INTRQ; strings, geometry, capacities, word 255 checksum', () => {
    const s = setup(new MemoryDisk(new Uint8Array(100_000 * 512)));
    s.bus.out(DEVICE, 1, 0xA0);
    s.bus.out(COMMAND, 1, 0xEC);
    expect(s.irq()).toBe(true);
    expect(s.bus.in(ALT_STATUS, 1)).toBe(0x58); // alternate status does not acknowledge
    expect(s.irq()).toBe(true);
    expect(s.bus.in(STATUS, 1)).toBe(0x58);
    expect(s.irq()).toBe(false);
    const w = s.readWords(256);
    expect(s.bus.in(STATUS, 1)).toBe(0x50); // DRQ clears after the last word, no interrupt
    expect(s.irq()).toBe(false);
    expect(w[0] & 0x8000).toBe(0); // ATA device
    expect(ataString(w, 27, 20)).toBe('VMXLAB HARDDISK'.padEnd(40));
    expect(ataString(w, 10, 10)).toBe('VMXL00000001'.padEnd(20));
    expect(ataString(w, 23, 4)).toBe('1.0'.padEnd(8));
    expect([w[1], w[3], w[6]]).toEqual([Math.floor(100_000 / 1008), 16, 63]);
    expect(w[49] & 0x0200).toBe(0x0200); // LBA supported
    expect(w[47] & 0xFF).toBe(16);
    expect(w[60] | (w[61] << 16)).toBe(100_000);
    expect(w[83] & 0xC400).toBe(0x4400); // 48-bit address feature set, valid-word marker
    expect(w[86] & 0x0400).toBe(0x0400);
    expect(w[100] + w[101] * 0x10000 + w[102] * 2 ** 32 + w[103] * 2 ** 48).toBe(100_000);
    expect(w[255] & 0xFF).toBe(0xA5);
    let sum = 0;
    for (const x of w) sum += (x & 0xFF) + (x >> 8);
    expect(sum & 0xFF).toBe(0);
  });

  it('IDENTIFY DEVICE: above 2^28 sectors words 60-61 saturate at 0FFFFFFFh, words 100-103 hold the 48-bit size', () => {
    const sectors = 0x1_2345_6789; // a sparse disk of about 2.5 TB
    const s = setup(new PatternDisk(sectors * 512));
    const w = identifyWords(s);
    expect((w[60] | (w[61] << 16)) >>> 0).toBe(0x0FFFFFFF);
    expect([w[100], w[101], w[102], w[103]]).toEqual([0x6789, 0x2345, 0x0001, 0]);
    expect(w[1]).toBe(16383);
  });

  it('WRITE SECTORS then READ SECTORS: PIO data-out/data-in round trip through the ports reaches the backing store', () => {
    const bytes = new Uint8Array(64 * 512);
    const s = setup(new MemoryDisk(bytes));
    s.lba28(0x30, 5, 2);
    expect(s.irq()).toBe(false); // data-out: DRQ for the first block without an interrupt
    expect(s.bus.in(ALT_STATUS, 1)).toBe(0x58);
    for (let i = 0; i < 256; i++) s.bus.out(DATA, 2, (i * 2) | (((i * 2 + 1) & 0xFF) << 8));
    expect(s.irq()).toBe(true); // first sector written, DRQ for the next
    expect(s.bus.in(STATUS, 1)).toBe(0x58);
    for (let i = 0; i < 128; i++) s.bus.out(DATA, 4, 0xA5A5_0000 | i); // 32-bit PIO
    expect(s.irq()).toBe(true);
    expect(s.bus.in(STATUS, 1)).toBe(0x50);
    for (let i = 0; i < 512; i++) expect(bytes[5 * 512 + i]).toBe(i & 0xFF);
    expect(Array.from(bytes.subarray(6 * 512, 6 * 512 + 8))).toEqual([0, 0, 0xA5, 0xA5, 1, 0, 0xA5, 0xA5]);
    expect(bytes[4 * 512 + 511]).toBe(0);
    expect(bytes[7 * 512]).toBe(0);

    s.lba28(0x20, 5, 2);
    expect(s.bus.in(STATUS, 1)).toBe(0x58);
    const first = Array.from({ length: 128 }, () => s.bus.in(DATA, 4));
    expect(first[0]).toBe(0x03020100);
    expect(first[127]).toBe(0xFFFEFDFC);
    expect(s.irq()).toBe(true); // the second sector's DRQ block interrupts
    expect(s.bus.in(STATUS, 1)).toBe(0x58);
    const second = s.readWords(256);
    expect(second.slice(0, 2)).toEqual([0, 0xA5A5]);
    expect(s.bus.in(STATUS, 1)).toBe(0x50);
    expect(s.ata.snapshot()).toMatchObject({ sectorsRead: 2, sectorsWritten: 2 });
  });

  it('READ SECTORS EXT: the 48-bit LBA and count come from the previous-content (HOB) and current bytes', () => {
    const disk = new PatternDisk(0x2_0000_0000 * 512);
    const s = setup(disk);
    const { bus } = s;
    // LBA 0x0001_2367_89AB (above 2^32): previous content = bits 47:24, then bits 23:0.
    bus.out(COUNT, 1, 0x00);
    bus.out(LBA_LO, 1, 0x23);
    bus.out(LBA_MID, 1, 0x01);
    bus.out(LBA_HI, 1, 0x00);
    bus.out(COUNT, 1, 0x02);
    bus.out(LBA_LO, 1, 0xAB);
    bus.out(LBA_MID, 1, 0x89);
    bus.out(LBA_HI, 1, 0x67);
    bus.out(DEVICE, 1, 0x40);
    bus.out(DEVICE_CONTROL, 1, 0x80); // HOB: read the previous content back
    expect([bus.in(COUNT, 1), bus.in(LBA_LO, 1), bus.in(LBA_MID, 1), bus.in(LBA_HI, 1)]).toEqual([0, 0x23, 0x01, 0]);
    bus.out(DEVICE_CONTROL, 1, 0x00);
    expect([bus.in(COUNT, 1), bus.in(LBA_LO, 1)]).toEqual([0x02, 0xAB]);
    bus.out(COMMAND, 1, 0x24);
    expect(bus.in(STATUS, 1)).toBe(0x58);
    const lba = 0x0001_2367_89AB;
    expect(disk.reads).toEqual([lba]);
    const w = s.readWords(256);
    expect(w[0]).toBe(((lba * 7) % 256) | (((lba * 7 + 1) % 256) << 8));
    expect(disk.reads).toEqual([lba, lba + 1]);
    s.readWords(256);
    expect(bus.in(STATUS, 1)).toBe(0x50);
  });

  it('a write to a command block register clears HOB (Device Control register)', () => {
    const { bus } = setup();
    bus.out(COUNT, 1, 7);
    bus.out(COUNT, 1, 9);
    bus.out(DEVICE_CONTROL, 1, 0x80);
    expect(bus.in(COUNT, 1)).toBe(7);
    bus.out(LBA_LO, 1, 0);
    expect(bus.in(COUNT, 1)).toBe(9);
  });

  it('Error register IDNF: a range beyond the last sector (or beyond LBA28 reach) aborts before any transfer', () => {
    const disk = new PatternDisk(100 * 512 + 100); // the partial last sector is not addressable
    const s = setup(disk);
    s.lba28(0x20, 99, 2);
    expect(s.irq()).toBe(true);
    expect(s.bus.in(STATUS, 1)).toBe(0x51);
    expect(s.bus.in(ERROR, 1)).toBe(0x10);
    expect(disk.reads).toEqual([]);
    s.lba28(0x20, 99, 1);
    expect(s.bus.in(STATUS, 1)).toBe(0x58);
    s.readWords(256);
    expect(disk.reads).toEqual([99]);

    const big = setup(new PatternDisk(0x1000_0010 * 512));
    big.lba28(0x20, 0x0FFFFFFF, 1); // LBA28 reaches sectors below 0FFFFFFFh only
    expect(big.bus.in(STATUS, 1)).toBe(0x51);
    expect(big.bus.in(ERROR, 1)).toBe(0x10);
  });

  it('Error register ABRT for commands this device does not implement (NOP, IDENTIFY PACKET DEVICE, DMA)', () => {
    const { bus, irq } = setup();
    for (const cmd of [0x00, 0xA1, 0xC8, 0xCA, 0x08]) {
      bus.out(DEVICE, 1, 0xE0);
      bus.out(COMMAND, 1, cmd);
      expect(irq()).toBe(true);
      expect(bus.in(STATUS, 1)).toBe(0x51);
      expect(bus.in(ERROR, 1)).toBe(0x04);
    }
  });

  it('Device Control nIEN: no INTRQ while set, though status still reports completion', () => {
    const s = setup();
    s.bus.out(DEVICE_CONTROL, 1, 0x02);
    s.lba28(0x20, 0, 1);
    expect(s.irq()).toBe(false);
    expect(s.bus.in(ALT_STATUS, 1)).toBe(0x58);
    s.bus.out(DEVICE_CONTROL, 1, 0x00); // pending interrupt shows once nIEN clears
    expect(s.irq()).toBe(true);
  });

  it('Device Control SRST: BSY while set; on release the signature returns and the transfer is gone', () => {
    const s = setup();
    s.lba28(0x20, 3, 4);
    s.bus.out(DEVICE_CONTROL, 1, 0x04);
    expect(s.bus.in(ALT_STATUS, 1)).toBe(0x80);
    expect(s.irq()).toBe(false);
    s.bus.out(DEVICE_CONTROL, 1, 0x00);
    expect(s.bus.in(STATUS, 1)).toBe(0x50);
    expect([s.bus.in(COUNT, 1), s.bus.in(LBA_LO, 1), s.bus.in(LBA_MID, 1), s.bus.in(LBA_HI, 1), s.bus.in(ERROR, 1)]).toEqual([1, 1, 0, 0, 1]);
    expect(s.bus.in(DATA, 2)).toBe(0);
  });

  it('CHS addressing: LBA = (C x heads + H) x sectors-per-track + S - 1; sector 0 is IDNF; INITIALIZE DEVICE PARAMETERS changes the translation', () => {
    const disk = new PatternDisk(4 * 1008 * 512);
    const s = setup(disk);
    const chs = (c: number, h: number, sec: number) => {
      s.bus.out(COUNT, 1, 1);
      s.bus.out(LBA_LO, 1, sec);
      s.bus.out(LBA_MID, 1, c & 0xFF);
      s.bus.out(LBA_HI, 1, c >> 8);
      s.bus.out(DEVICE, 1, 0xA0 | h);
      s.bus.out(COMMAND, 1, 0x20);
      return s.bus.in(STATUS, 1);
    };
    expect(chs(1, 2, 3)).toBe(0x58);
    s.readWords(256);
    expect(disk.reads).toEqual([(1 * 16 + 2) * 63 + 2]);
    expect(chs(0, 0, 0)).toBe(0x51);
    expect(s.bus.in(ERROR, 1)).toBe(0x10);
    expect(chs(4, 0, 1)).toBe(0x51); // cylinder 4 does not exist
    // 8 heads, 32 sectors per track.
    s.bus.out(COUNT, 1, 32);
    s.bus.out(DEVICE, 1, 0xA0 | 7);
    s.bus.out(COMMAND, 1, 0x91);
    expect(s.bus.in(STATUS, 1)).toBe(0x50);
    expect(chs(1, 2, 3)).toBe(0x58);
    s.readWords(256);
    expect(disk.reads[1]).toBe((1 * 8 + 2) * 32 + 2);
    const w = identifyWords(s);
    expect([w[54], w[55], w[56]]).toEqual([Math.floor((4 * 1008) / 256), 8, 32]);
    expect([w[1], w[3], w[6]]).toEqual([4, 16, 63]);
  });

  it('READ MULTIPLE: ABRT until SET MULTIPLE MODE; then one interrupt per block of N sectors; word 59 reports N', () => {
    const disk = new PatternDisk(64 * 512);
    const s = setup(disk);
    s.lba28(0xC4, 0, 6);
    expect(s.bus.in(STATUS, 1)).toBe(0x51);
    expect(s.bus.in(ERROR, 1)).toBe(0x04);
    s.bus.out(COUNT, 1, 3); // not a power of two
    s.bus.out(COMMAND, 1, 0xC6);
    expect(s.bus.in(STATUS, 1)).toBe(0x51);
    s.bus.out(COUNT, 1, 4);
    s.bus.out(COMMAND, 1, 0xC6);
    expect(s.bus.in(STATUS, 1)).toBe(0x50);
    expect(identifyWords(s)[59]).toBe(0x0104);
    s.lba28(0xC4, 10, 6);
    expect(s.irq()).toBe(true);
    expect(s.bus.in(STATUS, 1)).toBe(0x58);
    expect(disk.reads).toEqual([10, 11, 12, 13]);
    s.readWords(4 * 256 - 1);
    expect(s.irq()).toBe(false);
    s.readWords(1);
    expect(s.irq()).toBe(true);
    expect(disk.reads).toEqual([10, 11, 12, 13, 14, 15]);
    expect(s.bus.in(STATUS, 1)).toBe(0x58);
    s.readWords(2 * 256);
    expect(s.bus.in(STATUS, 1)).toBe(0x50);
  });

  it('WRITE MULTIPLE EXT stores each block as its DRQ data completes', () => {
    const disk = new PatternDisk(64 * 512);
    const s = setup(disk);
    s.bus.out(COUNT, 1, 2);
    s.bus.out(COMMAND, 1, 0xC6);
    s.bus.in(STATUS, 1);
    // Each register pair: previous content (bits 15:8 / 47:24) first, then the low byte.
    for (const [port, high, low] of [[COUNT, 0, 3], [LBA_LO, 0, 20], [LBA_MID, 0, 0], [LBA_HI, 0, 0]]) {
      s.bus.out(port, 1, high);
      s.bus.out(port, 1, low);
    }
    s.bus.out(DEVICE, 1, 0x40);
    s.bus.out(COMMAND, 1, 0x39);
    for (let i = 0; i < 512; i++) s.bus.out(DATA, 2, 0x1111);
    expect([...disk.writes.keys()]).toEqual([20, 21]);
    expect(s.bus.in(STATUS, 1)).toBe(0x58);
    for (let i = 0; i < 256; i++) s.bus.out(DATA, 2, 0x2222);
    expect([...disk.writes.keys()]).toEqual([20, 21, 22]);
    expect(disk.writes.get(22)![511]).toBe(0x22);
    expect(s.bus.in(STATUS, 1)).toBe(0x50);
  });

  it('SET FEATURES: PIO transfer modes accepted, DMA modes and unknown subcommands abort; write cache reported in word 85', () => {
    const s = setup();
    const setFeature = (f: number, count = 0) => {
      s.bus.out(FEATURES, 1, f);
      s.bus.out(COUNT, 1, count);
      s.bus.out(COMMAND, 1, 0xEF);
      return s.bus.in(STATUS, 1);
    };
    expect(setFeature(0x03, 0x0C)).toBe(0x50); // PIO mode 4
    expect(setFeature(0x03, 0x45)).toBe(0x51); // UDMA mode 5
    expect(s.bus.in(ERROR, 1)).toBe(0x04);
    expect(setFeature(0x77)).toBe(0x51);
    expect(identifyWords(s)[85] & 0x20).toBe(0x20);
    expect(setFeature(0x82)).toBe(0x50);
    expect(identifyWords(s)[85] & 0x20).toBe(0);
  });

  it('FLUSH CACHE / FLUSH CACHE EXT flush the backing store and interrupt', () => {
    const disk = new PatternDisk(64 * 512);
    const s = setup(disk);
    s.bus.out(COMMAND, 1, 0xE7);
    expect(s.irq()).toBe(true);
    expect(s.bus.in(STATUS, 1)).toBe(0x50);
    s.bus.out(COMMAND, 1, 0xEA);
    expect(disk.flushes).toBe(2);
  });

  it('a host I/O error reads as UNC to the guest and is reported to the machine', () => {
    const disk = new PatternDisk(64 * 512);
    const s = setup(disk);
    const errors: string[] = [];
    s.ata.onHostError = (m) => errors.push(m);
    disk.failReads = true;
    s.lba28(0x20, 1, 1);
    expect(s.bus.in(STATUS, 1)).toBe(0x51);
    expect(s.bus.in(ERROR, 1)).toBe(0x40);
    expect(errors).toEqual(['ATA disk: read of sector 1 failed: EIO']);
  });

  it('no drive: registers read 00h (controller present, no device); device 1 is never present; no controller floats at FFh', () => {
    const none = setup(null);
    none.bus.out(COUNT, 1, 0x55);
    expect([none.bus.in(STATUS, 1), none.bus.in(ALT_STATUS, 1), none.bus.in(COUNT, 1), none.bus.in(ERROR, 1)]).toEqual([0, 0, 0, 0]);
    none.bus.out(COMMAND, 1, 0xEC);
    expect(none.irq()).toBe(false);
    expect(none.bus.in(STATUS, 1)).toBe(0);

    const s = setup();
    s.bus.out(DEVICE, 1, 0xB0); // select device 1
    expect(s.bus.in(STATUS, 1)).toBe(0);
    s.bus.out(COMMAND, 1, 0xEC);
    expect(s.irq()).toBe(false);
    s.bus.out(DEVICE, 1, 0xA0);
    expect(s.bus.in(STATUS, 1)).toBe(0x50);

    expect(new IoBus().in(STATUS, 1)).toBe(0xFF);
  });

  it('EXECUTE DEVICE DIAGNOSTIC: diagnostic code 01h and the signature, even with device 1 selected', () => {
    const s = setup();
    s.bus.out(LBA_MID, 1, 0x12);
    s.bus.out(DEVICE, 1, 0xB0);
    s.bus.out(COMMAND, 1, 0x90);
    expect(s.bus.in(DEVICE, 1)).toBe(0); // device 0 selected again by the signature
    expect(s.irq()).toBe(true);
    expect([s.bus.in(STATUS, 1), s.bus.in(ERROR, 1), s.bus.in(LBA_MID, 1)]).toEqual([0x50, 0x01, 0]);
  });
});
