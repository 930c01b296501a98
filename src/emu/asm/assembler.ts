// The GNU as (AT&T syntax, x86) front end: statements, symbols, directives, macros,
// conditionals, sections, branch relaxation and fixups. Instructions are encoded by
// encoder.ts; this module decides where they go and what their symbolic fields become.
//
// Behaviour follows GNU as 2.40 `as --64`: the .text/.data/.bss sections always exist,
// `.align` takes a byte count, code padding is the multi-byte NOPs of nops.ts, branches to
// labels in the same section start short and grow to near until nothing changes, and
// relocations against local labels are made against the section symbol.
import type { CodeMode, Encoded, EncodeOptions, Fixup, Instruction, Operand, Value } from './ast';
import { EncodeError } from './ast';
import { dirnameOf, joinPath, type Diagnostic, type SourceLoc } from './diagnostic';
import { encodeInstruction, isRelaxableBranch } from './encoder';
import { evaluate, parseExpr, TokenStream, type EvalContext, type Expr, type ExprValue } from './expr';
import { splitStatements, SyntaxError_, tokenize, type Statement, type Token } from './lexer';
import { bindMacroArgs, macroKey, parseMacroHeader, splitIrpcChars, splitIrpValues, splitRepeatHeader, splitTopLevel, substituteParams, type MacroDef } from './macros';
import { writeNops } from './nops';
import type { ObjectFile, ObjSection, ObjSymbol, Relocation } from './object';
import { parseLabelsAndBody, parseOperands, type ParsedOperand, type StatementBody } from './parser';
import { preprocess, type SourceLine } from './preprocess';
import {
  alignPadding, appendBytes, appendFill, currentFixed, fragSize,
  type BranchFrag, type FixedFrag, type FixTarget, type FragFixup, type Section, type Sym,
} from './sections';
import { R_386, R_X86_64, SHF_ALLOC, SHF_EXECINSTR, SHF_MERGE, SHF_STRINGS, SHF_WRITE, SHT_NOBITS, SHT_NOTE, SHT_PROGBITS } from '../loader/elf';

export type { Diagnostic } from './diagnostic';

export interface AssembleOptions {
  readonly file: string;
  readonly defines?: Readonly<Record<string, string>>;
  readonly includeDirs?: readonly string[];
  readonly readFile?: (path: string) => string | Uint8Array | undefined;
  /** Run the C preprocessor first (default: when the file name ends in `.S`). */
  readonly preprocess?: boolean;
  /** ELF class of the object (`as --64` / `as --32`); also the initial code mode. Default 64. */
  readonly elfClass?: 32 | 64;
}

export interface AssembleResult {
  readonly object: ObjectFile;
  readonly diagnostics: Diagnostic[];
}

/**
 * The instruction encoder's API (encoder.ts), injectable for tools that bring their own.
 * `warnings` are GNU as's "Warning:" lines for the instruction, reported at its location.
 */
export interface InstructionEncoder {
  encodeInstruction(insn: Instruction, opts: EncodeOptions): Encoded & { readonly warnings?: readonly string[] };
  isRelaxableBranch(insn: Instruction): boolean;
}

export function assemble(source: string, opts: AssembleOptions): AssembleResult {
  return assembleWith({ encodeInstruction, isRelaxableBranch }, source, opts);
}

export function assembleWith(encoder: InstructionEncoder, source: string, opts: AssembleOptions): AssembleResult {
  const asm = new Assembler(encoder, opts);
  const usePp = opts.preprocess ?? opts.file.endsWith('.S');
  let lines: SourceLine[];
  if (usePp) {
    const pp = preprocess(source, opts);
    asm.diagnostics.push(...pp.diagnostics);
    lines = pp.lines;
  } else lines = rawLines(source, opts.file);
  asm.run(splitStatements(lines));
  const object = asm.finish();
  return { object, diagnostics: asm.diagnostics };
}

function rawLines(source: string, file: string): SourceLine[] {
  return source.split('\n').map((text, i) => ({ text: text.endsWith('\r') ? text.slice(0, -1) : text, file, line: i + 1 }));
}

/** Thrown by `.end` to stop reading input. */
class EndOfInput extends Error {}

interface Frame {
  readonly stmts: readonly Statement[];
  idx: number;
  readonly kind: 'file' | 'macro' | 'repeat';
  /** Conditionals open when the frame started (`.exitm` closes the ones opened inside). */
  readonly condDepth: number;
}

interface CondFrame {
  active: boolean;
  taken: boolean;
  readonly parentActive: boolean;
  seenElse: boolean;
  readonly loc: SourceLoc;
}

interface Collector {
  readonly kind: 'macro' | 'repeat';
  readonly header: Statement;
  readonly directive: string;
  readonly args: string;
  depth: number;
  readonly body: Statement[];
}

const MAX_MACRO_DEPTH = 1000;
const DIRECTIVE_AT_START = /^(?:[\w.$]+:\s*)*(\.[A-Za-z_][\w.]*)/;
const IF_DIRECTIVES = new Set(['.if', '.ifdef', '.ifndef', '.ifnotdef', '.ifeq', '.ifne', '.ifgt', '.ifge', '.iflt', '.ifle', '.ifb', '.ifnb', '.ifc', '.ifnc', '.ifeqs', '.ifnes']);
const REPEAT_DIRECTIVES = new Set(['.rept', '.irp', '.irpc']);

class Assembler implements EvalContext<Sym> {
  readonly diagnostics: Diagnostic[] = [];
  private readonly sections: Section[] = [];
  private cur: Section;
  private previous: Section;
  private readonly sectionStack: [Section, Section][] = [];
  private mode: CodeMode;
  private readonly symbols = new Map<string, Sym>();
  /** Symbols in order of first appearance (the symbol table keeps this order). */
  private readonly symbolOrder: Sym[] = [];
  private readonly localCounts = new Map<string, number>();
  private readonly macros = new Map<string, MacroDef>();
  private macroCounter = 0;
  private readonly conds: CondFrame[] = [];
  private readonly frames: Frame[] = [];
  private collector?: Collector;
  private tempCounter = 0;
  private readonly exprValues = new Map<string, Expr>();
  /** False while statements are read; true once frag addresses are meaningful. */
  private laidOut = false;
  /** Location of the statement being processed (for `.` and diagnostics). */
  private loc: SourceLoc = { file: '', line: 0, col: 0 };

  constructor(private readonly encoder: InstructionEncoder, private readonly opts: AssembleOptions) {
    this.mode = opts.elfClass === 32 ? 32 : 64;
    this.cur = this.section('.text');
    this.section('.data');
    this.section('.bss');
    this.previous = this.cur;
  }

  // ---- diagnostics -------------------------------------------------------------------

  private report(severity: 'error' | 'warning', message: string, loc: SourceLoc = this.loc): void {
    this.diagnostics.push({ file: loc.file, line: loc.line, col: loc.col, message, severity });
  }

  // ---- statement loop ----------------------------------------------------------------

  run(stmts: readonly Statement[]): void {
    this.frames.push({ stmts, idx: 0, kind: 'file', condDepth: 0 });
    try {
      while (this.frames.length > 0) {
        const fr = this.frames[this.frames.length - 1];
        if (fr.idx >= fr.stmts.length) {
          this.frames.pop();
          continue;
        }
        const st = fr.stmts[fr.idx++];
        this.loc = { file: st.file, line: st.line, col: st.col };
        try {
          this.statement(st);
        } catch (e) {
          if (e instanceof SyntaxError_) this.report('error', e.message, { file: st.file, line: st.line, col: e.col });
          else if (e instanceof EncodeError) this.report('error', e.message);
          else throw e;
        }
      }
    } catch (e) {
      if (!(e instanceof EndOfInput)) throw e;
    }
    if (this.collector) this.report('error', `missing ${this.collector.kind === 'macro' ? '.endm' : '.endr'} for ${this.collector.directive}`, this.locOf(this.collector.header));
    for (const c of this.conds) this.report('error', 'missing .endif for this conditional', c.loc);
    this.conds.length = 0;
  }

