// The machine as its clients use it: boot a Multiboot kernel, run, watch serial output and
// the stop reason. Kernels are tiny assembly programs built by our toolchain, plus the
// bundled hello guest.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMachine, describeStop, qemuCommandLine, type Machine, type MachineStop } from '../../src/emu/machine';
import { MULTIBOOT_BOOTLOADER_MAGIC } from '../../src/emu/loader/multiboot';
import { buildSource, exitAsm, miniKernel, pitTickKernel, putsAsm } from '../support/mini-kernel';

const HELLO = resolve(__dirname, '../../guests/hello/hello.S');

function boot(kernel: Uint8Array, config: Parameters<typeof createMachine>[0] = {}): { m: Machine; out: () => string } {
  const m = createMachine(config);
  const bytes: number[] = [];
  m.on('serial', ({ byte, port }) => {
    if (port === 0) bytes.push(byte);
  });
  m.boot({ kernel, kernelName: 'kernel.elf', cmdline: qemuCommandLine('kernel.elf') });
  return { m, out: () => Buffer.from(bytes).toString('latin1') };
}

function runToEnd(m: Machine, maxInstructions = 50_000_000): MachineStop {
  return m.run({ maxInstructions, timeoutMs: 30_000 });
}

describe('Multiboot entry state', () => {
  it('enters at _start in 32-bit protected mode with EAX = magic and EBX = the info address', () => {
    const { m } = boot(miniKernel('        hlt'));
    const r = m.registers();
    expect(r.mode).toBe('protected');
    expect(r.cpl).toBe(0);
    expect(r.gprs.rax).toBe(BigInt(MULTIBOOT_BOOTLOADER_MAGIC));
    expect(r.gprs.rbx).toBe(BigInt(m.bootInfo!.infoAddress));
    expect(r.rip).toBe(BigInt(m.bootInfo!.entry.eip));
    expect(r.rflags & 0x200).toBe(0);
    expect(r.cr0 & 0x80000001).toBe(1);
    expect(r.segments.cs.selector).toBe(0x10);
  });
});

