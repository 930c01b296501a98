// File access on the host for the two node front ends of the CLI (the `vmx-lab` command and
// the extension, which runs the same commands in-process): reads that say "missing" with
// undefined, writes that fail with a one-line CliError.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { CliError } from './io';

export function readHostFile(path: string): Uint8Array | undefined {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    return undefined;
  }
}

export function writeHostFile(path: string, data: Uint8Array, executable?: boolean): void {
  try {
    writeFileSync(path, data);
    if (executable) chmodSync(path, 0o755);
  } catch (e) {
    throw new CliError(`${path}: cannot write file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