  private locOf(st: Statement): SourceLoc {
    return { file: st.file, line: st.line, col: st.col };
  }

  private statement(st: Statement): void {
    if (this.collector) {
      this.collect(st, directiveAtStart(st));
      return;
    }
    const active = this.conds.length === 0 || this.conds[this.conds.length - 1].active;
    if (!active) {
      const dname = directiveAtStart(st);
      // Inside a false conditional only the conditionals themselves are looked at.
      if (dname !== undefined && (IF_DIRECTIVES.has(dname) || dname === '.else' || dname === '.elseif' || dname === '.endif')) {
        if (IF_DIRECTIVES.has(dname)) this.conds.push({ active: false, taken: true, parentActive: false, seenElse: false, loc: this.loc });
        else {
          const at = st.text.toLowerCase().indexOf(dname) + dname.length;
          const rest = st.text.slice(at);
          this.conditional(dname, new TokenStream(tokenize(rest, st.col + at), st.col + st.text.length), rest);
        }
      }
      return;
    }
    const toks = tokenize(st.text, st.col);
    const endCol = st.col + st.text.length;
    const { labels, body } = parseLabelsAndBody(toks, endCol);
    for (const l of labels) this.defineLabel(l.name, l.numeric, l.col);
    this.body(body, st);
  }

  private restText(st: Statement, col: number, skip: number): string {
    return st.text.slice(col - st.col + skip);
  }

  private body(body: StatementBody, st: Statement): void {
    switch (body.kind) {
      case 'empty':
        return;
      case 'assign':
        this.assign(body.name, body.ts, false, body.col);
        return;
      case 'directive': {
        const macro = this.macros.get(macroKey(body.name));
        if (macro) this.expandMacro(macro, this.restText(st, body.col, body.name.length), body.col + body.name.length);
        else this.directive(body.name, body.ts, this.restText(st, body.col, body.name.length).trim(), st, body.col);
        return;
      }
      case 'insn': {
        const macro = body.prefixes.length === 0 ? this.macros.get(macroKey(body.mnemonic)) : undefined;
        if (macro) this.expandMacro(macro, this.restText(st, body.col, body.mnemonic.length), body.col + body.mnemonic.length);
        else this.instruction(body.mnemonic, body.prefixes, body.ts, body.col);
        return;
      }
    }
  }

  private collect(st: Statement, dname: string | undefined): void {
    const c = this.collector!;
    const opens = c.kind === 'macro' ? dname === '.macro' : dname !== undefined && REPEAT_DIRECTIVES.has(dname);
    const closes = c.kind === 'macro' ? dname === '.endm' : dname === '.endr';
    if (opens) c.depth++;
    if (closes && --c.depth === 0) {
      this.collector = undefined;
      this.finishBlock(c);
      return;
    }
    c.body.push(st);
  }

  private finishBlock(c: Collector): void {
    const loc = this.locOf(c.header);
    this.loc = loc;
    try {
      if (c.kind === 'macro') {
        const def = parseMacroHeader(c.args, loc.col, c.body);
        const key = macroKey(def.name);
        if (this.macros.has(key)) throw new SyntaxError_(`Macro \`${key}' was already defined`, loc.col);
        this.macros.set(key, def);
        return;
      }
      const out: Statement[] = [];
      if (c.directive === '.rept') {
        const n = this.absolute(this.exprOf(c.args, loc.col));
        for (let i = 0n; i < n; i++) out.push(...c.body);
      } else {
        const { name, rest } = splitRepeatHeader(c.args);
        if (name === '') throw new SyntaxError_(`expected a parameter name after ${c.directive}`, loc.col);
        const listed = c.directive === '.irp' ? splitIrpValues(rest) : splitIrpcChars(rest);
        // With nothing to iterate over, gas expands the body once with an empty parameter.
        const values = listed.length > 0 ? listed : [''];
        for (const v of values) {
          const map = new Map([[name, v]]);
          for (const s of c.body) out.push({ ...s, text: substituteParams(s.text, map, undefined) });
        }
      }
      this.pushFrame(out, 'repeat');
    } catch (e) {
      if (!(e instanceof SyntaxError_)) throw e;
      this.report('error', e.message, { ...loc, col: e.col });
    }
  }

  private pushFrame(stmts: readonly Statement[], kind: Frame['kind']): void {
    if (this.frames.length > MAX_MACRO_DEPTH) throw new SyntaxError_('macros nested too deeply', this.loc.col);
    this.frames.push({ stmts: splitAgain(stmts), idx: 0, kind, condDepth: this.conds.length });
  }

  /** `col` is the source column of argText[0]. */
  private expandMacro(def: MacroDef, argText: string, col: number): void {
    const { values, problems } = bindMacroArgs(def, argText, col);
    for (const p of problems) this.report(p.severity, p.message, { ...this.loc, col: p.col });
    if (!values) return;
    const counter = this.macroCounter++;
    this.pushFrame(def.body.map((s) => ({ ...s, text: substituteParams(s.text, values, counter) })), 'macro');
  }

  // ---- symbols -----------------------------------------------------------------------

  private sym(name: string): Sym {
    let s = this.symbols.get(name);
    if (!s) {
      s = { name, temporary: name.startsWith('.L') || name.includes('\x02') };
      this.symbols.set(name, s);
      this.symbolOrder.push(s);
    }
    return s;
  }

  private here(): { section: Section; frag: FixedFrag; offset: number } {
    const frag = currentFixed(this.cur);
    return { section: this.cur, frag, offset: frag.length };
  }

  private defineLabel(name: string, numeric: boolean, col: number): void {
    if (numeric) {
      const n = (this.localCounts.get(name) ?? 0) + 1;
      this.localCounts.set(name, n);
      name = `.L${name}\x02${n}`;
    }
    const s = this.sym(name);
    if (s.def) throw new SyntaxError_(`symbol \`${name}' is already defined`, col);
    const h = this.here();
    s.def = { kind: 'label', section: h.section, frag: h.frag, offset: h.offset, mode: this.mode };
  }

  private assign(name: string, ts: TokenStream, equiv: boolean, col: number): void {
    if (name === '.') {
      // `. = expr` is `.org expr`.
      this.org(parseExpr(ts), 0);
      return;
    }
    const expr = this.bind(parseExpr(ts));
    this.expectEnd(ts);
    const s = this.sym(name);
    if (s.fixed || (equiv && s.def)) throw new SyntaxError_(`symbol \`${name}' is already defined`, col);
    if (s.def?.kind === 'label') throw new SyntaxError_(`symbol \`${name}' is already defined`, col);
    // A value known now is stored as a constant, so later redefinitions (`.set x, x+1`) work.
    let stored = expr;
    try {
      const v = evaluate(expr, this);
      if (v.add === undefined && v.sub === undefined) stored = { k: 'num', v: v.addend };
    } catch (e) {
      if (!(e instanceof SyntaxError_)) throw e;
    }
    s.def = { kind: 'equ', expr: stored, loc: this.loc };
    if (equiv) s.fixed = true;
  }

  /** Replaces `.` and numeric local references by the symbols they mean at this point. */
  private bind(e: Expr): Expr {
    switch (e.k) {
      case 'num':
      case 'sym':
        return e;
      case 'dot': {
        const name = `.L.dot\x02${this.tempCounter++}`;
        const s = this.sym(name);
        const h = this.here();
        s.def = { kind: 'label', section: h.section, frag: h.frag, offset: h.offset, mode: this.mode };
        return { k: 'sym', name, col: e.col };
      }
      case 'lref': {
        const n = this.localCounts.get(e.n) ?? 0;
        if (e.dir === 'b' && n === 0) throw new SyntaxError_(`undefined local label \`${e.n}b'`, e.col);
        return { k: 'sym', name: `.L${e.n}\x02${e.dir === 'b' ? n : n + 1}`, col: e.col };
      }
      case 'un':
        return { ...e, e: this.bind(e.e) };
      case 'bin':
        return { ...e, a: this.bind(e.a), b: this.bind(e.b) };
    }
  }

