// Multiboot v1 boot, as the Multiboot Specification version 0.6.96 lays it down (section
// numbers below are that document's): §3.1 the OS image format (the header in the first
// 8192 bytes, 32-bit aligned; magic, flags, checksum; the a.out-kludge address fields),
// §3.2 the machine state at entry, §3.3 the boot information format.
//
// What goes where (the spec leaves placement to the loader; this follows QEMU's -kernel):
//   kernel          where its ELF PT_LOAD segments (physical addresses) or the a.out-kludge
//                   fields say; it must lie in RAM, clear of the ACPI tables
//   modules         page-aligned, one after another, from the first page after the kernel
//   0x9000          the boot information area: the memory map (mmap_addr), then at 0x9500
//                   the info structure, a GDT, the module list and the strings (command
//                   lines, boot loader name). When the kernel itself occupies part of
//                   0x9000-0x10000 (kernels linked below 1 MiB, e.g. kvm-unit-tests'
//                   realmode.flat at 0x8000), the same layout moves to the first page after
//                   the kernel if it fits in conventional memory, else after the modules,
//                   so that it never overwrites a loaded segment
//   0xF0000         the ACPI tables (acpi.ts), which the machine installs
// Command lines are passed exactly as given. To reproduce `qemu -kernel K -append A`
// pass "K A" (QEMU prefixes the kernel's file name); for `-initrd 'G args'`, "G args".

import { ElfError, EM_386, EM_X86_64, ET_EXEC, parseElf, PT_LOAD, isElf } from './elf.js';
import type { ElfFile } from './elf.js';
import { HIGH_RAM_START, LOW_RAM_END, PAGE_SIZE } from '../memory/physical-memory.js';
import { ACPI_TABLES_BASE } from './acpi.js';
import type { E820Entry, PhysicalMemory } from '../memory/physical-memory.js';

export const MULTIBOOT_HEADER_MAGIC = 0x1BADB002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2BADB002;
/** §3.1.1: the header must lie within the first 8192 bytes of the image. */
export const MULTIBOOT_SEARCH = 8192;
export const BOOT_LOADER_NAME = 'VMX Lab';

// Header flags (§3.1.2). Bit 0 (page-align modules) and bit 1 (memory information) are
// always honoured, so only the video-mode request (bit 2) needs a decision.
const HF_VIDEO_MODE = 1 << 2;
const HF_AOUT_KLUDGE = 1 << 16;

// Info flags (§3.3).
export const MBI_MEMORY = 1 << 0;
export const MBI_CMDLINE = 1 << 2;
export const MBI_MODS = 1 << 3;
export const MBI_MMAP = 1 << 6;
export const MBI_BOOT_LOADER_NAME = 1 << 9;

/** Where the boot information lives (see the file comment). */
/** The boot information area's usual base (QEMU's: mmap at 0x9000, info at 0x9500). */
export const MMAP_ADDRESS = 0x9000;
export const INFO_ADDRESS = 0x9500;
const INFO_SIZE = 0x78; // up to and including the framebuffer fields (§3.3)
export const GDT_ADDRESS = 0x9580;
const MODS_ADDRESS = 0x95A0;
/** Size of the boot information area (its layout relative to its base is fixed). */
const BOOT_INFO_SIZE = 0x7000;
/** The boot information area ends here (strings included). */

/** Selectors of the flat segments in the GDT the loader leaves (as GRUB and QEMU use). */
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;

export type MultibootErrorCode =
  | 'no-header'
  | 'bad-checksum'
  | 'unsupported-flags'
  | 'bad-elf'
  | 'bad-aout'
  | 'out-of-memory'
  | 'file-not-found';

/** A kernel or module that cannot be booted; `message` is for the user as it stands. */
export class MultibootError extends Error {
  override readonly name = 'MultibootError';

