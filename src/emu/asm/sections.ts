// Section contents as GNU as builds them: a chain of fragments. Fixed fragments hold bytes
// whose size is known; variable ones (relaxable branches, alignment, .org, a .space whose
// size is an expression) get their size during layout. Two labels in the same fixed
// fragment are a known distance apart while assembling; anything else waits for layout.
import type { CodeMode, Encoded, Instruction } from './ast';
import type { Expr } from './expr';
import type { SourceLoc } from './diagnostic';

/** A symbol of the assembly: label, `.equ`/`.set` expression, or still undefined. */
export interface Sym {
  readonly name: string;
  /** Temporary (`.L*`, numeric local labels, `.` markers): not written to the symbol table. */
  readonly temporary: boolean;
  def?:
    | { readonly kind: 'label'; readonly section: Section; readonly frag: FixedFrag; readonly offset: number; readonly mode: CodeMode }
    | { readonly kind: 'equ'; readonly expr: Expr; readonly loc: SourceLoc };
  binding?: 'local' | 'global' | 'weak';
  type?: 'func' | 'object' | 'notype';
  size?: { readonly expr: Expr; readonly loc: SourceLoc };
  /** `.equiv` / `==` symbols may not be redefined. */
  fixed?: boolean;
  /** Referenced from code or data (undefined referenced symbols become global undefined). */
  used?: boolean;
  /** Set while evaluating an `.equ` expression (catches `a = b; b = a`). */
  evaluating?: boolean;
}

/** The value of a field that the layout or the linker fills in. */
export type FixTarget =
  | { readonly kind: 'sym'; readonly sym: Sym; readonly addend: bigint }
  | { readonly kind: 'expr'; readonly expr: Expr };

export interface FragFixup {
  /** Offset of the field inside its fragment. */
  readonly offset: number;
  readonly size: 1 | 2 | 4 | 8;
  readonly pcrel: boolean;
  readonly signed: boolean;
  /** For pc-relative instruction fields: offset (in the fragment) of the end of the instruction. */
  readonly endOffset: number;
  readonly target: FixTarget;
  /** The target of a direct branch in 64-bit code (R_X86_64_PLT32 against global symbols, see Fixup.branch). */
  readonly branch: boolean;
  /**
   * A pc-relative instruction field other than a relaxed jmp/jcc: against a global symbol it
   * stays a relocation even when the symbol is defined in this section (the symbol may be
   * preempted at link time), as GNU as does; a relaxed jump to it is resolved here.
   */
  readonly preemptible: boolean;
  /** Data directive (.byte ...): GNU as warns instead of failing when a constant is truncated. */
  readonly data: boolean;
  readonly loc: SourceLoc;
}

export interface FixedFrag {
  readonly kind: 'fixed';
  address: number;
  bytes: Uint8Array;
  length: number;
  readonly fixups: FragFixup[];
}

export interface BranchFrag {
  readonly kind: 'branch';
  address: number;
  readonly target: Sym;
  readonly addend: bigint;
  readonly short: Encoded;
  readonly near: Encoded;
  readonly insn: Instruction;
  readonly loc: SourceLoc;
  /** Code mode of the instruction (R_X86_64_PLT32 is for 64-bit code only). */
  readonly mode: CodeMode;
  isShort: boolean;
  /** Decided after assembly: whether the target is in this section (else near + relocation). */
  relaxable: boolean;
}

export interface AlignFrag {
  readonly kind: 'align';
  address: number;
  readonly alignment: number;
  /** Fill pattern; undefined means NOPs (code sections) or zeros. */
  readonly fill?: { readonly value: bigint; readonly size: 1 | 2 | 4 };
  readonly max?: number;
  readonly code: boolean;
  readonly loc: SourceLoc;
  size: number;
}

export interface OrgFrag {
  readonly kind: 'org';
  address: number;
  readonly expr: Expr;
  readonly fill: number;
  readonly loc: SourceLoc;
  size: number;
}

export interface SpaceFrag {
  readonly kind: 'space';
  address: number;
  readonly expr: Expr;
  /** A byte value, or 'nops' for `.nops`. */
  readonly fill: number | 'nops';
  readonly loc: SourceLoc;
  size: number;
}

export type Frag = FixedFrag | BranchFrag | AlignFrag | OrgFrag | SpaceFrag;

export interface Section {
  readonly name: string;
  readonly index: number;
  type: number;
  flags: number;
  alignment: number;
  readonly frags: Frag[];
  /** The section symbol relocations against local labels refer to. */
  readonly sym: Sym;
}

export function currentFixed(s: Section): FixedFrag {
  const last = s.frags[s.frags.length - 1];
  if (last && last.kind === 'fixed') return last;
  const f: FixedFrag = { kind: 'fixed', address: 0, bytes: new Uint8Array(64), length: 0, fixups: [] };
  s.frags.push(f);
  return f;
}

export function appendBytes(f: FixedFrag, data: ArrayLike<number>): number {
  const at = f.length;
  reserve(f, data.length);
  f.bytes.set(data, at);
  f.length += data.length;
  return at;
}

export function appendFill(f: FixedFrag, count: number, value: number): void {
  reserve(f, count);
  f.bytes.fill(value & 0xff, f.length, f.length + count);
  f.length += count;
}

function reserve(f: FixedFrag, n: number): void {
  if (f.length + n <= f.bytes.length) return;
  let cap = f.bytes.length * 2;
  while (cap < f.length + n) cap *= 2;
  const b = new Uint8Array(cap);
  b.set(f.bytes.subarray(0, f.length));
  f.bytes = b;
}

export function fragSize(f: Frag): number {
  switch (f.kind) {
    case 'fixed': return f.length;
    case 'branch': return (f.isShort ? f.short : f.near).bytes.length;
    default: return f.size;
  }
}

export function alignPadding(address: number, a: AlignFrag): number {
  const pad = (a.alignment - (address % a.alignment)) % a.alignment;
  return a.max !== undefined && pad > a.max ? 0 : pad;
}