  // EvalContext: symbols evaluate to themselves (labels, undefined) or to their expression.
  symbol(name: string, col: number): ExprValue<Sym> {
    const s = this.sym(name);
    s.used = true;
    const d = s.def;
    if (!d || d.kind === 'label') return { addend: 0n, add: s };
    if (s.evaluating) throw new SyntaxError_(`symbol \`${name}' is defined in terms of itself`, col);
    s.evaluating = true;
    try {
      return evaluate(d.expr, this);
    } finally {
      s.evaluating = false;
    }
  }
  dot(col: number): ExprValue<Sym> {
    return evaluate(this.bind({ k: 'dot', col }), this);
  }
  localRef(n: string, dir: 'f' | 'b', col: number): ExprValue<Sym> {
    return evaluate(this.bind({ k: 'lref', n, dir, col }), this);
  }
  difference(a: Sym, b: Sym): bigint | undefined {
    const da = a.def;
    const db = b.def;
    if (da?.kind !== 'label' || db?.kind !== 'label' || da.section !== db.section) return undefined;
    if (da.frag === db.frag) return BigInt(da.offset - db.offset);
    if (!this.laidOut) return undefined;
    return BigInt(da.frag.address + da.offset - (db.frag.address + db.offset));
  }

  private labelAddress(s: Sym): number {
    const d = s.def;
    if (d?.kind !== 'label') throw new Error('not a label');
    return d.frag.address + d.offset;
  }

  private exprOf(text: string, col: number): Expr {
    const ts = new TokenStream(tokenize(text, col), col + text.length);
    const e = parseExpr(ts);
    this.expectEnd(ts);
    return e;
  }

  private absolute(e: Expr): bigint {
    const v = evaluate(this.bind(e), this);
    if (v.add || v.sub) throw new SyntaxError_('expression must be absolute here (a constant known at this point)', this.loc.col);
    return v.addend;
  }

  private expectEnd(ts: TokenStream): void {
    const t = ts.peek();
    if (t) throw new SyntaxError_(`junk at end of line: ${tokenText(t)}`, t.col);
  }

  // ---- sections ----------------------------------------------------------------------

  private section(name: string, flags?: number, type?: number): Section {
    let s = this.sections.find((x) => x.name === name);
    if (!s) {
      const def = defaultSectionAttributes(name);
      const sym: Sym = { name, temporary: true };
      s = { name, index: this.sections.length, type: type ?? def.type, flags: flags ?? def.flags, alignment: 1, frags: [], sym };
      this.sections.push(s);
    } else {
      if (flags !== undefined && flags !== s.flags) this.report('warning', `ignoring changed section attributes for ${name}`);
    }
    return s;
  }

  private switchTo(s: Section): void {
    if (s !== this.cur) this.previous = this.cur;
    this.cur = s;
  }