  constructor(
    readonly code: MultibootErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface MultibootHeader {
  /** Offset of the header in the image file. */
  offset: number;
  flags: number;
  /** The a.out-kludge fields (§3.1.3), when flag bit 16 is set. */
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}

export interface MultibootModuleInput {
  /** Shown in messages (usually the file path). */
  name: string;
  data: Uint8Array;
  /** The module's string (§3.3 "mods"): exactly as given. */
  cmdline: string;
}

export interface MultibootInput {
  kernelName: string;
  kernel: Uint8Array;
  /** The kernel command line (§3.3 "cmdline"); omitted = no cmdline flag. */
  cmdline?: string;
  modules?: MultibootModuleInput[];
}

/** A segment register as a loader leaves it: selector plus the hidden part, access rights in VMX format (SDM Vol. 3 §25.4.1). */
export interface SegmentState {
  selector: number;
  base: number;
  limit: number;
  /** Type (3:0), S (4), DPL (6:5), P (7), AVL (12), L (13), D/B (14), G (15). */
  accessRights: number;
}

/** The processor state §3.2 prescribes, for the CPU to apply. Unlisted registers are 0. */
export interface MultibootEntryState {
  eax: number;
  ebx: number;
  eip: number;
  esp: number;
  eflags: number;
  cr0: number;
  cs: SegmentState;
  ds: SegmentState;
  es: SegmentState;
  fs: SegmentState;
  gs: SegmentState;
  ss: SegmentState;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  a20: boolean;
}

export interface LoadedModule {
  name: string;
  start: number;
  /** One past the last byte (what GRUB and QEMU put in mod_end). */
  end: number;
  cmdline: string;
}

export interface MultibootBoot {
  entry: MultibootEntryState;
  header: MultibootHeader;
  format: 'elf32' | 'elf64' | 'aout-kludge';
  /** Lowest and one-past-highest physical address the kernel image occupies (bss included). */
  kernelStart: number;
  kernelEnd: number;
  modules: LoadedModule[];
  infoAddress: number;
  memoryMap: E820Entry[];
  /** The parsed kernel, for the debugger's symbols (ELF kernels only). */
  elf: ElfFile | undefined;
  /** Requests the loader could not honour but which do not stop the boot (video mode, as QEMU). */
  warnings: string[];
}

function u32(data: Uint8Array, o: number): number {
  return (data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) | (data[o + 3] << 24)) >>> 0;
}

const hex = (v: number) => `0x${v.toString(16)}`;

/** §3.1.1: find the header (longword-aligned in the first 8192 bytes) and validate its checksum. */
export function findMultibootHeader(image: Uint8Array, name = 'kernel'): MultibootHeader {
  const limit = Math.min(image.length, MULTIBOOT_SEARCH);
  let badChecksumAt = -1;
  for (let o = 0; o + 12 <= limit; o += 4) {
    if (u32(image, o) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = u32(image, o + 4);
    const checksum = u32(image, o + 8);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) !== 0) {
      if (badChecksumAt < 0) badChecksumAt = o;
      continue;
    }
    const field = (k: number) => (o + k + 4 <= image.length ? u32(image, o + k) : 0);
    if ((flags & HF_AOUT_KLUDGE) !== 0 && o + 32 > image.length) {
      throw new MultibootError('bad-aout', `${name}: Multiboot header at offset ${hex(o)} sets flag bit 16 but the file ends before its address fields`);
    }
    return { offset: o, flags, headerAddr: field(12), loadAddr: field(16), loadEndAddr: field(20), bssEndAddr: field(24), entryAddr: field(28) };
  }
  if (badChecksumAt >= 0) {
    throw new MultibootError('bad-checksum', `${name}: the Multiboot header at offset ${hex(badChecksumAt)} has a bad checksum (magic + flags + checksum must be 0 modulo 2^32)`);
  }
  throw new MultibootError('no-header', `${name}: no Multiboot header (magic 0x1BADB002) in the first 8192 bytes; is this a Multiboot kernel?`);
}

interface Placed {
  start: number;
  end: number;
  /** [start, end) of every loaded segment (the boot information area must avoid them all). */
  ranges: [number, number][];
}

/**
 * Where a kernel may be loaded: anywhere in RAM (QEMU loads what `ld -Ttext=0x100000`
 * produces, including the read-only ELF-header segment it places at 0xFF000), except the
 * page holding the ACPI tables. The boot information area gets out of its way (bootInfoBase).
 */
