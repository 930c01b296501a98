import { describe, expect, it } from 'vitest';
import {
  VMCS_FIELDS, SUPPORTED_VMCS_FIELDS, WIDTH_CODES, AREA_CODES, WIDTH_BYTES, VMCS_DATA_OFFSET, VMCS_DATA_END, VMCS_REGION_SIZE,
  encodingIndex, encodingType, encodingWidth, encodingIsHigh, encodingHasReservedBits, makeEncoding, supportedFieldIndex,
  fieldByEncoding, fieldByName, highestSupportedIndex, type VmcsArea, type VmcsWidth,
} from '../../../src/emu/vmx/vmcs-fields';
import { CONTROL_BY_NAME, isControlSupported } from '../../../src/emu/vmx/controls';

/**
 * Fields per SDM Appendix B table, counted by hand from the appendix (B.1.1 ... B.4.4) as this
 * project cites it: including FRED's fields (FRED specification, listed in Linux vmx.h) and the
 * fields of the 2023-2024 editions (HLAT, IPI virtualization, PASID, IA32_SPEC_CTRL shadowing).
 */
const APPENDIX_B_COUNTS: Record<string, number> = {
  '16/control': 5, '16/guest': 11, '16/host': 7,
  '64/control': 38, '64/exit-info': 2, '64/guest': 21, '64/host': 12,
  '32/control': 19, '32/exit-info': 8, '32/guest': 23, '32/host': 1,
  'natural/control': 8, 'natural/exit-info': 6, 'natural/guest': 23, 'natural/host': 15,
};

/**
 * Every full-access encoding wbenny/ia32-doc (out/ia32.h, VMCS_*) lists, as an independent
 * cross-check, except its guest CET fields, which it misprints as 0x6c28/0x6c2a/0x6c2c (in host
 * space); the SDM has them at 0x6828/0x682a/0x682c.
 */
const IA32_DOC_ENCODINGS = [
  0x0000, 0x0002, 0x0004, 0x0800, 0x0802, 0x0804, 0x0806, 0x0808, 0x080a, 0x080c, 0x080e, 0x0810, 0x0812, 0x0c00, 0x0c02, 0x0c04,
  0x0c06, 0x0c08, 0x0c0a, 0x0c0c, 0x2000, 0x2002, 0x2004, 0x2006, 0x2008, 0x200a, 0x200c, 0x200e, 0x2010, 0x2012, 0x2014, 0x2016,
  0x2018, 0x201a, 0x201c, 0x201e, 0x2020, 0x2022, 0x2024, 0x2026, 0x2028, 0x202a, 0x202c, 0x202e, 0x2032, 0x2400, 0x2800, 0x2802,
  0x2804, 0x2806, 0x2808, 0x280a, 0x280c, 0x280e, 0x2810, 0x2812, 0x2814, 0x2c00, 0x2c02, 0x2c04, 0x4000, 0x4002, 0x4004, 0x4006,
  0x4008, 0x400a, 0x400c, 0x400e, 0x4010, 0x4012, 0x4014, 0x4016, 0x4018, 0x401a, 0x401c, 0x401e, 0x4020, 0x4022, 0x4400, 0x4402,
  0x4404, 0x4406, 0x4408, 0x440a, 0x440c, 0x440e, 0x4800, 0x4802, 0x4804, 0x4806, 0x4808, 0x480a, 0x480c, 0x480e, 0x4810, 0x4812,
  0x4814, 0x4816, 0x4818, 0x481a, 0x481c, 0x481e, 0x4820, 0x4822, 0x4824, 0x4826, 0x4828, 0x482a, 0x482e, 0x4c00, 0x6000, 0x6002,
  0x6004, 0x6006, 0x6008, 0x600a, 0x600c, 0x600e, 0x6400, 0x6402, 0x6404, 0x6406, 0x6408, 0x640a, 0x6800, 0x6802, 0x6804, 0x6806,
  0x6808, 0x680a, 0x680c, 0x680e, 0x6810, 0x6812, 0x6814, 0x6816, 0x6818, 0x681a, 0x681c, 0x681e, 0x6820, 0x6822, 0x6824, 0x6826,
  0x6c00, 0x6c02, 0x6c04, 0x6c06, 0x6c08, 0x6c0a, 0x6c0c, 0x6c0e, 0x6c10, 0x6c12, 0x6c14, 0x6c16, 0x6c18, 0x6c1a, 0x6c1c,
];

