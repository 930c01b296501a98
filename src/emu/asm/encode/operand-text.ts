// AT&T text of an operand, for error messages that quote it the way GNU as does
// ("`(%rsp,%rsp)' is not a valid base/index expression").
import type { Operand, Value } from '../ast';

export function formatValue(v: Value): string {
  const n = v.addend;
  const hex = (x: bigint) => (x < 0n ? `-0x${(-x).toString(16)}` : `0x${x.toString(16)}`);
  if (v.symbol === undefined) return hex(n);
  if (n === 0n) return v.symbol;
  return n < 0n ? `${v.symbol}${hex(n)}` : `${v.symbol}+${hex(n)}`;
}

export function formatOperand(op: Operand): string {
  switch (op.kind) {
    case 'reg':
      return `${op.indirect ? '*' : ''}%${op.reg.name}`;
    case 'imm':
      return `$${formatValue(op.value)}`;
    case 'mem': {
      let s = op.indirect ? '*' : '';
      if (op.seg) s += `%${op.seg.name}:`;
      if (op.disp) s += formatValue(op.disp);
      if (op.base || op.index) {
        s += `(${op.base ? `%${op.base.name}` : ''}`;
        if (op.index) s += `,%${op.index.name}${op.scale !== 1 ? `,${op.scale}` : ''}`;
        s += ')';
      }
      return s;
    }
  }
}
