// Completion: mnemonics (from the instruction table), prefixes and directives at the head
// of a statement; registers (from the register table) and the document's own symbols in
// operands.
import { CompletionItemKind, MarkupKind, type CompletionItem } from 'vscode-languageserver';
import { REGISTERS } from '../emu/cpu/isa/registers';
import { DIRECTIVE_DOCS } from './directives';
import { directiveHover, mnemonicHover, registerHover } from './hover';
import { allMnemonics, formsOf, formText } from './mnemonics';
import { PREFIX_WORDS } from '../emu/asm/parser';
import { atStatementHead } from './statement';

const markdown = (value: string | undefined) => (value ? { kind: MarkupKind.Markdown, value } : undefined);

const MNEMONIC_ITEMS: readonly CompletionItem[] = allMnemonics().map((name) => ({
  label: name,
  kind: CompletionItemKind.Keyword,
  detail: formText(formsOf(name)[0]),
  documentation: markdown(mnemonicHover(name)),
}));

const PREFIX_ITEMS: readonly CompletionItem[] = [...PREFIX_WORDS].map((name) => ({
  label: name,
  kind: CompletionItemKind.Keyword,
  detail: 'instruction prefix',
}));

const DIRECTIVE_ITEMS: readonly CompletionItem[] = [...DIRECTIVE_DOCS.values()].map((d) => ({
  label: `.${d.name}`,
  kind: CompletionItemKind.Function,
  detail: d.syntax,
  documentation: markdown(directiveHover(d.name)),
}));

const REGISTER_ITEMS: readonly CompletionItem[] = [...REGISTERS.keys()].map((name) => ({
  label: `%${name}`,
  kind: CompletionItemKind.Variable,
  documentation: markdown(registerHover(name)),
}));

/** Labels (`name:`) and assigned symbols (`name = expr`, `.equ/.set name, expr`) defined in `text`. */
export function definedSymbols(text: string): string[] {
  const names = new Set<string>();
  const patterns = [
    /^[ \t]*([A-Za-z_.$][\w.$]*)[ \t]*:(?!:)/gm,
    /^[ \t]*([A-Za-z_.$][\w.$]*)[ \t]*=(?!=)/gm,
    /^[ \t]*\.(?:equ|set)[ \t]+([A-Za-z_.$][\w.$]*)/gm,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) names.add(m[1]);
  return [...names];
}

export function completionsAt(text: string, line: string, character: number): CompletionItem[] {
  const before = line.slice(0, character);
  if (atStatementHead(line, character)) {
    if (/(^|[\s;:])\.[\w]*$/.test(before)) return [...DIRECTIVE_ITEMS];
    return [...MNEMONIC_ITEMS, ...PREFIX_ITEMS, ...DIRECTIVE_ITEMS];
  }
  if (/%\w*$/.test(before)) return [...REGISTER_ITEMS];
  const symbols = definedSymbols(text).map((name): CompletionItem => ({ label: name, kind: CompletionItemKind.Reference }));
  return [...REGISTER_ITEMS, ...symbols];
}
