// GNU as expressions: operators and precedence of gas `expr.c` (op_rank) — highest first:
//   unary - ~ ! +
//   * / % << >>          (rank 9)
//   | & ^ !  (binary ! is "or not")   (rank 8)
//   + -                  (rank 7)
//   == != <> < <= > >=   (rank 4; true is -1, false 0)
//   &&                   (rank 3; 1 or 0)
//   ||                   (rank 2; 1 or 0)
// Arithmetic is 64-bit two's complement; `>>` is a logical shift, `/` and `%` truncate.
import { SyntaxError_, type Token } from './lexer';

export type Expr =
  | { readonly k: 'num'; readonly v: bigint }
  | { readonly k: 'sym'; readonly name: string; readonly col: number }
  | { readonly k: 'dot'; readonly col: number }
  | { readonly k: 'lref'; readonly n: string; readonly dir: 'f' | 'b'; readonly col: number }
  | { readonly k: 'un'; readonly op: string; readonly e: Expr; readonly col: number }
  | { readonly k: 'bin'; readonly op: string; readonly a: Expr; readonly b: Expr; readonly col: number };

const RANK: Readonly<Record<string, number>> = {
  '*': 9, '/': 9, '%': 9, '<<': 9, '>>': 9,
  '|': 8, '&': 8, '^': 8, '!': 8,
  '+': 7, '-': 7,
  '==': 4, '!=': 4, '<>': 4, '<': 4, '<=': 4, '>': 4, '>=': 4,
  '&&': 3,
  '||': 2,
};

/** A cursor over one statement's tokens, shared by the expression and operand parsers. */
export class TokenStream {
  pos = 0;
  constructor(readonly toks: readonly Token[], readonly endCol: number) {}

  peek(offset = 0): Token | undefined {
    return this.toks[this.pos + offset];
  }
  next(): Token | undefined {
    return this.toks[this.pos++];
  }
  atEnd(): boolean {
    return this.pos >= this.toks.length;
  }
  isOp(s: string, offset = 0): boolean {
    const t = this.toks[this.pos + offset];
    return t !== undefined && t.k === 'op' && t.s === s;
  }
  col(): number {
    return this.toks[this.pos]?.col ?? this.endCol;
  }
  expectOp(s: string): void {
    if (!this.isOp(s)) throw new SyntaxError_(`expected \`${s}'`, this.col());
    this.pos++;
  }
}

export function parseExpr(ts: TokenStream): Expr {
  return parseBinary(ts, 0);
}

function parseBinary(ts: TokenStream, minRank: number): Expr {
  let left = parseUnary(ts);
  for (;;) {
    const t = ts.peek();
    if (!t || t.k !== 'op') return left;
    const rank = RANK[t.s];
    if (rank === undefined || rank <= minRank) return left;
    ts.next();
    const right = parseBinary(ts, rank);
    left = { k: 'bin', op: t.s, a: left, b: right, col: t.col };
  }
}

function parseUnary(ts: TokenStream): Expr {
  const t = ts.next();
  if (!t) throw new SyntaxError_('missing expression', ts.endCol);
  switch (t.k) {
    case 'num':
      return { k: 'num', v: t.v };
    case 'lref':
      return { k: 'lref', n: t.n, dir: t.dir, col: t.col };
    case 'id':
      return t.s === '.' ? { k: 'dot', col: t.col } : { k: 'sym', name: t.s, col: t.col };
    case 'op':
      if (t.s === '(') {
        const e = parseExpr(ts);
        ts.expectOp(')');
        return e;
      }
      if (t.s === '-' || t.s === '~' || t.s === '!' || t.s === '+') {
        const e = parseUnary(ts);
        return t.s === '+' ? e : { k: 'un', op: t.s, e, col: t.col };
      }
      break;
    default:
      break;
  }
  throw new SyntaxError_(`bad expression: unexpected ${describe(t)}`, t.col);
}

export function describe(t: Token): string {
  switch (t.k) {
    case 'id': return `\`${t.s}'`;
    case 'reg': return `register \`%${t.s}'`;
    case 'num': return `number`;
    case 'lref': return `\`${t.n}${t.dir}'`;
    case 'str': return 'string';
    default: return `\`${t.s}'`;
  }
}

/** `add - sub + addend`; `add`/`sub` are relocatable terms (labels, undefined symbols). */
export interface ExprValue<T> {
  readonly addend: bigint;
  readonly add?: T;
  readonly sub?: T;
}

