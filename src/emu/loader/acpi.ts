// The ACPI tables PC firmware would leave in memory, so kernels written for QEMU and
// Bochs find the local APIC and the IOAPIC the way they do there: the RSDP on a 16-byte
// boundary in 0xF0000-0xFFFFF (Linux scans 0xE0000-0xFFFFF, kvm-unit-tests scans
// 0xF0000-0xFFFFF), an RSDT and an XSDT, the MADT ("APIC"), a minimal FADT ("FACP") with
// its FACS and an empty DSDT. References are to the ACPI Specification 6.5: §5.2.5.3
// (RSDP structure), §5.2.6 (system description table header), §5.2.7 (RSDT), §5.2.8
// (XSDT), §5.2.9 (FADT), §5.2.10 (FACS), §5.2.11.1 (DSDT), §5.2.12 (MADT) and
// §5.2.3.2 (Generic Address Structure).
//
// The tables occupy one page at 0xF0000, inside the 0x9FC00-0xFFFFF range the e820
// map reports as reserved.

import type { PhysicalMemory } from '../memory/physical-memory.js';

export const ACPI_TABLES_BASE = 0xF0000;
/** The area the tables may occupy (the RSDP must lie in 0xE0000-0xFFFFF). */
const ACPI_AREA_SIZE = 0x1000;

export interface AcpiProcessor {
  /** ACPI processor UID. */
  uid: number;
  /** Local APIC ID (0-254; the xAPIC MADT entry has 8 bits). */
  apicId: number;
}

export interface AcpiConfig {
  /** Processors (default: one, UID 0, APIC ID 0). */
  processors?: AcpiProcessor[];
  /** Physical address of the local APIC page (default 0xFEE00000). */
  localApicAddress?: number;
  /** The IOAPIC (default ID 0 at 0xFEC00000, GSI base 0); null for none. */
  ioApic?: { id: number; address: number; gsiBase: number } | null;
  /** ISA IRQ the SCI uses (default 9, as on PIIX-based PCs). */
  sciIrq?: number;
}

export interface AcpiTableInfo {
  signature: string;
  address: number;
  length: number;
}

export interface AcpiImage {
  /** Physical address of the RSDP. */
  rsdp: number;
  /** Where `bytes` belong in physical memory. */
  base: number;
  bytes: Uint8Array;
  tables: AcpiTableInfo[];
}

const OEM_ID = 'VMXLAB';
const OEM_TABLE_ID = 'VMXLABPC';
const CREATOR_ID = 'VMXL';

class TableWriter {
  readonly bytes = new Uint8Array(ACPI_AREA_SIZE);
  private readonly dv = new DataView(this.bytes.buffer);
  private top = 0;

  constructor(readonly base: number) {}

  /** Reserve `length` bytes aligned to `align`; returns the offset in the image. */
  alloc(length: number, align: number): number {
    this.top = Math.ceil(this.top / align) * align;
    const at = this.top;
    this.top += length;
    if (this.top > ACPI_AREA_SIZE) throw new RangeError('the ACPI tables do not fit their reserved page');
    return at;
  }

  u8(o: number, v: number): void {
    this.bytes[o] = v;
  }

  u16(o: number, v: number): void {
    this.dv.setUint16(o, v, true);
  }

  u32(o: number, v: number): void {
    this.dv.setUint32(o, v >>> 0, true);
  }

  /** A 64-bit field holding an address below 4 GiB. */
  u64(o: number, v: number): void {
    this.dv.setUint32(o, v >>> 0, true);
    this.dv.setUint32(o + 4, Math.floor(v / 0x1_0000_0000), true);
  }

  ascii(o: number, s: string, width: number): void {
    for (let i = 0; i < width; i++) this.bytes[o + i] = i < s.length ? s.charCodeAt(i) : 0x20;
  }

  /** Set byte `at` so that bytes [o, o+length) sum to zero modulo 256. */
  checksum(o: number, length: number, at: number): void {
    this.bytes[at] = 0;
    let sum = 0;
    for (let i = o; i < o + length; i++) sum += this.bytes[i];
    this.bytes[at] = (256 - (sum & 0xFF)) & 0xFF;
  }

