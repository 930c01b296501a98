// `vmx-lab run`: exit statuses, serial output, options and bad input (one clear line on
// stderr, a documented status, never a stack trace). Most cases run the CLI in-process;
// the last ones spawn the built dist/cli.js (npm test builds it first) for stdin and the
// real process exit status.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliCaptured, type CliCapture } from '../support/cli-capture';
import { RUN_STATUS } from '../../src/cli/run-command';
import { buildSource, exitAsm, miniKernel, pitTickKernel, putsAsm } from '../support/mini-kernel';

const ROOT = resolve(__dirname, '../..');
const HELLO = join(ROOT, 'guests/hello/hello.S');
const TEACH_OS = join(ROOT, 'guests/teach-os/teach-os.S');
const CLI = join(ROOT, 'dist/cli.js');

function run(argv: string[], files: Record<string, Uint8Array | string> = {}): CliCapture {
  return runCliCaptured(['run', ...argv], { files });
}

/** A diagnostic is one line, starts with "vmx-lab: ", and carries no stack trace. */
function expectOneLine(err: string, pattern: RegExp): void {
  const lines = err.split('\n').filter((l) => l !== '');
  expect(lines, err).toHaveLength(1);
  expect(lines[0]).toMatch(/^vmx-lab: /);
  expect(lines[0]).toMatch(pattern);
  expect(err).not.toMatch(/\n\s+at /);
}

