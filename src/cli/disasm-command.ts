// `vmx-lab disasm FILE [--base ADDR] [--start ADDR] [--stop ADDR] [--mode 16|32|64]`
// ELF files: every executable section, as `objdump -d` prints them. Anything else (with
// --base): the raw bytes loaded at ADDR, as `objdump -b binary -m i386:x86-64 -D`.
import type { CodeMode } from '../emu/asm/ast';
import { objdumpListing, type ListingSection, type ListingSymbol } from '../emu/asm/listing';
import { ElfError, isElf, parseElf, sectionData, SHF_EXECINSTR, SHT_NOBITS, STB_GLOBAL, STT_FILE, STT_FUNC, STT_OBJECT, STT_SECTION } from '../emu/loader/elf';
import { parseAddress, parseArgs, UsageError } from './args';
import { CliError, type CliIo } from './io';

export const DISASM_USAGE = `usage: vmx-lab disasm FILE [--base ADDR] [--start ADDR] [--stop ADDR] [--mode 16|32|64]
  ELF files: every executable section, as objdump -d prints them.
  Other files: raw bytes loaded at --base ADDR (required), as objdump -b binary -D.
  --start/--stop  disassemble only addresses in [start, stop)
  --mode          16, 32 or 64-bit code (default: from the ELF class; 64 for raw files)`;

export function disasmCommand(argv: readonly string[], io: CliIo): number {
  const args = parseArgs(argv, {
    '--base': { value: true }, '--start': { value: true }, '--stop': { value: true }, '--mode': { value: true },
    '--help': { value: false }, '-h': { value: false },
  });
  if (args.options.has('--help') || args.options.has('-h')) {
    io.stdout(`${DISASM_USAGE}\n`);
    return 0;
  }
  if (args.positional.length !== 1) throw new UsageError('disasm: give exactly one FILE');
  const file = args.positional[0];
  const addr = (name: string) => (args.options.has(name) ? parseAddress(args.options.get(name)![0], name) : undefined);
  const base = addr('--base');
  const start = addr('--start');
  const stop = addr('--stop');
  const modeText = args.options.get('--mode')?.[0];
  if (modeText !== undefined && !['16', '32', '64'].includes(modeText)) throw new UsageError(`disasm: --mode must be 16, 32 or 64, not \`${modeText}'`);
  const forced = modeText === undefined ? undefined : (Number(modeText) as CodeMode);
  const data = io.readFile(file);
  if (data === undefined) throw new CliError(`${file}: cannot read file`);

  if (!isElf(data)) {
    if (base === undefined) throw new CliError(`${file}: not an ELF file (to disassemble it as raw bytes, give the load address with --base ADDR)`);
    const mode = forced ?? 64;
    io.stdout(objdumpListing({
      fileName: file, format: 'binary', addressDigits: mode === 64 ? 16 : 8, mode, start, stop,
      sections: [{ name: '.data', address: base, bytes: data }], symbols: [],
    }));
    return 0;
  }
  let elf;
  try {
    elf = parseElf(data);
  } catch (e) {
    if (e instanceof ElfError) throw new CliError(`${file}: ${e.message}`);
    throw e;
  }
  const mode = forced ?? (elf.elfClass === 64 ? 64 : 32);
  const sections: ListingSection[] = elf.sections
    .filter((s) => (s.flags & SHF_EXECINSTR) !== 0 && s.type !== SHT_NOBITS && s.size > 0)
    .map((s) => ({ name: s.name, address: s.addr + (base ?? 0n), bytes: sectionData(elf, s) }));
  const symbols: ListingSymbol[] = elf.symbols
    .filter((s) => s.type !== STT_SECTION && s.type !== STT_FILE && s.shndx !== 0 && s.name !== '')
    .map((s) => ({
      name: s.name, value: s.value + (base ?? 0n), section: elf.sections[s.shndx]?.name,
      func: s.type === STT_FUNC, object: s.type === STT_OBJECT, global: s.binding === STB_GLOBAL,
    }));
  io.stdout(objdumpListing({
    fileName: file, format: elf.elfClass === 64 ? 'elf64-x86-64' : 'elf32-i386', addressDigits: elf.elfClass === 64 ? 16 : 8,
    mode, sections, symbols, start, stop,
  }));
  return 0;
}