export interface EvalContext<T> {
  symbol(name: string, col: number): ExprValue<T>;
  dot(col: number): ExprValue<T>;
  localRef(n: string, dir: 'f' | 'b', col: number): ExprValue<T>;
  /** `a - b` as a constant when both are in one section at a fixed distance, else undefined. */
  difference(a: T, b: T): bigint | undefined;
}

const wrap = (v: bigint) => BigInt.asIntN(64, v);

export function evaluate<T>(e: Expr, ctx: EvalContext<T>): ExprValue<T> {
  switch (e.k) {
    case 'num':
      return { addend: wrap(e.v) };
    case 'sym':
      return ctx.symbol(e.name, e.col);
    case 'dot':
      return ctx.dot(e.col);
    case 'lref':
      return ctx.localRef(e.n, e.dir, e.col);
    case 'un': {
      const v = evaluate(e.e, ctx);
      if (e.op === '-' && !v.sub && v.add) throw new SyntaxError_('cannot negate a relocatable symbol', e.col);
      if (e.op === '-') return { addend: wrap(-v.addend), add: v.sub, sub: v.add };
      const x = absolute(v, e.col);
      return { addend: e.op === '~' ? wrap(~x) : x === 0n ? 1n : 0n };
    }
    case 'bin':
      return binary(e, evaluate(e.a, ctx), evaluate(e.b, ctx), ctx);
  }
}

function absolute<T>(v: ExprValue<T>, col: number): bigint {
  if (v.add !== undefined || v.sub !== undefined) throw new SyntaxError_('expression is not absolute (it involves a symbol whose value is not known here)', col);
  return v.addend;
}

function combine<T>(terms: T[], subs: T[], addend: bigint, ctx: EvalContext<T>, col: number): ExprValue<T> {
  // Cancel every pair whose difference is a known constant.
  for (let i = 0; i < terms.length; i++) {
    for (let j = 0; j < subs.length; j++) {
      const d = terms[i] === subs[j] ? 0n : ctx.difference(terms[i], subs[j]);
      if (d !== undefined) {
        addend += d;
        terms.splice(i--, 1);
        subs.splice(j, 1);
        break;
      }
    }
  }
  if (terms.length > 1 || subs.length > 1) throw new SyntaxError_('expression too complex: it adds or subtracts symbols from different sections', col);
  return { addend: wrap(addend), add: terms[0], sub: subs[0] };
}

function binary<T>(e: { op: string; col: number }, a: ExprValue<T>, b: ExprValue<T>, ctx: EvalContext<T>): ExprValue<T> {
  const list = (x: T | undefined) => (x === undefined ? [] : [x]);
  if (e.op === '+') return combine([...list(a.add), ...list(b.add)], [...list(a.sub), ...list(b.sub)], a.addend + b.addend, ctx, e.col);
  if (e.op === '-') return combine([...list(a.add), ...list(b.sub)], [...list(a.sub), ...list(b.add)], a.addend - b.addend, ctx, e.col);
  if (['==', '!=', '<>', '<', '<=', '>', '>='].includes(e.op) && (a.add || a.sub || b.add || b.sub)) {
    // Comparing two locations in the same section is fine when their distance is known.
    const d = combine([...list(a.add), ...list(b.sub)], [...list(a.sub), ...list(b.add)], a.addend - b.addend, ctx, e.col);
    return { addend: compare(e.op, absolute(d, e.col), 0n) };
  }
  const x = absolute(a, e.col);
  const y = absolute(b, e.col);
  switch (e.op) {
    case '*': return { addend: wrap(x * y) };
    case '/':
    case '%':
      if (y === 0n) throw new SyntaxError_('division by zero', e.col);
      return { addend: wrap(e.op === '/' ? x / y : x % y) };
    case '<<': return { addend: y >= 64n || y < 0n ? 0n : wrap(x << y) };
    case '>>': return { addend: y >= 64n || y < 0n ? 0n : wrap(BigInt.asUintN(64, x) >> y) };
    case '|': return { addend: x | y };
    case '&': return { addend: x & y };
    case '^': return { addend: x ^ y };
    case '!': return { addend: wrap(x | ~y) };
    case '&&': return { addend: x !== 0n && y !== 0n ? 1n : 0n };
    case '||': return { addend: x !== 0n || y !== 0n ? 1n : 0n };
    default: return { addend: compare(e.op, x, y) };
  }
}

function compare(op: string, x: bigint, y: bigint): bigint {
  const r =
    op === '==' ? x === y : op === '!=' || op === '<>' ? x !== y : op === '<' ? x < y : op === '<=' ? x <= y : op === '>' ? x > y : x >= y;
  return r ? -1n : 0n;
}
