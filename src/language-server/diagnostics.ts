// Diagnostics come from the real assembler: the language server runs `assemble()` over the
// document (with includes read from open editors or the disk) and turns its located
// messages into LSP diagnostics. No second parser decides what is an error.
import { dirname, relative } from 'node:path';
import { DiagnosticSeverity, type Diagnostic, type Range } from 'vscode-languageserver';
import { assemble } from '../emu/asm/assembler';
import type { Diagnostic as AsmDiagnostic } from '../emu/asm/diagnostic';
import { codeEnd } from './statement';
import { uriOf } from './uris';

/** Reads an included file by path: an open editor's text or the file on disk; undefined if absent. */
export type ReadFile = (path: string) => string | Uint8Array | undefined;

const SOURCE = 'vmx-lab';
const INCLUDE = /^\s*(?:\.include|#\s*include)\s+"([^"]+)"/;

/**
 * Assembles the document at `path` and returns its diagnostics. A message located in an
 * included file is shown on the document's include line, pointing at the exact place
 * through `relatedInformation`: the header may be shared by several documents, and its
 * diagnostics belong to the document being assembled.
 */
export function diagnoseDocument(path: string, text: string, readFile: ReadFile): Diagnostic[] {
  const result = assemble(text, { file: path, readFile });
  const ownLines = text.split(/\r?\n/);
  const includedLines = new Map<string, string[]>();
  const linesOf = (file: string): string[] => {
    let lines = includedLines.get(file);
    if (!lines) {
      const content = readFile(file);
      lines = content === undefined ? [] : (typeof content === 'string' ? content : new TextDecoder().decode(content)).split(/\r?\n/);
      includedLines.set(file, lines);
    }
    return lines;
  };
  return result.diagnostics.map((d) => {
    if (d.file === path) return toLsp(d, ownLines);
    const there = toLsp(d, linesOf(d.file));
    return {
      ...there,
      range: includeLineRange(ownLines, d.file),
      message: `In included file ${relative(dirname(path), d.file)}:${d.line}:${d.col}: ${d.message}`,
      relatedInformation: [{ location: { uri: uriOf(d.file), range: there.range }, message: d.message }],
    };
  });
}

/** The range an assembler message points at: the word starting at its column, else the rest of the line's code. */
export function toLsp(d: AsmDiagnostic, lines: readonly string[]): Diagnostic {
  const line = Math.max(0, d.line - 1);
  const text = lines[line] ?? '';
  const start = Math.min(Math.max(0, d.col - 1), text.length);
  const word = /^[%$.]?[\w.$]+/.exec(text.slice(start));
  let end = word ? start + word[0].length : codeEnd(text);
  while (end > start && /\s/.test(text[end - 1])) end--;
  const range: Range = { start: { line, character: start }, end: { line, character: end > start ? end : start + 1 } };
  return {
    range,
    severity: d.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
    source: SOURCE,
    message: d.message,
  };
}

/** The line of the `.include`/`#include` naming `file` (by its last path component); line 0 when not found (nested includes). */
function includeLineRange(lines: readonly string[], file: string): Range {
  const base = file.slice(file.lastIndexOf('/') + 1);
  let first: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const m = INCLUDE.exec(lines[i]);
    if (!m) continue;
    first ??= i;
    if (m[1] === base || m[1].endsWith(`/${base}`)) return wholeLine(lines, i);
  }
  return wholeLine(lines, first ?? 0);
}

function wholeLine(lines: readonly string[], line: number): Range {
  const text = lines[line] ?? '';
  const start = text.length - text.trimStart().length;
  return { start: { line, character: start }, end: { line, character: Math.max(start + 1, text.trimEnd().length) } };
}
