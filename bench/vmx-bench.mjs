// VM-exit round trip (issue 4 target: at most 2 µs of wall time): a guest loops over CPUID,
// every CPUID exits to the test VMM (test/emu/vmx/fixtures/vmm.S), whose handler runs CPUID
// for it, advances GUEST_RIP by VM_EXIT_INSTRUCTION_LEN and VMRESUMEs. Prints wall time per
// round trip and the instructions the host executes per exit. Figures, not a test.
// Usage: node bench/vmx-bench.mjs
import { build } from 'esbuild';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(mkdtempSync(join(tmpdir(), 'vmx-bench-')), 'vmx.mjs');
await build({
  stdin: {
    contents: [
      "export { createMachine } from './src/emu/machine.ts';",
      "export { attachVmx } from './src/emu/vmx/vmx.ts';",
      "export { assemble } from './src/emu/asm/assembler.ts';",
      "export { link } from './src/emu/asm/linker.ts';",
    ].join('\n'),
    resolveDir: root, loader: 'ts',
  },
  bundle: true, format: 'esm', platform: 'node', outfile: out, logLevel: 'silent',
});
const { createMachine, attachVmx, assemble, link } = await import(pathToFileURL(out).href);

const LOOPS = 200_000;
const path = join(root, 'test/emu/vmx/fixtures/vmm.S');
const readFile = (p) => { try { return readFileSync(p, 'utf8'); } catch { return undefined; } };
const asm = assemble(readFileSync(path, 'utf8'), { file: path, defines: { CPUID_ONLY: '1', GUEST_LOOPS: String(LOOPS) }, readFile });
const errors = asm.diagnostics.filter((d) => d.severity === 'error');
if (errors.length > 0) throw new Error(errors.map((d) => `${d.file}:${d.line}: ${d.message}`).join('\n'));
const kernel = link([asm.object], { base: 0x100000n, format: 'elf', names: [path] }).output;

function once() {
  const m = createMachine();
  const vmx = attachVmx(m.cpu);
  m.boot({ kernel, kernelName: 'vmm.elf', cmdline: 'vmm.elf' });
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  const stop = m.run({ timeoutMs: 120_000 });
  const ms = performance.now() - t0;
  const cpuMs = process.cpuUsage(u0).user / 1000;
  const exits = vmx.exitCounts[10];
  return { ms, cpuMs, exits, stop, instructions: m.instructions, cycles: vmx.rootCycles[10] };
}

once(); // warm up the JIT
const runs = [once(), once(), once()].sort((a, b) => a.ms - b.ms);
const r = runs[1];
const load = (await import('node:os')).loadavg()[0];
console.log(`load average ${load.toFixed(1)} (figures grow when other work runs)`);
console.log(`CPUID exit round trip: ${(r.ms * 1000 / r.exits).toFixed(2)} µs wall, ${(r.cpuMs * 1000 / r.exits).toFixed(2)} µs CPU (median of 3, ${r.exits} exits, stop ${r.stop.kind}); `
  + `${(r.instructions / r.exits).toFixed(1)} instructions per round trip; ${(r.cycles / r.exits).toFixed(1)} TSC cycles in root per exit`);