  private sectionDirective(ts: TokenStream, rest: string, push: boolean): void {
    const parts = splitTopLevel(rest);
    const rawName = parts[0] ?? '';
    const name = rawName.startsWith('"') ? rawName.slice(1, -1) : rawName;
    if (!/^[^\s,]+$/.test(name)) throw new SyntaxError_('expected a section name', ts.col());
    let flags: number | undefined;
    let type: number | undefined;
    if (parts[1] !== undefined) {
      const fm = /^"([^"]*)"$/.exec(parts[1]);
      if (!fm) throw new SyntaxError_('expected section flags in quotes, e.g. "ax"', ts.col());
      flags = 0;
      for (const ch of fm[1]) {
        const bit = { a: SHF_ALLOC, w: SHF_WRITE, x: SHF_EXECINSTR, M: SHF_MERGE, S: SHF_STRINGS }[ch];
        if (bit === undefined) throw new SyntaxError_(`unknown section flag \`${ch}'`, ts.col());
        flags |= bit;
      }
    }
    if (parts[2] !== undefined) {
      const tm = /^[@%](progbits|nobits|note)$/.exec(parts[2]);
      if (!tm) throw new SyntaxError_(`unknown section type \`${parts[2]}'`, ts.col());
      type = tm[1] === 'nobits' ? SHT_NOBITS : tm[1] === 'note' ? SHT_NOTE : SHT_PROGBITS;
    }
    if (push) this.sectionStack.push([this.cur, this.previous]);
    this.switchTo(this.section(name, flags, type));
  }

  private isCode(): boolean {
    return (this.cur.flags & SHF_EXECINSTR) !== 0;
  }

  // ---- directives --------------------------------------------------------------------

  private directive(name: string, ts: TokenStream, rest: string, st: Statement, col: number): void {
    switch (name) {
      case '.text':
      case '.data':
      case '.bss':
        this.switchTo(this.section(name));
        return;
      case '.section':
      case '.pushsection':
        this.sectionDirective(ts, rest, name === '.pushsection');
        return;
      case '.popsection': {
        const top = this.sectionStack.pop();
        if (!top) throw new SyntaxError_('.popsection without corresponding .pushsection', col);
        [this.cur, this.previous] = top;
        return;
      }
      case '.previous':
        [this.cur, this.previous] = [this.previous, this.cur];
        return;
      case '.code16':
      case '.code32':
      case '.code64':
        this.mode = Number(name.slice(5)) as CodeMode;
        return;
      case '.intel_syntax':
        throw new SyntaxError_('.intel_syntax is not supported yet: write AT&T syntax (the default, .att_syntax)', col);
      case '.att_syntax':
        if (/^noprefix\b/.test(rest)) throw new SyntaxError_('.att_syntax noprefix is not supported: registers need their % prefix', col);
        return;
      case '.globl':
      case '.global':
      case '.local':
      case '.weak':
        for (const n of this.nameList(ts)) {
          const s = this.sym(n);
          s.binding = name === '.local' ? 'local' : name === '.weak' ? 'weak' : 'global';
        }
        return;
      case '.hidden':
      case '.protected':
      case '.internal':
      case '.extern':
        this.nameList(ts);
        return;
      case '.type':
        this.typeDirective(ts);
        return;
      case '.size': {
        const n = this.nameList(ts, true)[0];
        ts.expectOp(',');
        const e = this.bind(parseExpr(ts));
        this.expectEnd(ts);
        this.sym(n).size = { expr: e, loc: this.loc };
        return;
      }
      case '.equ':
      case '.set':
      case '.equiv':
      case '.eqv': {
        const t = ts.next();
        if (t?.k !== 'id') throw new SyntaxError_(`expected a symbol name after ${name}`, t?.col ?? col);
        ts.expectOp(',');
        this.assign(t.s, ts, name === '.equiv', t.col);
        return;
      }
      case '.byte': this.data(ts, 1); return;
      case '.word': case '.short': case '.hword': case '.value': case '.2byte': this.data(ts, 2); return;
      case '.long': case '.int': case '.4byte': this.data(ts, 4); return;
      case '.quad': case '.8byte': this.data(ts, 8); return;
      case '.ascii': this.strings(ts, false); return;
      case '.asciz': case '.string': this.strings(ts, true); return;
      case '.space':
      case '.skip':
      case '.zero':
        this.space(ts, name === '.zero');
        return;
      case '.fill':
        this.fill(ts);
        return;
      case '.nops': {
        const e = parseExpr(ts);
        if (this.absolute(e) < 0n) throw new SyntaxError_('.nops size must not be negative', col);
        this.expectEnd(ts);
        this.cur.frags.push({ kind: 'space', address: 0, expr: e, fill: 'nops', loc: this.loc, size: 0 });
        return;
      }
      case '.align': case '.balign': case '.balignw': case '.balignl':
      case '.p2align': case '.p2alignw': case '.p2alignl':
        this.align(name, ts, rest);
        return;
      case '.org': {
        const e = parseExpr(ts);
        let fill = 0;
        if (ts.isOp(',')) {
          ts.next();
          fill = Number(this.absolute(parseExpr(ts)) & 0xffn);
        }
        this.expectEnd(ts);
        this.org(e, fill);
        return;
      }
      case '.macro':
        this.collector = { kind: 'macro', header: st, directive: name, args: rest, depth: 1, body: [] };
        return;
      case '.rept':
      case '.irp':
      case '.irpc':
        this.collector = { kind: 'repeat', header: st, directive: name, args: rest, depth: 1, body: [] };
        return;
      case '.endm':
      case '.endr':
        throw new SyntaxError_(`${name} without a matching ${name === '.endm' ? '.macro' : '.rept/.irp/.irpc'}`, col);
      case '.exitm': {
        if (!this.frames.some((f) => f.kind === 'macro')) throw new SyntaxError_('.exitm outside of a macro', col);
        for (;;) {
          const fr = this.frames.pop();
          if (!fr) throw new SyntaxError_('.exitm outside of a macro', col);
          if (fr.kind === 'macro') {
            this.conds.length = Math.min(this.conds.length, fr.condDepth);
            return;
          }
        }
      }
      case '.purgem':
        for (const n of this.nameList(ts)) if (!this.macros.delete(macroKey(n))) this.report('warning', `Attempt to purge non-existing macro \`${macroKey(n)}'`, { ...this.loc, col });
        return;
      case '.include':
        this.include(ts, col);
        return;
      case '.incbin':
        this.incbin(ts, col);
        return;
      case '.sleb128': case '.uleb128':
        this.leb128(ts, name === '.sleb128');
        return;
      case '.file': case '.ident': case '.loc': case '.arch': case '.section.note.GNU-stack':
        return;
      case '.lcomm': {
        // `.lcomm sym, size[, align]`: gas aligns to the largest of 8/4/2/1 that the size reaches.
        const n = this.nameList(ts, true)[0];
        ts.expectOp(',');
        const size = this.absolute(parseExpr(ts));
        let align = size >= 8n ? 8 : size >= 4n ? 4 : size >= 2n ? 2 : 1;
        if (ts.isOp(',')) {
          ts.next();
          align = Number(this.absolute(parseExpr(ts)));
        }
        this.expectEnd(ts);
        const saved = this.cur;
        this.cur = this.section('.bss');
        this.cur.alignment = Math.max(this.cur.alignment, align);
        if (align > 1) this.cur.frags.push({ kind: 'align', address: 0, alignment: align, size: 0, code: false, loc: this.loc });
        this.defineLabel(n, false, col);
        appendFill(currentFixed(this.cur), Number(size), 0);
        this.cur = saved;
        return;
      }
      case '.end':
        throw new EndOfInput();
      case '.err':
        throw new SyntaxError_('.err encountered', col);
      case '.error':
      case '.warning':
      case '.print': {
        const t = ts.next();
        const msg = t?.k === 'str' ? new TextDecoder().decode(new Uint8Array(t.bytes)) : name === '.error' ? '.error directive invoked in source file' : '.warning directive invoked in source file';
        if (name === '.print') return;
        this.report(name === '.error' ? 'error' : 'warning', msg, { ...this.loc, col });
        return;
      }
      default:
        if (IF_DIRECTIVES.has(name) || name === '.else' || name === '.elseif' || name === '.endif') {
          this.conditional(name, ts, rest);
          return;
        }
        if (name.startsWith('.cfi_')) return; // call-frame info: no .eh_frame is produced
        throw new SyntaxError_(`unknown pseudo-op: \`${name}'`, col);
    }
  }

  private nameList(ts: TokenStream, single = false): string[] {
    const names: string[] = [];
    for (;;) {
      const t = ts.next();
      if (t?.k !== 'id') throw new SyntaxError_('expected a symbol name', t?.col ?? ts.endCol);
      names.push(t.s);
      if (single || !ts.isOp(',')) break;
      ts.next();
    }
    if (!single) this.expectEnd(ts);
    return names;
  }

  private typeDirective(ts: TokenStream): void {
    const n = this.nameList(ts, true)[0];
    ts.expectOp(',');
    let word: string | undefined;
    const t = ts.next();
    if (t?.k === 'op' && (t.s === '@' || t.s === '%')) word = ts.next()?.k === 'id' ? (ts.toks[ts.pos - 1] as { s: string }).s : undefined;
    else if (t?.k === 'id') word = t.s;
    else if (t?.k === 'str') word = new TextDecoder().decode(new Uint8Array(t.bytes));
    const type = word === 'function' || word === 'STT_FUNC' ? 'func' : word === 'object' || word === 'STT_OBJECT' ? 'object' : word === 'notype' || word === 'STT_NOTYPE' ? 'notype' : undefined;
    if (!type) throw new SyntaxError_(`unrecognized symbol type \`${word ?? ''}'`, t?.col ?? ts.endCol);
    this.expectEnd(ts);
    this.sym(n).type = type;
  }

  private conditional(name: string, ts: TokenStream, rest: string): void {
    const top = this.conds[this.conds.length - 1];
    if (name === '.endif') {
      if (!top) throw new SyntaxError_('.endif without .if', this.loc.col);
      this.conds.pop();
      return;
    }
    if (name === '.else' || name === '.elseif') {
      if (!top) throw new SyntaxError_(`${name} without matching .if`, this.loc.col);
      if (top.seenElse) throw new SyntaxError_(`${name} after .else`, this.loc.col);
      if (name === '.else') {
        top.seenElse = true;
        top.active = top.parentActive && !top.taken;
        top.taken = true;
      } else {
        const cond = top.parentActive && !top.taken && this.absolute(parseExpr(ts)) !== 0n;
        top.active = cond;
        top.taken ||= cond;
      }
      return;
    }
    const cond = this.evalIf(name, ts, rest);
    this.conds.push({ active: cond, taken: cond, parentActive: true, seenElse: false, loc: this.loc });
  }

  private evalIf(name: string, ts: TokenStream, rest: string): boolean {
    switch (name) {
      case '.ifdef':
      case '.ifndef':
      case '.ifnotdef': {
        const n = this.nameList(ts, true)[0];
        const d = this.symbols.get(n)?.def !== undefined;
        return name === '.ifdef' ? d : !d;
      }
      case '.ifb':
        return rest.trim() === '';
      case '.ifnb':
        return rest.trim() !== '';
      case '.ifc':
      case '.ifnc':
      case '.ifeqs':
      case '.ifnes': {
        const parts = splitTopLevel(rest);
        if (parts.length !== 2) throw new SyntaxError_(`${name} needs two strings separated by a comma`, this.loc.col);
        const unq = (s: string) => (s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);
        const eq = unq(parts[0]) === unq(parts[1]);
        return name === '.ifc' || name === '.ifeqs' ? eq : !eq;
      }
      default: {
        const v = this.absolute(parseExpr(ts));
        this.expectEnd(ts);
        switch (name) {
          case '.if': case '.ifne': return v !== 0n;
          case '.ifeq': return v === 0n;
          case '.ifgt': return v > 0n;
          case '.ifge': return v >= 0n;
          case '.iflt': return v < 0n;
          default: return v <= 0n;
        }
      }
    }
  }

  private include(ts: TokenStream, col: number): void {
    const t = ts.next();
    if (t?.k !== 'str') throw new SyntaxError_('.include expects a file name in quotes', t?.col ?? col);
    const rel = new TextDecoder().decode(new Uint8Array(t.bytes));
    const found = this.findFile(rel);
    if (!found) throw new SyntaxError_(`can't open ${rel} for reading: No such file or directory`, t.col);
    const text = typeof found.data === 'string' ? found.data : new TextDecoder().decode(found.data);
    this.pushFrame(splitStatements(rawLines(text, found.path)), 'file');
  }

  private findFile(rel: string): { path: string; data: string | Uint8Array } | undefined {
    const dirs = rel.startsWith('/') ? [''] : [dirnameOf(this.loc.file), ...(this.opts.includeDirs ?? [])];
    for (const d of dirs) {
      const path = joinPath(d, rel);
      const data = this.opts.readFile?.(path);
      if (data !== undefined) return { path, data };
    }
    return undefined;
  }

  private incbin(ts: TokenStream, col: number): void {
    const t = ts.next();
    if (t?.k !== 'str') throw new SyntaxError_('.incbin expects a file name in quotes', t?.col ?? col);
    const rel = new TextDecoder().decode(new Uint8Array(t.bytes));
    let skip = 0;
    let count: number | undefined;
    if (ts.isOp(',')) {
      ts.next();
      skip = Number(this.absolute(parseExpr(ts)));
      if (ts.isOp(',')) {
        ts.next();
        count = Number(this.absolute(parseExpr(ts)));
      }
    }
    this.expectEnd(ts);
    const found = this.findFile(rel);
    if (!found) throw new SyntaxError_(`file not found: ${rel}`, t.col);
    const data = typeof found.data === 'string' ? new TextEncoder().encode(found.data) : found.data;
    if (skip < 0 || skip > data.length) throw new SyntaxError_(`skip (${skip}) out of range for ${rel} (${data.length} bytes)`, col);
    const end = count === undefined ? data.length : skip + count;
    if (end > data.length) throw new SyntaxError_(`count (${count}) goes past the end of ${rel}`, col);
    this.emitBytes(data.subarray(skip, end));
  }

  // ---- data --------------------------------------------------------------------------

  private emitBytes(data: ArrayLike<number>): number {
    const f = currentFixed(this.cur);
    if (this.cur.type === SHT_NOBITS && Array.prototype.some.call(data, (b: number) => b !== 0)) {
      throw new SyntaxError_(`attempt to store non-zero value in section \`${this.cur.name}'`, this.loc.col);
    }
    return appendBytes(f, data);
  }

  private data(ts: TokenStream, size: 1 | 2 | 4 | 8): void {
    if (ts.atEnd()) return;
    for (;;) {
      const col = ts.col();
      const e = this.bind(parseExpr(ts));
      let v: ExprValue<Sym> | undefined;
      try {
        v = evaluate(e, this);
      } catch (err) {
        if (!(err instanceof SyntaxError_)) throw err;
      }
      const f = currentFixed(this.cur);
      if (v && !v.add && !v.sub) {
        this.emitBytes(littleEndian(truncate(v.addend, size, { ...this.loc, col }, (m, l) => this.report('warning', m, l)), size));
      } else {
        const at = this.emitBytes(new Uint8Array(size));
        const target: FixTarget = v && v.add && !v.sub ? { kind: 'sym', sym: v.add, addend: v.addend } : { kind: 'expr', expr: e };
        f.fixups.push({ offset: at, size, pcrel: false, signed: false, endOffset: at + size, target, branch: false, preemptible: false, data: true, loc: { ...this.loc, col } });
      }
      if (ts.atEnd()) return;
      ts.expectOp(',');
    }
  }

  /**
   * `.uleb128` / `.sleb128`: LEB128 numbers (DWARF 5 §7.6), of values known at this point
   * (constants, or differences of labels already placed in one fragment). GNU as also sizes
   * them after layout; that is not supported here and is reported as such.
   */
  private leb128(ts: TokenStream, signed: boolean): void {
    for (;;) {
      const at = ts.col();
      const v = evaluate(this.bind(parseExpr(ts)), this);
      if (v.add || v.sub) throw new SyntaxError_(`${signed ? '.sleb128' : '.uleb128'} of a value not known at this point is not supported`, at);
      this.emitBytes(signed ? sleb128(BigInt.asIntN(64, v.addend)) : uleb128(BigInt.asUintN(64, v.addend)));
      if (ts.atEnd()) return;
      ts.expectOp(',');
    }
  }

  private strings(ts: TokenStream, zero: boolean): void {
    if (ts.atEnd()) return;
    for (;;) {
      const t = ts.next();
      if (t?.k !== 'str') throw new SyntaxError_('expected a string in quotes', t?.col ?? ts.endCol);
      this.emitBytes(zero ? [...t.bytes, 0] : t.bytes);
      if (ts.atEnd()) return;
      ts.expectOp(',');
    }
  }

  private space(ts: TokenStream, zeroOnly: boolean): void {
    const e = this.bind(parseExpr(ts));
    let fill = 0;
    if (!zeroOnly && ts.isOp(',')) {
      ts.next();
      fill = Number(BigInt.asUintN(8, this.absolute(parseExpr(ts))));
    }
    this.expectEnd(ts);
    let n: bigint | undefined;
    try {
      const v = evaluate(e, this);
      if (!v.add && !v.sub) n = v.addend;
    } catch (err) {
      if (!(err instanceof SyntaxError_)) throw err;
    }
    if (n === undefined) {
      this.cur.frags.push({ kind: 'space', address: 0, expr: e, fill, loc: this.loc, size: 0 });
      return;
    }
    if (n < 0n) {
      this.report('warning', `.space repeat count is negative, ignored`);
      return;
    }
    if (fill !== 0 && this.cur.type === SHT_NOBITS) throw new SyntaxError_(`attempt to store non-zero value in section \`${this.cur.name}'`, this.loc.col);
    appendFill(currentFixed(this.cur), Number(n), fill);
  }

  private fill(ts: TokenStream): void {
    const repeat = this.absolute(parseExpr(ts));
    let size = 1n;
    let value = 0n;
    if (ts.isOp(',')) {
      ts.next();
      if (!ts.isOp(',')) size = this.absolute(parseExpr(ts));
      if (ts.isOp(',')) {
        ts.next();
        value = this.absolute(parseExpr(ts));
      }
    }
    this.expectEnd(ts);
    if (size > 8n) {
      this.report('warning', '.fill size clamped to 8');
      size = 8n;
    }
    if (repeat < 0n || size < 0n) {
      this.report('warning', '.fill size or repeat count is negative, ignored');
      return;
    }
    // gas takes each repetition from an 8-byte number whose high 4 bytes are zero.
    const unit = littleEndian(BigInt.asUintN(32, value), 8).slice(0, Number(size));
    const out = new Uint8Array(Number(repeat) * unit.length);
    for (let i = 0; i < out.length; i += unit.length) out.set(unit, i);
    this.emitBytes(out);
  }

  private align(name: string, ts: TokenStream, rest: string): void {
    const parts = splitTopLevel(rest);
    const arg = (i: number): bigint | undefined => (parts[i] === undefined || parts[i] === '' ? undefined : this.absolute(this.exprOf(parts[i], ts.col())));
    const a = arg(0);
    if (a === undefined) throw new SyntaxError_(`${name} needs an alignment`, ts.col());
    let alignment: number;
    if (name.startsWith('.p2align')) {
      if (a > 31n) throw new SyntaxError_(`alignment too large: 2^${a}`, ts.col());
      alignment = 2 ** Number(a);
    } else {
      alignment = Number(a === 0n ? 1n : a);
      if ((alignment & (alignment - 1)) !== 0) throw new SyntaxError_('alignment not a power of 2', ts.col());
    }
    const fillSize = name.endsWith('w') ? 2 : name.endsWith('l') ? 4 : 1;
    let fillValue = arg(1);
    const max = arg(2);
    // gas records the section's alignment unless a smaller maximum skip was given.
    if (max === undefined || max >= BigInt(alignment - 1)) this.cur.alignment = Math.max(this.cur.alignment, alignment);
    if (alignment <= 1) return;
    // A 0x90 byte fill in code is the same as no fill: NOPs (gas do_align).
    if (this.isCode() && fillSize === 1 && fillValue !== undefined && BigInt.asUintN(8, fillValue) === 0x90n) fillValue = undefined;
    this.cur.frags.push({
      kind: 'align', address: 0, alignment, size: 0, code: this.isCode(), loc: this.loc,
      fill: fillValue === undefined ? undefined : { value: fillValue, size: fillSize },
      max: max === undefined ? undefined : Number(max),
    });
  }

  private org(e: Expr, fill: number): void {
    this.cur.frags.push({ kind: 'org', address: 0, expr: this.bind(e), fill, loc: this.loc, size: 0 });
  }

  // ---- instructions ------------------------------------------------------------------

  private instruction(mnemonic: string, prefixes: string[], ts: TokenStream, col: number): void {
    const parsed = parseOperands(ts);
    const operands = parsed.map((o) => this.operand(o));
    const insn: Instruction = { mnemonic, prefixes, operands };
    const encode = (branch?: 'short' | 'near') => {
      try {
        return this.encoder.encodeInstruction(insn, { mode: this.mode, branch });
      } catch (e) {
        if (e instanceof EncodeError) throw new SyntaxError_(e.message, col);
        throw e;
      }
    };
    const target = operands.length === 1 ? operands[0] : undefined;
    const relaxable = this.encoder.isRelaxableBranch(insn);
    if (relaxable && target?.kind === 'mem' && !target.base && !target.index && !target.seg && !target.indirect && target.disp?.symbol !== undefined && !this.exprValues.has(target.disp.symbol)) {
      const short = encode('short');
      const near = encode('near');
      const loc = { ...this.loc, col };
      this.warnAll(near.warnings, loc);
      const frag: BranchFrag = {
        kind: 'branch', address: 0, target: this.sym(target.disp.symbol), addend: target.disp.addend,
        short, near, insn, loc, mode: this.mode, isShort: false, relaxable: false,
      };
      this.cur.frags.push(frag);
      return;
    }
    const enc = encode();
    // Most instructions have neither warnings nor fixups: the location object is made on demand.
    const loc = (enc.warnings?.length ?? 0) !== 0 || enc.fixups.length !== 0 ? { ...this.loc, col } : this.loc;
    this.warnAll(enc.warnings, loc);
    if (this.cur.type === SHT_NOBITS) throw new SyntaxError_(`attempt to store non-zero value in section \`${this.cur.name}'`, col);
    const f = currentFixed(this.cur);
    const at = appendBytes(f, enc.bytes);
    for (const fx of enc.fixups) f.fixups.push(this.fragFixup(fx, at, at + enc.bytes.length, this.mode, fx.pcrel, loc));
  }

  private warnAll(warnings: readonly string[] | undefined, loc: SourceLoc): void {
    if (warnings !== undefined) for (const w of warnings) this.report('warning', w, loc);
  }

  private fragFixup(fx: Fixup, at: number, end: number, mode: CodeMode, preemptible: boolean, loc: SourceLoc): FragFixup {
    return {
      offset: at + fx.offset, size: fx.size, pcrel: fx.pcrel, signed: fx.signed, endOffset: end, target: this.fixTarget(fx.value),
      branch: fx.branch === true && mode === 64, preemptible, data: false, loc,
    };
  }

  private fixTarget(v: Value): FixTarget {
    if (v.symbol === undefined) return { kind: 'expr', expr: { k: 'num', v: v.addend } };
    const e = this.exprValues.get(v.symbol);
    if (e) return { kind: 'expr', expr: v.addend === 0n ? e : { k: 'bin', op: '+', a: e, b: { k: 'num', v: v.addend }, col: 0 } };
    return { kind: 'sym', sym: this.sym(v.symbol), addend: v.addend };
  }

  /** The encoder's operand; every field always present, so each kind has one object shape. */
  private operand(o: ParsedOperand): Operand {
    switch (o.kind) {
      case 'reg':
        return { kind: 'reg', reg: o.reg, indirect: o.indirect };
      case 'imm':
        return { kind: 'imm', value: this.value(o.expr) };
      case 'mem':
        return {
          kind: 'mem', seg: o.seg, disp: o.disp ? this.value(o.disp) : undefined, base: o.base, index: o.index, scale: o.scale,
          indirect: o.indirect,
        };
    }
  }

  /** An operand's value: a constant, `symbol + addend`, or a stand-in for a later expression. */
  private value(e: Expr): Value {
    const bound = this.bind(e);
    try {
      const v = evaluate(bound, this);
      if (!v.add && !v.sub) return { addend: v.addend };
      if (v.add && !v.sub) {
        v.add.used = true;
        return { symbol: v.add.name, addend: v.addend };
      }
    } catch (err) {
      if (!(err instanceof SyntaxError_)) throw err;
    }
    const key = `\x00expr${this.exprValues.size}`;
    this.exprValues.set(key, bound);
    return { symbol: key, addend: 0n };
  }

  // ---- layout and output -------------------------------------------------------------

  finish(): ObjectFile {
    // Numeric local labels referenced forward but never defined.
    for (const s of this.symbolOrder) {
      if (s.def) continue;
      const m = /^\.L(\d+)\x02\d+$/.exec(s.name);
      if (m && s.used) this.report('error', `undefined local label \`${m[1]}f'`);
    }
    for (const sec of this.sections) this.decideBranches(sec);
    this.laidOut = true;
    for (const sec of this.sections) this.layout(sec);
    const symIndex = new Map<Sym, number>();
    const symbols: ObjSymbol[] = [];
    for (const sec of this.sections) {
      symIndex.set(sec.sym, symbols.length);
      symbols.push({ name: sec.name, section: sec.index, value: 0n, binding: 'local', type: 'section', size: 0n });
    }
    const outSections = this.sections.map((sec) => this.emitSection(sec));
    // Symbols: locals in order of appearance, then globals (ELF requires locals first).
    const resolved = this.symbolOrder.filter((s) => !s.temporary && s.name !== '' && !this.exprValues.has(s.name));
    const entries = resolved.map((s) => ({ s, e: this.symbolEntry(s) })).filter((x) => x.e !== undefined) as { s: Sym; e: ObjSymbol }[];
    for (const { s, e } of entries) if (e.binding === 'local') { symIndex.set(s, symbols.length); symbols.push(e); }
    for (const { s, e } of entries) if (e.binding !== 'local') { symIndex.set(s, symbols.length); symbols.push(e); }
    const sections: ObjSection[] = outSections.map(({ sec, bytes, size, relocs }) => ({
      name: sec.name, type: sec.type, flags: sec.flags, bytes, size, alignment: sec.alignment,
      relocations: relocs.map((r): Relocation => ({ offset: r.offset, type: r.type, addend: r.addend, symbol: r.sym ? this.relocSymbolIndex(r.sym, symIndex, symbols) : undefined })),
    }));
    return { elfClass: this.opts.elfClass === 32 ? 32 : 64, sections, symbols };
  }

  private relocSymbolIndex(s: Sym, symIndex: Map<Sym, number>, symbols: ObjSymbol[]): number {
    let idx = symIndex.get(s);
    if (idx === undefined) {
      idx = symbols.length;
      symIndex.set(s, idx);
      symbols.push({ name: s.name, section: 'undef', value: 0n, binding: s.binding === 'weak' ? 'weak' : 'global', type: 'notype', size: 0n });
    }
    return idx;
  }

  private symbolEntry(s: Sym): ObjSymbol | undefined {
    const d = s.def;
    const size = s.size ? this.finalConstant(s.size.expr, s.size.loc) : 0n;
    const type = s.type ?? 'notype';
    if (!d) {
      if (!s.used && s.binding === undefined) return undefined;
      if (s.binding === 'local') {
        this.report('error', `local symbol \`${s.name}' is not defined`);
        return undefined;
      }
      return { name: s.name, section: 'undef', value: 0n, binding: s.binding === 'weak' ? 'weak' : 'global', type, size };
    }
    const binding = s.binding === 'global' || s.binding === 'weak' ? s.binding : 'local';
    if (d.kind === 'label') return { name: s.name, section: d.section.index, value: BigInt(this.labelAddress(s)), binding, type, size, mode: d.mode };
    let v: ExprValue<Sym>;
    try {
      v = evaluate(d.expr, this);
    } catch (e) {
      if (!(e instanceof SyntaxError_)) throw e;
      this.report('error', e.message, d.loc);
      return undefined;
    }
    if (!v.add && !v.sub) return { name: s.name, section: 'abs', value: BigInt.asUintN(64, v.addend), binding, type, size };
    if (v.add && !v.sub && v.add.def?.kind === 'label') {
      return { name: s.name, section: v.add.def.section.index, value: BigInt(this.labelAddress(v.add)) + v.addend, binding, type, size, mode: v.add.def.mode };
    }
    if (v.add && !v.sub && !v.add.def) return undefined; // an alias of an undefined symbol: references go to it
    this.report('error', `symbol \`${s.name}' cannot be represented in the symbol table`, d.loc);
    return undefined;
  }

  private finalConstant(e: Expr, loc: SourceLoc): bigint {
    try {
      const v = evaluate(e, this);
      if (!v.add && !v.sub) return v.addend;
      this.report('error', 'expression must be absolute', loc);
    } catch (err) {
      if (!(err instanceof SyntaxError_)) throw err;
      this.report('error', err.message, loc);
    }
    return 0n;
  }

  private decideBranches(sec: Section): void {
    for (const f of sec.frags) {
      if (f.kind !== 'branch') continue;
      let v: ExprValue<Sym> | undefined;
      try {
        v = this.symbol(f.target.name, f.loc.col);
      } catch (e) {
        if (!(e instanceof SyntaxError_)) throw e;
      }
      const t = v?.add;
      const local = v && !v.sub && t?.def?.kind === 'label' && t.def.section === sec && t.binding !== 'weak';
      f.relaxable = local === true;
      f.isShort = f.relaxable;
    }
  }

  /** Addresses of a section's fragments, growing short branches that do not reach until stable. */
  private layout(sec: Section): void {
    for (let pass = 0; pass < 10000; pass++) {
      let addr = 0;
      let changed = false;
      for (const f of sec.frags) {
        if (f.address !== addr) changed = true;
        f.address = addr;
        if (f.kind === 'align') f.size = alignPadding(addr, f);
        else if (f.kind === 'org' || f.kind === 'space') {
          const n = this.variableSize(f, sec);
          if (n !== f.size) changed = true;
          f.size = n;
        }
        addr += fragSize(f);
      }
      for (const f of sec.frags) {
        if (f.kind !== 'branch' || !f.isShort) continue;
        const v = this.symbol(f.target.name, f.loc.col);
        const disp = this.labelAddress(v.add!) + Number(v.addend + f.addend) - (f.address + f.short.bytes.length);
        if (disp < -128 || disp > 127) {
          f.isShort = false;
          changed = true;
        }
      }
      if (!changed) return;
    }
  }

  private variableSize(f: { kind: 'org' | 'space'; expr: Expr; address: number; loc: SourceLoc }, sec: Section): number {
    try {
      const v = evaluate(f.expr, this);
      let n: number;
      if (!v.add && !v.sub) n = Number(v.addend);
      else if (f.kind === 'org' && v.add && !v.sub && v.add.def?.kind === 'label' && v.add.def.section === sec) n = this.labelAddress(v.add) + Number(v.addend);
      else return 0;
      if (f.kind === 'org') n -= f.address;
      return Math.max(0, n);
    } catch (e) {
      if (!(e instanceof SyntaxError_)) throw e;
      return 0;
    }
  }

  private emitSection(sec: Section): { sec: Section; bytes: Uint8Array; size: number; relocs: PendingReloc[] } {
    const size = sec.frags.reduce((n, f) => n + fragSize(f), 0);
    const nobits = sec.type === SHT_NOBITS;
    const out = new Uint8Array(nobits ? 0 : size);
    const relocs: PendingReloc[] = [];
    for (const f of sec.frags) {
      switch (f.kind) {
        case 'fixed':
          if (!nobits) out.set(f.bytes.subarray(0, f.length), f.address);
          for (const fx of f.fixups) this.applyFixup(sec, out, f.address, fx, relocs);
          break;
        case 'branch': {
          const enc = f.isShort ? f.short : f.near;
          out.set(enc.bytes, f.address);
          for (const fx of enc.fixups) {
            const ff = this.fragFixup(fx, 0, enc.bytes.length, f.mode, !f.relaxable, f.loc);
            this.applyFixup(sec, out, f.address, { ...ff, target: { kind: 'sym', sym: f.target, addend: f.addend } }, relocs);
          }
          break;
        }
        case 'align':
          if (nobits || f.size === 0) break;
          if (f.fill && f.size % f.fill.size !== 0) this.report('error', `alignment padding (${f.size} bytes) not a multiple of ${f.fill.size}`, f.loc);
          if (f.fill) {
            const unit = littleEndian(BigInt.asUintN(f.fill.size * 8, f.fill.value), f.fill.size);
            for (let i = 0; i < f.size; i++) out[f.address + i] = unit[i % unit.length];
          } else if (f.code) writeNops(out, f.address, f.size, this.mode); // gas pads with the mode in effect at the end
          break;
        case 'org':
        case 'space': {
          const want = this.variableSizeChecked(f, sec);
          if (f.fill === 'nops') writeNops(out, f.address, f.size, this.mode);
          else if (!nobits) out.fill(f.fill, f.address, f.address + f.size);
          if (want !== undefined && want < 0) this.report('error', f.kind === 'org' ? 'attempt to move .org backwards' : '.space size is negative', f.loc);
          break;
        }
      }
    }
    return { sec, bytes: out, size, relocs };
  }

  /** The raw (unclamped) size an .org/.space asks for, reporting expressions that are not usable. */
  private variableSizeChecked(f: { kind: 'org' | 'space'; expr: Expr; address: number; loc: SourceLoc }, sec: Section): number | undefined {
    try {
      const v = evaluate(f.expr, this);
      if (!v.add && !v.sub) return Number(v.addend) - (f.kind === 'org' ? f.address : 0);
      if (f.kind === 'org' && v.add && !v.sub && v.add.def?.kind === 'label' && v.add.def.section === sec) return this.labelAddress(v.add) + Number(v.addend) - f.address;
      this.report('error', f.kind === 'org' ? '.org target must be absolute or in the current section' : '.space size must be a constant', f.loc);
    } catch (e) {
      if (!(e instanceof SyntaxError_)) throw e;
      this.report('error', e.message, f.loc);
    }
    return undefined;
  }

  private applyFixup(sec: Section, out: Uint8Array, fragAddr: number, fx: FragFixup, relocs: PendingReloc[]): void {
    const report = (m: string) => this.report('error', m, fx.loc);
    let v: ExprValue<Sym>;
    try {
      v = fx.target.kind === 'sym' ? addAddend(this.symbol(fx.target.sym.name, fx.loc.col), fx.target.addend) : evaluate(fx.target.expr, this);
    } catch (e) {
      if (!(e instanceof SyntaxError_)) throw e;
      report(e.message);
      return;
    }
    const P = fragAddr + fx.offset;
    const end = fragAddr + fx.endOffset;
    const write = (value: bigint, pcrel: boolean) => {
      if (!fitsField(value, fx.size, pcrel || fx.signed)) {
        const msg = pcrel ? `value of ${value} too large for field of ${fx.size} byte${fx.size > 1 ? 's' : ''} at 0x${P.toString(16)}` : `value 0x${BigInt.asUintN(64, value).toString(16)} truncated to 0x${BigInt.asUintN(fx.size * 8, value).toString(16)}`;
        if (fx.data && !pcrel) this.report('warning', msg, fx.loc);
        else report(pcrel && fx.size === 1 ? `${msg} (a short jump or loop target out of range?)` : msg);
      }
      if (sec.type !== SHT_NOBITS) writeLittleEndian(out, P, value, fx.size);
    };
    const isLabel = (s: Sym | undefined) => s?.def?.kind === 'label';
    const reloc = (target: Sym | undefined, addend: bigint, pcrel: boolean) => {
      // x86-64 branches to undefined, weak or global symbols, without an addend, use
      // R_X86_64_PLT32 (gas need_plt32_p; `call foo+4` stays R_X86_64_PC32).
      const plt = fx.branch && v.addend === 0n && target !== undefined && (!isLabel(target) || target.binding === 'global' || target.binding === 'weak');
      const d = target?.def;
      if (target && d?.kind === 'label' && (target.temporary || (target.binding !== 'global' && target.binding !== 'weak'))) {
        addend += BigInt(this.labelAddress(target));
        target = d.section.sym;
      }
      const type = this.relocType(fx.size, pcrel, fx.signed, plt);
      if (type === undefined) {
        report(`cannot represent a ${fx.size}-byte ${pcrel ? 'pc-relative ' : ''}relocation in ELF${this.opts.elfClass === 32 ? 32 : 64}`);
        return;
      }
      relocs.push({ offset: P, type, sym: target, addend });
      if (this.opts.elfClass === 32 && sec.type !== SHT_NOBITS) writeLittleEndian(out, P, addend, fx.size); // REL: addend in place
    };
    if (v.sub) {
      // `sym - label`: pc-relative data (`.long foo - .`) when the label is in this section.
      if (!fx.pcrel && v.sub.def?.kind === 'label' && v.sub.def.section === sec) {
        const toP = BigInt(P - this.labelAddress(v.sub));
        if (v.add && isLabel(v.add) && v.add.def!.kind === 'label' && (v.add.def as { section: Section }).section === sec) write(BigInt(this.labelAddress(v.add)) + v.addend - BigInt(this.labelAddress(v.sub)), false);
        else reloc(v.add, v.addend + toP, true);
        return;
      }
      report(`can't resolve \`${v.add?.name ?? '0'}' - \`${v.sub.name}' (symbols in different sections or undefined)`);
      return;
    }
    if (!fx.pcrel) {
      if (!v.add) write(v.addend, false);
      else reloc(v.add, v.addend, false);
      return;
    }
    const t = v.add;
    if (t && t.def?.kind === 'label' && t.def.section === sec && t.binding !== 'weak' && !(fx.preemptible && t.binding === 'global')) {
      write(BigInt(this.labelAddress(t)) + v.addend - BigInt(end), true);
      return;
    }
    reloc(t, v.addend - BigInt(fx.endOffset - fx.offset), true);
  }

  private relocType(size: 1 | 2 | 4 | 8, pcrel: boolean, signed: boolean, plt: boolean): number | undefined {
    if (this.opts.elfClass === 32) {
      if (size === 8) return undefined;
      return { 1: pcrel ? R_386.PC8 : R_386._8, 2: pcrel ? R_386.PC16 : R_386._16, 4: pcrel ? R_386.PC32 : R_386._32 }[size];
    }
    switch (size) {
      case 8: return pcrel ? R_X86_64.PC64 : R_X86_64._64;
      case 4: return pcrel ? (plt ? R_X86_64.PLT32 : R_X86_64.PC32) : signed ? R_X86_64._32S : R_X86_64._32;
      case 2: return pcrel ? R_X86_64.PC16 : R_X86_64._16;
      default: return pcrel ? R_X86_64.PC8 : R_X86_64._8;
    }
  }
}

