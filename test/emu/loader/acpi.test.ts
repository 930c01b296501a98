import { describe, expect, it } from 'vitest';
import { ACPI_TABLES_BASE, buildAcpiTables, installAcpiTables } from '../../../src/emu/loader/acpi.js';
import { PhysicalMemory } from '../../../src/emu/memory/physical-memory.js';

const sum = (b: Uint8Array) => b.reduce((a, x) => (a + x) & 0xFF, 0);
const str = (m: PhysicalMemory, a: number, n: number) => String.fromCharCode(...m.readBytes(a, n));

/** Find the RSDP the way Linux does (16-byte steps over 0xE0000-0xFFFFF, signature + checksum). */
function scanRsdp(m: PhysicalMemory): number {
  for (let a = 0xE0000; a < 0x100000; a += 16) {
    if (str(m, a, 8) === 'RSD PTR ' && sum(m.readBytes(a, 20)) === 0) return a;
  }
  return -1;
}

function table(m: PhysicalMemory, addr: number): { sig: string; bytes: Uint8Array } {
  const len = m.read32(addr + 4);
  return { sig: str(m, addr, 4), bytes: m.readBytes(addr, len) };
}

describe('ACPI tables (ACPI 6.5 §5.2)', () => {
  const mem = new PhysicalMemory({ ramSize: 32 << 20 });
  const image = installAcpiTables(mem);

  it('§5.2.5.1: the RSDP is found by a 16-byte scan of 0xE0000-0xFFFFF (and 0xF0000-0xFFFFF) with both checksums valid', () => {
    const rsdp = scanRsdp(mem);
    expect(rsdp).toBe(image.rsdp);
    expect(rsdp).toBeGreaterThanOrEqual(0xF0000);
    expect(mem.read8(rsdp + 15)).toBe(2); // revision: ACPI 2.0+
    expect(mem.read32(rsdp + 20)).toBe(36);
    expect(sum(mem.readBytes(rsdp, 36))).toBe(0);
  });

  it('§5.2.6: every table checksums to zero and lies in the e820-reserved BIOS area', () => {
    for (const t of image.tables.filter((t) => t.signature !== 'RSD PTR ' && t.signature !== 'FACS')) {
      expect(sum(mem.readBytes(t.address, t.length)), t.signature).toBe(0);
      expect(mem.read32(t.address + 4)).toBe(t.length);
    }
    for (const t of image.tables) {
      expect(t.address).toBeGreaterThanOrEqual(0x9FC00);
      expect(t.address + t.length).toBeLessThanOrEqual(0x100000);
    }
  });

  it('§5.2.7/§5.2.8: RSDT (32-bit) and XSDT (64-bit) list the FADT and the MADT', () => {
    const rsdp = image.rsdp;
    const rsdt = table(mem, mem.read32(rsdp + 16));
    const xsdtAddr = mem.read32(rsdp + 24);
    expect(mem.read32(rsdp + 28)).toBe(0);
    const xsdt = table(mem, xsdtAddr);
    expect(rsdt.sig).toBe('RSDT');
    expect(xsdt.sig).toBe('XSDT');
    const rdv = new DataView(rsdt.bytes.buffer);
    const xdv = new DataView(xsdt.bytes.buffer);
    const fromRsdt = [36, 40].map((o) => table(mem, rdv.getUint32(o, true)).sig);
    const fromXsdt = [36, 44].map((o) => table(mem, Number(xdv.getBigUint64(o, true))).sig);
    expect(fromRsdt).toEqual(['FACP', 'APIC']);
    expect(fromXsdt).toEqual(['FACP', 'APIC']);
  });

  it('§5.2.12: the MADT has the local APIC address, PCAT_COMPAT, one enabled processor, the IOAPIC, IRQ0->GSI2 and LINT1 NMI', () => {
    const madtAddr = image.tables.find((t) => t.signature === 'APIC')!.address;
    const { bytes } = table(mem, madtAddr);
    const dv = new DataView(bytes.buffer);
    expect(dv.getUint32(36, true)).toBe(0xFEE00000);
    expect(dv.getUint32(40, true) & 1).toBe(1);
    const entries: { type: number; body: Uint8Array }[] = [];
    for (let o = 44; o < bytes.length; o += bytes[o + 1]) entries.push({ type: bytes[o], body: bytes.subarray(o, o + bytes[o + 1]) });
    const lapics = entries.filter((e) => e.type === 0);
    expect(lapics.length).toBe(1);
    expect(lapics[0].body[3]).toBe(0); // APIC ID
    expect(lapics[0].body[4] & 1).toBe(1); // enabled
    const ioapic = entries.find((e) => e.type === 1)!;
    const iv = new DataView(ioapic.body.buffer, ioapic.body.byteOffset);
    expect(iv.getUint32(4, true)).toBe(0xFEC00000);
    expect(iv.getUint32(8, true)).toBe(0);
    const isos = entries.filter((e) => e.type === 2).map((e) => {
      const v = new DataView(e.body.buffer, e.body.byteOffset);
      return { source: e.body[3], gsi: v.getUint32(4, true), flags: v.getUint16(8, true) };
    });
    expect(isos).toContainEqual({ source: 0, gsi: 2, flags: 0 });
    expect(isos).toContainEqual({ source: 9, gsi: 9, flags: 0x0D });
    const nmi = entries.find((e) => e.type === 4)!;
    expect([nmi.body[2], nmi.body[5]]).toEqual([0xFF, 1]);
  });

  it('§5.2.9/§5.2.10: the FADT points at a DSDT and a 64-byte-aligned FACS; SCI on IRQ 9; reset register 0xCF9', () => {
    const fadtAddr = image.tables.find((t) => t.signature === 'FACP')!.address;
    const { bytes } = table(mem, fadtAddr);
    const dv = new DataView(bytes.buffer);
    expect(bytes.length).toBe(244);
    const facs = dv.getUint32(36, true);
    expect(facs % 64).toBe(0);
    expect(str(mem, facs, 4)).toBe('FACS');
    expect(mem.read32(facs + 4)).toBe(64);
    const dsdt = dv.getUint32(40, true);
    expect(Number(dv.getBigUint64(140, true))).toBe(dsdt);
    expect(table(mem, dsdt).sig).toBe('DSDT');
    expect(dv.getUint16(46, true)).toBe(9);
    expect(dv.getUint32(112, true) & (1 << 10)).not.toBe(0);
    expect([bytes[116], Number(dv.getBigUint64(120, true)), bytes[128]]).toEqual([1, 0xCF9, 6]);
  });

  it('describes more processors and another IOAPIC on request, with valid checksums', () => {
    const img = buildAcpiTables({ processors: [{ uid: 0, apicId: 0 }, { uid: 1, apicId: 2 }], ioApic: { id: 4, address: 0xFEC01000, gsiBase: 24 } }, ACPI_TABLES_BASE);
    const madt = img.tables.find((t) => t.signature === 'APIC')!;
    const bytes = img.bytes.subarray(madt.address - img.base, madt.address - img.base + madt.length);
    expect(sum(bytes)).toBe(0);
    expect(madt.length).toBe(44 + 8 * 2 + 12 + 10 * 2 + 6);
    expect(() => buildAcpiTables({ processors: [{ uid: 0, apicId: 255 }] })).toThrow(RangeError);
  });
});
