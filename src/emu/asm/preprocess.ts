// The C-preprocessor subset `.S` files go through before GNU as sees them (gcc -E with
// -x assembler-with-cpp): #include "..." / <...>, object- and function-like #define (with
// # and ##), #undef, #if/#ifdef/#ifndef/#elif/#else/#endif with constant expressions and
// `defined`, #error/#warning, and -D/-I from the command line. Each output line keeps the
// file:line it came from so the assembler's errors point at the user's source.
//
// As in cpp's assembler mode, `$` is not part of identifiers (so `$FOO` expands FOO), lines
// starting with `#` that are not directives (`# comment`) pass through untouched for as,
// and a `'` opens a character literal that ends at the next `'` or at the end of the line.
import { dirnameOf, joinPath, type Diagnostic } from './diagnostic';

export interface PreprocessOptions {
  readonly file: string;
  /** -D NAME=VALUE (an empty value means `-D NAME`, i.e. defined as 1). */
  readonly defines?: Readonly<Record<string, string>>;
  readonly includeDirs?: readonly string[];
  readonly readFile?: (path: string) => string | Uint8Array | undefined;
}

export interface SourceLine {
  readonly text: string;
  readonly file: string;
  /** 1-based line in `file` where this (logical) line starts. */
  readonly line: number;
}

export interface PreprocessResult {
  readonly lines: SourceLine[];
  readonly diagnostics: Diagnostic[];
}

interface Macro {
  readonly params?: readonly string[];
  readonly variadic: boolean;
  readonly body: string;
}

interface CondFrame {
  /** Some branch of this #if chain has already been taken. */
  taken: boolean;
  /** Lines in the current branch are kept. */
  active: boolean;
  /** The enclosing region was active. */
  readonly parentActive: boolean;
  seenElse: boolean;
  readonly line: number;
}

const MAX_INCLUDE_DEPTH = 64;

/** Splits text into logical lines: backslash-newline splicing and comment removal (cpp phases 2-3). */
export function logicalLines(source: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let line = 1;
  let cur = '';
  let start = 1;
  let inBlock = false;
  const n = source.length;
  let i = 0;
  while (i < n) {
    const c = source[i];
    if (c === '\\' && (source[i + 1] === '\n' || (source[i + 1] === '\r' && source[i + 2] === '\n'))) {
      i += source[i + 1] === '\n' ? 2 : 3;
      line++;
      continue;
    }
    if (c === '\n') {
      if (!inBlock) {
        out.push({ text: cur.endsWith('\r') ? cur.slice(0, -1) : cur, line: start });
        cur = '';
        start = line + 1;
      }
      line++;
      i++;
      continue;
    }
    if (inBlock) {
      if (c === '*' && source[i + 1] === '/') {
        inBlock = false;
        cur += ' ';
        i += 2;
      } else i++;
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      inBlock = true;
      i += 2;
      continue;
    }
    if (c === '/' && source[i + 1] === '/') {
      while (i < n && source[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      // A literal runs to its closing quote or the end of the line (cpp is lenient in asm mode).
      let j = i + 1;
      while (j < n && source[j] !== '\n' && source[j] !== c) j += source[j] === '\\' && source[j + 1] !== '\n' ? 2 : 1;
      if (j < n && source[j] === c) j++;
      cur += source.slice(i, j);
      i = j;
      continue;
    }
    cur += c;
    i++;
  }
  if (cur !== '' || inBlock) out.push({ text: cur, line: start });
  return out;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_]/;

type PpToken = { kind: 'id' | 'num' | 'str' | 'ws' | 'other'; text: string };

function ppTokens(text: string): PpToken[] {
  const toks: PpToken[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      let j = i + 1;
      while (j < n && /[ \t\r\f\v]/.test(text[j])) j++;
      toks.push({ kind: 'ws', text: text.slice(i, j) });
      i = j;
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < n && IDENT_CHAR.test(text[j])) j++;
      toks.push({ kind: 'id', text: text.slice(i, j) });
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      // pp-number: digits, letters, dots, exponent signs (so `1f`, `0x1F` stay whole).
      let j = i + 1;
      while (j < n && (/[A-Za-z0-9_.]/.test(text[j]) || ((text[j] === '+' || text[j] === '-') && /[eEpP]/.test(text[j - 1])))) j++;
      toks.push({ kind: 'num', text: text.slice(i, j) });
      i = j;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      j = Math.min(n, j + 1);
      toks.push({ kind: 'str', text: text.slice(i, j) });
      i = j;
    } else if (c === '#' && text[i + 1] === '#') {
      toks.push({ kind: 'other', text: '##' });
      i += 2;
    } else {
      toks.push({ kind: 'other', text: c });
      i++;
    }
  }
  return toks;
}

