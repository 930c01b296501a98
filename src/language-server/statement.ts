// Just enough lexing of one source line for hover and completion: which word the cursor is
// on and what role it plays (the mnemonic or directive at the head of a statement, a
// register, or something in an operand). The assembler proper reports the real errors; this
// only has to be right for lines the user is in the middle of typing.
import { PREFIX_WORDS } from '../emu/asm/parser';

export type WordRole = 'directive' | 'mnemonic' | 'prefix' | 'register' | 'operand';

export interface WordAt {
  readonly role: WordRole;
  /** The word as written, with its leading `.` or `%`. */
  readonly text: string;
  /** Start and end character offsets in the line. */
  readonly start: number;
  readonly end: number;
}

const WORD = /[%.]?[A-Za-z_][\w.$]*|[0-9]\w*/y;
const LABEL = /\s*(?:[A-Za-z_.$][\w.$]*|[0-9]+)\s*:(?!:)/y;

/** Where the code of `line` ends: at a `#` comment outside strings and character constants. */
export function codeEnd(line: string): number {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "'") i++;
    else if (c === '#') return i;
  }
  return line.length;
}

/** Start of the statement containing `character`: after the last `;` before it, outside strings. */
function statementStart(line: string, character: number): number {
  let start = 0;
  let inString = false;
  for (let i = 0; i < character && i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === ';') start = i + 1;
  }
  return start;
}

/** Offset of the head word (mnemonic, prefix or directive) of the statement starting at `from`. */
function headStart(line: string, from: number): number {
  let at = from;
  for (;;) {
    LABEL.lastIndex = at;
    if (!LABEL.exec(line)) break;
    at = LABEL.lastIndex;
  }
  while (at < line.length && (line[at] === ' ' || line[at] === '\t')) at++;
  return at;
}

/** The word under (or just before) the cursor at `character`, with its role; undefined in comments, strings and blanks. */
export function wordAt(line: string, character: number): WordAt | undefined {
  if (character > codeEnd(line)) return undefined;
  let at = headStart(line, statementStart(line, character));
  let head = true;
  while (at < line.length) {
    WORD.lastIndex = at;
    const m = WORD.exec(line);
    if (!m) {
      // Not a word here: a separator; what follows is no longer the head of the statement
      // unless we are still only past blanks.
      if (line[at] !== ' ' && line[at] !== '\t') head = false;
      at++;
      continue;
    }
    const start = at;
    const end = WORD.lastIndex;
    const text = m[0];
    const role = roleOf(text, head && !isAssignment(line, end));
    if (character >= start && character <= end) return { role, text, start, end };
    if (role !== 'prefix') head = false;
    at = end;
  }
  return undefined;
}

/** True when the cursor is in the head word of its statement, where a mnemonic or directive goes. */
export function atStatementHead(line: string, character: number): boolean {
  const from = headStart(line, statementStart(line, character));
  if (character < from) return false;
  const between = line.slice(from, character);
  // Only prefixes and the partial word itself may precede the cursor.
  const words = between.split(/[ \t]+/);
  return words.slice(0, -1).every((w) => PREFIX_WORDS.has(w.toLowerCase())) && /^[.\w]*$/.test(words[words.length - 1]);
}

function isAssignment(line: string, end: number): boolean {
  return /^\s*=(?!=)/.test(line.slice(end));
}

function roleOf(text: string, head: boolean): WordRole {
  if (text.startsWith('%')) return 'register';
  if (!head) return 'operand';
  if (text.startsWith('.')) return 'directive';
  return PREFIX_WORDS.has(text.toLowerCase()) ? 'prefix' : 'mnemonic';
}
