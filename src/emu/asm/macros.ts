// GNU as text macros: `.macro name params` ... `.endm`, and the repeat blocks `.rept`,
// `.irp`, `.irpc` (gas `macro.c`). Expansion is textual: `\param` is replaced by the
// argument, `\()` separates a parameter from following text, `\@` is the number of macros
// expanded so far.
//
// Where one argument ends is decided in two steps, as gas does it. First its input
// scrubber (`app.c`) squeezes the blanks out of the operand text, keeping a blank only
// between two "symbol characters" (for x86 that is letters, digits, `_ . $` and the extra
// `* % - ( [ { }`), or before a quote or a backslash. Then the argument scanner splits at
// the blanks that survived and at commas, except for blanks inside () or []. So
// `m 0x100 -2` passes two arguments, `m 0x100 + 2` one, and `m 0x100 - 2` three.
import type { Statement } from './lexer';
import { SyntaxError_ } from './lexer';

export interface MacroParam {
  readonly name: string;
  readonly defaultValue?: string;
  readonly required: boolean;
  readonly vararg: boolean;
}

export interface MacroDef {
  /** As written in `.macro`; macros are looked up by `macroKey(name)`. */
  readonly name: string;
  readonly params: readonly MacroParam[];
  readonly body: readonly Statement[];
}

/** gas keeps macro names case-insensitively (`macro.c` lower-cases them on definition and lookup). */
export function macroKey(name: string): string {
  return name.toLowerCase();
}

/** Splits at top-level commas (outside quotes and parentheses); trims each piece. */
export function splitTopLevel(text: string, sep = ','): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      cur += text.slice(i, j + 1);
      i = j;
      continue;
    }
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === sep && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim() !== '' || out.length > 0) out.push(cur.trim());
  return out;
}

// ---- the scrubber's view of operand text ------------------------------------------------

/** Characters of a symbol for gas's scrubber on x86: `symbol_chars` plus tc-i386's `extra_symbol_chars`. */
const SCRUB_SYMBOL = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.$*%-([{}') SCRUB_SYMBOL[c.charCodeAt(0)] = 1;
const isScrubSymbolChar = (c: string): boolean => SCRUB_SYMBOL[c.charCodeAt(0)] === 1;

const isBlank = (c: string | undefined) => c === ' ' || c === '\t';
/** Symbol names: letters, `_`, `.`, `$`, then digits too. */
const isNameStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 36;
const isNameChar = (c: number) => isNameStart(c) || (c >= 48 && c <= 57);

/** Operand text after gas's scrubber, with the source column of every kept character. */
interface Scrubbed {
  readonly text: string;
  readonly cols: readonly number[];
}

/** `process_escape` in app.c: the value of `'\c`. */
function charConstantEscape(c: string): number {
  const map: Record<string, number> = { b: 8, f: 12, n: 10, r: 13, t: 9 };
  return map[c] ?? c.charCodeAt(0);
}

/**
 * The operand part of a line as gas's scrubber leaves it (`do_scrub_chars`, from the state
 * "into operands"): blanks dropped unless between two symbol characters or before a quote
 * or backslash, strings kept whole, and `'c` turned into its decimal value.
 */
export function scrubOperands(text: string, col0: number): Scrubbed {
  let out = '';
  const cols: number[] = [];
  const put = (s: string, col: number) => {
    for (const ch of s) {
      out += ch;
      cols.push(col);
    }
  };
  // afterSymbol: the last kept character was a symbol character; pendingBlank: blanks followed it.
  let afterSymbol = false;
  let pendingBlank = -1;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text[i];
    if (isBlank(c)) {
      if (afterSymbol && pendingBlank < 0) pendingBlank = i;
      continue;
    }
    const keepBlank = pendingBlank >= 0 && (isScrubSymbolChar(c) || c === '"' || c === "'" || c === '\\');
    if (keepBlank) put(' ', col0 + pendingBlank);
    pendingBlank = -1;
    if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      j = Math.min(n, j + 1);
      for (let k = i; k < j; k++) put(text[k], col0 + k);
      i = j - 1;
      afterSymbol = true;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      let value = 0;
      if (text[j] === '\\' && j + 1 < n) {
        value = charConstantEscape(text[j + 1]);
        j += 2;
      } else if (j < n) value = text.charCodeAt(j++);
      if (text[j] === "'") j++;
      put(String(value & 0xff), col0 + i);
      i = j - 1;
      afterSymbol = false;
      continue;
    }
    put(c, col0 + i);
    afterSymbol = isScrubSymbolChar(c);
  }
  return { text: out, cols };
}

