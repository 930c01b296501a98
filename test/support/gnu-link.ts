// GNU toolchain runs for the front-end, linker and CLI tests: gcc -E (the C preprocessor in
// assembler mode), as, ld, objcopy, objdump and readelf, each in a throw-away directory.
// The loaded image of an ELF file is read with readelf + the raw file, not with our reader.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'vmxlab-gnu-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function run(cmd: string, args: readonly string[], cwd: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function mustRun(cmd: string, args: readonly string[], cwd: string): string {
  const r = run(cmd, args, cwd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

export function writeFiles(dir: string, files: Readonly<Record<string, string | Uint8Array>>): void {
  for (const [name, content] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
}

/** `gcc -E -P -x assembler-with-cpp` of `main` among `files` (the reference preprocessor). */
export function gnuPreprocess(files: Readonly<Record<string, string>>, main: string, args: readonly string[] = []): string {
  return withTemp((dir) => {
    writeFiles(dir, files);
    return mustRun('gcc', ['-E', '-P', '-undef', '-x', 'assembler-with-cpp', ...args, main], dir);
  });
}

export interface GnuObjectSections {
  /** Contents of the requested (PROGBITS) sections, by name. */
  readonly sections: Map<string, Uint8Array>;
  readonly stderr: string;
}

/** `as --64` (or --32) on one source; the bytes of the named sections. */
export function gnuAssemble(source: string, sectionNames: readonly string[], elfClass: 32 | 64 = 64): GnuObjectSections {
  return withTemp((dir) => {
    writeFileSync(join(dir, 'in.s'), source);
    const r = run('as', [elfClass === 64 ? '--64' : '--32', '-o', 'in.o', 'in.s'], dir);
    if (r.status !== 0) throw new Error(`GNU as failed:\n${r.stderr}`);
    const sections = new Map<string, Uint8Array>();
    if (sectionNames.length > 0) {
      mustRun('objcopy', [...sectionNames.flatMap((s, i) => ['--dump-section', `${s}=sec${i}.bin`]), 'in.o', 'out.o'], dir);
      sectionNames.forEach((s, i) => sections.set(s, new Uint8Array(readFileSync(join(dir, `sec${i}.bin`)))));
    }
    return { sections, stderr: r.stderr };
  });
}

export interface LoadedSection {
  readonly name: string;
  readonly address: bigint;
  readonly nobits: boolean;
  readonly size: number;
  /** File contents (empty for NOBITS). */
  readonly bytes: Uint8Array;
}

/** The allocated sections of an ELF file, read with `readelf -SW` and the raw bytes. */
export function loadedSections(elf: Uint8Array): LoadedSection[] {
  return withTemp((dir) => {
    writeFileSync(join(dir, 'f.elf'), elf);
    const text = mustRun('readelf', ['-SW', 'f.elf'], dir);
    const out: LoadedSection[] = [];
    for (const line of text.split('\n')) {
      const m = /^\s*\[\s*\d+\]\s+(\S+)\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([A-Za-z]*)\s/.exec(line);
      if (!m || !m[6].includes('A')) continue;
      const off = parseInt(m[4], 16);
      const size = parseInt(m[5], 16);
      const nobits = m[2] === 'NOBITS';
      out.push({ name: m[1], address: BigInt(`0x${m[3]}`), nobits, size, bytes: nobits ? new Uint8Array(0) : elf.subarray(off, off + size) });
    }
    return out;
  });
}

/** Memory image of the allocated sections: address -> byte (NOBITS as zeros), as a sorted list of runs. */
export function loadedImage(elf: Uint8Array): { address: bigint; bytes: number[] }[] {
  const runs: { address: bigint; bytes: number[] }[] = [];
  for (const s of loadedSections(elf).sort((a, b) => (a.address < b.address ? -1 : 1))) {
    const bytes = s.nobits ? new Array<number>(s.size).fill(0) : Array.from(s.bytes);
    const last = runs[runs.length - 1];
    if (last && last.address + BigInt(last.bytes.length) === s.address) for (const b of bytes) last.bytes.push(b); // no spread: sections can be larger than the argument limit
    else if (bytes.length > 0) runs.push({ address: s.address, bytes });
  }
  return runs;
}

/** Program headers of type LOAD: [vaddr, memsz, flags] (readelf -lW). */
export function loadSegments(elf: Uint8Array): { vaddr: bigint; filesz: number; memsz: number; flags: string }[] {
  return withTemp((dir) => {
    writeFileSync(join(dir, 'f.elf'), elf);
    const text = mustRun('readelf', ['-lW', 'f.elf'], dir);
    const out: { vaddr: bigint; filesz: number; memsz: number; flags: string }[] = [];
    for (const line of text.split('\n')) {
      const m = /^\s*LOAD\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(.*?)\s+0x[0-9a-f]+$/.exec(line);
      if (m) out.push({ vaddr: BigInt(m[2]), filesz: parseInt(m[4], 16), memsz: parseInt(m[5], 16), flags: m[6].replace(/\s+/g, '') });
    }
    return out;
  });
}

export interface GnuBuildOptions {
  readonly base: bigint;
  /** Run gcc -E first (for .S sources). */
  readonly cpp?: boolean;
  readonly defines?: readonly string[];
  readonly entry?: string;
}

/** as --64 + ld -m elf_x86_64 -Ttext=BASE over the given sources (all of `mains`, in order). */
export function gnuBuild(files: Readonly<Record<string, string>>, mains: readonly string[], opts: GnuBuildOptions): Uint8Array {
  return withTemp((dir) => {
    writeFiles(dir, files);
    const objs: string[] = [];
    mains.forEach((m, i) => {
      let src = m;
      if (opts.cpp) {
        src = `pp${i}.s`;
        writeFileSync(join(dir, src), mustRun('gcc', ['-E', '-P', '-x', 'assembler-with-cpp', ...(opts.defines ?? []).map((d) => `-D${d}`), m], dir));
      }
      mustRun('as', ['--64', '-o', `o${i}.o`, src], dir);
      objs.push(`o${i}.o`);
    });
    mustRun('ld', ['-m', 'elf_x86_64', `-Ttext=0x${opts.base.toString(16)}`, ...(opts.entry ? ['-e', opts.entry] : []), '-o', 'out.elf', ...objs], dir);
    return new Uint8Array(readFileSync(join(dir, 'out.elf')));
  });
}

/** Runs a GNU tool on `data` written to a file named `name`; returns stdout. */
export function gnuOnFile(tool: string, args: readonly string[], name: string, data: Uint8Array): string {
  return withTemp((dir) => {
    writeFileSync(join(dir, name), data);
    return mustRun(tool, [...args, name], dir);
  });
}

/** objdump's text with runs of blanks collapsed and trailing blanks removed, for comparisons. */
export function normalizeListing(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/[ \t]+/g, ' ').trimEnd())
    .join('\n');
}

/** `source` (in `.codeNN` of `bits`) assembled by GNU as and linked by ld as a flat binary at `base`. */
export function gnuFlatBinary(source: string, base: number, bits: 16 | 32 | 64): Uint8Array {
  return withTemp((dir) => {
    writeFiles(dir, { 'a.s': `${bits === 64 ? '.code64' : bits === 32 ? '.code32' : '.code16'}\n${source}\n` });
    mustRun('as', [bits === 64 ? '--64' : '--32', '-o', 'a.o', 'a.s'], dir);
    mustRun('ld', ['-m', bits === 64 ? 'elf_x86_64' : 'elf_i386', `-Ttext=0x${base.toString(16)}`, '--oformat', 'binary', '-o', 'a.bin', 'a.o'], dir);
    return new Uint8Array(readFileSync(join(dir, 'a.bin')));
  });
}
