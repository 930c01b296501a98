// FileDisk (src/cli/disk-file.ts): `vmx-lab run --disk FILE` backs the ATA disk with a host
// file, sector for sector; the file is checked with plain fs reads.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileDisk } from '../../src/cli/disk-file';

const TMP = mkdtempSync(join(tmpdir(), 'vmxlab-disk-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('FileDisk', () => {
  it('has the whole 512-byte sectors of the file, reads and writes them in place', () => {
    const path = join(TMP, 'disk.img');
    const bytes = new Uint8Array(3 * 512 + 100);          // a partial last sector: left out
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xFF;
    writeFileSync(path, bytes);
    const disk = FileDisk.open(path);
    if (typeof disk === 'string') throw new Error(disk);
    expect(disk.size).toBe(3 * 512);
    const buf = new Uint8Array(512);
    disk.readSector(2, buf);
    expect([...buf]).toEqual([...bytes.subarray(1024, 1536)]);
    disk.writeSector(1, new Uint8Array(512).fill(0xA5));
    disk.flush();
    disk.close();
    const after = new Uint8Array(readFileSync(path));
    expect(after.length).toBe(bytes.length);
    expect(after.subarray(512, 1024).every((b) => b === 0xA5)).toBe(true);
    expect([...after.subarray(0, 512)]).toEqual([...bytes.subarray(0, 512)]);
    expect([...after.subarray(1024)]).toEqual([...bytes.subarray(1024)]);
  });

  it('a missing file is a one-line message, not an exception', () => {
    expect(FileDisk.open(join(TMP, 'none.img'))).toBe(`--disk: file not found: ${join(TMP, 'none.img')}`);
  });
});
