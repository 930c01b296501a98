// guests/hello boots through Multiboot's a.out kludge: the loader copies ONE piece of the
// file, from the header to load_end_addr, to load_addr. That only works if the header's
// addresses fit the linker's layout. Here: hello linked by GNU ld and by ours, the header
// read back from each file, the copied piece checked against the sections' bytes, and the
// GNU-linked file booted under QEMU (the oracle) and under our machine.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../src/emu/asm/assembler';
import { link } from '../../../src/emu/asm/linker';
import { createMachine, qemuCommandLine } from '../../../src/emu/machine';
import { gnuBuild, loadedSections } from '../../support/gnu-link';
import { bootUnderQemu } from '../../support/qemu';

const HELLO = resolve(__dirname, '../../../guests/hello/hello.S');
const files = {
  'hello.S': readFileSync(HELLO, 'utf8'),
  'hello.h': readFileSync(join(dirname(HELLO), 'hello.h'), 'utf8'),
};
const BASE = 0x100000n;

function ourElf(): Uint8Array {
  const a = assemble(files['hello.S'], { file: 'hello.S', readFile: (p) => files[p as keyof typeof files] });
  expect(a.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const r = link([a.object], { base: BASE, format: 'elf' });
  expect(r.errors).toEqual([]);
  return r.output!;
}

interface MultibootHeader {
  readonly offset: number;
  readonly headerAddr: number;
  readonly loadAddr: number;
  readonly loadEndAddr: number;
  readonly bssEndAddr: number;
}

/** The Multiboot v1 header: magic in the first 8 KiB, 4-aligned, checksum zero (spec 3.1.1). */
function multibootHeader(file: Uint8Array): MultibootHeader {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  for (let off = 0; off + 32 <= Math.min(file.length, 8192); off += 4) {
    if (dv.getUint32(off, true) !== 0x1badb002) continue;
    if (((dv.getUint32(off, true) + dv.getUint32(off + 4, true) + dv.getUint32(off + 8, true)) | 0) !== 0) continue;
    const u = (i: number) => dv.getUint32(off + 12 + 4 * i, true);
    return { offset: off, headerAddr: u(0), loadAddr: u(1), loadEndAddr: u(2), bssEndAddr: u(3) };
  }
  throw new Error('no Multiboot header in the first 8 KiB');
}

/**
 * What a Multiboot loader does with the a.out kludge (QEMU hw/i386/multiboot.c, GRUB): copy
 * [load_addr, load_end_addr) from the file at header offset - (header_addr - load_addr);
 * every loaded section must come out at its address, and .bss must lie below bss_end_addr.
 */
function checkKludgeImage(elf: Uint8Array): MultibootHeader {
  const h = multibootHeader(elf);
  const start = h.offset - (h.headerAddr - h.loadAddr);
  const size = h.loadEndAddr - h.loadAddr;
  expect(start).toBeGreaterThanOrEqual(0);
  expect(start + size, 'load_end_addr lies past the end of the file').toBeLessThanOrEqual(elf.length);
  const piece = elf.subarray(start, start + size);
  for (const s of loadedSections(elf)) {
    const at = Number(s.address) - h.loadAddr;
    if (s.nobits) {
      expect(Number(s.address) + s.size, `${s.name} ends past bss_end_addr`).toBeLessThanOrEqual(h.bssEndAddr);
      expect(Number(s.address)).toBeGreaterThanOrEqual(h.loadEndAddr);
      continue;
    }
    expect(at + s.size, `${s.name} is not inside the copied piece`).toBeLessThanOrEqual(size);
    expect(Buffer.from(piece.subarray(at, at + s.size)).equals(Buffer.from(s.bytes)), `${s.name} is not where the loader copies it`).toBe(true);
  }
  return h;
}

function bootOurs(kernel: Uint8Array): { serial: string; status: number | null } {
  const m = createMachine({ memorySize: 128 * 1024 * 1024 });
  const bytes: number[] = [];
  m.on('serial', ({ byte, port }) => {
    if (port === 0) bytes.push(byte);
  });
  m.boot({ kernel, kernelName: 'kernel.elf', cmdline: qemuCommandLine('kernel.elf') });
  const stop = m.run({ maxInstructions: 50_000_000, timeoutMs: 30_000 });
  return { serial: Buffer.from(bytes).toString('latin1'), status: stop.kind === 'debug-exit' ? stop.status : null };
}

describe('guests/hello through the Multiboot a.out kludge', () => {
  const gnu = gnuBuild(files, ['hello.S'], { base: BASE, cpp: true });
  const ours = ourElf();

  it('has a header whose load_end_addr/bss_end_addr fit GNU ld\'s layout and ours', () => {
    const hg = checkKludgeImage(gnu);
    const ho = checkKludgeImage(ours);
    expect({ ...ho, offset: 0 }).toEqual({ ...hg, offset: 0 });
  });

  it('built by GNU ld, boots under QEMU and under our machine with the same output', () => {
    const q = bootUnderQemu(gnu, { timeoutMs: 20_000 });
    expect(q.timedOut).toBe(false);
    expect(q.serial).toBe('Hello from VMX Lab\n');
    expect(q.status).toBe(1);
    expect(bootOurs(gnu)).toEqual({ serial: q.serial, status: q.status });
  });

  it('built by our linker, boots under QEMU and under our machine with the same output', () => {
    const q = bootUnderQemu(ours, { timeoutMs: 20_000 });
    expect(q.timedOut).toBe(false);
    expect(q.serial).toBe('Hello from VMX Lab\n');
    expect(bootOurs(ours)).toEqual({ serial: q.serial, status: q.status });
  });
});
