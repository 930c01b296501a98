// What Mmu.explainWalk returns: a page walk that explains itself (issue 3 §4, issue 4 §7).
//
// Every paging-structure entry the walk uses is one step: which level, where it lives,
// its value and decoded flags, and what it contributed. When a nested translator (EPT)
// is attached, each step's guest-physical address carries the nested walk that
// translated it, and the final guest-physical address carries its own: the 24 memory
// accesses of a 4-level guest walk under 4-level EPT (SDM Vol. 3 §28.2.2) become visible.
// Plain data (numbers, strings, arrays), so it crosses DAP as JSON unchanged.

export type PagingModeName = 'none' | '32-bit' | 'PAE' | '4-level' | 'EPT';
/** Guest paging levels, and the EPT levels a nested translator reports (SDM §28.3.2). */
export type WalkLevel = 'PML4E' | 'PDPTE' | 'PDE' | 'PTE' | 'EPT PML4E' | 'EPT PDPTE' | 'EPT PDE' | 'EPT PTE';

/** Decoded flags of one paging-structure entry; fields the entry's format lacks are omitted. */
export interface EntryFlags {
  present: boolean;
  writable?: boolean;
  user?: boolean;
  writeThrough: boolean;
  cacheDisabled: boolean;
  accessed?: boolean;
  dirty?: boolean;
  /** PS: this entry maps a page rather than a table. */
  pageSize?: boolean;
  global?: boolean;
  /** XD (bit 63), PAE and 4-level paging only. */
  executeDisable?: boolean;
}

export interface WalkStep {
  level: WalkLevel;
  /**
   * Physical address of the entry (guest-physical under EPT). For a PAE PDPTE this is
   * where the register was loaded from: the walk itself does not read memory for it.
   */
  address: number;
  /** Host-physical address the entry was read at (differs from `address` only under EPT). */
  hostAddress: number;
  /** The EPT walk that translated `address` (only with a nested translator). */
  nested?: PageWalk;
  /** False for PAE PDPTEs, which come from the PDPTE registers loaded at MOV to CR3 (SDM §4.4.1). */
  memoryAccess: boolean;
  /** Entry value as hex: 16 digits for 8-byte entries, 8 for 32-bit paging. */
  value: string;
  lo: number;
  hi: number;
  flags: EntryFlags;
  /** Short flag list as debuggers print it, e.g. "P RW US A D G XD". */
  flagText: string;
  /** Index of the entry in its table (the linear-address bits the level consumes). */
  index: number;
  /** What this entry contributed, or why the walk stopped here, in words. */
  note: string;
}

export interface WalkFault {
  /** #PF error code (SDM §4.7). */
  errorCode: number;
  /** What CR2 receives: the linear address. */
  cr2: number;
  /** Why, in words, e.g. "PTE not present (P=0)". */
  reason: string;
}

/** What the TLB currently holds for the page (may differ from the page tables: stale). */
export interface TlbView {
  linear: number;
  physical: number;
  flags: string;
  global: boolean;
  pageSize: number;
}

export interface PageWalk {
  linear: number;
  access: number;
  cpl: number;
  mode: PagingModeName;
  steps: WalkStep[];
  ok: boolean;
  /** Translated (host-)physical address, or -1 on a fault. */
  physical: number;
  /** Guest-physical address before the final nested translation (= physical without EPT). */
  guestPhysical: number;
  /** Size of the page that maps the address (4096, 2 MiB, 4 MiB or 1 GiB); 0 on a fault. */
  pageSize: number;
  /** The nested walk of the final guest-physical address (only with a nested translator). */
  finalNested?: PageWalk;
  fault?: WalkFault;
  /** The TLB's entry for this page, if any (translate() would use it instead of walking). */
  tlb: TlbView | null;
  /** Memory accesses the walk makes, nested ones included (4 for a 4-level 4 KiB walk). */
  memoryAccesses: number;
  /** Accessed/dirty updates a real access would make, in words (explainWalk makes none). */
  updates: string[];
  /** One line: "0x401000 -> 0x20301000 (4 KiB page, 4 accesses)" or the fault. */
  summary: string;
}

/**
 * The EPT hook. Mmu routes every guest-physical address it touches through it: each
 * paging-structure entry it reads or updates (with ACC_PAGING_STRUCTURE) and the final
 * address of the access. SDM Vol. 3 §28.3.
 */
export interface NestedTranslator {
  /**
   * The host-physical address of `guestPhysical`. Must not return on failure: it raises
   * the EPT violation/misconfiguration VM exit itself (the CPU's typed control flow),
   * using `linear` for the guest-linear address field.
   */
  translate(guestPhysical: number, access: number, linear: number): number;
  /**
   * Whether the last translate() granted every kind of access (read, write, execute); absent
   * means yes. When
   * false the MMU must not cache the translation in its TLB, which checks only the guest's
   * own rights on a hit.
   */
  readonly cacheable?: boolean;
  /** Side-effect-free explanation of the same translation (ok=false where it would exit). */
  explain(guestPhysical: number, access: number, linear: number): PageWalk;
}
