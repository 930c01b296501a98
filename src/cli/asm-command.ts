// `vmx-lab asm FILE... -o OUT [--base ADDR] [--format elf|bin] [-D NAME[=VAL]] [-I DIR] [--entry SYM] [-c]`
// Assembles each file (.S through the C preprocessor), links them as `ld -Ttext=BASE`
// would (or, with -c, writes the single file's relocatable object), and writes OUT.
import { assemble } from '../emu/asm/assembler';
import { formatDiagnostic } from '../emu/asm/diagnostic';
import { writeObject } from '../emu/asm/elf-writer';
import { link } from '../emu/asm/linker';
import type { ObjectFile } from '../emu/asm/object';
import { parseAddress, parseArgs, UsageError } from './args';
import { CliError, type CliIo } from './io';

export const DEFAULT_BASE = 0x100000n;

export const ASM_USAGE = `usage: vmx-lab asm FILE... -o OUT [--base ADDR] [--format elf|bin] [-D NAME[=VAL]] [-I DIR] [--entry SYM] [-c]
  --base ADDR     address of .text (as ld -Ttext=ADDR; default 0x100000)
  --format F      elf (executable, default) or bin (raw memory image from the lowest address)
  -D NAME[=VAL]   define a preprocessor macro for .S files
  -I DIR          add a directory to the #include / .include search path
  --entry SYM     entry symbol (default _start)
  -c              write the relocatable object of the single FILE instead of linking`;

export interface AssembledFiles {
  readonly objects: ObjectFile[];
  readonly names: string[];
}

/** Assembles every file, printing all diagnostics; throws CliError if any had errors. */
export function assembleFiles(files: readonly string[], io: CliIo, defines: Record<string, string>, includeDirs: string[]): AssembledFiles {
  const objects: ObjectFile[] = [];
  let errors = 0;
  for (const file of files) {
    const data = io.readFile(file);
    if (data === undefined) throw new CliError(`${file}: cannot read file`);
    const res = assemble(new TextDecoder().decode(data), { file, defines, includeDirs, readFile: (p) => io.readFile(p) });
    for (const d of res.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
    errors += res.diagnostics.filter((d) => d.severity === 'error').length;
    objects.push(res.object);
  }
  if (errors > 0) throw new CliError(`${errors} error${errors > 1 ? 's' : ''}; nothing written`);
  return { objects, names: [...files] };
}

export function asmCommand(argv: readonly string[], io: CliIo): number {
  const args = parseArgs(argv, {
    '-o': { value: true }, '--base': { value: true }, '--format': { value: true }, '-D': { value: true, repeat: true },
    '-I': { value: true, repeat: true }, '--entry': { value: true }, '-c': { value: false }, '--help': { value: false }, '-h': { value: false },
  });
  if (args.options.has('--help') || args.options.has('-h')) {
    io.stdout(`${ASM_USAGE}\n`);
    return 0;
  }
  const files = args.positional;
  if (files.length === 0) throw new UsageError('asm: no input files');
  const out = args.options.get('-o')?.[0];
  if (out === undefined) throw new UsageError('asm: missing -o OUT');
  const format = args.options.get('--format')?.[0] ?? 'elf';
  if (format !== 'elf' && format !== 'bin') throw new UsageError(`asm: --format must be elf or bin, not \`${format}'`);
  const base = args.options.has('--base') ? parseAddress(args.options.get('--base')![0], '--base') : DEFAULT_BASE;
  const defines: Record<string, string> = {};
  for (const d of args.options.get('-D') ?? []) {
    const eq = d.indexOf('=');
    const name = eq < 0 ? d : d.slice(0, eq);
    if (!/^[A-Za-z_]\w*$/.test(name)) throw new UsageError(`-D: invalid macro name \`${name}'`);
    defines[name] = eq < 0 ? '1' : d.slice(eq + 1);
  }
  const { objects, names } = assembleFiles(files, io, defines, args.options.get('-I') ?? []);
  if (args.options.has('-c')) {
    if (objects.length !== 1) throw new UsageError('asm -c: give exactly one input file');
    io.writeFile(out, writeObject(objects[0]), false);
    return 0;
  }
  const res = link(objects, { base, entry: args.options.get('--entry')?.[0], format, names });
  for (const w of res.warnings) io.stderr(`vmx-lab: warning: ${w}\n`);
  for (const e of res.errors) io.stderr(`vmx-lab: ${e}\n`);
  if (!res.output) throw new CliError(`link failed with ${res.errors.length} error${res.errors.length > 1 ? 's' : ''}; nothing written`);
  io.writeFile(out, res.output, format === 'elf');
  return 0;
}
