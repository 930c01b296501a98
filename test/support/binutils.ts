// Helpers that run GNU binutils (the oracle for the toolchain, DESIGN.md "Tests") in a
// throw-away temp directory. Small and generic on purpose: every toolchain test imports it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type GasMode = 16 | 32 | 64;

/** One diagnostic GNU as printed, located by 1-based line of the source given to it. */
export interface GasMessage {
  readonly line: number;
  readonly message: string;
}

export interface GasLinesResult {
  /** The .text section's bytes. */
  readonly bytes: Uint8Array;
  /** offsets[i] = offset of lines[i]'s first byte in `bytes`; offsets[lines.length] = bytes.length. */
  readonly offsets: number[];
  /** Error messages, by 1-based index into `lines` (not counting the mode directive). */
  readonly errors: GasMessage[];
}

/** One instruction line of `objdump -d`. */
export interface ObjdumpLine {
  readonly offset: number;
  readonly bytes: Uint8Array;
  /** Instruction text as objdump prints it (e.g. "mov    %eax,%ebx"), trailing spaces removed. */
  readonly text: string;
}

const MODE_DIRECTIVE: Record<GasMode, string> = { 16: '.code16', 32: '.code32', 64: '.code64' };
const OBJDUMP_ARCH: Record<GasMode, string> = { 16: 'i8086', 32: 'i386', 64: 'i386:x86-64' };

function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'vmxlab-binutils-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[], cwd: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function parseGasErrors(stderr: string, firstLine: number): GasMessage[] {
  const out: GasMessage[] = [];
  for (const l of stderr.split('\n')) {
    const m = /^[^:]*:(\d+): Error: (.*)$/.exec(l);
    if (m) out.push({ line: Number(m[1]) - firstLine + 1, message: m[2] });
  }
  return out;
}

/** Section `.text` of an object file, via objcopy. */
function textBytes(dir: string, obj: string): Uint8Array {
  const r = run('objcopy', ['-O', 'binary', '--only-section=.text', obj, 'text.bin'], dir);
  if (r.status !== 0) throw new Error(`objcopy failed: ${r.stderr}`);
  return new Uint8Array(readFileSync(join(dir, 'text.bin')));
}

/**
 * Assemble `source` with GNU as in the given mode (a `.codeNN` line is prepended; for 32 and 16
 * `--32` is used so the object is ELF32) and return the bytes of .text. Throws with as's
 * messages if as fails.
 */
export function assembleWithGas(source: string, mode: GasMode): Uint8Array {
  return withTempDir((dir) => {
    writeFileSync(join(dir, 'in.s'), `${MODE_DIRECTIVE[mode]}\n${source}\n`);
    const r = run('as', [mode === 64 ? '--64' : '--32', '-o', 'in.o', 'in.s'], dir);
    if (r.status !== 0) throw new Error(`GNU as failed:\n${r.stderr}`);
    return textBytes(dir, 'in.o');
  });
}

/**
 * Assemble one instruction per line and report where each line's bytes start, using a kept
 * local label before each line (`as -L` keeps .L symbols; `nm` lists them). Lines GNU as
 * rejects are reported in `errors` instead of throwing (so a generator can drop them); in
 * that case `bytes`/`offsets` are empty.
 */
