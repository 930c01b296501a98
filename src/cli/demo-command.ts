// `vmx-lab demo`: the README's one-command tour for now — assemble and link the bundled
// guest (guests/hello/hello.S) in memory and print its disassembly, objdump style.
import { link } from '../emu/asm/linker';
import { objdumpListing } from '../emu/asm/listing';
import { parseElf, sectionData, SHF_EXECINSTR, STB_GLOBAL, STT_FUNC, STT_OBJECT } from '../emu/loader/elf';
import { assembleFiles, DEFAULT_BASE } from './asm-command';
import { CliError, type CliIo } from './io';

export function demoCommand(argv: readonly string[], io: CliIo): number {
  if (argv.length > 0) throw new CliError(`demo takes no arguments (got ${argv.join(' ')})`);
  const dir = `${io.guestsDir}/hello`;
  const file = `${dir}/hello.S`;
  const { objects, names } = assembleFiles([file], io, {}, [dir]);
  const res = link(objects, { base: DEFAULT_BASE, format: 'elf', names });
  for (const e of res.errors) io.stderr(`vmx-lab: ${e}\n`);
  if (!res.output) throw new CliError('linking the demo guest failed');
  const elf = parseElf(res.output);
  io.stdout(`Assembled and linked ${file}: ELF${res.elfClass}, entry 0x${res.entry.toString(16)}\n`);
  for (const s of res.sections) io.stdout(`  ${s.name.padEnd(10)} 0x${s.address.toString(16).padStart(8, '0')}  ${s.size} bytes${s.nobits ? ' (zero-filled)' : ''}\n`);
  io.stdout(objdumpListing({
    fileName: 'hello.elf', format: elf.elfClass === 64 ? 'elf64-x86-64' : 'elf32-i386', addressDigits: elf.elfClass === 64 ? 16 : 8,
    mode: elf.elfClass === 64 ? 64 : 32,
    sections: elf.sections.filter((s) => s.flags & SHF_EXECINSTR).map((s) => ({ name: s.name, address: s.addr, bytes: sectionData(elf, s) })),
    symbols: elf.symbols.filter((s) => s.shndx !== 0 && s.name !== '' && s.type <= STT_FUNC).map((s) => ({
      name: s.name, value: s.value, section: elf.sections[s.shndx]?.name, func: s.type === STT_FUNC, object: s.type === STT_OBJECT, global: s.binding === STB_GLOBAL,
    })),
  }));
  return 0;
}
