// `vmx-lab run --disk FILE`: the machine's ATA disk backed by a host file, sector by sector,
// so what the guest writes is in the file when the run ends (as QEMU's -drive file=,format=raw).
// The disk has as many 512-byte sectors as fit in the file; a partial last sector is left out.

import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { DiskBackingStore } from '../emu/devices/ata';

const SECTOR_SIZE = 512;

export class FileDisk implements DiskBackingStore {
  readonly size: number;

  private constructor(private readonly fd: number) {
    this.size = Math.floor(fstatSync(fd).size / SECTOR_SIZE) * SECTOR_SIZE;
  }

  /** Opens FILE for reading and writing; a message for the user if it cannot be. */
  static open(path: string): FileDisk | string {
    try {
      return new FileDisk(openSync(path, 'r+'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'ENOENT' ? `--disk: file not found: ${path}` : `--disk: cannot open ${path} for reading and writing (${code ?? String(e)})`;
    }
  }

  readSector(lba: number, buffer: Uint8Array): void {
    readSync(this.fd, buffer, 0, SECTOR_SIZE, lba * SECTOR_SIZE);
  }

  writeSector(lba: number, data: Uint8Array): void {
    writeSync(this.fd, data, 0, SECTOR_SIZE, lba * SECTOR_SIZE);
  }

  flush(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
