// Test support: one AT&T instruction line → the encoder's Instruction, through the front
// end's own tokenizer, statement and operand parsers (src/emu/asm/lexer.ts, parser.ts) and
// expression evaluator. Symbols stay symbolic; `.` becomes the symbol "." so a test can
// resolve it against the line's address.
import type { Instruction, Operand, Value } from '../../src/emu/asm/ast';
import { evaluate, type EvalContext, type Expr } from '../../src/emu/asm/expr';
import { tokenize } from '../../src/emu/asm/lexer';
import { parseLabelsAndBody, parseOperands } from '../../src/emu/asm/parser';

export const DOT = '.';

const ctx: EvalContext<string> = {
  symbol: (name) => ({ addend: 0n, add: name }),
  dot: () => ({ addend: 0n, add: DOT }),
  localRef: (n, dir) => ({ addend: 0n, add: `${n}${dir}` }),
  difference: () => undefined,
};

function value(e: Expr): Value {
  const v = evaluate(e, ctx);
  if (v.sub !== undefined) throw new Error('parse-line: symbol differences are not supported');
  return v.add === undefined ? { addend: v.addend } : { symbol: v.add, addend: v.addend };
}

export function parseLine(line: string): Instruction {
  const toks = tokenize(line);
  const { body } = parseLabelsAndBody(toks, line.length + 1);
  if (body.kind !== 'insn') throw new Error(`parse-line: not an instruction: ${line}`);
  const operands: Operand[] = parseOperands(body.ts).map((p): Operand => {
    switch (p.kind) {
      case 'reg':
        return { kind: 'reg', reg: p.reg, indirect: p.indirect || undefined };
      case 'imm':
        return { kind: 'imm', value: value(p.expr) };
      case 'mem':
        return {
          kind: 'mem', seg: p.seg, base: p.base, index: p.index, scale: p.scale,
          disp: p.disp ? value(p.disp) : undefined, indirect: p.indirect || undefined,
        };
    }
  });
  return { mnemonic: body.mnemonic, prefixes: body.prefixes, operands };
}