interface PendingReloc {
  readonly offset: number;
  readonly type: number;
  readonly sym?: Sym;
  readonly addend: bigint;
}

/** The directive a statement starts with (after any labels), lower-cased, if it is one. */
function directiveAtStart(st: Statement): string | undefined {
  return DIRECTIVE_AT_START.exec(st.text)?.[1]?.toLowerCase();
}

/** Macro and repeat bodies may produce `;`-joined statements after substitution. */
function splitAgain(stmts: readonly Statement[]): Statement[] {
  const out: Statement[] = [];
  for (const s of stmts) {
    if (!s.text.includes(';') && !s.text.includes('#')) out.push(s);
    else for (const p of splitStatements([{ text: s.text, file: s.file, line: s.line }])) out.push({ ...p, col: s.col + p.col - 1 });
  }
  return out;
}

function addAddend(v: ExprValue<Sym>, a: bigint): ExprValue<Sym> {
  return a === 0n ? v : { ...v, addend: BigInt.asIntN(64, v.addend + a) };
}

function tokenText(t: Token): string {
  switch (t.k) {
    case 'id': case 'op': return `\`${t.s}'`;
    case 'reg': return `\`%${t.s}'`;
    case 'num': return `\`${t.v}'`;
    case 'lref': return `\`${t.n}${t.dir}'`;
    case 'str': return 'a string';
  }
}