/** Linux vmx.h `enum vmcs_field` names and values (spot checks, incl. the brief's examples). */
const LINUX_NAMES: Record<string, number> = {
  VIRTUAL_PROCESSOR_ID: 0x0000, POSTED_INTR_NV: 0x0002, GUEST_ES_SELECTOR: 0x0800, GUEST_TR_SELECTOR: 0x080e, HOST_TR_SELECTOR: 0x0c0c,
  IO_BITMAP_A: 0x2000, MSR_BITMAP: 0x2004, TSC_OFFSET: 0x2010, EPT_POINTER: 0x201a, VE_INFORMATION_ADDRESS: 0x202a,
  XSS_EXIT_BITMAP: 0x202c, TSC_MULTIPLIER: 0x2032, TERTIARY_VM_EXEC_CONTROL: 0x2034, SHARED_EPT_POINTER: 0x203c, PID_POINTER_TABLE: 0x2042,
  GUEST_PHYSICAL_ADDRESS: 0x2400, VMCS_LINK_POINTER: 0x2800, GUEST_IA32_EFER: 0x2806, GUEST_PDPTR3: 0x2810, GUEST_IA32_RTIT_CTL: 0x2814,
  HOST_IA32_PERF_GLOBAL_CTRL: 0x2c04, PIN_BASED_VM_EXEC_CONTROL: 0x4000, CPU_BASED_VM_EXEC_CONTROL: 0x4002, VM_ENTRY_INTR_INFO_FIELD: 0x4016,
  SECONDARY_VM_EXEC_CONTROL: 0x401e, NOTIFY_WINDOW: 0x4024, VM_INSTRUCTION_ERROR: 0x4400, VM_EXIT_REASON: 0x4402, VMX_INSTRUCTION_INFO: 0x440e,
  GUEST_ES_AR_BYTES: 0x4814, GUEST_INTERRUPTIBILITY_INFO: 0x4824, GUEST_SYSENTER_CS: 0x482a, VMX_PREEMPTION_TIMER_VALUE: 0x482e,
  HOST_IA32_SYSENTER_CS: 0x4c00, CR0_GUEST_HOST_MASK: 0x6000, CR3_TARGET_VALUE3: 0x600e, EXIT_QUALIFICATION: 0x6400,
  GUEST_LINEAR_ADDRESS: 0x640a, GUEST_RIP: 0x681e, GUEST_PENDING_DBG_EXCEPTIONS: 0x6822, GUEST_S_CET: 0x6828, GUEST_INTR_SSP_TABLE: 0x682c,
  HOST_RIP: 0x6c16, HOST_IA32_SYSENTER_EIP: 0x6c12, HOST_INTR_SSP_TABLE: 0x6c1c,
};

