// CPUID (SDM Vol. 2 CPUID): GenuineIntel, family 6 model 0x3A (an Ivy Bridge core, the first
// generation with every VT-x feature lvisor needs), and only the feature bits this emulator
// really implements. FPU, FXSR, SSE and SSE2 are advertised for the x87 and SSE state, data
// movement and integer/logic forms (handlers/x87.ts, handlers/sse.ts); their floating-point
// arithmetic forms raise #UD "... is not emulated" rather than compute inexactly. Notably
// absent: MMX (no MMX forms), SSE3 and later, MONITOR/MWAIT, XSAVE, BMI1/BMI2
// (their VEX-encoded instructions are not emulated; so F3 0F BC is BSF, as on cores without
// BMI1), PCID, SMEP/SMAP. VMX (CPUID.1:ECX bit 5) is set when the VMX implementation enables
// `vmxAvailable`. The local APIC's bits come from the APIC itself (Cpu.apic): APIC (leaf 1
// EDX[9]) follows IA32_APIC_BASE[11] (SDM Vol. 3 §10.4.3), x2APIC (ECX[21]) and TSC-deadline
// (ECX[24]) are set when the machine's APIC implements them.
import type { Cpu } from './cpu';
import { PAGING_FEATURES } from '../mmu/access';

const MAX_BASIC = 7;
const MAX_EXTENDED = 0x80000008;
/** Family 6, model 0x3A (extended model 3, model 0xA), stepping 9. */
const SIGNATURE = 0x000306a9;
const P = PAGING_FEATURES;
/**
 * Leaf 1 EDX: FPU DE TSC MSR MCE CX8 SEP MTRR MCA CMOV PAT CLFSH FXSR SSE SSE2, plus the MMU's PSE PAE PGE PSE-36
 * (APIC, bit 9, see cpuid()). MCE/MCA with IA32_MCG_CAP = 0: the machine-check architecture
 * with no error-reporting banks (msrs.ts), which never raises #MC.
 */
const LEAF1_EDX = 1 | (1 << 24) | (1 << 25) | (1 << 26) | (1 << 2) | (1 << 4) | (1 << 5) | (1 << 7) | (1 << 8) | (1 << 11) | (1 << 12) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 19)
  | (P.pse ? 1 << 3 : 0) | (P.pae ? 1 << 6 : 0) | (P.pge ? 1 << 13 : 0) | (P.pse36 ? 1 << 17 : 0);
/** Leaf 1 ECX: CX16 (13), MOVBE (22), POPCNT (23). */
const LEAF1_ECX = (1 << 13) | (1 << 22) | (1 << 23);
/** Leaf 7 EBX: ERMS (9). */
const LEAF7_EBX = 1 << 9;
/** 0x80000001 EDX: SYSCALL (11), RDTSCP (27), LM (29), the MMU's NX (20) and 1-GiB pages (26); ECX: LAHF/SAHF (0), LZCNT (5). */
const EXT1_EDX = (1 << 11) | (1 << 27) | (1 << 29) | (P.nx ? 1 << 20 : 0) | (P.page1gb ? 1 << 26 : 0);
const EXT1_ECX = 1 | (1 << 5);
const BRAND = 'VMX Lab virtual CPU (Intel 64 + VT-x model)';

function str4(s: string, i: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v |= (s.charCodeAt(i + k) || 0) << (8 * k);
  return v;
}

/** Leaf 0's vendor string "GenuineIntel" in EBX, EDX, ECX order. */
const VENDOR_EBX = str4('GenuineIntel', 0), VENDOR_EDX = str4('GenuineIntel', 4), VENDOR_ECX = str4('GenuineIntel', 8);

/** CPUID.01H:EBX[23:16]: the logical-processor count rounded up to a power of two (SDM Vol. 2 CPUID, Vol. 3 §9.9.1). */
function addressableIds(n: number): number {
  let ids = 1;
  while (ids < n) ids *= 2;
  return ids & 0xff;
}

/** Executes CPUID for EAX=leaf, ECX=subleaf; results in regs (EAX EBX ECX EDX, upper halves cleared). */
export function cpuid(c: Cpu, leafIn: number, subleaf: number): void {
  let leaf = leafIn >>> 0;
  // Leaves above the maximum return the highest basic leaf's data (Intel behaviour, SDM Vol. 2 CPUID).
  if ((leaf > MAX_BASIC && leaf < 0x80000000) || leaf > MAX_EXTENDED) leaf = MAX_BASIC;
  let a = 0, b = 0, cc = 0, d = 0;
  switch (leaf) {
    case 0: a = MAX_BASIC; b = VENDOR_EBX; d = VENDOR_EDX; cc = VENDOR_ECX; break;
    case 1:
      a = SIGNATURE;
      // EBX: CLFLUSH line 8×8 bytes; [23:16] addressable logical-processor IDs in the package
      // (a power of two, valid with EDX.HTT, bit 28); [31:24] initial APIC ID. Several
      // processors are one package's logical processors, as QEMU's `-smp N` presents them.
      b = (8 << 8) | (addressableIds(c.logicalProcessors) << 16) | (c.apicId << 24);
      cc = LEAF1_ECX | (c.vmxAvailable ? 1 << 5 : 0);
      d = LEAF1_EDX | (c.logicalProcessors > 1 ? 1 << 28 : 0);
      if (c.apic === undefined) d |= 1 << 9;
      else {
        if (c.apic.hardwareEnabled) d |= 1 << 9;
        if (c.apic.x2apicSupported) cc |= 1 << 21;
        if (c.apic.tscDeadlineSupported) cc |= 1 << 24;
      }
      break;
    case 7: if (subleaf === 0) b = LEAF7_EBX; break;
    case 0x80000000: a = MAX_EXTENDED; break;
    case 0x80000001: cc = EXT1_ECX; d = EXT1_EDX; break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const o = (leaf - 0x80000002) * 16;
      a = str4(BRAND, o); b = str4(BRAND, o + 4); cc = str4(BRAND, o + 8); d = str4(BRAND, o + 12);
      break;
    }
    case 0x80000008: a = (P.maxLinearAddr << 8) | P.maxPhysAddr; break;
    default: break;
  }
  const r = c.regs;
  r[0] = a; r[1] = 0; r[6] = b; r[7] = 0; r[2] = cc; r[3] = 0; r[4] = d; r[5] = 0;
}
