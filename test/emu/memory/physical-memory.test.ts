import { describe, expect, it } from 'vitest';
import { E820_RESERVED, E820_USABLE, MemoryConfigError, PhysicalMemory } from '../../../src/emu/memory/physical-memory.js';
import type { MmioDevice } from '../../../src/emu/memory/physical-memory.js';

class RecordingDevice implements MmioDevice {
  log: string[] = [];
  mmioRead(offset: number, size: 1 | 2 | 4): number {
    this.log.push(`r${size}@${offset.toString(16)}`);
    return size === 4 ? 0x11223344 : size === 2 ? 0x5566 : 0x77;
  }
  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    this.log.push(`w${size}@${offset.toString(16)}=${value.toString(16)}`);
  }
}

describe('PhysicalMemory', () => {
  it('RAM reads zero until written; RAM frames are directly accessible, holes and MMIO are not', () => {
    const m = new PhysicalMemory({ ramSize: 4 << 20 });
    expect(m.read32(0x1000)).toBe(0);
    expect(m.read8(0x3FFFFF)).toBe(0);
    m.write8(0x2345, 0xAB);
    expect(m.read8(0x2345)).toBe(0xAB);
    expect(m.ram[0x2345]).toBe(0xAB);
    expect([m.readable[0x3FF], m.writable[0x3FF], m.readable[0x400]]).toEqual([1, 1, 0]);
    // Per-page views (for a TLB caching page arrays) alias RAM and are reused.
    const page = m.pageForRead(2)!;
    expect(page[0x345]).toBe(0xAB);
    m.pageForWrite(2)![0x346] = 0xCD;
    expect(m.read8(0x2346)).toBe(0xCD);
    expect(m.pageForRead(2)).toBe(page);
    expect(m.pageForRead(0x400)).toBeUndefined();
  });

  it('is little-endian for 16/32/64-bit accesses', () => {
    const m = new PhysicalMemory();
    m.write32(0x100, 0x12345678);
    expect([m.read8(0x100), m.read8(0x101), m.read8(0x102), m.read8(0x103)]).toEqual([0x78, 0x56, 0x34, 0x12]);
    expect(m.read16(0x102)).toBe(0x1234);
    m.write16(0x200, 0xBEEF);
    expect(m.read16(0x200)).toBe(0xBEEF);
    m.write64(0x300, 0x89ABCDEF | 0, 0x01234567);
    const out = new Int32Array(2);
    m.read64(0x300, out, 0);
    expect(out[0] >>> 0).toBe(0x89ABCDEF);
    expect(out[1]).toBe(0x01234567);
    expect(m.read32(0x300) >>> 0).toBe(0x89ABCDEF);
    expect(m.read32(0x300)).toBe(0x89ABCDEF | 0); // signed int32 as documented
  });

  it('handles accesses that cross a page boundary', () => {
    const m = new PhysicalMemory();
    m.write32(0x1FFE, 0xA1B2C3D4 | 0);
    expect(m.read8(0x1FFE)).toBe(0xD4);
    expect(m.read8(0x1FFF)).toBe(0xC3);
    expect(m.read8(0x2000)).toBe(0xB2);
    expect(m.read8(0x2001)).toBe(0xA1);
    expect(m.read32(0x1FFE) >>> 0).toBe(0xA1B2C3D4);
    m.write16(0x2FFF, 0x1234);
    expect(m.read16(0x2FFF)).toBe(0x1234);
    m.write64(0x3FFC, 0x11111111, 0x22222222);
    const out = new Int32Array(2);
    m.read64(0x3FFC, out, 0);
    expect([out[0], out[1]]).toEqual([0x11111111, 0x22222222]);
  });

  it('reads all ones where nothing decodes the address and ignores writes there', () => {
    const m = new PhysicalMemory({ ramSize: 4 << 20 });
    expect(m.read8(0x500000)).toBe(0xFF);
    expect(m.read16(0x500000)).toBe(0xFFFF);
    expect(m.read32(0x80000000) >>> 0).toBe(0xFFFFFFFF);
    m.write32(0x500000, 0);
    expect(m.read32(0x500000)).toBe(-1);
    // A RAM access straddling the end of RAM: the in-RAM byte is RAM, the rest floats.
    m.write8(0x3FFFFF, 0x42);
    expect(m.read16(0x3FFFFF)).toBe(0xFF42);
  });

  it('dispatches MMIO by region with offsets and access sizes', () => {
    const m = new PhysicalMemory();
    const dev = new RecordingDevice();
    m.addMmio('dev', 0xFEC00000, 0x1000, dev);
    expect(m.read32(0xFEC00010) >>> 0).toBe(0x11223344);
    expect(m.read16(0xFEC00020)).toBe(0x5566);
    expect(m.read8(0xFEC00FFF)).toBe(0x77);
    m.write32(0xFEC00004, 0xCAFEBABE | 0);
    m.write8(0xFEC00001, 0x1FF);
    expect(dev.log).toEqual(['r4@10', 'r2@20', 'r1@fff', 'w4@4=cafebabe', 'w1@1=ff']);
  });

  it('rejects overlapping MMIO regions and badly sized RAM', () => {
    const m = new PhysicalMemory();
    m.addMmio('a', 0xFEE00000, 0x1000, new RecordingDevice());
    expect(() => m.addMmio('b', 0xFEE00000, 0x1000, new RecordingDevice())).toThrow(MemoryConfigError);
    expect(() => new PhysicalMemory({ ramSize: 1000 })).toThrow(/multiple of 4 KiB/);
    expect(() => new PhysicalMemory({ ramSize: 4 * 1024 * 1024 * 1024 })).toThrow(MemoryConfigError);
  });

  it('a relocated MMIO region hides the RAM under it until it moves away', () => {
    const m = new PhysicalMemory();
    m.write32(0x200000, 0x55AA55AA);
    const dev = new RecordingDevice();
    const region = m.addMmio('apic', 0xFEE00000, 0x1000, dev);
    m.moveMmio(region, 0x200000);
    expect(m.read32(0x200000)).toBe(0x11223344);
    expect(m.read32(0xFEE00000)).toBe(-1);
    m.moveMmio(region, 0xFEE00000);
    expect(m.read32(0x200000)).toBe(0x55AA55AA);
  });

  it('notifies the code-write hook before a write to a page marked as code, then writes', () => {
    const m = new PhysicalMemory();
    m.write8(0x5000, 0x90);
    const seen: string[] = [];
    m.onCodeWrite = (pfn, addr, size) => {
      seen.push(`${pfn.toString(16)}:${addr.toString(16)}/${size}:${m.read8(addr).toString(16)}`);
      m.clearCode(pfn);
    };
    m.markCode(5);
    expect(m.hasCode(5)).toBe(true);
    expect(m.writable[5]).toBe(0);
    expect(m.pageForWrite(5)).toBeUndefined();
    expect(m.pageForRead(5)).toBeDefined();
    m.write16(0x5010, 0xCCCC);
    expect(seen).toEqual(['5:5010/2:0']);
    expect(m.read16(0x5010)).toBe(0xCCCC);
    // After clearCode the fast path is back and the hook is silent.
    m.write8(0x5020, 1);
    expect(seen.length).toBe(1);
    expect(m.writable[5]).toBe(1);
    // Bulk writes notify too, once per page they touch.
    m.markCode(7);
    m.onCodeWrite = (pfn) => seen.push(`p${pfn}`);
    m.writeBytes(0x7FFE, new Uint8Array([1, 2, 3, 4]));
    expect(seen.slice(1)).toEqual(['p7']);
    expect(Array.from(m.readBytes(0x7FFE, 4))).toEqual([1, 2, 3, 4]);
  });

  it('bulk reads, writes and fills across pages', () => {
    const m = new PhysicalMemory();
    const data = new Uint8Array(10000).map((_, i) => i * 7);
    m.writeBytes(0x10FF0, data);
    expect(m.readBytes(0x10FF0, 10000)).toEqual(data);
    m.fill(0x11000, 0x2000, 0xEE);
    expect(m.read8(0x10FFF)).toBe(data[15]);
    expect(m.read8(0x11000)).toBe(0xEE);
    expect(m.read8(0x12FFF)).toBe(0xEE);
    expect(m.read8(0x13000)).toBe(data[0x13000 - 0x10FF0]);
    expect(() => m.readBytes(0xFFFFFFFF, 2)).toThrow(RangeError);
  });

  it('reports the e820 map: low RAM, reserved BIOS area, high RAM, MMIO holes (ACPI §15)', () => {
    const m = new PhysicalMemory({ ramSize: 64 << 20 });
    m.addMmio('ioapic', 0xFEC00000, 0x1000, new RecordingDevice());
    m.addMmio('lapic', 0xFEE00000, 0x1000, new RecordingDevice());
    expect(m.memoryMap()).toEqual([
      { base: 0, length: 0x9FC00, type: E820_USABLE },
      { base: 0x9FC00, length: 0x100000 - 0x9FC00, type: E820_RESERVED },
      { base: 0x100000, length: (64 << 20) - 0x100000, type: E820_USABLE },
      { base: 0xFEC00000, length: 0x1000, type: E820_RESERVED },
      { base: 0xFEE00000, length: 0x1000, type: E820_RESERVED },
    ]);
    expect(m.isRam(0x100000, 0x1000)).toBe(true);
    expect(m.isRam((64 << 20) - 4, 8)).toBe(false);
  });
});
