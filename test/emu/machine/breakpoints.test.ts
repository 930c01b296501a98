// Debugger breakpoints: the machine's breakpoint set is the CPU's; a run stops before the
// instruction at a breakpoint's RIP and the next run executes it. Breakpoints no longer
// make the machine run one instruction per slice, so these check the stop positions
// exactly: in a loop, on a page the code jumps to, after the set changed between runs,
// and when a budget stop lands right before one.
import { describe, expect, it } from 'vitest';
import { createMachine, type Machine } from '../../../src/emu/machine';
import { exitAsm, miniKernel } from '../../support/mini-kernel';

const LOOP = `
        movl    $3, %ecx
again:  decl    %ecx
here:   jnz     again
        jmp     far
        .p2align 12
far:    nop
there:  nop
${exitAsm(0)}`;

function boot(): { m: Machine; at: (name: string) => number } {
  const m = createMachine();
  m.boot({ kernel: miniKernel(LOOP), kernelName: 'kernel.elf' });
  const at = (name: string): number => {
    const s = m.bootInfo!.elf!.symbols.find((x) => x.name === name);
    if (s === undefined) throw new Error(`no symbol ${name}`);
    return Number(s.value);
  };
  return { m, at };
}

describe('breakpoints', () => {
  it('stop on every pass through a loop, then the run goes on to the end', () => {
    const { m, at } = boot();
    m.breakpoints.add(at('here'));
    for (const icount of [2, 4, 6]) {
      expect(m.run()).toEqual({ kind: 'breakpoint', address: at('here') });
      expect(m.instructions).toBe(icount);
    }
    expect(m.run().kind).toBe('debug-exit');
  });

  it('on another page, reached by a jump', () => {
    const { m, at } = boot();
    m.breakpoints.add(at('there'));
    expect(m.run()).toEqual({ kind: 'breakpoint', address: at('there') });
    expect(m.instructions).toBe(9);
    expect(m.run().kind).toBe('debug-exit');
  });

  it('a breakpoint added between runs, on code already decoded, is honoured; a removed one is not', () => {
    const { m, at } = boot();
    expect(m.run({ budget: 3 })).toEqual({ kind: 'budget' }); // mov, dec, jnz: the loop page is cached
    m.breakpoints.add(at('here'));
    expect(m.run()).toEqual({ kind: 'breakpoint', address: at('here') });
    expect(m.instructions).toBe(4);
    m.breakpoints.delete(at('here'));
    expect(m.run().kind).toBe('debug-exit');
  });

  it('a run that stopped for its budget right before a breakpoint reports it next', () => {
    const { m, at } = boot();
    m.breakpoints.add(at('here'));
    expect(m.run({ budget: 1 })).toEqual({ kind: 'budget' });
    expect(m.run({ budget: 1 })).toEqual({ kind: 'budget' });
    expect(Number(m.registers().rip)).toBe(at('here'));
    expect(m.run()).toEqual({ kind: 'breakpoint', address: at('here') });
    expect(m.instructions).toBe(2);
    expect(m.step()).toEqual({ kind: 'step' });
    expect(m.instructions).toBe(3);
  });
});
