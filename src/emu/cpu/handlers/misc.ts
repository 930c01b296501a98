// Flag instructions, HLT, CPUID, RDTSC/RDTSCP, fences, cache control and the explicit
// undefined opcodes (SDM Vol. 2 under each mnemonic).
import type { Cpu } from '../cpu';
import { CpuFault, GP, UD } from '../fault';
import { CF, DF, IF, getCF, setArith } from '../flags';
import type { OpcodeForm } from '../isa/opcodes';
import { CR4_TSD, MODE_REAL, MODE_V8086 } from '../state';
import { cpuid } from '../cpuid';
import type { Handler } from './common';

/** CLI/STI are allowed when CPL <= IOPL (protected mode), IOPL = 3 (virtual-8086 mode), always in real mode. */
function checkIopl(c: Cpu): void {
  if (c.mode === MODE_REAL) return;
  const iopl = (c.flagsVal >> 12) & 3;
  if (c.mode === MODE_V8086 ? iopl !== 3 : c.cpl > iopl) throw new CpuFault(GP, 0, 'CLI/STI with CPL > IOPL');
}

/** Privileged instructions raise #GP(0) unless CPL = 0 (SDM Vol. 3 §5.9). */
export function requireCpl0(c: Cpu): void {
  if (c.cpl !== 0 || c.mode === MODE_V8086) throw new CpuFault(GP, 0, 'privileged instruction at CPL > 0');
}

function readTsc(c: Cpu): void {
  if ((c.cr4 & CR4_TSD) !== 0 && c.cpl !== 0) throw new CpuFault(GP, 0, 'RDTSC with CR4.TSD=1 at CPL > 0');
  const r = c.regs;
  const t = c.tsc;
  if (t !== undefined) { r[0] = t.tscLow(); r[4] = t.tscHigh(); }
  else { r[0] = c.icount | 0; r[4] = Math.floor(c.icount / 4294967296) | 0; }
  r[1] = 0; r[5] = 0;
}

export function miscHandler(f: OpcodeForm): Handler | undefined {
  switch (f.mnem) {
    case 'clc': return (c) => setArith(c, CF, 0);
    case 'stc': return (c) => setArith(c, CF, CF);
    case 'cmc': return (c) => setArith(c, CF, getCF(c) ^ CF);
    case 'cld': return (c) => { c.flagsVal &= ~DF; };
    case 'std': return (c) => { c.flagsVal |= DF; };
    case 'cli': return (c) => { checkIopl(c); c.flagsVal &= ~IF; };
    case 'sti': return (c) => {
      checkIopl(c);
      if ((c.flagsVal & IF) === 0) {
        c.flagsVal |= IF;
        c.movSsShadow = false;
        c.interruptShadow = true; // interrupts are recognized after the next instruction (SDM Vol. 2 STI)
        c.checkInterrupts();
      }
    };
    case 'hlt': return (c) => { requireCpl0(c); c.halted = true; c.attention = true; };
    case 'ud2': case 'ud1': case 'ud0': return () => { throw new CpuFault(UD, -1, 'undefined instruction'); };
    case 'cpuid': return (c) => cpuid(c, c.regs[0], c.regs[2]);
    case 'rdtsc': return readTsc;
    case 'rdtscp': return (c) => {
      readTsc(c);
      const r = c.regs;
      r[2] = c.msrLo.get(0xc0000103) ?? 0; // IA32_TSC_AUX
      r[3] = 0;
    };
    case 'lfence': case 'mfence': case 'sfence': return () => undefined;
    case 'clflush': return (c, d) => { c.ea(d, 1, false); c.rd8(c.linLo, c.linHi); };
    case 'wbinvd': case 'wbnoinvd': case 'invd': return requireCpl0;
    default: return undefined;
  }
}