function checkLoadable(mem: PhysicalMemory, start: number, end: number, what: string): void {
  if (start < 0 || end < start || end > mem.ramSize) {
    throw new MultibootError('out-of-memory', `${what} at ${hex(start)}-${hex(end)} does not lie in RAM (0-${hex(mem.ramSize)}); try a larger --memory`);
  }
  if (start < ACPI_TABLES_BASE + PAGE_SIZE && end > ACPI_TABLES_BASE) {
    throw new MultibootError('out-of-memory', `${what} at ${hex(start)}-${hex(end)} overlaps the ACPI tables at ${hex(ACPI_TABLES_BASE)}`);
  }
}

/** Load ELF PT_LOAD segments at their physical addresses; returns the entry point (physical). */
function loadElf(mem: PhysicalMemory, elf: ElfFile, name: string, placed: Placed): number {
  const is64 = elf.elfClass === 64;
  if (elf.type !== ET_EXEC) throw new MultibootError('bad-elf', `${name}: ELF type ${elf.type} is not an executable (ET_EXEC); link the kernel with ld without -r/-shared`);
  if ((is64 && elf.machine !== EM_X86_64) || (!is64 && elf.machine !== EM_386)) {
    throw new MultibootError('bad-elf', `${name}: ELF${elf.elfClass} file for machine ${elf.machine}; Multiboot kernels are ELF32 i386 or ELF64 x86-64`);
  }
  const loads = elf.segments.filter((s) => s.type === PT_LOAD && s.memsz > 0);
  if (loads.length === 0) throw new MultibootError('bad-elf', `${name}: the ELF file has no loadable (PT_LOAD) segment`);
  for (const seg of loads) {
    if (seg.paddr + BigInt(seg.memsz) > 0x1_0000_0000n) {
      throw new MultibootError('bad-elf', `${name}: segment at physical ${hex(Number(seg.paddr))} ends above 4 GiB; Multiboot loads below 4 GiB`);
    }
    const start = Number(seg.paddr);
    checkLoadable(mem, start, start + seg.memsz, `${name}: segment`);
    placed.start = Math.min(placed.start, start);
    placed.end = Math.max(placed.end, start + seg.memsz);
    placed.ranges.push([start, start + seg.memsz]);
  }
  for (const seg of loads) {
    const start = Number(seg.paddr);
    mem.writeBytes(start, elf.data.subarray(seg.offset, seg.offset + seg.filesz));
    if (seg.memsz > seg.filesz) mem.fill(start + seg.filesz, seg.memsz - seg.filesz, 0);
  }
  // e_entry is a virtual address; when the segment holding it is linked at a different
  // physical address, enter at the physical one (paging is off at entry), as GRUB does.
  let entry = elf.entry;
  for (const seg of loads) {
    if (entry >= seg.vaddr && entry < seg.vaddr + BigInt(seg.memsz)) {
      entry = entry - seg.vaddr + seg.paddr;
      break;
    }
  }
  if (entry >= 0x1_0000_0000n) throw new MultibootError('bad-elf', `${name}: entry point 0x${entry.toString(16)} is above 4 GiB; the CPU starts in 32-bit protected mode`);
  return Number(entry);
}

