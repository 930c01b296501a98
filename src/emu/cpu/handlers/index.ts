// The dense handler array: one handler per OPCODES entry (the decoder's `entry`), built once
// from the instruction table by asking each instruction family for the forms it implements.
// Forms no family implements raise #UD with a message naming the instruction, so an
// unemulated instruction is reported, never silently mis-executed (DESIGN.md "Fidelity").
import { CpuFault, UD } from '../fault';
import { OPCODES, type OpcodeForm } from '../isa/opcodes';
import { aluHandler } from './alu';
import type { Handler, HandlerFactory } from './common';
import { controlHandler } from './control';
import { dataHandler } from './data';
import { ioHandler } from './io';
import { miscHandler } from './misc';
import { shiftHandler } from './shift';
import { stringHandler } from './string';
import { sseHandler } from './sse';
import { systemHandler } from './system';
import { x87Handler } from './x87';
import { vmxHandler } from '../../vmx/instructions';

export type { Handler } from './common';

/** Handler index for bytes that do not decode (and for LOCK misuse): #UD. */
export const INVALID_ENTRY = OPCODES.length;

const FAMILIES: readonly HandlerFactory[] = [x87Handler, sseHandler, aluHandler, shiftHandler, dataHandler, controlHandler, stringHandler, ioHandler, miscHandler, systemHandler, vmxHandler];

function notEmulated(f: OpcodeForm): Handler {
  const what = `${f.mnem} (${f.spec})`;
  return () => { throw new CpuFault(UD, -1, `${what} is not emulated`); };
}

export function buildHandlers(): Handler[] {
  const handlers: Handler[] = [];
  for (const f of OPCODES) {
    let h: Handler | undefined;
    for (const family of FAMILIES) if ((h = family(f)) !== undefined) break;
    handlers.push(h ?? notEmulated(f));
  }
  handlers.push(() => { throw new CpuFault(UD, -1, 'invalid opcode'); });
  return handlers;
}

/** 1 for near-branch forms with a rel16/32 displacement (their length depends on how 66 is read). */
export function isNearBranchJz(): Uint8Array {
  const out = new Uint8Array(OPCODES.length + 1);
  for (const f of OPCODES) if (f.ops.length === 1 && f.ops[0] === 'Jz') out[f.index] = 1;
  return out;
}

/** 1 for forms that accept a LOCK prefix (with a memory destination). */
export function isLockable(): Uint8Array {
  const out = new Uint8Array(OPCODES.length + 1);
  for (const f of OPCODES) if (f.lock) out[f.index] = 1;
  return out;
}
