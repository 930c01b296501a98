// Located messages shared by the preprocessor, the assembler and the linker: GNU tools
// print `file:line:col: message`, and so do we.

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/** Where a piece of text came from in the user's sources (1-based line and column). */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

/** Minimal POSIX path helpers so src/emu needs no `node:path` (it also runs in web workers). */
export function dirnameOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
}

/** `dir/rel` with `.` and `..` segments folded (`a/../lib/x.h` -> `lib/x.h`). */
export function joinPath(dir: string, rel: string): string {
  const joined = rel.startsWith('/') || dir === '' || dir === '.' ? rel : `${dir}/${rel}`;
  const abs = joined.startsWith('/');
  const out: string[] = [];
  for (const part of joined.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (part === '..' && abs) continue;
    else out.push(part);
  }
  return (abs ? '/' : '') + out.join('/');
}