describe('exit statuses', () => {
  it('boots an assembly source and passes the debug-exit status through', () => {
    const r = run([HELLO]);
    expect(r.out).toBe('Hello from VMX Lab\n');
    expect(r.err).toBe('');
    expect(r.status).toBe(1);
  });

  it('(v << 1) | 1 for other values', () => {
    const r = run(['k.elf'], { 'k.elf': miniKernel(`${putsAsm('bye\n')}\n${exitAsm(0x21)}`) });
    expect(r.out).toBe('bye\n');
    expect(r.status).toBe(0x43);
  });

  it('0 after a power-off through port 0x8900', () => {
    const r = run(['k.elf'], { 'k.elf': miniKernel(`        movw $0x8900, %dx\n${[...'Shutdown'].map((c) => `        movb $${c.charCodeAt(0)}, %al\n        outb %al, %dx`).join('\n')}\n1:      jmp 1b`) });
    expect(r.err).toBe('');
    expect(r.status).toBe(RUN_STATUS.shutdown);
  });

  it('66 for a triple fault, with the exception chain', () => {
    const r = run(['k.elf'], { 'k.elf': miniKernel('        ud2') });
    expect(r.status).toBe(RUN_STATUS.tripleFault);
    expectOneLine(r.err, /triple fault .*#UD -> #GP/);
  });

  it('68 at the instruction limit', () => {
    const r = run(['k.elf', '--max-instructions', '5000'], { 'k.elf': miniKernel('1:      jmp 1b') });
    expect(r.status).toBe(RUN_STATUS.instructionLimit);
    expectOneLine(r.err, /5000 instructions/);
  });

  it('72 at the timeout', () => {
    const r = run(['k.elf', '--timeout', '0.2'], { 'k.elf': miniKernel('1:      jmp 1b') });
    expect(r.status).toBe(RUN_STATUS.timeout);
    expectOneLine(r.err, /0\.2 s of wall-clock time/);
  });

  it('74 when the CPU halts with interrupts disabled', () => {
    const r = run(['k.elf'], { 'k.elf': miniKernel('        cli\n        hlt') });
    expect(r.status).toBe(RUN_STATUS.haltedForever);
    expectOneLine(r.err, /nothing can wake it.*IF=0/);
  });

  it('the statuses do not collide with debug-exit statuses (always odd)', () => {
    for (const s of Object.values(RUN_STATUS)) expect(s % 2).toBe(0);
    expect(new Set(Object.values(RUN_STATUS)).size).toBe(Object.values(RUN_STATUS).length);
  });
});

describe('options', () => {
  it('--append: the kernel sees "KERNEL CMDLINE", as under QEMU', () => {
    const r = run([TEACH_OS, '--append', 'console=ttyS0 lab=1']);
    expect(r.status).toBe(1);
    expect(r.out).toContain(`teach-os: command line: ${TEACH_OS} console=ttyS0 lab=1\n`);
  });

  it('--module FILE=ARGS: the kernel finds the module and its string "FILE ARGS"', () => {
    // Print the first module's string, '|', its first four bytes (Multiboot info: mods_addr at +24).
    const k = miniKernel(`
        movl    24(%ebx), %ebx
        movl    8(%ebx), %esi
        movw    $0x3f8, %dx
1:      lodsb
        testb   %al, %al
        jz      2f
        outb    %al, %dx
        jmp     1b
2:      movb    $'|', %al
        outb    %al, %dx
        movl    0(%ebx), %esi
        movl    $4, %ecx
        rep outsb
${exitAsm(0)}`);
    const r = run(['k.elf', '--module', 'mod.bin=arg1 arg2'], { 'k.elf': k, 'mod.bin': 'DATA and more' });
    expect(r.out).toBe('mod.bin arg1 arg2|DATA');
    expect(r.status).toBe(1);
    expect(run(['k.elf', '--module', 'mod.bin'], { 'k.elf': k, 'mod.bin': 'DATA' }).out).toBe('mod.bin|DATA');
  });

  it('--exit-port moves isa-debug-exit', () => {
    const k = miniKernel(exitAsm(2, 0x501));
    expect(run(['k.elf', '--exit-port', '0x501'], { 'k.elf': k }).status).toBe(5);
    expect(run(['k.elf', '--max-instructions', '100000'], { 'k.elf': k }).status).toBe(RUN_STATUS.instructionLimit);
  });

  it('--serial-log writes what the guest printed', () => {
    const r = run([HELLO, '--serial-log', 'serial.txt']);
    expect(new TextDecoder().decode(r.written.get('serial.txt'))).toBe('Hello from VMX Lab\n');
  });

  it('--memory sets the RAM size (a kernel that does not fit is a load error)', () => {
    expect(run([HELLO, '--memory', '64M']).status).toBe(1);
    const r = run([HELLO, '--memory', '1M']);
    expect(r.status).toBe(RUN_STATUS.loadError);
    expectOneLine(r.err, /RAM size/);
  });

  it('--trace int logs delivered interrupts on stderr', () => {
    const r = run(['k.elf', '--trace', 'int'], { 'k.elf': pitTickKernel() });
    expect(r.out).toBe('tick\n');
    expect(r.status).toBe(1);
    expectOneLine(r.err, /^vmx-lab: trace: interrupt 0x20 at rip=0x[0-9a-f]+ cs=0x10 after \d+ instructions$/);
  });

  it('--trace exc logs each exception with its error code, RIP and CS: #UD, #GP, #DF, then the triple fault', () => {
    // The Multiboot IDTR (base 0, limit 0x3FF) covers zeroed memory: no gate for #UD (#GP with
    // error code 6*8+2+1 = 0x33: IDT, external), none for that #GP (0x6b), so #DF, which fails too.
    const r = run(['k.elf', '--trace', 'exc'], { 'k.elf': miniKernel('        nop\n        ud2') });
    expect(r.status).toBe(RUN_STATUS.tripleFault);
    const lines = r.err.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(4);
    const rip = /rip=(0x[0-9a-f]+)/.exec(lines[0])?.[1];
    expect(lines.slice(0, 3)).toEqual([
      `vmx-lab: trace: exception #UD at rip=${rip} cs=0x10 after 1 instructions`,
      `vmx-lab: trace: exception #GP error=0x33 at rip=${rip} cs=0x10 after 1 instructions`,
      `vmx-lab: trace: exception #DF error=0x0 at rip=${rip} cs=0x10 after 1 instructions`,
    ]);
    expect(lines[3]).toMatch(/^vmx-lab: triple fault .*: #UD -> #GP -> #DF -> shutdown, after 1 instructions/);
    // Interrupts are not exceptions: the PIT tick kernel logs nothing with --trace exc.
    expect(run(['k.elf', '--trace', 'exc'], { 'k.elf': pitTickKernel() }).err).toBe('');
  });

  it('--trace all logs software interrupts too', () => {
    const r = run(['k.elf', '--trace', 'all'], { 'k.elf': miniKernel('        int3') });
    expect(r.err.split('\n')[0]).toMatch(/^vmx-lab: trace: software interrupt 0x3 \(#BP\) at rip=0x[0-9a-f]+ cs=0x10 after 0 instructions$/);
  });

  it('bad usage is status 2', () => {
    expect(run([]).status).toBe(RUN_STATUS.usage);
    expect(run([HELLO, '--trace', 'everything']).status).toBe(RUN_STATUS.usage);
    expect(run([HELLO, '--max-instructions', 'lots']).status).toBe(RUN_STATUS.usage);
    expect(run([HELLO, '--exit-port', '0x10000']).status).toBe(RUN_STATUS.usage);
    expect(run([HELLO, HELLO]).status).toBe(RUN_STATUS.usage);
  });
});

describe('bad input: one line, status 64', () => {
  const helloElf = buildSource(readFileSync(HELLO, 'utf8'), HELLO);

  it('a kernel file that does not exist', () => {
    const r = run(['/no/such/kernel.elf']);
    expect(r.status).toBe(RUN_STATUS.loadError);
    expectOneLine(r.err, /kernel file not found: \/no\/such\/kernel\.elf/);
  });

  it('garbage bytes', () => {
    const junk = new Uint8Array(10000).map((_, i) => (i * 7919 + 13) & 0xff);
    const r = run(['junk.bin'], { 'junk.bin': junk });
    expect(r.status).toBe(RUN_STATUS.loadError);
    expectOneLine(r.err, /junk\.bin: no Multiboot header/);
  });

  it('an empty file', () => {
    const r = run(['empty'], { empty: new Uint8Array(0) });
    expect(r.status).toBe(RUN_STATUS.loadError);
    expectOneLine(r.err, /empty: the file is empty/);
  });

  it('a text file that is not a kernel', () => {
    const r = run(['notes.txt'], { 'notes.txt': 'just some notes\n'.repeat(100) });
    expect(r.status).toBe(RUN_STATUS.loadError);
    expectOneLine(r.err, /no Multiboot header/);
  });

  it('an ELF for another machine', () => {
    const arm = helloElf.slice();
    arm[18] = 40; // e_machine = EM_ARM
    arm[19] = 0;
    const r = run(['arm.elf'], { 'arm.elf': arm });
    expect(r.status).toBe(RUN_STATUS.loadError);
    expectOneLine(r.err, /arm\.elf: wrong machine: e_machine is 40/);
  });

  it('an x86 ELF without a Multiboot header', () => {
    const plain = buildSource('        .text\n        .globl _start\n_start:\n        hlt\n');
    const r = run(['plain.elf'], { 'plain.elf': plain });
    expect(r.status).toBe(RUN_STATUS.loadError);
    expectOneLine(r.err, /plain\.elf: no Multiboot header .*is this a Multiboot kernel\?/);
  });

  it('a module that does not exist', () => {
    const r = run([HELLO, '--module', 'missing.bin=arg']);
    expect(r.status).toBe(RUN_STATUS.loadError);
    expectOneLine(r.err, /module file not found: missing\.bin/);
  });

  it('an assembly source with errors: the diagnostics, then the load error', () => {
    const r = run(['bad.S'], { 'bad.S': '        .text\n        movq %rax\n' });
    expect(r.status).toBe(RUN_STATUS.loadError);
    const lines = r.err.split('\n').filter((l) => l !== '');
    expect(lines[0]).toMatch(/^bad\.S:2:/);
    expect(lines[lines.length - 1]).toMatch(/^vmx-lab: bad\.S: 1 error/);
    expect(r.err).not.toMatch(/\n\s+at /);
  });
});

describe('the built command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmxlab-run-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits with the guest status and feeds piped stdin to COM1', () => {
    // Echo COM1 input until 'q', polling LSR.DR (bit 0), then exit with value 5.
    const echo = miniKernel(`
        movw $0x3fd, %dx
2:      inb %dx, %al
        testb $1, %al
        jz 2b
        movw $0x3f8, %dx
        inb %dx, %al
        cmpb $'q', %al
        je 3f
        outb %al, %dx
        movw $0x3fd, %dx
        jmp 2b
3:
${exitAsm(5)}`);
    const kernel = join(dir, 'echo.elf');
    writeFileSync(kernel, echo);
    const r = spawnSync(process.execPath, [CLI, 'run', kernel, '--timeout', '20'], { input: 'hello, guest\nq', encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello, guest\n');
    expect(r.status).toBe(11);
  });

  it('a guest halted with every IRQ masked waits for input, then ends when stdin closes', () => {
    // The PIT keeps ticking, but the 8259A masks its IRQ: nothing is ever delivered.
    const kernel = join(dir, 'sti-hlt.elf');
    writeFileSync(kernel, miniKernel('        movb $0xff, %al\n        outb %al, $0x21\n        outb %al, $0xa1\n        sti\n        hlt\n1:      jmp 1b'));
    const r = spawnSync(process.execPath, [CLI, 'run', kernel], { input: '', encoding: 'utf8' });
    expect(r.status).toBe(RUN_STATUS.haltedForever);
    expectOneLine(r.stderr, /no interrupt was delivered in 60 s of virtual time/);
  });
});
