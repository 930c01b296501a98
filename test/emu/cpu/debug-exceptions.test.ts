// Debug exceptions of the CPU (SDM Vol. 3B chapter 18, Vol. 3A 6.15) where QEMU, the oracle
// of guests/tests/debug.S, does not follow the SDM: general detect, INT1, STI, MOV SS
// before INT n, I/O breakpoints, B0-B3 of disabled breakpoints, the debug registers'
// reserved bits. Host code in 64-bit mode (the VMX rig, used outside VMX operation) with a
// #DB handler that logs the saved RIP and DR6, clears DR6 and returns with RF set (as a
// debugger resuming from an instruction breakpoint does; RF changes nothing for traps).
import { beforeEach, describe, expect, it } from 'vitest';
import { debugRegistersChanged } from '../../../src/emu/cpu/debug';
import { CR4_DE } from '../../../src/emu/cpu/state';
import { HOST_CODE, IDT, Rig, SCRATCH } from '../vmx/rig';

let rig: Rig;
beforeEach(() => {
  rig ??= new Rig();
  rig.reset();
  const c = rig.cpu;
  c.dr.fill(0); c.dr6 = DR6_BASE; c.dr7 = 0x400; c.cr4 &= ~CR4_DE;
  c.flagsVal = 2; c.lazyMask = 0;
  debugRegistersChanged(c);
  gate(1, DB_HANDLER);
  gate(3, IRET_HANDLER);
  gate(0x20, INT_HANDLER);
  gate(13, GP_HANDLER);
  rig.load(DB_HANDLER, `
    pushq %rax
    pushq %rcx
    movq ${LOG_COUNT}, %rcx
    shlq $4, %rcx
    movq 16(%rsp), %rax
    movq %rax, ${LOG}(%rcx)
    movq %dr6, %rax
    movq %rax, ${LOG + 8}(%rcx)
    incq ${LOG_COUNT}
    xorl %eax, %eax
    movq %rax, %dr6
    orq $0x10000, 32(%rsp)
    popq %rcx
    popq %rax
    iretq`);
  rig.load(IRET_HANDLER, 'iretq');
  rig.load(INT_HANDLER, 'nop\niretq');
  // #GP: count it and skip the 3-byte MOV DR that raised it.
  rig.load(GP_HANDLER, `incq ${GP_COUNT}\naddq $3, 8(%rsp)\naddq $8, %rsp\niretq`);
  rig.mem.fill(SCRATCH, 0x1000, 0);
});

const DB_HANDLER = HOST_CODE + 0x10000;
const IRET_HANDLER = HOST_CODE + 0x10100;
const INT_HANDLER = HOST_CODE + 0x10200;
const GP_HANDLER = HOST_CODE + 0x10300;
const GP_COUNT = SCRATCH + 8;
const LOG_COUNT = SCRATCH;
const LOG = SCRATCH + 0x100;
const WATCHED = SCRATCH + 0x800;
const DR6_BASE = 0xffff0ff0, BD = 0x2000, BS = 0x4000;
/** DR6 with `bits` reported, as an unsigned number. */
const dr6 = (bits: number): number => (DR6_BASE | bits) >>> 0;

function gate(vector: number, handler: number): void {
  rig.mem.write32(IDT + 16 * vector, (0x08 << 16) | (handler & 0xffff));
  rig.mem.write32(IDT + 16 * vector + 4, (handler & 0xffff0000) | 0x8e00);
  rig.mem.write64(IDT + 16 * vector + 8, 0, 0);
}

/** Runs `source` (then HLT) at HOST_CODE, exceptions delivered through the IDT. */
function run(source: string): void {
  rig.load(HOST_CODE, `${source}\nhlt`);
  const c = rig.cpu;
  c.stopOnException = false;
  c.halted = false;
  c.rip = HOST_CODE;
  const stop = rig.m.run({ maxInstructions: rig.m.instructions + 100_000 });
  expect(stop.kind).toBe('halted-forever');
}

/** The #DBs the handler logged: saved RIP relative to HOST_CODE, and DR6. */
function log(): { at: number; dr6: number }[] {
  const n = rig.mem.read32(LOG_COUNT);
  const out = [];
  for (let i = 0; i < n; i++) out.push({ at: rig.mem.read32(LOG + 16 * i) - HOST_CODE, dr6: rig.mem.read32(LOG + 16 * i + 8) >>> 0 });
  return out;
}

describe('SDM 18.2: the debug registers', () => {
  it('DR6 and DR7 keep their fixed and reserved bits (DR6 FFFF0FF0H base, no RTM; DR7 bit 10 set, 11, 12, 14, 15 clear)', () => {
    run('movl $0xffffffff, %eax\nmovq %rax, %dr6\nmovq %dr6, %rbx\nmovq %rax, %dr7\nmovq %dr7, %rcx\nxorl %eax, %eax\nmovq %rax, %dr7');
    expect(rig.reg(3)).toBe(0xffffefff);
    // GD was set too: the MOV from DR7 raised a #DB that cleared it, then ran.
    expect(rig.reg(1)).toBe(0xffff07ff);
    // B0-B3 cleared, BD set, BS and BT (written above) left as they were.
    expect(log()).toEqual([{ at: 14, dr6: dr6(BD | BS | 0x8000) }]);
  });

  it('DR4/DR5 alias DR6/DR7 with CR4.DE = 0 (18.2.2)', () => {
    run('movq $0x400 | 0x2, %rax\nmovq %rax, %dr5\nmovq %dr7, %rbx\nxorl %eax, %eax\nmovq %rax, %dr7');
    expect(rig.reg(3)).toBe(0x402);
  });
});

