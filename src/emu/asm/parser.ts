// Statement structure of GNU as AT&T syntax: `label: label2: mnemonic operands`, directives
// `.name args`, assignments `sym = expr`, and AT&T operands:
//   %reg | *%reg | $expr | [*][%seg:][disp][(base[,index[,scale]])]
import { lookupRegister, type RegInfo } from '../cpu/isa/registers';
import { describe, parseExpr, TokenStream, type Expr } from './expr';
import { SyntaxError_, type Token } from './lexer';

export type ParsedOperand =
  | { readonly kind: 'reg'; readonly reg: RegInfo; readonly indirect: boolean; readonly col: number }
  | { readonly kind: 'imm'; readonly expr: Expr; readonly col: number }
  | {
      readonly kind: 'mem';
      readonly seg?: RegInfo;
      readonly disp?: Expr;
      readonly base?: RegInfo;
      readonly index?: RegInfo;
      readonly scale: 1 | 2 | 4 | 8;
      readonly indirect: boolean;
      readonly col: number;
    };

export interface Label {
  /** The name, or the digits of a numeric local label (`1:`). */
  readonly name: string;
  readonly numeric: boolean;
  readonly col: number;
}

export type StatementBody =
  | { readonly kind: 'empty' }
  | { readonly kind: 'assign'; readonly name: string; readonly col: number; readonly ts: TokenStream }
  | { readonly kind: 'directive'; readonly name: string; readonly col: number; readonly ts: TokenStream }
  | { readonly kind: 'insn'; readonly mnemonic: string; readonly prefixes: string[]; readonly col: number; readonly ts: TokenStream };

/** Instruction prefixes GNU as accepts as separate words before a mnemonic. */
export const PREFIX_WORDS: ReadonlySet<string> = new Set([
  'lock', 'rep', 'repe', 'repz', 'repne', 'repnz', 'data16', 'data32', 'addr16', 'addr32',
  'rex', 'rex64', 'rex.w', 'rex.r', 'rex.x', 'rex.b', 'rex.wr', 'rex.wx', 'rex.wb', 'rex.rx', 'rex.rb', 'rex.xb',
  'rex.wrx', 'rex.wrb', 'rex.wxb', 'rex.rxb', 'rex.wrxb', 'notrack', 'bnd', 'xacquire', 'xrelease',
  'cs', 'ds', 'es', 'fs', 'gs', 'ss',
]);

export function parseLabelsAndBody(toks: readonly Token[], endCol: number): { labels: Label[]; body: StatementBody } {
  const labels: Label[] = [];
  let i = 0;
  for (;;) {
    const t = toks[i];
    const colon = toks[i + 1];
    if (!t || !colon || colon.k !== 'op' || colon.s !== ':') break;
    if (t.k === 'id') labels.push({ name: t.s, numeric: false, col: t.col });
    else if (t.k === 'num') labels.push({ name: String(t.v), numeric: true, col: t.col });
    else break;
    i += 2;
  }
  const ts = new TokenStream(toks.slice(i), endCol);
  const first = ts.peek();
  if (!first) return { labels, body: { kind: 'empty' } };
  if (first.k !== 'id') throw new SyntaxError_(`junk at start of statement: ${describe(first)}`, first.col);
  // `sym = expr` (and `sym == expr`, which also makes it non-redefinable in gas).
  if (ts.isOp('=', 1) || ts.isOp('==', 1)) {
    ts.pos = 2;
    return { labels, body: { kind: 'assign', name: first.s, col: first.col, ts } };
  }
  ts.next();
  if (first.s.startsWith('.')) return { labels, body: { kind: 'directive', name: first.s.toLowerCase(), col: first.col, ts } };
  const prefixes: string[] = [];
  let mnemonic = first.s.toLowerCase();
  let col = first.col;
  while (PREFIX_WORDS.has(mnemonic)) {
    const nxt = ts.peek();
    if (!nxt || nxt.k !== 'id') break;
    prefixes.push(mnemonic);
    ts.next();
    mnemonic = nxt.s.toLowerCase();
    col = nxt.col;
  }
  return { labels, body: { kind: 'insn', mnemonic, prefixes, col, ts } };
}

export function parseOperands(ts: TokenStream): ParsedOperand[] {
  const ops: ParsedOperand[] = [];
  if (ts.atEnd()) return ops;
  for (;;) {
    ops.push(parseOperand(ts));
    if (ts.atEnd()) return ops;
    const t = ts.next()!;
    if (t.k !== 'op' || t.s !== ',') throw new SyntaxError_(`junk after operand: ${describe(t)}`, t.col);
  }
}

function register(t: Token & { k: 'reg' }): RegInfo {
  const r = lookupRegister(t.s);
  if (!r) throw new SyntaxError_(`bad register name \`%${t.s}'`, t.col);
  return r;
}

function parseOperand(ts: TokenStream): ParsedOperand {
  const col = ts.col();
  let indirect = false;
  if (ts.isOp('*')) {
    ts.next();
    indirect = true;
  }
  const t = ts.peek();
  if (!t) throw new SyntaxError_('missing operand', ts.endCol);
  if (t.k === 'op' && t.s === '$') {
    ts.next();
    return { kind: 'imm', expr: parseExpr(ts), col };
  }
  let seg: RegInfo | undefined;
  if (t.k === 'reg') {
    let r = register(t);
    ts.next();
    // %st(i): the x87 register i of the stack (SDM Vol. 1 §8.1.2), written with parentheses.
    const i = ts.peek(1);
    if (r.cls === 'st' && ts.isOp('(') && i?.k === 'num' && ts.isOp(')', 2)) {
      const st = lookupRegister(`st(${i.v})`);
      if (!st) throw new SyntaxError_(`bad register name \`%st(${i.v})'`, t.col);
      ts.next(); ts.next(); ts.next();
      r = st;
    }
    if (!ts.isOp(':')) return { kind: 'reg', reg: r, indirect, col };
    if (r.cls !== 'seg') throw new SyntaxError_(`\`%${t.s}' is not a segment register`, t.col);
    ts.next();
    seg = r;
  }
  let disp: Expr | undefined;
  if (!(ts.isOp('(') && startsBaseIndex(ts))) disp = parseExpr(ts);
  let base: RegInfo | undefined;
  let index: RegInfo | undefined;
  let scale: 1 | 2 | 4 | 8 = 1;
  if (ts.isOp('(')) {
    ts.next();
    const b = ts.peek();
    if (b?.k === 'reg') {
      base = register(b);
      ts.next();
    }
    if (ts.isOp(',')) {
      ts.next();
      const x = ts.peek();
      if (x?.k === 'reg') {
        index = register(x);
        ts.next();
      } else if (!ts.isOp(',')) throw new SyntaxError_('expected an index register after `,\'', ts.col());
      if (ts.isOp(',')) {
        ts.next();
        const st = ts.next();
        if (!st || st.k !== 'num' || ![1n, 2n, 4n, 8n].includes(st.v)) {
          throw new SyntaxError_('scale factor must be 1, 2, 4 or 8', st?.col ?? ts.endCol);
        }
        scale = Number(st.v) as 1 | 2 | 4 | 8;
      }
    }
    ts.expectOp(')');
  }
  if (!disp && !base && !index) throw new SyntaxError_('missing operand', col);
  return { kind: 'mem', seg, disp, base, index, scale, indirect, col };
}

/** After `(`: a register or `,` means the (base,index,scale) part, otherwise a parenthesized expression. */
function startsBaseIndex(ts: TokenStream): boolean {
  const n = ts.peek(1);
  return n !== undefined && (n.k === 'reg' || (n.k === 'op' && n.s === ','));
}