// ---- gas's argument scanner (macro.c get_any_string, get_token, sb_skip_comma) ----------

class ArgScanner {
  idx = 0;
  constructor(readonly s: Scrubbed, private readonly endCol: number) {}

  get text(): string {
    return this.s.text;
  }

  atEnd(): boolean {
    return this.idx >= this.s.text.length;
  }

  col(at = this.idx): number {
    return at < this.s.cols.length ? this.s.cols[at] : this.endCol;
  }

  skipBlanks(): void {
    while (isBlank(this.text[this.idx])) this.idx++;
  }

  /** Blanks, at most one comma, blanks. */
  skipComma(): void {
    this.skipBlanks();
    if (this.text[this.idx] === ',') {
      this.idx++;
      this.skipBlanks();
    }
  }

  /** A name at the cursor (gas `get_token`), or '' without moving. */
  token(): string {
    const t = this.text;
    const start = this.idx;
    if (start >= t.length || !isNameStart(t.charCodeAt(start))) return '';
    let i = start + 1;
    while (i < t.length && isNameChar(t.charCodeAt(i))) i++;
    this.idx = i;
    return t.slice(start, i);
  }

  /**
   * One argument (gas `get_any_string`): a quoted string (quotes removed, `""` is a quote),
   * or everything up to a blank outside () and [], or a comma.
   */
  anyString(): string {
    this.skipBlanks();
    const t = this.text;
    let out = '';
    if (t[this.idx] === '"') {
      while (t[this.idx] === '"') {
        this.idx++;
        while (this.idx < t.length) {
          const c = t[this.idx];
          if (c === '\\' && this.idx + 1 < t.length) {
            out += c + t[this.idx + 1];
            this.idx += 2;
            continue;
          }
          if (c === '"') {
            this.idx++;
            if (t[this.idx] !== '"') break;
          }
          out += t[this.idx++];
        }
      }
      return out;
    }
    const brackets: string[] = [];
    while (this.idx < t.length) {
      const c = t[this.idx];
      if ((brackets.length === 0 && isBlank(c)) || c === ',') break;
      if (c === '"' || c === "'") {
        const close = t.indexOf(c, this.idx + 1);
        const end = close < 0 ? t.length : close + 1;
        out += t.slice(this.idx, end);
        this.idx = end;
        continue;
      }
      if (c === '(' || c === '[') brackets.push(c);
      else if ((c === ')' && brackets[brackets.length - 1] === '(') || (c === ']' && brackets[brackets.length - 1] === '[')) brackets.pop();
      out += c;
      this.idx++;
    }
    return out;
  }
}

/** The values of `.irp name, a, b c` (after the name) as gas's argument scanner splits them. */
export function splitIrpValues(text: string): string[] {
  const sc = new ArgScanner(scrubOperands(text, 1), text.length + 1);
  sc.skipComma();
  const out: string[] = [];
  while (!sc.atEnd()) {
    out.push(sc.anyString());
    sc.skipComma();
  }
  return out;
}

/** The characters `.irpc name, chars` iterates over: quotes group, blanks outside quotes are skipped. */
export function splitIrpcChars(text: string): string[] {
  const t = scrubOperands(text, 1).text.replace(/^[ \t]*,?[ \t]*/, '');
  const out: string[] = [];
  let quoted = false;
  for (const c of t) {
    if (c === '"') quoted = !quoted;
    else if (quoted || !isBlank(c)) out.push(c);
  }
  return out;
}

/** `.irp`/`.irpc` header: the parameter name, then the rest. */
export function splitRepeatHeader(text: string): { name: string; rest: string } {
  const m = /^\s*([A-Za-z_.$][\w.$]*)(.*)$/s.exec(text);
  return m ? { name: m[1], rest: m[2] } : { name: '', rest: text };
}

