// Builds and boots the test VMM (fixtures/vmm.S) on the machine with VMX attached: the
// shared setup of the scenario tests and the benchmark.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { assemble } from '../../../src/emu/asm/assembler';
import { formatDiagnostic } from '../../../src/emu/asm/diagnostic';
import { link } from '../../../src/emu/asm/linker';
import { createMachine, qemuCommandLine, type Machine } from '../../../src/emu/machine';
import { attachVmx, type Vmx } from '../../../src/emu/vmx/vmx';

export const VMM_SOURCE = resolve(__dirname, 'fixtures/vmm.S');

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Assembles a kernel source (its includes resolved from its directory) and links it at 1 MiB. */
export function buildKernel(path: string, defines: Record<string, string> = {}, source = readFileSync(path, 'utf8')): Uint8Array {
  const res = assemble(source, { file: path, defines, readFile: readText });
  const errors = res.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map(formatDiagnostic).join('\n'));
  const linked = link([res.object], { base: 0x100000n, format: 'elf', names: [path] });
  if (!linked.output) throw new Error(linked.errors.join('\n'));
  return linked.output;
}

export interface BootedVmm {
  m: Machine;
  vmx: Vmx;
  out: () => string;
}

/** A machine with VMX, booted into `kernel`, collecting COM1 output. */
export function bootWithVmx(kernel: Uint8Array): BootedVmm {
  const m = createMachine();
  const vmx = attachVmx(m.cpu);
  const bytes: number[] = [];
  m.on('serial', ({ byte, port }) => {
    if (port === 0) bytes.push(byte);
  });
  m.boot({ kernel, kernelName: 'vmm.elf', cmdline: qemuCommandLine('vmm.elf') });
  return { m, vmx, out: () => Buffer.from(bytes).toString('latin1') };
}
