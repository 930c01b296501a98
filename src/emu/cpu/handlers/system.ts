// System instructions (SDM Vol. 2; Vol. 3 §2.8 summary). Filled in below.
import type { OpcodeForm } from '../isa/opcodes';
import type { Handler } from './common';

export function systemHandler(f: OpcodeForm): Handler | undefined {
  void f;
  return undefined;
}