describe('stop reasons', () => {
  it('serial output and the debug-exit status', () => {
    const { m, out } = boot(miniKernel(`${putsAsm('ok\n')}\n${exitAsm(0x21)}`));
    const stop = runToEnd(m);
    expect(stop).toEqual({ kind: 'debug-exit', value: 0x21, status: 0x43 });
    expect(out()).toBe('ok\n');
    // The machine stays shut down.
    expect(m.run()).toEqual(stop);
  });

  it('the exit port is configurable (lvisor uses 0x501)', () => {
    const { m } = boot(miniKernel(`${exitAsm(3, 0xf4)}`), { exitPort: 0x501 });
    expect(runToEnd(m, 100_000).kind).toBe('instruction-limit');
    const { m: m2 } = boot(miniKernel(exitAsm(3, 0x501)), { exitPort: 0x501 });
    expect(runToEnd(m2)).toEqual({ kind: 'debug-exit', value: 3, status: 7 });
  });

  it('HLT with interrupts disabled ends the run as halted-forever', () => {
    const { m } = boot(miniKernel('        cli\n        hlt'));
    const stop = runToEnd(m);
    expect(stop.kind).toBe('halted-forever');
    expect(describeStop(stop)).toMatch(/IF=0/);
  });

  it('HLT with interrupts enabled sleeps until the timer interrupt wakes it', () => {
    const { m, out } = boot(pitTickKernel());
    const halts: boolean[] = [];
    m.on('halt', (h) => halts.push(h.interruptsEnabled));
    expect(runToEnd(m)).toEqual({ kind: 'debug-exit', value: 0, status: 1 });
    expect(out()).toBe('tick\n');
    expect(halts).toEqual([true]);
    // The PIT as firmware leaves it: channel 0, count 65536 at 1.193182 MHz, about 54.9 ms.
    // Virtual time skipped to the interrupt; only a few dozen instructions ran.
    const seconds = m.board.clock.nanoseconds() / 1e9;
    expect(seconds).toBeGreaterThan(0.05);
    expect(seconds).toBeLessThan(0.06);
    expect(m.instructions).toBeLessThan(200);
  });

  it('an endless loop stops at the instruction limit, exactly', () => {
    const { m } = boot(miniKernel('1:      jmp 1b'));
    const stop = m.run({ maxInstructions: 123_457 });
    expect(stop).toEqual({ kind: 'instruction-limit', instructions: 123_457 });
    expect(m.instructions).toBe(123_457);
  });

  it('a budget returns and the run continues where it stopped', () => {
    const { m } = boot(miniKernel('1:      jmp 1b'));
    expect(m.run({ budget: 1000 }).kind).toBe('budget');
    expect(m.run({ budget: 500 }).kind).toBe('budget');
    expect(m.instructions).toBe(1500);
  });

  it('pause() from a callback stops the run at the next slice boundary', () => {
    const { m } = boot(miniKernel(`${putsAsm('x')}\n1:      jmp 1b`));
    m.on('serial', () => m.pause());
    expect(m.run({ maxInstructions: 10_000_000 }).kind).toBe('paused');
    expect(m.instructions).toBeLessThan(10_000_000);
  });

  it('a fault with no IDT behind it is a triple fault, reported with its chain', () => {
    // The Multiboot IDTR (base 0, limit 0x3FF) points at zeroed memory: #UD cannot be
    // delivered (#GP), nor can that #GP, so #DF, whose delivery faults too.
    const { m } = boot(miniKernel('        ud2'));
    const stop = runToEnd(m);
    expect(stop.kind).toBe('triple-fault');
    if (stop.kind !== 'triple-fault') return;
    expect(stop.chain).toEqual([6, 13, 8]);
    expect(describeStop(stop)).toMatch(/^triple fault .*: #UD -> #GP -> #DF -> shutdown$/);
  });

  it('a breakpoint stops before the instruction at its address', () => {
    const kernel = miniKernel(`        nop\n        nop\nhere:   nop\n${exitAsm(0)}`);
    const { m } = boot(kernel);
    const entry = m.bootInfo!.entry.eip;
    m.breakpoints.add(entry + 2);
    expect(runToEnd(m)).toEqual({ kind: 'breakpoint', address: entry + 2 });
    expect(m.instructions).toBe(2);
    expect(runToEnd(m).kind).toBe('debug-exit');
  });

  it('step() executes one instruction', () => {
    const { m } = boot(miniKernel('        nop\n        nop\n        hlt'));
    const rip = Number(m.registers().rip);
    expect(m.step()).toEqual({ kind: 'step' });
    expect(Number(m.registers().rip)).toBe(rip + 1);
    expect(m.instructions).toBe(1);
  });
});

describe('the hello guest', () => {
  const kernel = buildSource(readFileSync(HELLO, 'utf8'), HELLO);

  it('prints its greeting on COM1 and exits through isa-debug-exit', () => {
    const { m, out } = boot(kernel);
    const stop = runToEnd(m);
    expect(out()).toBe('Hello from VMX Lab\n');
    expect(stop).toEqual({ kind: 'debug-exit', value: 0, status: 1 });
    expect(m.registers().mode).toBe('64-bit');
  });

  it('runs deterministically: same output, same instruction count, same TSC', () => {
    const a = boot(kernel);
    const b = boot(kernel);
    const sa = runToEnd(a.m);
    const sb = runToEnd(b.m);
    expect(sb).toEqual(sa);
    expect(b.out()).toBe(a.out());
    expect(b.m.instructions).toBe(a.m.instructions);
    expect(b.m.board.clock.tsc()).toBe(a.m.board.clock.tsc());
    expect(a.m.instructions).toBeGreaterThan(100);
  });
});

describe('the teaching OS', () => {
  const path = resolve(__dirname, '../../guests/teach-os/teach-os.S');
  const kernel = buildSource(readFileSync(path, 'utf8'), path);

  it('prints the same transcript, uptime stamps and TSC frequency included, on every run', () => {
    const a = boot(kernel);
    const b = boot(kernel);
    expect(runToEnd(a.m).kind).toBe('debug-exit');
    expect(runToEnd(b.m).kind).toBe('debug-exit');
    expect(a.out()).toMatch(/^\[\s*\d+\.\d{6}\] tsc: calibrated against PIT channel 2: \d+\.\d{3} MHz$/m);
    expect(b.out()).toBe(a.out());
    expect(b.m.instructions).toBe(a.m.instructions);
  });
});

describe('state queries', () => {
  it('reads physical memory and explains a walk with paging off', () => {
    const { m } = boot(miniKernel('        hlt'));
    const entry = m.bootInfo!.entry.eip;
    expect(m.readPhysical(0x100000, 4)).toEqual(new Uint8Array([0x02, 0xb0, 0xad, 0x1b]));
    expect(m.readLinear(0x100000, 4).bytes).toEqual(new Uint8Array([0x02, 0xb0, 0xad, 0x1b]));
    const walk = m.explainWalk(entry);
    expect(walk.ok).toBe(true);
    expect(walk.physical).toBe(entry);
    const dev = m.devices();
    expect(Object.keys(dev)).toEqual(expect.arrayContaining(['pic', 'pit', 'com1', 'lapic', 'ioapic', 'cmos', 'clock']));
  });
});

// The ACPI tables are where kernels scan for them: the RSDP signature in 0xE0000-0xFFFFF.
describe('firmware tables', () => {
  it('has an RSDP on a 16-byte boundary in the BIOS area', () => {
    const { m } = boot(miniKernel('        hlt'));
    const area = m.readPhysical(0xE0000, 0x20000);
    let found = -1;
    for (let o = 0; o < area.length; o += 16) if (Buffer.from(area.subarray(o, o + 8)).toString('latin1') === 'RSD PTR ') found = o;
    expect(found).toBeGreaterThanOrEqual(0);
  });
});