/** §3.1.3: the a.out kludge — load by the header's address fields. */
function loadAout(mem: PhysicalMemory, image: Uint8Array, h: MultibootHeader, name: string, placed: Placed): number {
  if (h.loadAddr > h.headerAddr) throw new MultibootError('bad-aout', `${name}: load_addr ${hex(h.loadAddr)} is above header_addr ${hex(h.headerAddr)}`);
  const fileStart = h.offset - (h.headerAddr - h.loadAddr);
  if (fileStart < 0) throw new MultibootError('bad-aout', `${name}: header_addr - load_addr (${hex(h.headerAddr - h.loadAddr)}) reaches before the start of the file`);
  const loadEnd = h.loadEndAddr === 0 ? h.loadAddr + (image.length - fileStart) : h.loadEndAddr;
  if (loadEnd < h.loadAddr || fileStart + (loadEnd - h.loadAddr) > image.length) {
    throw new MultibootError('bad-aout', `${name}: load_end_addr ${hex(loadEnd)} does not fit the ${image.length}-byte file`);
  }
  const bssEnd = h.bssEndAddr === 0 ? loadEnd : h.bssEndAddr;
  if (bssEnd < loadEnd) throw new MultibootError('bad-aout', `${name}: bss_end_addr ${hex(bssEnd)} is below load_end_addr ${hex(loadEnd)}`);
  checkLoadable(mem, h.loadAddr, bssEnd, `${name}: image`);
  mem.writeBytes(h.loadAddr, image.subarray(fileStart, fileStart + (loadEnd - h.loadAddr)));
  if (bssEnd > loadEnd) mem.fill(loadEnd, bssEnd - loadEnd, 0);
  placed.start = h.loadAddr;
  placed.end = bssEnd;
  placed.ranges.push([h.loadAddr, bssEnd]);
  if (h.entryAddr < h.loadAddr || h.entryAddr >= bssEnd) {
    throw new MultibootError('bad-aout', `${name}: entry_addr ${hex(h.entryAddr)} lies outside the loaded image ${hex(h.loadAddr)}-${hex(bssEnd)}`);
  }
  return h.entryAddr;
}

const FLAT_CODE = 0xC09B;
const FLAT_DATA = 0xC093;

function flat(selector: number, accessRights: number): SegmentState {
  return { selector, base: 0, limit: 0xFFFF_FFFF, accessRights };
}

/**
 * Load a Multiboot kernel and its modules into `mem` and build the boot information.
 * Throws `MultibootError` with a user-facing message for anything unbootable.
 */
export function loadMultiboot(mem: PhysicalMemory, input: MultibootInput): MultibootBoot {
  const name = input.kernelName;
  const image = input.kernel;
  const header = findMultibootHeader(image, name);
  const warnings: string[] = [];
  // §3.1.2: bits 0-15 are requirements; a loader that cannot meet one must refuse.
  const unknown = header.flags & 0xFFF8;
  if (unknown !== 0) {
    throw new MultibootError('unsupported-flags', `${name}: Multiboot header requests features this loader does not know (flags ${hex(header.flags)}, unknown bits ${hex(unknown)})`);
  }
  if (header.flags & HF_VIDEO_MODE) warnings.push(`${name}: the Multiboot header asks for a video mode; there is no graphics adapter, booting without (as QEMU does)`);

  const placed: Placed = { start: Infinity, end: 0, ranges: [] };
  let format: MultibootBoot['format'];
  let elf: ElfFile | undefined;
  let entryPoint: number;
  if (header.flags & HF_AOUT_KLUDGE) {
    // §3.1.3: with bit 16 the address fields take precedence over the executable's own headers.
    format = 'aout-kludge';
    if (isElf(image)) elf = parseKernelElf(image, name);
    entryPoint = loadAout(mem, image, header, name, placed);
  } else {
    if (!isElf(image)) throw new MultibootError('bad-elf', `${name}: not an ELF file, and the Multiboot header has no a.out-kludge address fields (flag bit 16)`);
    elf = parseKernelElf(image, name);
    format = elf.elfClass === 64 ? 'elf64' : 'elf32';
    entryPoint = loadElf(mem, elf, name, placed);
  }

  // Modules: page-aligned after the kernel (§3.1.2 bit 0 asks for page alignment; always given).
  const modules: LoadedModule[] = [];
  let next = Math.ceil(placed.end / PAGE_SIZE) * PAGE_SIZE;
  if (next < HIGH_RAM_START) next = HIGH_RAM_START;
  for (const m of input.modules ?? []) {
    const start = next;
    const end = start + m.data.length;
    if (end > mem.ramSize) {
      throw new MultibootError('out-of-memory', `module ${m.name} (${m.data.length} bytes) does not fit in RAM above ${hex(start)} (RAM ends at ${hex(mem.ramSize)}); try a larger --memory`);
    }
    mem.writeBytes(start, m.data);
    modules.push({ name: m.name, start, end, cmdline: m.cmdline });
    next = Math.ceil(end / PAGE_SIZE) * PAGE_SIZE;
    if (next === start) next += PAGE_SIZE;
  }

  const memoryMap = mem.memoryMap();
  const base = bootInfoBase(mem, placed, next);
  const at = (usual: number): number => usual - MMAP_ADDRESS + base;
  writeBootInfo(mem, base, input.cmdline, modules, memoryMap);

  const entry: MultibootEntryState = {
    eax: MULTIBOOT_BOOTLOADER_MAGIC,
    ebx: at(INFO_ADDRESS),
    eip: entryPoint,
    esp: 0,
    eflags: 0x2,
    cr0: 0x11, // PE=1, ET=1, PG=0
    cs: flat(BOOT_CS, FLAT_CODE),
    ds: flat(BOOT_DS, FLAT_DATA),
    es: flat(BOOT_DS, FLAT_DATA),
    fs: flat(BOOT_DS, FLAT_DATA),
    gs: flat(BOOT_DS, FLAT_DATA),
    ss: flat(BOOT_DS, FLAT_DATA),
    gdtr: { base: at(GDT_ADDRESS), limit: 0x1F },
    idtr: { base: 0, limit: 0x3FF },
    a20: true,
  };
  return { entry, header, format, kernelStart: placed.start, kernelEnd: placed.end, modules, infoAddress: at(INFO_ADDRESS), memoryMap, elf, warnings };
}