/** `name a, b=1, c:req, d:vararg` (commas or blanks between parameters), as gas `do_formals` reads it. */
export function parseMacroHeader(text: string, col: number, body: readonly Statement[]): MacroDef {
  const sc = new ArgScanner(scrubOperands(text, col), col + text.length);
  sc.skipBlanks();
  const name = sc.token();
  if (name === '') throw new SyntaxError_('Missing macro name', col);
  sc.skipComma();
  const params: MacroParam[] = [];
  while (!sc.atEnd()) {
    const at = sc.col();
    const pname = sc.token();
    if (pname === '') throw new SyntaxError_(`Bad parameter list for macro \`${name}'`, at);
    sc.skipBlanks();
    let qual: string | undefined;
    if (sc.text[sc.idx] === ':') {
      sc.idx++;
      sc.skipBlanks();
      qual = sc.token();
      if (qual !== 'req' && qual !== 'vararg') {
        throw new SyntaxError_(qual === '' ? `Missing parameter qualifier for \`${pname}' in macro \`${name}'` : `\`${qual}' is not a valid parameter qualifier for \`${pname}' in macro \`${name}'`, at);
      }
      sc.skipBlanks();
    }
    let defaultValue: string | undefined;
    if (sc.text[sc.idx] === '=') {
      sc.idx++;
      defaultValue = sc.anyString();
      sc.skipBlanks();
    }
    if (params.some((p) => p.name === pname)) throw new SyntaxError_(`A parameter named \`${pname}' already exists for macro \`${name}'`, at);
    params.push({ name: pname, required: qual === 'req', vararg: qual === 'vararg', defaultValue: qual === 'req' ? undefined : defaultValue });
    if (qual === 'vararg') break;
    sc.skipComma();
  }
  if (!sc.atEnd()) throw new SyntaxError_(`Bad parameter list for macro \`${name}'`, sc.col());
  return { name, params, body };
}

/** A located complaint about a macro invocation. */
export interface MacroArgProblem {
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly col: number;
}

export interface BoundArgs {
  /** Undefined when gas would not expand the macro at all. */
  readonly values?: Map<string, string>;
  readonly problems: MacroArgProblem[];
}

/**
 * Binds invocation arguments (positional, then `name=value`) to the macro's parameters as
 * gas `macro_expand` does. Too many positional arguments, or a positional argument after a
 * keyword one, stop the expansion (no values); other problems are reported and the macro is
 * still expanded. `col0` is the source column of argText[0].
 */
export function bindMacroArgs(def: MacroDef, argText: string, col0: number): BoundArgs {
  const sc = new ArgScanner(scrubOperands(argText, col0), col0 + argText.length);
  const values = new Map<string, string>();
  const problems: MacroArgProblem[] = [];
  let next = 0;
  let sawKeyword = false;
  sc.skipBlanks();
  while (!sc.atEnd()) {
    const start = sc.idx;
    const at = sc.col();
    const name = sc.token();
    if (name !== '' && sc.text[sc.idx] === '=') {
      sawKeyword = true;
      sc.idx++;
      const p = def.params.find((q) => q.name === name);
      const value = sc.anyString();
      if (!p) problems.push({ severity: 'error', message: `Parameter named \`${name}' does not exist for macro \`${macroKey(def.name)}'`, col: at });
      else {
        if (values.has(p.name)) problems.push({ severity: 'warning', message: `Value for parameter \`${p.name}' of macro \`${macroKey(def.name)}' was already specified`, col: at });
        values.set(p.name, value);
      }
    } else {
      sc.idx = start;
      const p = def.params[next++];
      if (sawKeyword || !p) {
        problems.push({ severity: 'error', message: sawKeyword ? "can't mix positional and keyword arguments" : 'too many positional arguments', col: at });
        return { problems };
      }
      if (p.vararg) {
        values.set(p.name, sc.text.slice(sc.idx));
        sc.idx = sc.text.length;
      } else values.set(p.name, sc.anyString());
    }
    sc.skipComma();
  }
  for (const p of def.params) {
    if (values.has(p.name) && values.get(p.name) !== '') continue;
    if (p.required) problems.push({ severity: 'error', message: `Missing value for required parameter \`${p.name}' of macro \`${macroKey(def.name)}'`, col: col0 });
    values.set(p.name, p.defaultValue ?? '');
  }
  return { values, problems };
}

/** Replaces `\name`, `\()` and `\@` in one line of a macro or repeat body. */
export function substituteParams(text: string, values: ReadonlyMap<string, string>, counter: number | undefined): string {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    if (text[i + 1] === '(' && text[i + 2] === ')') {
      i += 2;
      continue;
    }
    if (text[i + 1] === '@' && counter !== undefined) {
      out += String(counter);
      i++;
      continue;
    }
    let j = i + 1;
    if (j < text.length && isNameStart(text.charCodeAt(j)) && text[j] !== '.' && text[j] !== '$') {
      j++;
      while (j < text.length && isNameChar(text.charCodeAt(j)) && text[j] !== '.') j++;
      const name = text.slice(i + 1, j);
      const v = values.get(name);
      if (v !== undefined) {
        out += v;
        i = j - 1;
        continue;
      }
    }
    out += c;
  }
  return out;
}
