// Document URIs <-> file paths. The assembler works on paths (its diagnostics name files);
// LSP speaks URIs. Untitled documents have no path: their URI stands in for one.
import { fileURLToPath, pathToFileURL } from 'node:url';

export function pathOf(uri: string): string {
  return uri.startsWith('file:') ? fileURLToPath(uri) : uri;
}

export function uriOf(path: string): string {
  return path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) ? pathToFileURL(path).href : path;
}