function parseKernelElf(image: Uint8Array, name: string): ElfFile {
  try {
    return parseElf(image);
  } catch (e) {
    if (e instanceof ElfError) throw new MultibootError('bad-elf', `${name}: ${e.message}`);
    throw e;
  }
}

/**
 * Base of the boot information area: 0x9000 (QEMU's) unless a kernel segment lies there;
 * then the first page after the kernel when the area fits below the end of conventional
 * memory there, else the first page after the modules (`afterModules`).
 */
function bootInfoBase(mem: PhysicalMemory, placed: Placed, afterModules: number): number {
  const overlaps = (base: number): boolean => placed.ranges.some(([s, e]) => s < base + BOOT_INFO_SIZE && e > base);
  if (!overlaps(MMAP_ADDRESS)) return MMAP_ADDRESS;
  const afterKernel = Math.ceil(placed.end / PAGE_SIZE) * PAGE_SIZE;
  if (afterKernel + BOOT_INFO_SIZE <= LOW_RAM_END) return afterKernel;
  if (afterModules + BOOT_INFO_SIZE > mem.ramSize) {
    throw new MultibootError('out-of-memory', `no room for the boot information (${hex(BOOT_INFO_SIZE)} bytes) after the modules at ${hex(afterModules)} (RAM ends at ${hex(mem.ramSize)}); try a larger --memory`);
  }
  return afterModules;
}

