// Guest MIPS under the whole machine (Machine.run, as `vmx-lab run` drives it), to compare
// with the bare CPU's figures in cpu-bench.mjs: the same kind of tight integer loop, run
// (a) with no timer armed, (b) with the PIT interrupting 1000 times a second of virtual
// time (slices end at every timer deadline), (c) with a breakpoint set on a page the loop
// never executes (the cost of having breakpoints at all), (d) with a breakpoint on the
// loop's own page, at an instruction it never reaches,
// (e) as (a) with compiled blocks off (src/emu/cpu/blocks.ts). Figures, not a test.
// Usage: node bench/run-bench.mjs
import { build } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(mkdtempSync(join(tmpdir(), 'vmx-run-bench-')), 'machine.mjs');
await build({
  stdin: {
    contents: [
      "export { createMachine } from './src/emu/machine.ts';",
      "export { assemble } from './src/emu/asm/assembler.ts';",
      "export { link } from './src/emu/asm/linker.ts';",
    ].join('\n'),
    resolveDir: root, loader: 'ts',
  },
  bundle: true, format: 'esm', platform: 'node', outfile: out, logLevel: 'silent',
});
const { createMachine, assemble, link } = await import(pathToFileURL(out).href);

/** A 32-bit Multiboot (a.out kludge) kernel: optional PIT/IDT set-up, then 5-instruction loop iterations, then debug exit. */
function kernel(iterations, withTimer) {
  const timer = withTimer ? `
        movl    $tick, %eax
        movw    %ax, idt + 0x20 * 8
        movw    $0x10, idt + 0x20 * 8 + 2
        movw    $0x8e00, idt + 0x20 * 8 + 4
        shrl    $16, %eax
        movw    %ax, idt + 0x20 * 8 + 6
        lidt    idt_descriptor
        movb    $0x11, %al
        outb    %al, $0x20
        movb    $0x20, %al
        outb    %al, $0x21
        movb    $0x04, %al
        outb    %al, $0x21
        movb    $0x01, %al
        outb    %al, $0x21
        movb    $0xfe, %al
        outb    %al, $0x21
        movb    $0x34, %al              /* channel 0, rate generator */
        outb    %al, $0x43
        movw    $1193, %ax              /* 1 kHz */
        outb    %al, $0x40
        movb    %ah, %al
        outb    %al, $0x40
        sti` : '';
  const source = `
        .text
        .code32
        .globl  _start
        .p2align 2
mb_header:
        .long   0x1BADB002
        .long   0x00010003
        .long   -(0x1BADB002 + 0x00010003)
        .long   mb_header, mb_header, 0, 0, _start
_start:
        movl    $0x90000, %esp
${timer}
        movl    $${iterations}, %ecx
1:      addl    %ecx, %eax
        leal    1(%eax), %edx
        xorl    %edx, %ebx
        decl    %ecx
        jnz     1b
        movw    $0xf4, %dx
        movb    $0, %al
        outb    %al, %dx
2:      jmp     2b
never:  nop
        .p2align 12
far_away:
        nop
tick:   pushl   %eax
        movb    $0x20, %al
        outb    %al, $0x20
        popl    %eax
        iret
        .p2align 3
idt:    .fill   0x21 * 8, 1, 0
idt_descriptor:
        .word   0x21 * 8 - 1
        .long   idt
`;
  const res = assemble(source, { file: 'bench.S' });
  const errors = res.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((d) => d.message).join('\n'));
  const linked = link([res.object], { base: 0x100000n, format: 'elf', names: ['bench.S'] });
  if (!linked.output) throw new Error(linked.errors.join('\n'));
  return linked.output;
}

function symbol(m, name) {
  const s = m.bootInfo.elf?.symbols.find((x) => x.name === name);
  return s === undefined ? undefined : Number(s.value);
}

function runOnce(iterations, { timer = false, breakpoint, blocks = true } = {}) {
  const m = createMachine();
  m.cpu.blocksEnabled = blocks;
  m.boot({ kernel: kernel(iterations, timer), kernelName: 'bench.S' });
  if (breakpoint !== undefined) {
    const at = symbol(m, breakpoint);
    if (at === undefined) throw new Error(`no symbol ${breakpoint}`);
    m.breakpoints.add(at);
  }
  const t0 = process.hrtime.bigint();
  const u0 = process.cpuUsage();
  const stop = m.run({ timeoutMs: 120_000 });
  const u = process.cpuUsage(u0);
  const ns = Number(process.hrtime.bigint() - t0);
  return { icount: m.instructions, wall: m.instructions / (ns / 1e3), cpu: m.instructions / (u.user + u.system), stop: stop.kind };
}

function measure(name, opts) {
  runOnce(600_000, opts); // warm-up (JIT tiers)
  const r = runOnce(12_000_000, opts);
  console.log(`${name.padEnd(52)} ${r.wall.toFixed(1).padStart(6)} MIPS wall, ${r.cpu.toFixed(1).padStart(6)} MIPS cpu time  (${r.icount} instructions, stop: ${r.stop})`);
}

console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores`);
measure('(a) integer loop under the machine, no timer', {});
measure('(b) the same, PIT interrupting at 1 kHz', { timer: true });
measure('(c) no timer, a breakpoint on another page', { breakpoint: 'far_away' });
measure('(d) no timer, a breakpoint on the loop\'s page', { breakpoint: 'never' });
measure('(e) as (a), compiled blocks off (the plain loop)', { blocks: false });
