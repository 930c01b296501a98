// GNU as (x86 ELF) lexical rules: `#` starts a comment anywhere, `/` does at the start of a
// line, `/* */` comments may span lines, `;` separates statements, identifiers are made of
// letters, digits, `_`, `.` and `$`, and `'c` is a character constant (a closing quote is
// optional).
import type { SourceLine } from './preprocess';

export interface Statement {
  readonly text: string;
  readonly file: string;
  readonly line: number;
  /** 1-based column of text[0] in the original line. */
  readonly col: number;
}

export type Token =
  | { readonly k: 'id'; readonly s: string; readonly col: number }
  | { readonly k: 'reg'; readonly s: string; readonly col: number }
  | { readonly k: 'num'; readonly v: bigint; readonly col: number }
  | { readonly k: 'lref'; readonly n: string; readonly dir: 'f' | 'b'; readonly col: number }
  | { readonly k: 'str'; readonly bytes: readonly number[]; readonly col: number }
  | { readonly k: 'op'; readonly s: string; readonly col: number };

export class SyntaxError_ extends Error {
  constructor(message: string, readonly col: number) {
    super(message);
  }
}

/** Removes comments and splits lines into `;`-separated statements (strings respected). */
export function splitStatements(lines: readonly SourceLine[]): Statement[] {
  const out: Statement[] = [];
  let inBlock = false;
  for (const { text, file, line } of lines) {
    let cur = '';
    let start = -1;
    const flush = () => {
      if (start >= 0 && cur.trim() !== '') {
        const lead = cur.length - cur.trimStart().length;
        out.push({ text: cur.trim(), file, line, col: start + lead + 1 });
      }
      cur = '';
      start = -1;
    };
    // Fast path: most lines have no quotes, comments or `;`.
    if (!inBlock && !/["'/#;]/.test(text)) {
      const t = text.trim();
      if (t !== '') out.push({ text: t, file, line, col: text.length - text.trimStart().length + 1 });
      continue;
    }
    const n = text.length;
    let i = 0;
    if (!inBlock) {
      const first = text.trimStart();
      if (first.startsWith('/') && !first.startsWith('/*')) continue;
    }
    while (i < n) {
      const c = text[i];
      if (inBlock) {
        if (c === '*' && text[i + 1] === '/') {
          inBlock = false;
          i += 2;
          if (start >= 0) cur += ' ';
        } else i++;
        continue;
      }
      if (c === '/' && text[i + 1] === '*') {
        inBlock = true;
        i += 2;
        continue;
      }
      if (c === '#') break;
      if (c === ';') {
        flush();
        i++;
        continue;
      }
      if (start < 0) start = i;
      if (c === '"') {
        let j = i + 1;
        while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        j = Math.min(n, j + 1);
        cur += text.slice(i, j);
        i = j;
        continue;
      }
      if (c === "'") {
        // 'c, '\n, '\\ and optionally a closing quote.
        let j = i + 1;
        if (text[j] === '\\') j += 2;
        else if (j < n) j++;
        if (text[j] === "'") j++;
        cur += text.slice(i, Math.min(j, n));
        i = j;
        continue;
      }
      cur += c;
      i++;
    }
    flush();
  }
  return out;
}

// Character classes by code (the tokenizer runs once per statement: keep it cheap).
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isDigit = (c: number) => c >= 48 && c <= 57;
/** Letters, `_`, `.`, `$` start a symbol. */
const isIdentStart = (c: number) => isLetter(c) || c === 95 || c === 46 || c === 36;
const isIdentChar = (c: number) => isIdentStart(c) || isDigit(c);
const OPS3 = ['<<=', '>>='];
const OPS2 = ['<<', '>>', '<=', '>=', '==', '!=', '<>', '&&', '||'];
/** First characters of OPS3/OPS2 (`<`, `>`, `=`, `!`, `&`, `|`): other operators are one character. */
const MULTI_CHAR_OP_START: ReadonlySet<number> = new Set([60, 62, 61, 33, 38, 124]);

export function tokenize(text: string, col0 = 1): Token[] {
  const toks: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text[i];
    const code = text.charCodeAt(i);
    const col = col0 + i;
    if (code === 32 || code === 9 || code === 13 || code === 12 || code === 11) {
      i++;
      continue;
    }
    if (code === 37 /* % */ && i + 1 < n && isIdentStart(text.charCodeAt(i + 1)) && text[i + 1] !== '$') {
      let j = i + 1;
      while (j < n && (isLetter(text.charCodeAt(j)) || isDigit(text.charCodeAt(j)) || text[j] === '_' || text[j] === '.')) j++;
      toks.push({ k: 'reg', s: text.slice(i + 1, j).toLowerCase(), col });
      i = j;
      continue;
    }
    if (isDigit(code)) {
      let j = i;
      while (j < n && (isLetter(text.charCodeAt(j)) || isDigit(text.charCodeAt(j)) || text[j] === '_')) j++;
      const word = text.slice(i, j);
      toks.push(numberToken(word, col));
      i = j;
      continue;
    }
    if (isIdentStart(code) && c !== '$') {
      let j = i + 1;
      while (j < n && isIdentChar(text.charCodeAt(j))) j++;
      toks.push({ k: 'id', s: text.slice(i, j), col });
      i = j;
      continue;
    }
    if (c === '"') {
      const bytes: number[] = [];
      let j = i + 1;
      while (j < n && text[j] !== '"') {
        if (text[j] === '\\') {
          const r = readEscape(text, j + 1, col0);
          bytes.push(r.value & 0xff);
          j = r.end;
        } else {
          const cp = text.codePointAt(j) ?? 0;
          for (const b of new TextEncoder().encode(String.fromCodePoint(cp))) bytes.push(b);
          j += cp > 0xffff ? 2 : 1;
        }
      }
      if (j >= n) throw new SyntaxError_('missing closing `"\'', col);
      toks.push({ k: 'str', bytes, col });
      i = j + 1;
      continue;
    }
    if (c === "'") {
      if (i + 1 >= n) throw new SyntaxError_('missing character after `\'\'', col);
      let value: number;
      let j: number;
      if (text[i + 1] === '\\') {
        const r = readEscape(text, i + 2, col0);
        value = r.value;
        j = r.end;
      } else {
        const cp = text.codePointAt(i + 1) ?? 0;
        value = cp;
        j = i + 1 + (cp > 0xffff ? 2 : 1);
      }
      if (text[j] === "'") j++;
      toks.push({ k: 'num', v: BigInt(value), col });
      i = j;
      continue;
    }
    const op = MULTI_CHAR_OP_START.has(code) ? OPS3.find((o) => text.startsWith(o, i)) ?? OPS2.find((o) => text.startsWith(o, i)) ?? c : c;
    toks.push({ k: 'op', s: op, col });
    i += op.length;
  }
  return toks;
}