  /** The system description table header (§5.2.6); the checksum is set by `finish`. */
  header(o: number, signature: string, length: number, revision: number): void {
    this.ascii(o, signature, 4);
    this.u32(o + 4, length);
    this.u8(o + 8, revision);
    this.ascii(o + 10, OEM_ID, 6);
    this.ascii(o + 16, OEM_TABLE_ID, 8);
    this.u32(o + 24, 1);
    this.ascii(o + 28, CREATOR_ID, 4);
    this.u32(o + 32, 1);
  }

  finish(o: number, length: number): void {
    this.checksum(o, length, o + 9);
  }

  /** A Generic Address Structure (§5.2.3.2). */
  gas(o: number, spaceId: number, bitWidth: number, accessSize: number, address: number): void {
    this.u8(o, spaceId);
    this.u8(o + 1, bitWidth);
    this.u8(o + 2, 0);
    this.u8(o + 3, accessSize);
    this.u64(o + 4, address);
  }

  addr(o: number): number {
    return this.base + o;
  }
}

/** Build the tables for placement at `base` (default 0xF0000). */
export function buildAcpiTables(config: AcpiConfig = {}, base = ACPI_TABLES_BASE): AcpiImage {
  const processors = config.processors ?? [{ uid: 0, apicId: 0 }];
  const lapicAddress = config.localApicAddress ?? 0xFEE0_0000;
  const ioApic = config.ioApic === undefined ? { id: 0, address: 0xFEC0_0000, gsiBase: 0 } : config.ioApic;
  const sciIrq = config.sciIrq ?? 9;
  for (const p of processors) {
    if (p.apicId < 0 || p.apicId > 254 || p.uid < 0 || p.uid > 254) throw new RangeError(`processor UID ${p.uid} / APIC ID ${p.apicId} does not fit an xAPIC MADT entry`);
  }
  const w = new TableWriter(base);
  const tables: AcpiTableInfo[] = [];

  // RSDP (§5.2.5.3), revision 2: RSDT and XSDT addresses.
  const rsdp = w.alloc(36, 16);
  const rsdtLen = 36 + 4 * 2;
  const rsdt = w.alloc(rsdtLen, 16);
  const xsdtLen = 36 + 8 * 2;
  const xsdt = w.alloc(xsdtLen, 16);

  // FACS (§5.2.10): 64 bytes, 64-byte aligned, no checksum.
  const facs = w.alloc(64, 64);
  w.ascii(facs, 'FACS', 4);
  w.u32(facs + 4, 64);
  w.u8(facs + 32, 2); // version

  // DSDT (§5.2.11.1): a definition block with no AML: there are no devices to describe.
  const dsdtLen = 36;
  const dsdt = w.alloc(dsdtLen, 16);
  w.header(dsdt, 'DSDT', dsdtLen, 2);
  w.finish(dsdt, dsdtLen);

  // FADT (§5.2.9), revision 3 layout (244 bytes). No PM register blocks are emulated; SMI_CMD
  // = 0 says the machine is always in ACPI mode. The reset register is the PIIX's 0xCF9.
  const fadtLen = 244;
  const fadt = w.alloc(fadtLen, 16);
  w.header(fadt, 'FACP', fadtLen, 3);
  w.u32(fadt + 36, w.addr(facs)); // FIRMWARE_CTRL
  w.u32(fadt + 40, w.addr(dsdt)); // DSDT
  w.u8(fadt + 45, 0); // Preferred_PM_Profile: unspecified
  w.u16(fadt + 46, sciIrq); // SCI_INT
  w.u8(fadt + 108, 0x32); // CENTURY: the RTC's century register
  w.u16(fadt + 109, 0x0003); // IAPC_BOOT_ARCH: LEGACY_DEVICES (UART, RTC, PIT on ISA) | 8042 (i8042.ts)
  // Flags: WBINVD (0), PROC_C1 (2), PWR_BUTTON (4) and SLP_BUTTON (5) as control-method/absent, RESET_REG_SUP (10).
  w.u32(fadt + 112, (1 << 0) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 10));
  w.gas(fadt + 116, 1 /* system I/O */, 8, 1 /* byte access */, 0xCF9); // RESET_REG
  w.u8(fadt + 128, 0x06); // RESET_VALUE: hard reset
  w.u64(fadt + 140, w.addr(dsdt)); // X_DSDT
  w.finish(fadt, fadtLen);

  // MADT (§5.2.12): local APICs, the IOAPIC, the ISA overrides a PC needs (the PIT's IRQ0 is
  // wired to IOAPIC input 2; the SCI is level-triggered, active high) and LINT1 as NMI.
  const entries: number[][] = [];
  for (const p of processors) entries.push([0, 8, p.uid, p.apicId, 1, 0, 0, 0]);
  if (ioApic !== null) {
    const a = ioApic.address >>> 0;
    const g = ioApic.gsiBase >>> 0;
    entries.push([1, 12, ioApic.id, 0, a & 0xFF, (a >>> 8) & 0xFF, (a >>> 16) & 0xFF, a >>> 24, g & 0xFF, (g >>> 8) & 0xFF, (g >>> 16) & 0xFF, g >>> 24]);
    entries.push([2, 10, 0, 0, 2, 0, 0, 0, 0, 0]); // IRQ0 -> GSI 2, bus-conforming polarity/trigger
    entries.push([2, 10, 0, sciIrq, sciIrq, 0, 0, 0, 0x0D, 0]); // SCI: active high (01), level (11 << 2)
  }
  entries.push([4, 6, 0xFF, 0, 0, 1]); // Local APIC NMI: all processors, conforming, LINT1
  const madtLen = 44 + entries.reduce((n, e) => n + e.length, 0);
  const madt = w.alloc(madtLen, 16);
  w.header(madt, 'APIC', madtLen, 3);
  w.u32(madt + 36, lapicAddress);
  w.u32(madt + 40, 1); // PCAT_COMPAT: the 8259A pair is present
  let o = madt + 44;
  for (const e of entries) {
    w.bytes.set(e, o);
    o += e.length;
  }
  w.finish(madt, madtLen);

  w.header(rsdt, 'RSDT', rsdtLen, 1);
  w.u32(rsdt + 36, w.addr(fadt));
  w.u32(rsdt + 40, w.addr(madt));
  w.finish(rsdt, rsdtLen);
  w.header(xsdt, 'XSDT', xsdtLen, 1);
  w.u64(xsdt + 36, w.addr(fadt));
  w.u64(xsdt + 44, w.addr(madt));
  w.finish(xsdt, xsdtLen);

  w.ascii(rsdp, 'RSD PTR ', 8);
  w.ascii(rsdp + 9, OEM_ID, 6);
  w.u8(rsdp + 15, 2);
  w.u32(rsdp + 16, w.addr(rsdt));
  w.u32(rsdp + 20, 36);
  w.u64(rsdp + 24, w.addr(xsdt));
  w.checksum(rsdp, 20, rsdp + 8); // ACPI 1.0 checksum over the first 20 bytes
  w.checksum(rsdp, 36, rsdp + 32); // extended checksum over the whole structure

  tables.push(
    { signature: 'RSD PTR ', address: w.addr(rsdp), length: 36 },
    { signature: 'RSDT', address: w.addr(rsdt), length: rsdtLen },
    { signature: 'XSDT', address: w.addr(xsdt), length: xsdtLen },
    { signature: 'FACS', address: w.addr(facs), length: 64 },
    { signature: 'DSDT', address: w.addr(dsdt), length: dsdtLen },
    { signature: 'FACP', address: w.addr(fadt), length: fadtLen },
    { signature: 'APIC', address: w.addr(madt), length: madtLen },
  );
  const used = Math.max(...tables.map((t) => t.address + t.length)) - base;
  return { rsdp: w.addr(rsdp), base, bytes: w.bytes.slice(0, used), tables };
}

/** Build the tables and write them into guest memory; returns what was placed where. */
export function installAcpiTables(memory: PhysicalMemory, config: AcpiConfig = {}, base = ACPI_TABLES_BASE): AcpiImage {
  const image = buildAcpiTables(config, base);
  memory.writeBytes(image.base, image.bytes);
  return image;
}
