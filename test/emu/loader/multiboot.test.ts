import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BOOT_CS,
  BOOT_DS,
  MBI_BOOT_LOADER_NAME,
  MBI_CMDLINE,
  MBI_MEMORY,
  MBI_MMAP,
  MBI_MODS,
  MULTIBOOT_BOOTLOADER_MAGIC,
  MultibootError,
  findMultibootHeader,
  loadMultiboot,
  loadMultibootFiles,
} from '../../../src/emu/loader/multiboot.js';
import { PhysicalMemory } from '../../../src/emu/memory/physical-memory.js';

const dir = mkdtempSync(join(tmpdir(), 'vmx-mb-'));

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Assemble and link with GNU as + ld (the oracle); returns the file path. */
function build(name: string, source: string, mode: '32' | '64', ldArgs: string[]): string {
  writeFileSync(join(dir, `${name}.s`), source);
  run('as', [mode === '32' ? '--32' : '--64', '-o', `${name}.o`, `${name}.s`]);
  run('ld', ['-m', mode === '32' ? 'elf_i386' : 'elf_x86_64', '-z', 'max-page-size=0x1000', ...ldArgs, '-o', name, `${name}.o`]);
  return join(dir, name);
}

/** Symbol value from nm (the oracle for addresses). */
function sym(file: string, name: string): number {
  const line = run('nm', [file]).split('\n').find((l) => l.endsWith(` ${name}`));
  if (!line) throw new Error(`no symbol ${name}`);
  return parseInt(line.split(' ')[0], 16);
}

const HEADER = (flags: string) => `
  .section .text
  .align 4
mb_header:
  .long 0x1BADB002
  .long ${flags}
  .long -(0x1BADB002 + ${flags})
`;

const KERNEL_BODY = `
  .globl _start
_start:
  cli
1: hlt
  jmp 1b
  .section .data
message: .ascii "data segment bytes"
  .section .bss
  .lcomm scratch, 20000
`;

function guestString(mem: PhysicalMemory, addr: number): string {
  const bytes: number[] = [];
  for (let a = addr; mem.read8(a) !== 0; a++) bytes.push(mem.read8(a));
  return Buffer.from(bytes).toString('utf8');
}