class PreprocessError extends Error {}

export function preprocess(source: string, opts: PreprocessOptions): PreprocessResult {
  const macros = new Map<string, Macro>();
  const diagnostics: Diagnostic[] = [];
  const lines: SourceLine[] = [];
  for (const [name, value] of Object.entries(opts.defines ?? {})) {
    macros.set(name, { variadic: false, body: value === '' ? '1' : value });
  }

  const error = (file: string, line: number, col: number, message: string, severity: 'error' | 'warning' = 'error') =>
    diagnostics.push({ file, line, col, message, severity });

  // ---- macro expansion -------------------------------------------------------------

  const expand = (text: string, disabled: ReadonlySet<string>): string => {
    const toks = ppTokens(text);
    let out = '';
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.kind !== 'id' || disabled.has(t.text)) {
        out += t.text;
        continue;
      }
      const m = macros.get(t.text);
      if (!m) {
        out += t.text;
        continue;
      }
      const inner = new Set(disabled).add(t.text);
      if (!m.params) {
        out += expand(m.body, inner);
        continue;
      }
      let j = i + 1;
      while (j < toks.length && toks[j].kind === 'ws') j++;
      if (j >= toks.length || toks[j].text !== '(') {
        out += t.text; // a function-like macro name without arguments is not an invocation
        continue;
      }
      const args: string[] = [];
      let depth = 0;
      let cur = '';
      j++;
      for (; j < toks.length; j++) {
        const x = toks[j].text;
        if (x === '(') depth++;
        if (x === ')') {
          if (depth === 0) break;
          depth--;
        }
        if (x === ',' && depth === 0 && !(m.variadic && args.length >= m.params.length - 1)) {
          args.push(cur.trim());
          cur = '';
          continue;
        }
        cur += x;
      }
      if (j >= toks.length) throw new PreprocessError(`unterminated argument list invoking macro "${t.text}"`);
      args.push(cur.trim());
      if (m.params.length === 0 && args.length === 1 && args[0] === '') args.pop();
      if (args.length !== m.params.length && !(m.variadic && args.length === m.params.length - 1)) {
        throw new PreprocessError(`macro "${t.text}" requires ${m.params.length} arguments, but ${args.length} given`);
      }
      out += expand(substitute(m, args, disabled), inner);
      i = j;
    }
    return out;
  };

  /** Replaces parameters in a function-like macro body: `#p` stringizes, `a ## b` pastes. */
  const substitute = (m: Macro, args: string[], disabled: ReadonlySet<string>): string => {
    const params = m.params ?? [];
    const argOf = (name: string): string | undefined => {
      const k = params.indexOf(name);
      if (k >= 0) return args[k] ?? '';
      return undefined;
    };
    const body = ppTokens(m.body);
    const pieces: { text: string; raw: boolean }[] = [];
    for (let i = 0; i < body.length; i++) {
      const t = body[i];
      if (t.text === '#' && !m.params?.includes('#')) {
        let j = i + 1;
        while (j < body.length && body[j].kind === 'ws') j++;
        const a = j < body.length ? argOf(body[j].text) : undefined;
        if (a !== undefined) {
          pieces.push({ text: JSON.stringify(a), raw: true });
          i = j;
          continue;
        }
      }
      const a = t.kind === 'id' ? argOf(t.text) : undefined;
      pieces.push(a !== undefined ? { text: a, raw: false } : { text: t.text, raw: true });
    }
    // Token pasting: drop whitespace around ## and join neighbours unexpanded.
    let out = '';
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i];
      if (p.text === '##' && p.raw) {
        out = out.replace(/\s+$/, '');
        i++;
        while (i < pieces.length && pieces[i].raw && /^\s+$/.test(pieces[i].text)) i++;
        if (i < pieces.length) out += pieces[i].text;
        continue;
      }
      const nextIsPaste = pieces.slice(i + 1).find((q) => !(q.raw && /^\s+$/.test(q.text)))?.text === '##';
      out += p.raw || nextIsPaste ? p.text : expand(p.text, disabled);
    }
    return out;
  };

  // ---- #if expressions ---------------------------------------------------------------

  const evalCondition = (text: string): boolean => {
    // `defined X` / `defined(X)` are resolved before macro expansion (C11 6.10.1).
    const withDefined = text.replace(/\bdefined\s*(\(\s*([A-Za-z_]\w*)\s*\)|([A-Za-z_]\w*))/g, (_m, _a, p1, p2) =>
      macros.has(p1 ?? p2) ? ' 1 ' : ' 0 ',
    );
    const expanded = expand(withDefined, new Set());
    return new CondExpr(expanded).evaluate() !== 0n;
  };

  // ---- directives and files --------------------------------------------------------

  const readSource = (path: string): string | undefined => {
    const data = opts.readFile?.(path);
    if (data === undefined) return undefined;
    return typeof data === 'string' ? data : new TextDecoder().decode(data);
  };

  const processFile = (text: string, file: string, depth: number): void => {
    const conds: CondFrame[] = [];
    const active = () => conds.length === 0 || conds[conds.length - 1].active;
    for (const { text: raw, line } of logicalLines(text)) {
      const m = /^\s*#\s*([A-Za-z_]\w*)?(.*)$/.exec(raw);
      const name = m?.[1];
      const rest = (m?.[2] ?? '').trim();
      const col = (m ? raw.indexOf('#') : raw.length - raw.trimStart().length) + 1;
      try {
        if (m && name !== undefined && ['if', 'ifdef', 'ifndef'].includes(name)) {
          const parentActive = active();
          let cond = false;
          // An #if whose expression is in error still opens a (false) group, as in cpp.
          const frame: CondFrame = { taken: false, active: false, parentActive, seenElse: false, line };
          conds.push(frame);
          if (parentActive) {
            if (name === 'if') cond = evalCondition(rest);
            else {
              const id = /^([A-Za-z_]\w*)/.exec(rest)?.[1];
              if (!id) throw new PreprocessError(`no macro name given in #${name} directive`);
              cond = macros.has(id) === (name === 'ifdef');
            }
          }
          frame.taken = cond;
          frame.active = parentActive && cond;
          continue;
        }
        if (m && (name === 'elif' || name === 'else' || name === 'endif')) {
          const top = conds[conds.length - 1];
          if (!top) throw new PreprocessError(`#${name} without #if`);
          if (name === 'endif') conds.pop();
          else if (top.seenElse) throw new PreprocessError(`#${name} after #else`);
          else if (name === 'else') {
            top.seenElse = true;
            top.active = top.parentActive && !top.taken;
            top.taken = true;
          } else {
            const cond = top.parentActive && !top.taken && evalCondition(rest);
            top.active = cond;
            top.taken ||= cond;
          }
          continue;
        }
        if (!active()) continue;
        if (m && name === 'define') {
          const d = /^([A-Za-z_]\w*)(\(([^)]*)\))?\s*(.*)$/.exec(rest);
          if (!d) throw new PreprocessError('macro names must be identifiers');
          let params: string[] | undefined;
          let variadic = false;
          if (d[2] !== undefined) {
            params = d[3].split(',').map((p) => p.trim()).filter((p) => p !== '');
            if (params.length && params[params.length - 1] === '...') {
              variadic = true;
              params[params.length - 1] = '__VA_ARGS__';
            }
            for (const p of params) if (!/^[A-Za-z_]\w*$/.test(p)) throw new PreprocessError(`invalid macro parameter "${p}"`);
          }
          macros.set(d[1], { params, variadic, body: d[4].trim() });
          continue;
        }
        if (m && name === 'undef') {
          const id = /^([A-Za-z_]\w*)/.exec(rest)?.[1];
          if (!id) throw new PreprocessError('no macro name given in #undef directive');
          macros.delete(id);
          continue;
        }
        if (m && name === 'include') {
          const spec = /^"([^"]+)"|^<([^>]+)>/.exec(rest) ?? /^"([^"]+)"|^<([^>]+)>/.exec(expand(rest, new Set()).trim());
          if (!spec) throw new PreprocessError('#include expects "FILENAME" or <FILENAME>');
          if (depth >= MAX_INCLUDE_DEPTH) throw new PreprocessError('#include nested too deeply');
          const rel = spec[1] ?? spec[2];
          const dirs = [...(spec[1] !== undefined ? [dirnameOf(file)] : []), ...(opts.includeDirs ?? [])];
          let found = false;
          for (const dir of rel.startsWith('/') ? [''] : dirs) {
            const path = joinPath(dir, rel);
            const content = readSource(path);
            if (content !== undefined) {
              processFile(content, path, depth + 1);
              found = true;
              break;
            }
          }
          if (!found) throw new PreprocessError(`${rel}: No such file or directory`);
          continue;
        }
        if (m && (name === 'error' || name === 'warning')) {
          error(file, line, col, `#${name} ${rest}`, name === 'error' ? 'error' : 'warning');
          continue;
        }
        if (m && (name === 'pragma' || name === 'line' || name === 'ident')) continue;
        // Not a directive: `# comment` lines and line markers go through untouched for as.
        lines.push({ text: m ? raw : expand(raw, new Set()), file, line });
      } catch (e) {
        if (!(e instanceof PreprocessError)) throw e;
        error(file, line, col, e.message);
      }
    }
    for (const c of conds) error(file, c.line, 1, 'unterminated conditional directive');
  };

  processFile(source, opts.file, 0);
  return { lines, diagnostics };
}

