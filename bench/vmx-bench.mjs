// VM-exit round trip (issue 4 target: at most 2 µs of wall time): a guest loops over CPUID,
// every CPUID exits to the test VMM (test/emu/vmx/fixtures/vmm.S), whose handler runs CPUID
// for it, advances GUEST_RIP by VM_EXIT_INSTRUCTION_LEN and VMRESUMEs. Two figures: the guest
// with VPID 1 (as KVM and lvisor run guests: entries and exits keep both worlds' TLB entries,
// SDM §28.3.3.1) and without VPID (every entry and exit empties the TLB, so both worlds walk
// their page tables again each time). Prints wall and CPU time per round trip and the
// instructions executed per round trip. Figures, not a test.
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

function kernelWith(defines) {
  const asm = assemble(readFileSync(path, 'utf8'), { file: path, defines: { CPUID_ONLY: '1', GUEST_LOOPS: String(LOOPS), ...defines }, readFile });
  const errors = asm.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((d) => `${d.file}:${d.line}: ${d.message}`).join('\n'));
  return link([asm.object], { base: 0x100000n, format: 'elf', names: [path] }).output;
}

function once(kernel, blocks = true) {
  const m = createMachine();
  m.cpu.blocksEnabled = blocks;
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

function measure(what, kernel, blocks = true) {
  once(kernel, blocks); // warm up the JIT
  const runs = [once(kernel, blocks), once(kernel, blocks), once(kernel, blocks)].sort((a, b) => a.ms - b.ms);
  const r = runs[1];
  console.log(`CPUID exit round trip, ${what}: ${(r.ms * 1000 / r.exits).toFixed(2)} µs wall, ${(r.cpuMs * 1000 / r.exits).toFixed(2)} µs CPU (median of 3, ${r.exits} exits, stop ${r.stop.kind}); `
    + `${(r.instructions / r.exits).toFixed(1)} instructions per round trip; ${(r.cycles / r.exits).toFixed(1)} TSC cycles in root per exit`);
}

const { loadavg } = await import('node:os');
console.log(`load average ${loadavg()[0].toFixed(1)} (figures grow when other work runs)`);
measure('guest with VPID 1', kernelWith({ ENABLE_VPID: '1' }));
measure('no VPID (TLB emptied at every entry and exit)', kernelWith({}));
measure('guest with VPID 1, compiled blocks off (the plain interpreter loop)', kernelWith({ ENABLE_VPID: '1' }), false);
