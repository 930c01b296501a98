// GNU as text macros: `.macro name params` ... `.endm`, and the repeat blocks `.rept`,
// `.irp`, `.irpc` (gas `macro.c`). Expansion is textual: `\param` is replaced by the
// argument, `\()` separates a parameter from following text, `\@` is the number of macros
// expanded so far.
import type { Statement } from './lexer';
import { SyntaxError_ } from './lexer';

export interface MacroParam {
  readonly name: string;
  readonly defaultValue?: string;
  readonly required: boolean;
  readonly vararg: boolean;
}

export interface MacroDef {
  readonly name: string;
  readonly params: readonly MacroParam[];
  readonly body: readonly Statement[];
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

const OPERATOR_EDGE = /^[-+*/%|&^<>=!~]|[-+*/%|&^<>=!~(,]$/;

/**
 * Macro arguments as gas reads them: separated by commas, or by blanks when a piece has no
 * operator joining its words (`m a b` is two arguments, `m a + b` one).
 */
export function splitMacroArgs(text: string): string[] {
  const pieces: string[] = [];
  for (const part of splitTopLevel(text)) {
    const words = splitTopLevel(part.replace(/\s+/g, ' '), ' ').filter((w) => w !== '');
    if (words.length > 1 && !words.some((w) => OPERATOR_EDGE.test(w))) pieces.push(...words);
    else pieces.push(part);
  }
  return pieces;
}

/** `name a, b=1, c:req, d:vararg` (commas or blanks between parameters). */
export function parseMacroHeader(text: string, col: number, body: readonly Statement[]): MacroDef {
  const m = /^([A-Za-z_.$][\w.$]*)\s*,?\s*(.*)$/.exec(text.trim());
  if (!m) throw new SyntaxError_('expected a macro name after .macro', col);
  const params: MacroParam[] = [];
  const spec = m[2].replace(/\s*=\s*/g, '=');
  for (const p of spec === '' ? [] : splitMacroArgs(spec)) {
    const pm = /^([A-Za-z_][\w$]*)(?::(req|vararg))?(?:=(.*))?$/.exec(p);
    if (!pm) throw new SyntaxError_(`bad macro parameter \`${p}'`, col);
    params.push({ name: pm[1], required: pm[2] === 'req', vararg: pm[2] === 'vararg', defaultValue: pm[3] !== undefined ? unquote(pm[3]) : undefined });
  }
  return { name: m[1], params, body };
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** Binds invocation arguments (positional or `name=value`) to the macro's parameters. */
export function bindMacroArgs(def: MacroDef, argText: string, col: number): Map<string, string> {
  const values = new Map<string, string>();
  const args = argText.trim() === '' ? [] : splitMacroArgs(argText);
  let pos = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const kw = /^([A-Za-z_][\w$]*)\s*=(.*)$/.exec(a);
    if (kw && def.params.some((p) => p.name === kw[1])) {
      values.set(kw[1], unquote(kw[2].trim()));
      continue;
    }
    const p = def.params[pos++];
    if (!p) throw new SyntaxError_(`too many arguments for macro \`${def.name}'`, col);
    if (p.vararg) {
      values.set(p.name, args.slice(i).join(','));
      break;
    }
    values.set(p.name, unquote(a));
  }
  for (const p of def.params) {
    if (values.has(p.name) && values.get(p.name) !== '') continue;
    if (p.required) throw new SyntaxError_(`missing value for required parameter \`${p.name}' of macro \`${def.name}'`, col);
    values.set(p.name, p.defaultValue ?? '');
  }
  return values;
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
    const m = /^[A-Za-z_][\w$]*/.exec(text.slice(i + 1));
    if (m && values.has(m[0])) {
      out += values.get(m[0]);
      i += m[0].length;
      continue;
    }
    out += c;
  }
  return out;
}
