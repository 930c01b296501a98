// Access kinds for Mmu.translate and the #PF error code they produce.
//
// The access bits sit where the page-fault error code has them (SDM Vol. 3 §4.7,
// "Page-Fault Exceptions"), so building an error code is an OR of the access and the
// fault's own bits (P, RSVD) with no remapping.

/** A data read (error code W/R = 0). */
export const ACC_READ = 0;
/** A data write: error-code bit 1 (W/R). */
export const ACC_WRITE = 0x02;
/**
 * A user-mode access: error-code bit 2 (U/S). Callers normally leave it clear and pass
 * cpl = 3, which makes every access user-mode unless ACC_IMPLICIT is set (SDM §4.6).
 */
export const ACC_USER = 0x04;
/** An instruction fetch: error-code bit 4 (I/D). */
export const ACC_EXEC = 0x10;
/**
 * An implicit supervisor-mode access (SDM §4.6): reads of the GDT/LDT/IDT/TSS and the
 * like, which are supervisor-mode whatever the CPL, so they succeed on supervisor pages
 * at CPL 3 and their #PF has U/S = 0. Not an error-code bit.
 */
export const ACC_IMPLICIT = 0x100;
/**
 * Set by the page walker on the guest-physical accesses it makes itself (reading and
 * updating paging-structure entries) when a nested translator (EPT) is attached; lets
 * EPT report "access to a guest paging structure" in its exit qualification (SDM §28.3.3.2).
 */
export const ACC_PAGING_STRUCTURE = 0x200;
/** The bits of `access` the MMU looks at. */
export const ACC_MASK = 0x3FF;

// #PF error-code bits (SDM Vol. 3 §4.7, Figure 4-12).
/** 0: the page was not present; 1: a protection (or reserved-bit) violation. */
export const PF_PRESENT = 0x01;
export const PF_WRITE = 0x02;
export const PF_USER = 0x04;
/** A reserved bit was set in a paging-structure entry. */
export const PF_RSVD = 0x08;
/** Instruction fetch; only reported when EFER.NXE = 1 with PAE or 4-level paging (§4.7). */
export const PF_FETCH = 0x10;

/**
 * MAXPHYADDR of the emulated core (what CPUID.80000008H:EAX[7:0] reports). 40 bits is what
 * the Xeons that introduced EPT and VPID report (Nehalem-EP/Westmere-EP), and what Bochs
 * (BX_PHY_ADDRESS_WIDTH) and QEMU's TCG (phys-bits) report by default, so a kernel sees the
 * same reserved bits here as under the emulators it is also run on; 40 is also what
 * kvm-unit-tests' ept_access tests need (they map guest-physical 2^39). Bits 51:40 of
 * paging-structure entries (62:40 with PAE) are reserved (SDM §4.4.2, §4.5.4); 32-bit
 * paging's PSE-36 reaches exactly 40 bits (§4.3).
 */
export const MAXPHYADDR = 40;
/** Linear-address width (CPUID.80000008H:EAX[15:8]): 4-level paging, no LA57. */
export const LINEAR_ADDRESS_BITS = 48;

/**
 * Paging features the MMU implements, for the CPU's CPUID leaves (SDM Vol. 2, CPUID).
 * SMEP, SMAP, PCID, protection keys and 5-level paging are not implemented and must not
 * be advertised.
 */
export const PAGING_FEATURES = {
  /** CPUID.01H:EDX.PSE[3]: 4 MiB pages with 32-bit paging (CR4.PSE). */
  pse: true,
  /** CPUID.01H:EDX.PAE[6]. */
  pae: true,
  /** CPUID.01H:EDX.PGE[13]: global pages (CR4.PGE). */
  pge: true,
  /** CPUID.01H:EDX.PSE-36[17]: 4 MiB pages above 4 GiB with 32-bit paging. */
  pse36: true,
  /** CPUID.80000001H:EDX.XD[20]: EFER.NXE and the XD bit. */
  nx: true,
  /** CPUID.80000001H:EDX.Page1GB[26]: 1 GiB pages with 4-level paging. */
  page1gb: true,
  maxPhysAddr: MAXPHYADDR,
  maxLinearAddr: LINEAR_ADDRESS_BITS,
} as const;