function littleEndian(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = BigInt.asUintN(64, v);
  for (let i = 0; i < size; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** Store the low `size` bytes of `v` (two's complement) at out[at..]. */
function writeLittleEndian(out: Uint8Array, at: number, v: bigint, size: number): void {
  if (size <= 4) {
    let x = Number(BigInt.asUintN(32, v));
    for (let i = 0; i < size; i++, x >>>= 8) out[at + i] = x & 0xff;
    return;
  }
  out.set(littleEndian(v, size), at);
}

/** Unsigned LEB128: 7 bits a byte, low first, bit 7 set on all but the last. */
function uleb128(v: bigint): number[] {
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v !== 0n ? b | 0x80 : b);
  } while (v !== 0n);
  return out;
}

/** Signed LEB128: as unsigned, ending once the rest is the sign extension of the last byte's bit 6. */
function sleb128(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

function fitsField(v: bigint, size: number, signed: boolean): boolean {
  if (size === 8) return true;
  const bits = BigInt(size * 8);
  const min = -(1n << (bits - 1n));
  const max = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  return v >= min && v <= max;
}

function truncate(v: bigint, size: number, loc: SourceLoc, warn: (m: string, l: SourceLoc) => void): bigint {
  if (!fitsField(v, size, false)) warn(`value 0x${BigInt.asUintN(64, v).toString(16)} truncated to 0x${BigInt.asUintN(size * 8, v).toString(16)}`, loc);
  return v;
}

/** Flags and type GNU as gives a section it knows by name (gas `obj-elf.c` special sections). */
export function defaultSectionAttributes(name: string): { type: number; flags: number } {
  const is = (base: string) => name === base || name.startsWith(`${base}.`);
  if (is('.text')) return { type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_EXECINSTR };
  if (is('.data') || is('.data1')) return { type: SHT_PROGBITS, flags: SHF_ALLOC | SHF_WRITE };
  if (is('.bss')) return { type: SHT_NOBITS, flags: SHF_ALLOC | SHF_WRITE };
  if (is('.rodata') || is('.rodata1')) return { type: SHT_PROGBITS, flags: SHF_ALLOC };
  if (is('.note')) return { type: SHT_NOTE, flags: 0 };
  return { type: SHT_PROGBITS, flags: 0 };
}
