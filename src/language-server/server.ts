// Entry point of dist/language-server.js: the LSP server for VMX Lab's assembly language.
// The extension starts it over IPC; `--stdio` works too (tests and other editors use it).
// Each feature lives in its own module; this file only wires them to the connection.
import { readFileSync } from 'node:fs';
import {
  createConnection,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { completionsAt } from './completion';
import { diagnoseDocument } from './diagnostics';
import { hoverAt } from './hover';
import { pathOf } from './uris';

/** How long typing must pause before the document is assembled again. */
const DEBOUNCE_MS = 200;

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const pending = new Map<string, NodeJS.Timeout>();
/** For each validated document, the paths of the files it included (so editing a header re-checks its users). */
const includesOf = new Map<string, Set<string>>();

connection.onInitialize(
  (): InitializeResult => ({
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: true },
      hoverProvider: true,
      completionProvider: { triggerCharacters: ['.', '%'] },
    },
    serverInfo: { name: 'vmx-lab-asm' },
  }),
);

/** Includes come from the open editor when there is one (unsaved edits count), else from disk. */
function readFile(path: string): string | Uint8Array | undefined {
  // Compared as paths: VS Code and node's pathToFileURL do not percent-encode URIs alike.
  const open = documents.all().find((d) => pathOf(d.uri) === path);
  if (open) return open.getText();
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function validate(document: TextDocument): void {
  const uri = document.uri;
  const included = new Set<string>();
  const tracking = (path: string) => {
    included.add(path);
    return readFile(path);
  };
  let diagnostics;
  try {
    diagnostics = diagnoseDocument(pathOf(uri), document.getText(), tracking);
  } catch (e) {
    // An assembler bug must not take the server down; say what happened where the user looks.
    const message = `VMX Lab's assembler failed on this file (please report it): ${e instanceof Error ? e.message : String(e)}`;
    diagnostics = [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, message, source: 'vmx-lab' }];
  }
  includesOf.set(uri, included);
  void connection.sendDiagnostics({ uri, diagnostics });
}

function schedule(uri: string, delay: number): void {
  clearTimeout(pending.get(uri));
  pending.set(
    uri,
    setTimeout(() => {
      pending.delete(uri);
      const document = documents.get(uri);
      if (document) validate(document);
    }, delay),
  );
}

// TextDocuments reports an opened document as changed too: check it at once the first time,
// then after a pause in typing; documents that include it are checked again as well.
documents.onDidChangeContent(({ document }) => {
  schedule(document.uri, includesOf.has(document.uri) ? DEBOUNCE_MS : 0);
  for (const [other, included] of includesOf) {
    if (included.has(pathOf(document.uri))) schedule(other, DEBOUNCE_MS);
  }
});
documents.onDidSave(({ document }) => schedule(document.uri, 0));
documents.onDidClose(({ document }) => {
  clearTimeout(pending.get(document.uri));
  pending.delete(document.uri);
  includesOf.delete(document.uri);
  void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
});

connection.onHover(({ textDocument, position }) => {
  const document = documents.get(textDocument.uri);
  return document ? hoverAt(lineOf(document, position.line), position) : null;
});

connection.onCompletion(({ textDocument, position }) => {
  const document = documents.get(textDocument.uri);
  return document ? completionsAt(document.getText(), lineOf(document, position.line), position.character) : [];
});

function lineOf(document: TextDocument, line: number): string {
  return document.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } }).replace(/\r?\n$/, '');
}

documents.listen(connection);
connection.listen();