describe('SDM 18.3.1.3: general detect', () => {
  it('MOV DR with DR7.GD = 1 is a #DB fault with BD; delivering it clears GD, so the MOV then runs', () => {
    run('movq $0x2400, %rax\nmovq %rax, %dr7\nmovq %dr7, %rbx\nnop');
    expect(log()).toEqual([{ at: 10, dr6: dr6(BD) }]);
    expect(rig.reg(3)).toBe(0x400);
  });

  it('has priority over the #GP of a reserved DR7 value', () => {
    run('movq $0x2400, %rax\nmovq %rax, %dr7\nmovabsq $0x100000400, %rax\nmovq %rax, %dr7\nnop');
    expect(log()).toEqual([{ at: 20, dr6: dr6(BD) }]);
    expect(rig.mem.read32(GP_COUNT)).toBe(1); // then, GD clear, the MOV raises its #GP
  });
});

describe('SDM 18.3.1.4 and 6.8.3: single step, INT1, STI and MOV SS', () => {
  it('INT1 (ICEBP) is a #DB trap with no BS that clears B0-B3 and leaves the other DR6 bits', () => {
    run('movq $0xffff4ff3, %rax\nmovq %rax, %dr6\n.byte 0xf1\nnop');
    expect(log()).toEqual([{ at: 14, dr6: dr6(BS) }]);
  });

  it('STI does not hold back a single step', () => {
    run('cli\npushfq\norq $0x100, (%rsp)\npopfq\nsti\nnop\npushfq\nandq $~0x100, (%rsp)\npopfq\ncli');
    // STI is at 11: its trap returns to the NOP after it.
    expect(log()[0]).toEqual({ at: 12, dr6: dr6(BS) });
  });

  it('a data breakpoint hit by MOV SS is taken after the INT n that follows, at its handler (6.8.3)', () => {
    rig.mem.write16(WATCHED, 0x10);
    rig.cpu.dr[0] = WATCHED;
    run(`movq $0x400 | 2 | (0x3 << 16), %rax\nmovq %rax, %dr7\nmovw ${WATCHED}, %ss\nint $0x20\nxorl %eax, %eax\nmovq %rax, %dr7`);
    expect(log()).toEqual([{ at: INT_HANDLER - HOST_CODE, dr6: dr6(1) }]);
  });
});

describe('SDM 18.3.1.2: data and I/O breakpoints', () => {
  it('a write to a page already in the software TLB hits once DR7 arms it; a disabled breakpoint on the same bytes reports its B1 too (18.2.3)', () => {
    rig.cpu.dr[0] = WATCHED;
    rig.cpu.dr[1] = WATCHED + 2;
    // DR0: G0, writes, 4 bytes. DR1: not enabled, writes, 2 bytes.
    run(`movl $1, ${WATCHED}\nmovq $0x400 | 2 | (0xd << 16) | (0x5 << 20), %rax\nmovq %rax, %dr7\nmovl $2, ${WATCHED}\nnop\nxorl %eax, %eax\nmovq %rax, %dr7`);
    expect(log()).toEqual([{ at: 32, dr6: dr6(3) }]);
  });

  it('an I/O breakpoint (R/W = 10) needs CR4.DE = 1 and traps after the OUT', () => {
    rig.cpu.dr[3] = 0x80;
    const code = 'movq $0x400 | 0x80 | (0x2 << 28), %rax\nmovq %rax, %dr7\noutb %al, $0x80\nnop\nxorl %eax, %eax\nmovq %rax, %dr7';
    run(code);
    expect(log()).toEqual([]);
    rig.cpu.cr4 |= CR4_DE;
    run(code);
    expect(log()).toEqual([{ at: 12, dr6: dr6(8) }]);
  });
});

describe('SDM 18.3.1.1: instruction breakpoints and RF', () => {
  it('IRET with RF = 1 in the image runs the breakpoint instruction once without a #DB; RF is then clear, so the next time faults', () => {
    rig.cpu.dr[0] = HOST_CODE + 0x80;
    run(`xorl %ecx, %ecx
      movq $0x401, %rax
      movq %rax, %dr7
      movq %rsp, %rbx
      pushq $0x10
      pushq %rbx
      pushq $0x10002
      pushq $0x08
      pushq $${HOST_CODE + 0x80}
      iretq
      .org 0x80
1:    incl %ecx
      cmpl $2, %ecx
      jb 1b
      xorl %eax, %eax
      movq %rax, %dr7`);
    expect(log()).toEqual([{ at: 0x80, dr6: dr6(1) }]);
    expect(rig.reg(1)).toBe(2);
  });
});
