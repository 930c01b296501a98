// The assembler's output and the linker's input: an ELF relocatable object in memory.
import type { CodeMode } from './ast';

export interface ObjSection {
  readonly name: string;
  /** SHT_PROGBITS, SHT_NOBITS (.bss), SHT_NOTE, ... (ELF gABI values). */
  readonly type: number;
  /** SHF_* bits (ELF gABI): 1 write, 2 alloc, 4 exec, 0x10 merge, 0x20 strings. */
  readonly flags: number;
  /** Contents; empty for SHT_NOBITS sections, whose length is `size`. */
  readonly bytes: Uint8Array;
  readonly size: number;
  readonly alignment: number;
  readonly relocations: readonly Relocation[];
}

export type SymbolBinding = 'local' | 'global' | 'weak';
export type SymbolType = 'notype' | 'object' | 'func' | 'section' | 'file';

export interface ObjSymbol {
  readonly name: string;
  /** Index into `sections`, or 'abs' (an `.equ` constant) / 'undef' (defined elsewhere). */
  readonly section: number | 'abs' | 'undef';
  readonly value: bigint;
  readonly binding: SymbolBinding;
  readonly type: SymbolType;
  readonly size: bigint;
  /** The `.codeNN` in effect where a label was defined (lets the linker pick ELF32 for a .code32 entry). */
  readonly mode?: CodeMode;
}

export interface Relocation {
  readonly offset: number;
  /** R_X86_64_* (ELF64 objects) or R_386_* (ELF32 objects). */
  readonly type: number;
  /** Index into `symbols`; undefined for a relocation against no symbol (an absolute target). */
  readonly symbol?: number;
  readonly addend: bigint;
}

export interface ObjectFile {
  readonly elfClass: 32 | 64;
  readonly sections: readonly ObjSection[];
  readonly symbols: readonly ObjSymbol[];
}
