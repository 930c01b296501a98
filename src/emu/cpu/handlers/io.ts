// Port I/O: IN, OUT (INS/OUTS in string.ts) and the I/O permission check of SDM Vol. 1
// §19.5: in protected mode with CPL > IOPL, and in virtual-8086 mode, every byte of the
// access must be allowed by the TSS I/O permission bitmap, else #GP(0).
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decoder';
import { CpuFault, GP } from '../fault';
import type { OpcodeForm } from '../isa/opcodes';
import { MODE_REAL, MODE_V8086, TR } from '../state';
import { sysRead32 } from '../segments';
import type { Handler } from './common';

export function checkIoPermission(c: Cpu, port: number, size: number): void {
  if (c.mode === MODE_REAL) return;
  const iopl = (c.flagsVal >> 12) & 3;
  if (c.mode !== MODE_V8086 && c.cpl <= iopl) return;
  // TSS I/O bitmap: its offset is the word at TSS+0x66; a set bit (or a bit beyond the limit) denies.
  const limit = c.segLimit[TR];
  const ar = c.segAr[TR] & 0xf;
  if ((ar !== 0x9 && ar !== 0xb) || limit < 0x67) throw new CpuFault(GP, 0, 'I/O not permitted at this privilege level');
  const base = c.segBase(TR);
  const mapOff = (sysRead32(c, base + 0x64) >>> 16) & 0xffff;
  const byte = mapOff + (port >> 3);
  if (byte + 1 > limit) throw new CpuFault(GP, 0, 'I/O port outside the TSS I/O permission bitmap');
  const bits = sysRead32(c, base + byte) & 0xffff;
  if (((bits >> (port & 7)) & ((1 << size) - 1)) !== 0) throw new CpuFault(GP, 0, `I/O port 0x${port.toString(16)} denied by the TSS I/O permission bitmap`);
}

function ioSize(f: OpcodeForm, d: DecodedInsn): number {
  return f.ops.includes('AL') ? 1 : d.opSize === 2 ? 2 : 4;
}

export function ioHandler(f: OpcodeForm): Handler | undefined {
  const immPort = f.ops.includes('Ib');
  if (f.mnem === 'in') return (c, d) => {
    const port = immPort ? d.imm & 0xff : c.regs[4] & 0xffff;
    const s = ioSize(f, d);
    checkIoPermission(c, port, s);
    c.setReg(0, s, 0, c.portIn(port, s), 0);
  };
  if (f.mnem === 'out') return (c, d) => {
    const port = immPort ? d.imm & 0xff : c.regs[4] & 0xffff;
    const s = ioSize(f, d);
    checkIoPermission(c, port, s);
    c.portOut(port, s, c.regs[0]);
  };
  return undefined;
}
