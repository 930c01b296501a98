// Toolchain throughput (issue 2, "Performance"): assemble 100,000 lines and disassemble
// 1 MiB of code; prints seconds. Not a test: figures only.
// Each figure is the first (cold) run in a fresh process: wall-clock seconds, and the CPU
// seconds the process used meanwhile (user + system, all threads: GC helpers included),
// which is the steadier figure on a machine shared with other work.
// Usage: node bench/asm-bench.mjs
import { build } from 'esbuild';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const entry = `
export { assemble } from './src/emu/asm/assembler';
export { objdumpListing } from './src/emu/asm/listing';
`;
const out = await build({ stdin: { contents: entry, resolveDir: process.cwd(), loader: 'ts' }, bundle: true, write: false, format: 'esm', platform: 'node', target: 'node20' });
const dir = mkdtempSync(join(tmpdir(), 'vmxlab-bench-'));
const file = join(dir, 'toolchain.mjs');
writeFileSync(file, out.outputFiles[0].text);
const { assemble, objdumpListing } = await import(pathToFileURL(file).href);
rmSync(dir, { recursive: true, force: true });

// A realistic mix: labels, ALU and memory operands, branches (relaxed), data, a macro.
const body = [
  '.macro save r', 'pushq %\\r', '.endm',
  '1: movq 8(%rsp), %rax', 'addl $0x10, %ecx', 'leaq table(%rip), %rsi', 'cmpq %rax, %rbx', 'jne 1b',
  'save rbx', 'movl (%rsi,%rcx,4), %edx', 'xorl %eax, %eax', 'call helper', '.long 0x12345678', 'shlq $3, %rdx',
];
const lines = ['.text', 'helper: ret', 'table: .quad 0'];
while (lines.length < 100_000) for (const l of body) if (!l.startsWith('.macro') && l !== 'pushq %\\r' && l !== '.endm') lines.push(l);
const source = `${body.slice(0, 3).join('\n')}\n${lines.slice(0, 100_000).join('\n')}\n`;

/** Wall and CPU seconds of fn(). */
function measure(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = fn();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { result, text: `${wall.toFixed(3)} s (cpu ${((c.user + c.system) / 1e6).toFixed(3)} s)` };
}

const asm = measure(() => assemble(source, { file: 'bench.s' }));
const res = asm.result;
const errors = res.diagnostics.filter((d) => d.severity === 'error');
if (errors.length) throw new Error(`bench source did not assemble: ${errors[0].message}`);
const text = res.object.sections.find((s) => s.name === '.text').bytes;
console.log(`assemble: ${lines.length} lines -> ${text.length} bytes in ${asm.text}`);

const code = new Uint8Array(1 << 20);
for (let i = 0; i < code.length; i += text.length) code.set(text.subarray(0, Math.min(text.length, code.length - i)), i);
const dis = measure(() => objdumpListing({ fileName: 'bench.bin', format: 'binary', addressDigits: 16, mode: 64, sections: [{ name: '.data', address: 0x100000n, bytes: code }], symbols: [] }));
console.log(`disassemble: 1 MiB -> ${dis.result.split('\n').length} lines in ${dis.text}`);