/** Integer constant expressions of #if (C11 6.10.1): 64-bit signed arithmetic. */
class CondExpr {
  private readonly toks: string[];
  private pos = 0;

  constructor(text: string) {
    this.toks = text.match(/0[xX][0-9A-Fa-f]+[uUlL]*|\d+[uUlL]*|'(\\.|[^'])+'|[A-Za-z_]\w*|<<|>>|<=|>=|==|!=|&&|\|\||\S/g) ?? [];
  }

  evaluate(): bigint {
    if (this.toks.length === 0) throw new PreprocessError('#if with no expression');
    const v = this.ternary();
    if (this.pos < this.toks.length) throw new PreprocessError(`missing binary operator before token "${this.toks[this.pos]}"`);
    return v;
  }

  private peek(): string | undefined {
    return this.toks[this.pos];
  }

  private ternary(): bigint {
    const c = this.binary(0);
    if (this.peek() !== '?') return c;
    this.pos++;
    const a = this.ternary();
    if (this.toks[this.pos++] !== ':') throw new PreprocessError("expected ':' in #if expression");
    const b = this.ternary();
    return c !== 0n ? a : b;
  }

  private static readonly LEVELS: readonly (readonly string[])[] = [
    ['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '>', '<=', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%'],
  ];

  private binary(level: number): bigint {
    if (level >= CondExpr.LEVELS.length) return this.unary();
    let v = this.binary(level + 1);
    for (;;) {
      const op = this.peek();
      if (op === undefined || !CondExpr.LEVELS[level].includes(op)) return v;
      this.pos++;
      const r = this.binary(level + 1);
      v = BigInt.asIntN(64, applyBinary(op, v, r));
    }
  }

  private unary(): bigint {
    const t = this.toks[this.pos++];
    if (t === undefined) throw new PreprocessError('#if expression ends unexpectedly');
    if (t === '-') return BigInt.asIntN(64, -this.unary());
    if (t === '+') return this.unary();
    if (t === '~') return BigInt.asIntN(64, ~this.unary());
    if (t === '!') return this.unary() === 0n ? 1n : 0n;
    if (t === '(') {
      const v = this.ternary();
      if (this.toks[this.pos++] !== ')') throw new PreprocessError("missing ')' in #if expression");
      return v;
    }
    if (/^\d/.test(t)) {
      const digits = t.replace(/[uUlL]+$/, '');
      return BigInt.asIntN(64, BigInt(/^0[0-7]+$/.test(digits) ? `0o${digits.slice(1)}` : digits));
    }
    if (t.startsWith("'")) return BigInt(unescapeChar(t.slice(1, -1)));
    // Identifiers left after macro expansion are 0 (C11 6.10.1p4).
    if (/^[A-Za-z_]/.test(t)) return 0n;
    throw new PreprocessError(`token "${t}" is not valid in preprocessor expressions`);
  }
}

function applyBinary(op: string, a: bigint, b: bigint): bigint {
  switch (op) {
    case '||': return a !== 0n || b !== 0n ? 1n : 0n;
    case '&&': return a !== 0n && b !== 0n ? 1n : 0n;
    case '|': return a | b;
    case '^': return a ^ b;
    case '&': return a & b;
    case '==': return a === b ? 1n : 0n;
    case '!=': return a !== b ? 1n : 0n;
    case '<': return a < b ? 1n : 0n;
    case '>': return a > b ? 1n : 0n;
    case '<=': return a <= b ? 1n : 0n;
    case '>=': return a >= b ? 1n : 0n;
    case '<<': return a << (b & 63n);
    case '>>': return a >> (b & 63n);
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    default:
      if (b === 0n) throw new PreprocessError('division by zero in #if');
      return op === '/' ? a / b : a % b;
  }
}

function unescapeChar(s: string): number {
  if (!s.startsWith('\\')) return s.charCodeAt(0);
  const simple: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11 };
  if (s[1] === 'x') return parseInt(s.slice(2), 16);
  if (/^[0-7]+$/.test(s.slice(1))) return parseInt(s.slice(1), 8);
  return simple[s[1]] ?? s.charCodeAt(1);
}
