// Hover: a mnemonic shows its forms from the instruction table, a directive its
// documentation, a register what it is (from the register table).
import { MarkupKind, type Hover, type Position } from 'vscode-languageserver';
import { lookupRegister, type RegInfo } from '../emu/cpu/isa/registers';
import { DIRECTIVE_DOCS } from './directives';
import { encodingText, formNotes, formsOf, formText } from './mnemonics';
import { wordAt } from './statement';

export function hoverAt(line: string, position: Position): Hover | null {
  const word = wordAt(line, position.character);
  if (!word) return null;
  let markdown: string | undefined;
  switch (word.role) {
    case 'mnemonic':
      markdown = mnemonicHover(word.text);
      break;
    case 'directive':
      markdown = directiveHover(word.text.slice(1));
      break;
    case 'register':
      markdown = registerHover(word.text.slice(1));
      break;
    default:
      return null;
  }
  if (!markdown) return null;
  return {
    contents: { kind: MarkupKind.Markdown, value: markdown },
    range: { start: { line: position.line, character: word.start }, end: { line: position.line, character: word.end } },
  };
}

export function mnemonicHover(written: string): string | undefined {
  const forms = formsOf(written);
  if (forms.length === 0) return undefined;
  const width = Math.max(...forms.map((f) => encodingText(f).length));
  const rows = forms.map((f) => {
    const notes = formNotes(f);
    return `${encodingText(f).padEnd(width)}  ${formText(f)}${notes.length ? `    (${notes.join('; ')})` : ''}`;
  });
  const title = written.toLowerCase() === forms[0].mnem ? `**${forms[0].mnem}**` : `**${written.toLowerCase()}** (${forms[0].mnem})`;
  return [
    `${title}: ${forms.length} form${forms.length === 1 ? '' : 's'}, operands in AT&T order (source first); opcodes as in the Intel SDM Vol. 2`,
    '```',
    ...rows,
    '```',
  ].join('\n');
}

export function directiveHover(name: string): string | undefined {
  const doc = DIRECTIVE_DOCS.get(name.toLowerCase());
  if (!doc) return undefined;
  return [`**.${doc.name}**`, '```', doc.syntax, '```', doc.summary, '', 'Example:', '```', doc.example, '```'].join('\n');
}

const CLASS_TEXT: Readonly<Record<RegInfo['cls'], string>> = {
  gpr: 'general-purpose register',
  seg: 'segment register',
  cr: 'control register',
  dr: 'debug register',
  rip: 'instruction pointer (for RIP-relative addressing)',
  st: 'x87 stack register ST',
  xmm: 'SSE register',
};

export function registerHover(name: string): string | undefined {
  const reg = lookupRegister(name);
  if (!reg) return undefined;
  if (reg.noIndex) {
    const base = reg.size === 8 ? 'rsi' : 'esi';
    return `**%${reg.name}**: not a register: objdump's "no index" pseudo-register for ${reg.size * 8}-bit addressing, ` +
      'printed for a SIB byte whose index field is 100b without REX.X (SDM Vol. 2, Table 2-3); ' +
      `valid only as the index of a memory operand, e.g. \`lea (%${base},%${reg.name},1),%${base}\` ` +
      '(GNU as takes it after `.allow_index_reg` or with `-mindex-reg`)';
  }
  const notes: string[] = [];
  if (reg.needsRex) notes.push('needs a REX prefix (64-bit mode only)');
  if (reg.highByte) notes.push('cannot be used in an instruction that has a REX prefix');
  const what = reg.cls === 'gpr' ? `${reg.size * 8}-bit ${CLASS_TEXT.gpr} ${reg.num}` : `${CLASS_TEXT[reg.cls]}${reg.cls === 'rip' ? '' : ` ${reg.num}`}`;
  return `**%${reg.name}**: ${what}${notes.length ? `; ${notes.join('; ')}` : ''}`;
}
