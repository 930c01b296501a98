// Runs the `vmx-lab` CLI in-process with its output captured, for the CLI and scenario tests.
// Files are read from `files` first, then from what this run wrote (when writes stay in
// memory), then from the disk; writes go to memory (the default) or to the disk.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli } from '../../src/cli/cli';
import { CliError, type CliIo } from '../../src/cli/io';

export const ROOT = resolve(__dirname, '../..');
export const GUESTS_DIR = join(ROOT, 'guests');

export interface CliCapture {
  status: number;
  out: string;
  err: string;
  /** What the run wrote, when writes stay in memory. */
  written: Map<string, Uint8Array>;
}

export interface CliCaptureOptions {
  /** Files that exist only for this run (text or bytes), by path. */
  readonly files?: Readonly<Record<string, Uint8Array | string>>;
  /** 'disk' writes real files (for later runs or other tools to read). */
  readonly writes?: 'memory' | 'disk';
  /** Pretend stdout is a terminal. */
  readonly colour?: boolean;
}

export function runCliCaptured(argv: readonly string[], opts: CliCaptureOptions = {}): CliCapture {
  const r: CliCapture = { status: -1, out: '', err: '', written: new Map() };
  const io: CliIo = {
    stdout: (t) => { r.out += t; },
    stderr: (t) => { r.err += t; },
    readFile: (p) => {
      const f = opts.files?.[p];
      if (f !== undefined) return typeof f === 'string' ? new TextEncoder().encode(f) : f;
      const w = r.written.get(p);
      if (w !== undefined) return w;
      try {
        return new Uint8Array(readFileSync(p));
      } catch {
        return undefined;
      }
    },
    writeFile: (p, d) => {
      if (opts.writes !== 'disk') {
        if (p.startsWith('/nonexistent/')) throw new CliError(`${p}: cannot write file (ENOENT)`);
        r.written.set(p, d);
      } else writeFileSync(p, d);
    },
    guestsDir: GUESTS_DIR,
    colour: opts.colour,
  };
  r.status = runCli([...argv], io);
  return r;
}
