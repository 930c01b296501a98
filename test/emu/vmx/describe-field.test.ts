import { describe, expect, it } from 'vitest';
import { describeField, decodeField, hasBitFieldDecoder } from '../../../src/emu/vmx/describe-field';
import { partsToValue } from '../../../src/emu/vmx/bit-fields';
import { fieldByName, VMCS_FIELDS } from '../../../src/emu/vmx/vmcs-fields';
import { CONTROL_GROUPS, namedMask } from '../../../src/emu/vmx/controls';

const enc = (name: string): number => {
  const f = fieldByName(name);
  if (f === undefined) throw new Error(name);
  return f.field.encoding | (f.high ? 1 : 0);
};

let seed = 0x1234567;
const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed ^ (seed << 7); };

describe('describeField', () => {
  it('prints control fields as the VT-x issue shows them', () => {
    expect(describeField(enc('CPU_BASED_VM_EXEC_CONTROL'), 0x8401e172 | 0x80 | 0x1000))
      .toBe('CPU_BASED_VM_EXEC_CONTROL = 0x8401f1f2 [HLT_EXITING, RDTSC_EXITING, CR3_LOAD_EXITING, CR3_STORE_EXITING, ACTIVATE_SECONDARY_CONTROLS]');
    expect(describeField(enc('SECONDARY_VM_EXEC_CONTROL'), 0xa2))
      .toBe('SECONDARY_VM_EXEC_CONTROL = 0x000000a2 [ENABLE_EPT, ENABLE_VPID, UNRESTRICTED_GUEST]');
    expect(describeField(enc('PIN_BASED_VM_EXEC_CONTROL'), 0x16 | 0x1 | 0x8 | 0x40))
      .toBe('PIN_BASED_VM_EXEC_CONTROL = 0x0000005f [EXT_INTR_MASK, NMI_EXITING, VMX_PREEMPTION_TIMER]');
  });

  it('reports what VM entry would reject in control fields (SDM 26.2.1.1) and unsupported settings', () => {
    const d = decodeField(enc('CPU_BASED_VM_EXEC_CONTROL'), (0x0401e172 & ~0x2) | 0x1 | 0x200000);
    expect(d.warnings).toEqual([
      'CPU_BASED_TPR_SHADOW is not supported by this core',
      'reserved bit 0 is set',
      'bit 1 is reserved to 1 (default1) but clear',
    ]);
    expect(describeField(enc('VM_ENTRY_CONTROLS'), 0x11ff | 0x200)).toBe('VM_ENTRY_CONTROLS = 0x000013ff [LOAD_DEBUG_CONTROLS, IA32E_MODE]');
  });

  it('decodes the other bit fields', () => {
    expect(describeField(enc('GUEST_CS_AR_BYTES'), 0xa09b)).toBe('GUEST_CS_AR_BYTES = 0x0000a09b [type=11 (code XR accessed), S, DPL=0, P, L, G]');
    expect(describeField(enc('GUEST_LDTR_AR_BYTES'), 0x10000)).toBe('GUEST_LDTR_AR_BYTES = 0x00010000 [UNUSABLE, type=0 (reserved), SYSTEM, DPL=0]');
    expect(describeField(enc('GUEST_TR_AR_BYTES'), 0x8b)).toBe('GUEST_TR_AR_BYTES = 0x0000008b [type=11 (32/64-bit TSS (busy)), SYSTEM, DPL=0, P]');
    expect(describeField(enc('VM_ENTRY_INTR_INFO_FIELD'), 0x80000b0e))
      .toBe('VM_ENTRY_INTR_INFO_FIELD = 0x80000b0e [VALID, type=3 (hardware exception), vector=14 (#PF), DELIVER_CODE]');
    expect(describeField(enc('VM_EXIT_INTR_INFO'), 0x800000ec)).toBe('VM_EXIT_INTR_INFO = 0x800000ec [VALID, type=0 (external interrupt), vector=236 (ext-int 0xec)]');
    expect(describeField(enc('IDT_VECTORING_INFO_FIELD'), 0)).toBe('IDT_VECTORING_INFO_FIELD = 0x00000000 [INVALID]');
    expect(describeField(enc('GUEST_INTERRUPTIBILITY_INFO'), 0x9)).toBe('GUEST_INTERRUPTIBILITY_INFO = 0x00000009 [BLOCKING_BY_STI, BLOCKING_BY_NMI]');
    expect(describeField(enc('GUEST_ACTIVITY_STATE'), 1)).toBe('GUEST_ACTIVITY_STATE = 0x00000001 [state=1 (GUEST_ACTIVITY_HLT)]');
    expect(describeField(enc('EPT_POINTER'), 0x0010501e)).toBe('EPT_POINTER = 0x000000000010501e [memtype=6 (WB), walk_length_minus_1=3 (4-level), root=0x105000]');
    expect(describeField(enc('EPT_POINTER_HIGH'), 0x1)).toBe('EPT_POINTER_HIGH = 0x00000001');
    expect(describeField(enc('VM_EXIT_REASON'), 0x80000021)).toBe('VM_EXIT_REASON = 0x80000021 [basic=33 (INVALID_STATE), FAILED_VMENTRY]');
    expect(describeField(enc('VM_INSTRUCTION_ERROR'), 12)).toBe('VM_INSTRUCTION_ERROR = 0x0000000c [error=12 (VMREAD/VMWRITE from/to unsupported VMCS component)]');
    expect(describeField(enc('EXCEPTION_BITMAP'), (1 << 14) | (1 << 6))).toBe('EXCEPTION_BITMAP = 0x00004040 [#UD, #PF]');
    expect(describeField(enc('GUEST_CR0'), 0x80000031)).toBe('GUEST_CR0 = 0x0000000080000031 [PE, ET, NE, PG]');
    expect(describeField(enc('HOST_IA32_EFER'), 0xd01)).toBe('HOST_IA32_EFER = 0x0000000000000d01 [SCE, LME, LMA, NXE]');
    expect(describeField(enc('GUEST_CS_SELECTOR'), 0x2b)).toBe('GUEST_CS_SELECTOR = 0x002b [index=5, GDT, RPL=3]');
    expect(describeField(enc('VMCS_LINK_POINTER'), -1, -1)).toBe('VMCS_LINK_POINTER = 0xffffffffffffffff [none]');
    expect(describeField(enc('GUEST_RIP'), 0x1000, 0xffffffff)).toBe('GUEST_RIP = 0xffffffff00001000');
    expect(describeField(0x4830, 5)).toBe('field 0x00004830 = 0x5');
  });

  it('round-trips: the decoded parts rebuild every defined bit of the value', () => {
    const names = VMCS_FIELDS.map((f) => f.name).filter(hasBitFieldDecoder);
    expect(names.length).toBeGreaterThan(40);
    // Bits each decoder defines (the rest are reserved or, for EPTP, the address it only prints).
    const defined = (name: string): [number, number] => {
      const g = CONTROL_GROUPS.find((c) => c.field === name);
      if (g !== undefined) return [namedMask(g), 0];
      if (name.endsWith('_AR_BYTES')) return [0x1f0ff, 0];
      if (name.endsWith('_SELECTOR')) return [0xffff, 0];
      if (name === 'EPT_POINTER') return [0xff, 0];
      if (name.endsWith('IA32_PAT')) return [0x07070707, 0x07070707];
      if (name.endsWith('INTR_INFO') || name.endsWith('INFO_FIELD')) return [0x80001fff, 0];
      if (name === 'VM_EXIT_REASON') return [0xb800ffff, 0];
      if (name === 'VM_INSTRUCTION_ERROR' || name === 'GUEST_ACTIVITY_STATE') return [0x3, 0];
      if (name === 'EXCEPTION_BITMAP') return [0xffffffff, 0];
      if (name === 'VMCS_LINK_POINTER') return [0, 0];
      if (name === 'GUEST_RFLAGS') return [0x3f7fd7, 0];
      if (name.includes('CR0')) return [0xe005003f, 0];
      if (name.includes('CR4')) return [0x1bf7fff, 0];
      if (name.includes('EFER')) return [0xd01, 0];
      if (name === 'GUEST_INTERRUPTIBILITY_INFO') return [0x1f, 0];
      if (name === 'GUEST_PENDING_DBG_EXCEPTIONS') return [0x1500f, 0];
      if (name === 'VM_FUNCTION_CONTROL') return [1, 0];
      if (name.startsWith('PAGE_FAULT_ERROR_CODE')) return [0x80ff, 0];
      throw new Error(`no defined-bit mask for ${name}`);
    };
    for (const name of names) {
      const [mlo, mhi] = defined(name);
      for (let i = 0; i < 200; i++) {
        const lo = (rnd() & mlo) >>> 0;
        const hi = (rnd() & mhi) >>> 0;
        const d = decodeField(enc(name), lo, hi);
        const g = CONTROL_GROUPS.find((c) => c.field === name);
        const rebuilt = partsToValue(d.parts);
        expect([rebuilt.lo, rebuilt.hi], `${name} ${lo.toString(16)}`).toEqual([lo, hi]);
        if (g === undefined) expect(describeField(enc(name), lo, hi)).toContain(d.valueText);
        else expect(d.warnings.filter((w) => w.startsWith('reserved')), name).toEqual([]);
      }
    }
  });
});