export function assembleLinesWithGas(lines: readonly string[], mode: GasMode): GasLinesResult {
  return withTempDir((dir) => {
    const src: string[] = [MODE_DIRECTIVE[mode]];
    lines.forEach((l, i) => src.push(`.Lvmxlab_line_${i}: ${l}`));
    src.push(`.Lvmxlab_line_${lines.length}:`);
    writeFileSync(join(dir, 'in.s'), src.join('\n') + '\n');
    const r = run('as', [mode === 64 ? '--64' : '--32', '-L', '-o', 'in.o', 'in.s'], dir);
    const errors = parseGasErrors(r.stderr, 2);
    if (r.status !== 0) {
      if (errors.length === 0) throw new Error(`GNU as failed:\n${r.stderr}`);
      return { bytes: new Uint8Array(0), offsets: [], errors };
    }
    const nm = run('nm', ['in.o'], dir);
    if (nm.status !== 0) throw new Error(`nm failed: ${nm.stderr}`);
    const offsets = new Array<number>(lines.length + 1).fill(-1);
    for (const l of nm.stdout.split('\n')) {
      const m = /^([0-9a-f]+) t \.Lvmxlab_line_(\d+)$/.exec(l);
      if (m) offsets[Number(m[2])] = parseInt(m[1], 16);
    }
    if (offsets.includes(-1)) throw new Error('assembleLinesWithGas: a line label is missing from nm output');
    return { bytes: textBytes(dir, 'in.o'), offsets, errors };
  });
}

/**
 * Disassemble raw bytes with `objdump -D -b binary` (no symbols: branch targets print as
 * `0x401000`), for the given mode (`-m i8086` for 16-bit). `vma` is the address of bytes[0].
 * Instructions longer than objdump's default 7 bytes per line are joined (`--insn-width=16`).
 */
export function objdumpText(bytes: Uint8Array, mode: GasMode, vma = 0): ObjdumpLine[] {
  return withTempDir((dir) => {
    writeFileSync(join(dir, 'in.bin'), bytes);
    const args = ['-D', '-b', 'binary', '-m', OBJDUMP_ARCH[mode], '--insn-width=16', `--adjust-vma=${vma}`, 'in.bin'];
    const r = run('objdump', args, dir);
    if (r.status !== 0) throw new Error(`objdump failed: ${r.stderr}`);
    return parseObjdump(r.stdout);
  });
}

/** Parse objdump -d output into instruction lines (skips headers and labels). */
export function parseObjdump(stdout: string): ObjdumpLine[] {
  const out: ObjdumpLine[] = [];
  for (const l of stdout.split('\n')) {
    const m = /^ *([0-9a-f]+):\t((?:[0-9a-f]{2} )+) *\t?(.*)$/.exec(l);
    if (!m) continue;
    const hex = m[2].trim().split(' ');
    out.push({
      offset: parseInt(m[1], 16),
      bytes: Uint8Array.from(hex, (h) => parseInt(h, 16)),
      text: m[3].replace(/\s+$/, ''),
    });
  }
  return out;
}

/**
 * objdump's first instruction of each byte window, each disassembled from its own start:
 * every window becomes its own executable section of one object (one `as` and one
 * `objdump -d -z` run for all of them). Branch targets print as `0x...` (no symbols).
 */
export function objdumpFirstInstructions(windows: readonly Uint8Array[], mode: GasMode): ObjdumpLine[] {
  return withTempDir((dir) => {
    const src = windows.map((w, i) => `.section .w${i},"ax"\n.byte ${Array.from(w).join(',')}`);
    writeFileSync(join(dir, 'in.s'), `${MODE_DIRECTIVE[mode]}\n${src.join('\n')}\n`);
    const as = run('as', [mode === 64 ? '--64' : '--32', '-o', 'in.o', 'in.s'], dir);
    if (as.status !== 0) throw new Error(`GNU as failed:\n${as.stderr}`);
    const r = run('objdump', ['-d', '-z', '--insn-width=16', '-m', OBJDUMP_ARCH[mode], 'in.o'], dir);
    if (r.status !== 0) throw new Error(`objdump failed: ${r.stderr}`);
    const out = new Array<ObjdumpLine | undefined>(windows.length);
    let section = -1;
    for (const l of r.stdout.split('\n')) {
      const s = /^Disassembly of section \.w(\d+):/.exec(l);
      if (s) { section = Number(s[1]); continue; }
      if (section < 0 || out[section]) continue;
      const [line] = parseObjdump(l);
      if (line && line.offset === 0) out[section] = line;
    }
    return out.map((o, i) => {
      if (!o) throw new Error(`objdump printed nothing for window ${i}`);
      return o;
    });
  });
}
