// QEMU's firmware configuration device (fw_cfg), legacy I/O-port interface, as QEMU's
// docs/specs/fw_cfg.rst describes it: a 16-bit selector register and an 8-bit data
// register at 0x510/0x511 on x86 ("Selector (Control) Register", "Data Register",
// "Register Locations"). Writing a key to the selector rewinds the item's data offset to
// 0; each data read returns the next byte, and 0 past the end or for a key with no item.
// On x86 both ports decode both registers as QEMU does: a 16-bit write selects, a byte
// read reads data, a byte write is a data write (ignored, as since QEMU 2.4).
//
// Items ("Firmware Configuration Items"): the signature "QEMU", the feature ID (bit 0:
// traditional interface; no DMA interface), UUID, RAM size, nographic, CPU counts, boot
// menu, the x86 IRQ0-override flag and the file directory (key 0x19: a big-endian count,
// then { u32 size, u16 select, u16 reserved, char name[56] } per file, sorted by name,
// with keys from 0x20 in that order). kvm-unit-tests' lib/x86/fwcfg.c reads NB_CPUS,
// RAM_SIZE and its own key 0x11 (MAX_RAM, which QEMU leaves empty: reads as 0 = no limit).

import type { PortDevice } from './io-bus.js';

export const FW_CFG_PORT = 0x510;

export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_UUID = 0x02;
export const FW_CFG_RAM_SIZE = 0x03;
export const FW_CFG_NOGRAPHIC = 0x04;
export const FW_CFG_NB_CPUS = 0x05;
export const FW_CFG_BOOT_MENU = 0x0E;
export const FW_CFG_MAX_CPUS = 0x0F;
export const FW_CFG_FILE_DIR = 0x19;
export const FW_CFG_FILE_FIRST = 0x20;
export const FW_CFG_IRQ0_OVERRIDE = 0x8002;
/** Bit 14 of a selector asks for write access; it does not change which item is selected. */
const FW_CFG_WRITE_CHANNEL = 0x4000;
const FILE_NAME_SIZE = 56;
const FILE_ENTRY_SIZE = 64;

export interface FwCfgFile {
  /** Path-like name, e.g. "etc/e820" (at most 55 characters). */
  name: string;
  data: Uint8Array;
}

export interface FwCfgConfig {
  /** Guest RAM in bytes. */
  ramSize: number;
  /** Processors present at boot (default 1). */
  cpus?: number;
  /** Maximum processors (default `cpus`). */
  maxCpus?: number;
  /** The machine has no display (default true: output is the serial console). */
  nographic?: boolean;
  /** Named blobs for the file directory (default none). */
  files?: FwCfgFile[];
}

export class FwCfgConfigError extends Error {
  override readonly name = 'FwCfgConfigError';
}

export interface FwCfgSnapshot {
  selector: number;
  offset: number;
  items: { key: number; length: number; name?: string }[];
}

function le(value: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let v = value;
  for (let i = 0; i < bytes; i++) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

export class FwCfg implements PortDevice {
  private readonly items = new Map<number, Uint8Array>();
  private readonly fileNames = new Map<number, string>();
  private selector = 0;
  private offset = 0;
  private current: Uint8Array | undefined;

  constructor(config: FwCfgConfig) {
    const cpus = config.cpus ?? 1;
    this.items.set(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.items.set(FW_CFG_ID, le(1, 4));
    this.items.set(FW_CFG_UUID, new Uint8Array(16));
    this.items.set(FW_CFG_RAM_SIZE, le(config.ramSize, 8));
    this.items.set(FW_CFG_NOGRAPHIC, le((config.nographic ?? true) ? 1 : 0, 2));
    this.items.set(FW_CFG_NB_CPUS, le(cpus, 2));
    this.items.set(FW_CFG_BOOT_MENU, le(0, 2));
    this.items.set(FW_CFG_MAX_CPUS, le(config.maxCpus ?? cpus, 2));
    // The MADT routes IRQ0 to GSI 2: firmware reading this flag agrees.
    this.items.set(FW_CFG_IRQ0_OVERRIDE, le(1, 4));
    this.items.set(FW_CFG_FILE_DIR, this.fileDirectory(config.files ?? []));
    this.select(0);
  }

  private fileDirectory(files: FwCfgFile[]): Uint8Array {
    const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const dir = new Uint8Array(4 + FILE_ENTRY_SIZE * sorted.length);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, sorted.length, false);
    sorted.forEach((f, i) => {
      if (f.name.length === 0 || f.name.length >= FILE_NAME_SIZE || !/^[\x20-\x7e]+$/.test(f.name)) {
        throw new FwCfgConfigError(`fw_cfg file name "${f.name}" must be 1-55 printable ASCII characters`);
      }
      if (i > 0 && sorted[i - 1].name === f.name) throw new FwCfgConfigError(`fw_cfg file "${f.name}" is given twice`);
      const key = FW_CFG_FILE_FIRST + i;
      const o = 4 + FILE_ENTRY_SIZE * i;
      dv.setUint32(o, f.data.length, false);
      dv.setUint16(o + 4, key, false);
      for (let c = 0; c < f.name.length; c++) dir[o + 8 + c] = f.name.charCodeAt(c);
      this.items.set(key, f.data);
      this.fileNames.set(key, f.name);
    });
    return dir;
  }

  private select(key: number): void {
    this.selector = key & 0xFFFF;
    this.offset = 0;
    this.current = this.items.get(this.selector & ~FW_CFG_WRITE_CHANNEL);
  }

  portRead(_port: number, size: 1 | 2 | 4): number {
    // Only byte reads are decoded (the data register is 8 bits wide on x86).
    if (size !== 1) return size === 2 ? 0xFFFF : 0xFFFF_FFFF;
    const item = this.current;
    if (item === undefined || this.offset >= item.length) return 0;
    return item[this.offset++];
  }

  portWrite(_port: number, size: 1 | 2 | 4, value: number): void {
    if (size === 2) this.select(value);
    // Byte writes are data writes, which the legacy interface ignores; dword writes are not decoded.
  }

  snapshot(): FwCfgSnapshot {
    return {
      selector: this.selector,
      offset: this.offset,
      items: [...this.items].map(([key, data]) => {
        const name = this.fileNames.get(key);
        return name === undefined ? { key, length: data.length } : { key, length: data.length, name };
      }),
    };
  }
}

/** Register the legacy fw_cfg ports 0x510-0x511 (one device decoding both, any width). */
export function registerFwCfg(bus: { register(name: string, base: number, count: number, device: PortDevice, byteWide?: boolean): void }, fwcfg: FwCfg): void {
  bus.register('fw-cfg', FW_CFG_PORT, 2, fwcfg, false);
}