/** §3.3: the info structure, memory map, module list, GDT and strings in the boot information area at `base`. */
function writeBootInfo(mem: PhysicalMemory, base: number, cmdline: string | undefined, modules: LoadedModule[], map: E820Entry[]): void {
  const at = (usual: number): number => usual - MMAP_ADDRESS + base;
  const mmapAddress = base, infoAddress = at(INFO_ADDRESS), modsAddress = at(MODS_ADDRESS), limit = base + BOOT_INFO_SIZE;
  const enc = new TextEncoder();
  // Memory map entries: size (20) at offset -4, base_addr, length (64-bit), type.
  const mmap = new Uint8Array(map.length * 24);
  const mv = new DataView(mmap.buffer);
  map.forEach((e, i) => {
    const o = i * 24;
    mv.setUint32(o, 20, true);
    mv.setUint32(o + 4, e.base >>> 0, true);
    mv.setUint32(o + 8, Math.floor(e.base / 0x1_0000_0000), true);
    mv.setUint32(o + 12, e.length >>> 0, true);
    mv.setUint32(o + 16, Math.floor(e.length / 0x1_0000_0000), true);
    mv.setUint32(o + 20, e.type, true);
  });
  if (mmapAddress + mmap.length > infoAddress) throw new MultibootError('out-of-memory', 'the memory map does not fit its boot information area');
  mem.writeBytes(mmapAddress, mmap);

  // Strings after the module list.
  let strings = modsAddress + modules.length * 16;
  const putString = (s: string): number => {
    const bytes = enc.encode(s);
    const where = strings;
    if (where + bytes.length + 1 > limit) {
      throw new MultibootError('out-of-memory', `the command lines (${where + bytes.length + 1 - modsAddress} bytes with the module list) do not fit the boot information area`);
    }
    mem.writeBytes(where, bytes);
    mem.write8(where + bytes.length, 0);
    strings = where + bytes.length + 1;
    return where;
  };

  let flags = MBI_MEMORY | MBI_MMAP | MBI_BOOT_LOADER_NAME;
  const info = new Uint8Array(INFO_SIZE);
  const iv = new DataView(info.buffer);
  // mem_lower: KiB of conventional memory; mem_upper: KiB from 1 MiB to the first hole.
  iv.setUint32(4, LOW_RAM_END >>> 10, true);
  iv.setUint32(8, (mem.ramSize - HIGH_RAM_START) >>> 10, true);
  if (cmdline !== undefined) {
    flags |= MBI_CMDLINE;
    iv.setUint32(16, putString(cmdline), true);
  }
  if (modules.length > 0) {
    flags |= MBI_MODS;
    const list = new Uint8Array(modules.length * 16);
    const lv = new DataView(list.buffer);
    modules.forEach((m, i) => {
      lv.setUint32(i * 16, m.start, true);
      lv.setUint32(i * 16 + 4, m.end, true);
      lv.setUint32(i * 16 + 8, putString(m.cmdline), true);
    });
    mem.writeBytes(modsAddress, list);
  }
  iv.setUint32(20, modules.length, true);
  iv.setUint32(24, modules.length > 0 ? modsAddress : 0, true);
  iv.setUint32(44, mmap.length, true);
  iv.setUint32(48, mmapAddress, true);
  iv.setUint32(64, putString(BOOT_LOADER_NAME), true);
  iv.setUint32(0, flags, true);
  mem.writeBytes(infoAddress, info);

  // A flat GDT (null, null, code 0x10, data 0x18) so GDTR is valid at entry; §3.2 leaves it
  // undefined and the kernel must load its own before reloading segment registers.
  const gdt = new Uint8Array(32);
  const gv = new DataView(gdt.buffer);
  gv.setUint32(16, 0x0000FFFF, true);
  gv.setUint32(20, 0x00CF9B00, true);
  gv.setUint32(24, 0x0000FFFF, true);
  gv.setUint32(28, 0x00CF9300, true);
  mem.writeBytes(at(GDT_ADDRESS), gdt);
}

/** Files to boot, by path, for `loadMultibootFiles`. */
export interface MultibootFiles {
  kernelPath: string;
  cmdline?: string;
  modules?: { path: string; cmdline?: string }[];
  /** Reads a file; returns undefined when it does not exist or cannot be read. */
  readFile: (path: string) => Uint8Array | undefined;
}

/**
 * Read the kernel and modules through `readFile` and boot them. A module's string defaults
 * to its path (as GRUB's `module PATH` and QEMU's -initrd give it).
 */
export function loadMultibootFiles(mem: PhysicalMemory, files: MultibootFiles): MultibootBoot {
  const kernel = files.readFile(files.kernelPath);
  if (kernel === undefined) throw new MultibootError('file-not-found', `kernel file not found: ${files.kernelPath}`);
  const modules: MultibootModuleInput[] = [];
  for (const m of files.modules ?? []) {
    const data = files.readFile(m.path);
    if (data === undefined) throw new MultibootError('file-not-found', `module file not found: ${m.path}`);
    modules.push({ name: m.path, data, cmdline: m.cmdline ?? m.path });
  }
  return loadMultiboot(mem, { kernelName: files.kernelPath, kernel, cmdline: files.cmdline, modules });
}