describe('VMCS field table (SDM Appendix B)', () => {
  it('encodes width, type and index as SDM 24.11.2 says, for the table each field is listed in', () => {
    for (const f of VMCS_FIELDS) {
      expect(encodingWidth(f.encoding), f.name).toBe(WIDTH_CODES[f.width]);
      expect(encodingType(f.encoding), f.name).toBe(AREA_CODES[f.area]);
      expect(encodingIsHigh(f.encoding), f.name).toBe(false);
      expect(encodingHasReservedBits(f.encoding), f.name).toBe(false);
      expect(makeEncoding(f.width, f.area, encodingIndex(f.encoding)), f.name).toBe(f.encoding);
      expect(f.readOnly, f.name).toBe(f.area === 'exit-info');
    }
  });

  it('has no duplicate encodings or names', () => {
    expect(new Set(VMCS_FIELDS.map((f) => f.encoding)).size).toBe(VMCS_FIELDS.length);
    expect(new Set(VMCS_FIELDS.map((f) => f.name)).size).toBe(VMCS_FIELDS.length);
  });

  it('has as many fields per width and area as Appendix B', () => {
    const counts: Record<string, number> = {};
    for (const f of VMCS_FIELDS) counts[`${f.width}/${f.area}`] = (counts[`${f.width}/${f.area}`] ?? 0) + 1;
    expect(counts).toEqual(APPENDIX_B_COUNTS);
    expect(VMCS_FIELDS.length).toBe(Object.values(APPENDIX_B_COUNTS).reduce((a, b) => a + b, 0));
  });

  it('lists every field wbenny/ia32-doc lists', () => {
    for (const e of IA32_DOC_ENCODINGS) expect(fieldByEncoding(e), `0x${e.toString(16)}`).toBeDefined();
    for (const e of [0x6828, 0x682a, 0x682c]) expect(fieldByEncoding(e)?.area).toBe('guest');
  });

  it('uses Linux vmx.h names with their values', () => {
    for (const [name, enc] of Object.entries(LINUX_NAMES)) {
      const f = fieldByName(name)?.field;
      expect(f?.encoding, name).toBe(enc);
      expect(f?.linux, name).toBe(true);
    }
    expect(fieldByName('EPT_POINTER_HIGH')).toMatchObject({ high: true, field: { encoding: 0x201a } });
    expect(fieldByName('GUEST_RIP_HIGH')).toBeUndefined();
    expect(fieldByEncoding(0x201b)?.name).toBe('EPT_POINTER');
    expect(fieldByEncoding(0x681f)).toBeUndefined();
  });

  it('supports a field exactly when one of the controls it requires is supported', () => {
    for (const f of VMCS_FIELDS) {
      for (const r of f.requires) if (r !== 'SEAM_VMX_ROOT_OPERATION') expect(CONTROL_BY_NAME.has(r), `${f.name} requires ${r}`).toBe(true);
      expect(f.supported, f.name).toBe(f.requires.length === 0 || f.requires.some(isControlSupported));
    }
    const names = new Set(SUPPORTED_VMCS_FIELDS.map((f) => f.name));
    // What lvisor-style VMMs need (VT-x issue §1) is there; features we do not advertise are not.
    for (const n of ['EPT_POINTER', 'VIRTUAL_PROCESSOR_ID', 'MSR_BITMAP', 'GUEST_IA32_EFER', 'HOST_IA32_EFER', 'GUEST_IA32_PAT',
      'VMX_PREEMPTION_TIMER_VALUE', 'GUEST_PDPTR0', 'GUEST_PHYSICAL_ADDRESS', 'SECONDARY_VM_EXEC_CONTROL', 'EPTP_LIST_ADDRESS', 'VM_FUNCTION_CONTROL']) {
      expect(names.has(n), n).toBe(true);
    }
    for (const n of ['PML_ADDRESS', 'GUEST_PML_INDEX', 'VMREAD_BITMAP', 'VIRTUAL_APIC_PAGE_ADDR', 'TPR_THRESHOLD', 'POSTED_INTR_NV', 'ENCLS_EXITING_BITMAP',
      'GUEST_S_CET', 'HOST_IA32_PERF_GLOBAL_CTRL', 'TSC_MULTIPLIER', 'SHARED_EPT_POINTER', 'GUEST_IA32_FRED_CONFIG']) {
      expect(names.has(n), n).toBe(false);
    }
  });

  it('lays supported fields out naturally aligned, without overlap, inside the 4 KiB region', () => {
    const used = new Uint8Array(VMCS_REGION_SIZE);
    for (const f of VMCS_FIELDS) {
      if (!f.supported) { expect(f.offset, f.name).toBe(-1); continue; }
      const size = WIDTH_BYTES[f.width];
      expect(f.offset % size, f.name).toBe(0);
      expect(f.offset, f.name).toBeGreaterThanOrEqual(VMCS_DATA_OFFSET);
      expect(f.offset + size, f.name).toBeLessThanOrEqual(VMCS_DATA_END);
      for (let i = 0; i < size; i++) { expect(used[f.offset + i], f.name).toBe(0); used[f.offset + i] = 1; }
    }
    expect(VMCS_DATA_END).toBeLessThanOrEqual(VMCS_REGION_SIZE);
    expect(used.reduce((a, b) => a + b, 0)).toBe(VMCS_DATA_END - VMCS_DATA_OFFSET);
  });

  it('resolves VMREAD/VMWRITE encodings like a CPU: unsupported or malformed ones give -1 (VMfailValid 12)', () => {
    const rip = VMCS_FIELDS.find((f) => f.name === 'GUEST_RIP')!;
    expect(supportedFieldIndex(0x681e)).toBe(rip.index);
    expect(supportedFieldIndex(0x681e, 1)).toBe(-1);            // bits 63:32 set
    expect(supportedFieldIndex(0x681e | 0x1000)).toBe(-1);      // bit 12 reserved
    expect(supportedFieldIndex(0x681e | 0x8000)).toBe(-1);      // bits 31:15 reserved
    expect(supportedFieldIndex(0x681f)).toBe(-1);               // no high access to natural-width fields
    expect(supportedFieldIndex(0x4003)).toBe(-1);               // nor to 32-bit fields
    expect(supportedFieldIndex(0x201b)).toBe(supportedFieldIndex(0x201a)); // EPTP high half
    expect(supportedFieldIndex(0x200e)).toBe(-1);               // PML address: PML not supported
    expect(supportedFieldIndex(0x4830)).toBe(-1);               // no such field
    // Every encoding of the 15-bit space resolves exactly for the supported fields.
    let found = 0;
    for (let e = 0; e < 0x8000; e++) if (supportedFieldIndex(e) >= 0) found++;
    const sixtyFour = SUPPORTED_VMCS_FIELDS.filter((f) => f.width === '64').length;
    expect(found).toBe(SUPPORTED_VMCS_FIELDS.length + sixtyFour);
  });

  it('reports the highest supported index for IA32_VMX_VMCS_ENUM', () => {
    const byHand = Math.max(...SUPPORTED_VMCS_FIELDS.map((f) => (f.encoding >> 1) & 0x1ff));
    expect(highestSupportedIndex()).toBe(byHand);
    expect(highestSupportedIndex()).toBe(0x17); // VMX-preemption timer value, 0x482e
  });

  it('round-trips makeEncoding through the bit accessors', () => {
    const widths: VmcsWidth[] = ['16', '64', '32', 'natural'];
    const areas: VmcsArea[] = ['control', 'exit-info', 'guest', 'host'];
    for (const w of widths) for (const a of areas) for (const idx of [0, 1, 0x17, 0x1ff]) {
      const e = makeEncoding(w, a, idx, w === '64');
      expect([encodingWidth(e), encodingType(e), encodingIndex(e), encodingIsHigh(e)]).toEqual([WIDTH_CODES[w], AREA_CODES[a], idx, w === '64']);
    }
  });
});