function numberToken(word: string, col: number): Token {
  // Fast paths for the common spellings: short decimals and hex constants.
  if (word.length < 16 && isDecimal(word)) return { k: 'num', v: BigInt(word), col };
  if (word.length > 2 && word.length <= 18 && word.charCodeAt(0) === 48 && (word.charCodeAt(1) | 0x20) === 120 && isHexDigits(word, 2)) {
    return { k: 'num', v: BigInt(word), col };
  }
  const lref = /^(\d+)([fb])$/.exec(word);
  if (lref && !/^0b[01]+$/i.test(word)) return { k: 'lref', n: String(Number(lref[1])), dir: lref[2] as 'f' | 'b', col };
  let m: RegExpExecArray | null;
  let v: bigint;
  if ((m = /^0[xX]([0-9A-Fa-f]+)$/.exec(word))) v = BigInt(`0x${m[1]}`);
  else if ((m = /^0[bB]([01]+)$/.exec(word))) v = BigInt(`0b${m[1]}`);
  else if (/^0[0-7]*$/.test(word)) v = word.length > 1 ? BigInt(`0o${word.slice(1)}`) : 0n;
  else if (/^[1-9][0-9]*$/.test(word)) v = BigInt(word);
  else throw new SyntaxError_(`invalid number \`${word}'`, col);
  return { k: 'num', v: BigInt.asUintN(64, v), col };
}

/** `0`, or digits without a leading zero (a leading 0 means octal). */
function isDecimal(w: string): boolean {
  if (w === '0') return true;
  if (w.charCodeAt(0) === 48) return false;
  for (let i = 0; i < w.length; i++) if (!isDigit(w.charCodeAt(i))) return false;
  return true;
}

function isHexDigits(w: string, from: number): boolean {
  for (let i = from; i < w.length; i++) {
    const c = w.charCodeAt(i) | 0x20;
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** Backslash escapes in strings and character constants (as `\n \t \b \f \r \\ \" \ooo \xHH`). */
function readEscape(text: string, i: number, col0: number): { value: number; end: number } {
  const c = text[i];
  if (c === undefined) throw new SyntaxError_('backslash at end of line', col0 + i - 1);
  const simple: Record<string, number> = { n: 10, t: 9, b: 8, f: 12, r: 13, v: 11, a: 7, e: 27 };
  if (c in simple) return { value: simple[c], end: i + 1 };
  if (/[0-7]/.test(c)) {
    let j = i;
    let v = 0;
    while (j < i + 3 && /[0-7]/.test(text[j] ?? '')) v = v * 8 + Number(text[j++]);
    return { value: v, end: j };
  }
  if (c === 'x' || c === 'X') {
    let j = i + 1;
    let v = 0;
    while (/[0-9A-Fa-f]/.test(text[j] ?? '')) v = (v * 16 + parseInt(text[j++], 16)) & 0xff;
    return { value: v, end: j };
  }
  return { value: c.charCodeAt(0), end: i + 1 };
}