describe('Multiboot v1 loader (Multiboot Specification 0.6.96)', () => {
  const elf32 = build('k32', HEADER('0x3') + KERNEL_BODY, '32', ['-Ttext=0x100000']);

  it('§3.1/§3.2: loads an ELF32 kernel built by as --32 / ld -m elf_i386 -Ttext=0x100000 and enters as the spec says', () => {
    const mem = new PhysicalMemory({ ramSize: 32 << 20 });
    // Garbage where the bss goes, to see the loader zero it.
    const bssStart = sym(elf32, '__bss_start');
    const end = sym(elf32, '_end');
    mem.fill(bssStart, end - bssStart, 0xCC);
    const boot = loadMultiboot(mem, { kernelName: 'k32', kernel: readFileSync(elf32), cmdline: 'k32 console=ttyS0' });
    expect(boot.format).toBe('elf32');
    // Every loaded byte equals what objcopy -O binary (GNU) lays out from the load address.
    run('objcopy', ['-O', 'binary', elf32, 'k32.bin']);
    const flat = readFileSync(join(dir, 'k32.bin'));
    expect(Buffer.from(mem.readBytes(0x100000, flat.length)).equals(flat)).toBe(true);
    expect(Array.from(mem.readBytes(bssStart, end - bssStart)).every((b) => b === 0)).toBe(true);
    // The lowest PT_LOAD physical address as readelf (binutils) reports it; ld places a
    // read-only ELF-header segment below .text at 0xFF000.
    const loads = run('readelf', ['-lW', elf32]).split('\n').filter((l) => l.trim().startsWith('LOAD'));
    expect(boot.kernelStart).toBe(Math.min(...loads.map((l) => parseInt(l.trim().split(/\s+/)[3], 16))));
    expect(boot.kernelEnd).toBe(end);
    const e = boot.entry;
    expect(e.eip).toBe(sym(elf32, '_start'));
    expect(e.eax).toBe(MULTIBOOT_BOOTLOADER_MAGIC);
    expect(e.ebx).toBe(boot.infoAddress);
    expect(e.cr0 & 1).toBe(1); // PE
    expect(e.cr0 >>> 31).toBe(0); // PG
    expect(e.eflags & (1 << 9)).toBe(0); // IF
    expect(e.eflags & (1 << 17)).toBe(0); // VM
    expect(e.a20).toBe(true);
    expect(e.cs).toEqual({ selector: BOOT_CS, base: 0, limit: 0xFFFFFFFF, accessRights: 0xC09B });
    for (const s of [e.ds, e.es, e.fs, e.gs, e.ss]) expect(s).toEqual({ selector: BOOT_DS, base: 0, limit: 0xFFFFFFFF, accessRights: 0xC093 });
    // The GDT behind GDTR holds those descriptors.
    expect(mem.read32(e.gdtr.base + BOOT_CS + 4) >>> 0).toBe(0x00CF9B00);
    expect(mem.read32(e.gdtr.base + BOOT_DS + 4) >>> 0).toBe(0x00CF9300);
    expect(boot.elf?.symbols.some((s) => s.name === '_start')).toBe(true);
  });

  it('§3.3: the information structure: flags, mem_lower/upper, cmdline, mods, mmap, boot_loader_name', () => {
    const mem = new PhysicalMemory({ ramSize: 32 << 20 });
    const modA = new Uint8Array(5000).map((_, i) => i & 0xFF);
    const modB = new TextEncoder().encode('initrd contents');
    const boot = loadMultiboot(mem, {
      kernelName: 'k32',
      kernel: readFileSync(elf32),
      cmdline: 'k32 loglevel=7',
      modules: [
        { name: 'guest', data: modA, cmdline: 'guest.elf console=ttyS0' },
        { name: 'initrd', data: modB, cmdline: 'initrd' },
      ],
    });
    const mbi = boot.infoAddress;
    const flags = mem.read32(mbi);
    expect(flags).toBe(MBI_MEMORY | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_BOOT_LOADER_NAME);
    expect(flags & 2).toBe(0); // boot_device not provided
    expect(mem.read32(mbi + 4)).toBe(639);
    expect(mem.read32(mbi + 8)).toBe(31 * 1024);
    expect(guestString(mem, mem.read32(mbi + 16))).toBe('k32 loglevel=7');
    expect(mem.read32(mbi + 20)).toBe(2);
    const mods = mem.read32(mbi + 24);
    const m0 = { start: mem.read32(mods), end: mem.read32(mods + 4), str: guestString(mem, mem.read32(mods + 8)), pad: mem.read32(mods + 12) };
    const m1 = { start: mem.read32(mods + 16), end: mem.read32(mods + 20), str: guestString(mem, mem.read32(mods + 24)) };
    expect(m0.start % 4096).toBe(0);
    expect(m0.start).toBeGreaterThanOrEqual(sym(elf32, '_end'));
    expect(m0.end - m0.start).toBe(5000);
    expect(m0.str).toBe('guest.elf console=ttyS0');
    expect(m0.pad).toBe(0);
    expect(Buffer.from(mem.readBytes(m0.start, 5000)).equals(Buffer.from(modA))).toBe(true);
    expect(m1.start % 4096).toBe(0);
    expect(m1.start).toBeGreaterThanOrEqual(m0.end);
    expect(guestString(mem, m1.start).startsWith('initrd contents')).toBe(true);
    expect(m1.str).toBe('initrd');
    // mmap: entries of size 20 (+4 for the size field), base/length/type
    const len = mem.read32(mbi + 44);
    const addr = mem.read32(mbi + 48);
    const entries: [number, number, number][] = [];
    for (let p = addr; p < addr + len; p += mem.read32(p) + 4) {
      expect(mem.read32(p)).toBe(20);
      entries.push([mem.read32(p + 4) + mem.read32(p + 8) * 2 ** 32, mem.read32(p + 12) + mem.read32(p + 16) * 2 ** 32, mem.read32(p + 20)]);
    }
    expect(entries).toEqual([
      [0, 0x9FC00, 1],
      [0x9FC00, 0x60400, 2],
      [0x100000, (32 << 20) - 0x100000, 1],
    ]);
    expect(guestString(mem, mem.read32(mbi + 64))).toBe('VMX Lab');
    expect(boot.modules.map((m) => m.cmdline)).toEqual(['guest.elf console=ttyS0', 'initrd']);
  });

  it('§3.1: loads an ELF64 kernel (as --64, ld -m elf_x86_64) and a higher-half kernel at its physical addresses', () => {
    const k64 = build('k64', HEADER('0x3') + KERNEL_BODY, '64', ['-Ttext=0x200000']);
    const mem = new PhysicalMemory({ ramSize: 32 << 20 });
    const boot = loadMultiboot(mem, { kernelName: 'k64', kernel: readFileSync(k64) });
    expect(boot.format).toBe('elf64');
    expect(boot.entry.eip).toBe(sym(k64, '_start'));
    expect(mem.read32(sym(k64, 'mb_header')) >>> 0).toBe(0x1BADB002);
    expect(mem.read32(boot.infoAddress) & MBI_CMDLINE).toBe(0);

    writeFileSync(join(dir, 'high.ld'), `
      ENTRY(_start)
      SECTIONS {
        . = 0xC0100000;
        .text : AT(0x100000) { *(.text) }
        .data : AT(ADDR(.data) - 0xC0000000) { *(.data) }
        .bss : AT(ADDR(.bss) - 0xC0000000) { *(.bss) }
        _end = .;
      }`);
    const high = build('high', HEADER('0x3') + KERNEL_BODY, '32', ['-T', 'high.ld']);
    const mem2 = new PhysicalMemory({ ramSize: 32 << 20 });
    const b2 = loadMultiboot(mem2, { kernelName: 'high', kernel: readFileSync(high) });
    expect(b2.entry.eip).toBe(sym(high, '_start') - 0xC0000000);
    expect(mem2.read32(0x100000) >>> 0).toBe(0x1BADB002);
  });

  it('§3.1.3: loads a flat binary through the a.out kludge address fields (flag bit 16)', () => {
    const src = `
  .section .text
  .globl _start
start:
  .align 4
mb_header:
  .long 0x1BADB002
  .long 0x10003
  .long -(0x1BADB002 + 0x10003)
  .long mb_header
  .long start
  .long _edata
  .long _end
  .long _start
_start:
  hlt
  .section .data
  .ascii "kludge data"
  .section .bss
  .lcomm zeros, 4096
`;
    writeFileSync(join(dir, 'aout.ld'), `
      SECTIONS { . = 0x100000; .text : { *(.text) } .data : { *(.data) } _edata = .; .bss : { *(.bss) } _end = .; }`);
    const elf = build('aout.elf', src, '32', ['-T', 'aout.ld']);
    run('objcopy', ['-O', 'binary', elf, 'aout.bin']);
    const flat = readFileSync(join(dir, 'aout.bin'));
    const mem = new PhysicalMemory({ ramSize: 16 << 20 });
    mem.fill(sym(elf, '_edata'), 4096, 0xAA);
    const boot = loadMultiboot(mem, { kernelName: 'aout.bin', kernel: flat });
    expect(boot.format).toBe('aout-kludge');
    expect(boot.entry.eip).toBe(sym(elf, '_start'));
    expect(Buffer.from(mem.readBytes(0x100000, flat.length)).equals(flat)).toBe(true);
    expect(mem.read8(sym(elf, '_end') - 1)).toBe(0);
    expect(boot.kernelEnd).toBe(sym(elf, '_end'));
  });

  it('bad input gives typed errors with clear messages', () => {
    const mem = new PhysicalMemory({ ramSize: 16 << 20 });
    const expectError = (f: () => unknown, code: string, text: RegExp) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(MultibootError);
        expect((e as MultibootError).code).toBe(code);
        expect((e as Error).message).toMatch(text);
        return;
      }
      throw new Error('no error thrown');
    };
    // No header: a plain ELF without one (linked by ld).
    const plain = build('plain', KERNEL_BODY.replace('.section .data', '.section .data'), '32', ['-Ttext=0x100000']);
    expectError(() => loadMultiboot(mem, { kernelName: 'plain', kernel: readFileSync(plain) }), 'no-header', /no Multiboot header.*first 8192 bytes/);
    // Bad checksum.
    const bad = new Uint8Array(64);
    new DataView(bad.buffer).setUint32(8, 0x1BADB002, true);
    new DataView(bad.buffer).setUint32(12, 0x3, true);
    new DataView(bad.buffer).setUint32(16, 0x12345678, true);
    expectError(() => findMultibootHeader(bad, 'bad'), 'bad-checksum', /offset 0x8 has a bad checksum/);
    // A header beyond the first 8192 bytes does not count.
    const far = new Uint8Array(8192 + 64);
    new DataView(far.buffer).setUint32(8192, 0x1BADB002, true);
    new DataView(far.buffer).setUint32(8196, 0, true);
    new DataView(far.buffer).setUint32(8200, -0x1BADB002 >>> 0, true);
    expectError(() => findMultibootHeader(far, 'far'), 'no-header', /first 8192 bytes/);
    // Valid header, not ELF, no a.out kludge.
    const notElf = new Uint8Array(64);
    new DataView(notElf.buffer).setUint32(0, 0x1BADB002, true);
    new DataView(notElf.buffer).setUint32(4, 0, true);
    new DataView(notElf.buffer).setUint32(8, -0x1BADB002 >>> 0, true);
    expectError(() => loadMultiboot(mem, { kernelName: 'raw', kernel: notElf }), 'bad-elf', /not an ELF file.*bit 16/);
    // A requirement bit the loader does not know.
    const unknown = build('unknown', HEADER('0x8003') + KERNEL_BODY, '32', ['-Ttext=0x100000']);
    expectError(() => loadMultiboot(mem, { kernelName: 'unknown', kernel: readFileSync(unknown) }), 'unsupported-flags', /unknown bits 0x8000/);
    // Too little RAM for where the kernel wants to be.
    const big = build('big', HEADER('0x3') + KERNEL_BODY, '32', ['-Ttext=0x2000000']);
    expectError(() => loadMultiboot(mem, { kernelName: 'big', kernel: readFileSync(big) }), 'out-of-memory', /does not lie in RAM/);
    // Module file missing.
    const readFile = (p: string) => (existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined);
    expectError(() => loadMultibootFiles(mem, { kernelPath: elf32, modules: [{ path: join(dir, 'nope.elf') }], readFile }), 'file-not-found', /module file not found: .*nope\.elf/);
    expectError(() => loadMultibootFiles(mem, { kernelPath: join(dir, 'missing'), readFile }), 'file-not-found', /kernel file not found/);
  });

  it('loadMultibootFiles reads files and gives modules their path as string by default', () => {
    const mem = new PhysicalMemory({ ramSize: 16 << 20 });
    writeFileSync(join(dir, 'mod.bin'), 'module!');
    const readFile = (p: string) => (existsSync(p) ? new Uint8Array(readFileSync(p)) : undefined);
    const boot = loadMultibootFiles(mem, { kernelPath: elf32, cmdline: 'x', modules: [{ path: join(dir, 'mod.bin') }, { path: join(dir, 'mod.bin'), cmdline: 'second arg' }], readFile });
    expect(boot.modules.map((m) => m.cmdline)).toEqual([join(dir, 'mod.bin'), 'second arg']);
    expect(guestString(mem, boot.modules[0].start).startsWith('module!')).toBe(true);
  });
});
