// The guest kernels under guests/ and the two ways to build them: our assembler + linker
// (in-process, as `vmx-lab asm K.S -o K.elf` does) and GNU gcc -E + as + ld (the oracle).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { assemble } from '../../src/emu/asm/assembler';
import { formatDiagnostic } from '../../src/emu/asm/diagnostic';
import { link } from '../../src/emu/asm/linker';
import { gnuBuild } from '../support/gnu-link';

export const GUESTS_DIR = resolve(__dirname, '../../guests');
export const BASE = 0x100000n;

export interface Guest {
  /** Short name, e.g. "tests/pagefault". */
  readonly name: string;
  /** Absolute path of the main .S file. */
  readonly path: string;
}

/** The self-checking test kernels (guests/tests/*.S) and the teaching OS. */
export function testKernels(): Guest[] {
  const dir = join(GUESTS_DIR, 'tests');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.S'))
    .sort()
    .map((f) => ({ name: `tests/${f.slice(0, -2)}`, path: join(dir, f) }));
}

export const TEACH_OS: Guest = { name: 'teach-os', path: join(GUESTS_DIR, 'teach-os/teach-os.S') };
export const HYPERVISOR: Guest = { name: 'hypervisor', path: join(GUESTS_DIR, 'hypervisor/hypervisor.S') };
export const HYPERVISOR_PROBE: Guest = { name: 'hypervisor/probe-guest', path: join(GUESTS_DIR, 'hypervisor/probe-guest.S') };

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Our toolchain: assemble (with the C-preprocessor subset) and link at 0x100000. */
export function buildOurs(guest: Guest): Uint8Array {
  const res = assemble(readFileSync(guest.path, 'utf8'), { file: guest.path, readFile: readText });
  const errors = res.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`our assembler rejected ${guest.name}:\n${errors.map(formatDiagnostic).join('\n')}`);
  const linked = link([res.object], { base: BASE, format: 'elf', names: [guest.path] });
  if (!linked.output) throw new Error(`our linker failed on ${guest.name}:\n${linked.errors.join('\n')}`);
  return linked.output;
}

/** Every file under guests/ (the sources a guest may include), relative to GUESTS_DIR. */
function guestSources(): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(S|s|h)$/.test(e.name)) files[relative(GUESTS_DIR, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(GUESTS_DIR);
  return files;
}

/** GNU: gcc -E, as --64, ld -m elf_x86_64 -Ttext=0x100000. */
export function buildGnu(guest: Guest): Uint8Array {
  return gnuBuild(guestSources(), [relative(GUESTS_DIR, guest.path)], { base: BASE, cpp: true });
}
