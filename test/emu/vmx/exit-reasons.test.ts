import { describe, expect, it } from 'vitest';
import {
  EXIT_REASONS, EXIT_REASON, exitReason, exitReasonByName, decodeQualification, formatExit, VM_INSTRUCTION_ERRORS, VMXERR,
  vmInstructionError, ENTRY_FAILURE_QUALIFICATIONS,
} from '../../../src/emu/vmx/exit-reasons';
import { partsToValue } from '../../../src/emu/vmx/bit-fields';

/** Linux uapi asm/vmx.h EXIT_REASON_* values (the full list vmx.h defines). */
const LINUX_EXIT_REASONS: Record<string, number> = {
  EXCEPTION_NMI: 0, EXTERNAL_INTERRUPT: 1, TRIPLE_FAULT: 2, INIT_SIGNAL: 3, SIPI_SIGNAL: 4, OTHER_SMI: 6, INTERRUPT_WINDOW: 7, NMI_WINDOW: 8,
  TASK_SWITCH: 9, CPUID: 10, HLT: 12, INVD: 13, INVLPG: 14, RDPMC: 15, RDTSC: 16, VMCALL: 18, VMCLEAR: 19, VMLAUNCH: 20, VMPTRLD: 21,
  VMPTRST: 22, VMREAD: 23, VMRESUME: 24, VMWRITE: 25, VMOFF: 26, VMON: 27, CR_ACCESS: 28, DR_ACCESS: 29, IO_INSTRUCTION: 30,
  MSR_READ: 31, MSR_WRITE: 32, INVALID_STATE: 33, MSR_LOAD_FAIL: 34, MWAIT_INSTRUCTION: 36, MONITOR_TRAP_FLAG: 37,
  MONITOR_INSTRUCTION: 39, PAUSE_INSTRUCTION: 40, MCE_DURING_VMENTRY: 41, TPR_BELOW_THRESHOLD: 43, APIC_ACCESS: 44, EOI_INDUCED: 45,
  GDTR_IDTR: 46, LDTR_TR: 47, EPT_VIOLATION: 48, EPT_MISCONFIG: 49, INVEPT: 50, RDTSCP: 51, PREEMPTION_TIMER: 52, INVVPID: 53,
  WBINVD: 54, XSETBV: 55, APIC_WRITE: 56, RDRAND: 57, INVPCID: 58, VMFUNC: 59, ENCLS: 60, RDSEED: 61, PML_FULL: 62, XSAVES: 63,
  XRSTORS: 64, UMWAIT: 67, TPAUSE: 68, BUS_LOCK: 74, NOTIFY: 75, SEAMCALL: 76, TDCALL: 77, MSR_READ_IMM: 84, MSR_WRITE_IMM: 85,
};

/** wbenny/ia32-doc VMX_EXIT_REASON_* numbers 0-64 (its list ends at XRSTORS), as a cross-check of the numbering. */
const IA32_DOC_REASONS = [...Array.from({ length: 35 }, (_, i) => i), 36, 37, ...Array.from({ length: 3 }, (_, i) => 39 + i), ...Array.from({ length: 22 }, (_, i) => 43 + i)];

describe('exit reasons (SDM Appendix C)', () => {
  it('has unique numbers and names, vmx.h names where vmx.h has them', () => {
    expect(new Set(EXIT_REASONS.map((r) => r.number)).size).toBe(EXIT_REASONS.length);
    expect(new Set(EXIT_REASONS.map((r) => r.name)).size).toBe(EXIT_REASONS.length);
    for (const [short, n] of Object.entries(LINUX_EXIT_REASONS)) {
      expect(exitReason(n)?.name, short).toBe(`EXIT_REASON_${short}`);
      expect(exitReason(n)?.linux, short).toBe(true);
    }
    const ours = EXIT_REASONS.filter((r) => r.linux).map((r) => r.short).sort();
    expect(ours).toEqual(Object.keys(LINUX_EXIT_REASONS).sort());
  });

  it('numbers every reason ia32-doc numbers, and leaves the SDM\'s unused numbers empty', () => {
    for (const n of IA32_DOC_REASONS) expect(exitReason(n), String(n)).toBeDefined();
    for (const n of [35, 38, 42, 71]) expect(exitReason(n)).toBeUndefined();
    expect(EXIT_REASONS.length).toBe(82 - 4 + 2); // 0-81 without the four unused, plus 84 and 85
    expect(exitReasonByName('EXIT_REASON_CPUID')?.number).toBe(10);
    expect(exitReasonByName('CR_ACCESS')?.number).toBe(28);
    expect(EXIT_REASON.EPT_VIOLATION).toBe(48);
  });
});

describe('exit qualification decoders (SDM 27.2.1)', () => {
  const line = (reason: number, q: number, hi = 0, ctx = {}) => formatExit(reason, q, hi, ctx);

  it('control-register accesses: CR number, access type, GPR, LMSW operand', () => {
    expect(line(28, 0x3)).toBe('CR_ACCESS (28): mov %rax -> cr3');
    expect(line(28, 0x8 | (1 << 4) | (15 << 8))).toBe('CR_ACCESS (28): mov cr8 -> %r15');
    expect(line(28, 0x4 | (11 << 8))).toBe('CR_ACCESS (28): mov %r11 -> cr4');
    expect(line(28, 2 << 4)).toBe('CR_ACCESS (28): clts');
    expect(line(28, (0x000b << 16) | (1 << 6) | (3 << 4))).toBe('CR_ACCESS (28): lmsw 0x000b (memory operand)');
    expect(line(28, (0x0001 << 16) | (3 << 4))).toBe('CR_ACCESS (28): lmsw 0x0001 (register operand)');
  });

  it('MOV DR: DR number, direction, GPR', () => {
    expect(line(29, 7 | (3 << 8))).toBe('DR_ACCESS (29): mov %rbx -> dr7');
    expect(line(29, 6 | (1 << 4) | (1 << 8))).toBe('DR_ACCESS (29): mov dr6 -> %rcx');
  });

  it('I/O instructions: size, direction, string, REP, operand encoding, port', () => {
    expect(line(30, 0x03f80000)).toBe('IO_INSTRUCTION (30): out 1 byte port 0x3f8 (dx)');
    expect(line(30, (0x60 << 16) | (1 << 3) | (1 << 6))).toBe('IO_INSTRUCTION (30): in 1 byte port 0x60');
    expect(line(30, (0x1f0 << 16) | 1 | (1 << 4) | (1 << 5))).toBe('IO_INSTRUCTION (30): rep outs 2 bytes port 0x1f0 (dx)');
    expect(line(30, (0xcfc << 16) | 3 | (1 << 3))).toBe('IO_INSTRUCTION (30): in 4 bytes port 0xcfc (dx)');
  });

  it('EPT violations: access, EPT permissions, guest-linear validity, NMI unblocking', () => {
    expect(line(48, 0x2 | 0x8 | 0x20 | 0x80 | 0x100)).toBe('EPT_VIOLATION (48): write not permitted (EPT r-x), guest-linear valid');
    expect(line(48, 0x1 | 0x80)).toBe('EPT_VIOLATION (48): read not permitted (EPT ---), during guest paging-structure access');
    expect(line(48, 0x4 | 0x8 | 0x10 | 0x1000)).toBe('EPT_VIOLATION (48): fetch not permitted (EPT rw-), no guest-linear address, NMI unblocking');
    const d = decodeQualification(48, 0x1 | 0x2 | 0x80 | 0x100);
    expect(d.parts.map((p) => p.name)).toEqual(['DATA_READ', 'DATA_WRITE', 'GUEST_LINEAR_VALID', 'TRANSLATED_ACCESS']);
  });

  it('exceptions (#PF linear address, #DB bits) need the interruption information', () => {
    expect(line(0, 0xdeadb000, 0xffff8000, { interruptionInfo: 0x80000b0e })).toBe('EXCEPTION_NMI (0): #PF at 0xffff8000deadb000');
    expect(line(0, 0x4001, 0, { interruptionInfo: 0x80000301 })).toBe('EXCEPTION_NMI (0): #DB [B0, BS]');
    expect(line(0, 0, 0, { interruptionInfo: 0x80000306 })).toBe('EXCEPTION_NMI (0): #UD');
    expect(line(0, 0)).toBe('EXCEPTION_NMI (0)');
  });

  it('task switch, SIPI, INVLPG, displacement, APIC access, entry failures', () => {
    expect(line(9, 0x80000028)).toBe('TASK_SWITCH (9): task switch by JMP to TSS 0x0028');
    expect(line(9, 0xc0000030)).toBe('TASK_SWITCH (9): task switch by task gate in IDT to TSS 0x0030');
    expect(line(4, 0x9a)).toBe('SIPI_SIGNAL (4): SIPI vector 0x9a (start at 0x9a000)');
    expect(line(14, 0x401000)).toBe('INVLPG (14): linear address 0x401000');
    expect(line(23, 0xfffffff0, 0xffffffff)).toBe('VMREAD (23): displacement -0x10');
    expect(line(44, 0x1080)).toBe('APIC_ACCESS (44): linear access for a data write during instruction execution at offset 0x080');
    expect(line(0x80000021, 4)).toBe('INVALID_STATE (33) [VM-entry failure]: invalid VMCS link pointer (SDM 26.3.1.5)');
    expect(line(0x80000022, 3)).toBe('MSR_LOAD_FAIL (34) [VM-entry failure]: MSR-load entry 3 failed');
    expect(line(10, 0)).toBe('CPUID (10)');
    expect(Object.keys(ENTRY_FAILURE_QUALIFICATIONS).map(Number)).toEqual([0, 2, 3, 4]);
  });

  it('decoders are lossless for defined bits (parts rebuild the qualification)', () => {
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed; };
    const defined: Record<number, number> = {
      28: 0xffff0f7f, // CR access: all defined bits (access type 0-1 then show GPR; 3 shows LMSW data)
      29: 0x00000f17,
      30: 0xffff007b, // size code 0,1,3
      9: 0xc000ffff,
      44: 0x0001ffff,
    };
    for (const [reasonText, mask] of Object.entries(defined)) {
      const reason = Number(reasonText);
      for (let i = 0; i < 500; i++) {
        let q = rnd() & mask;
        if (reason === 28) {
          const type = (q >>> 4) & 3;
          if (type === 2) q &= 0x3f;                    // CLTS: only CR number and type
          else if (type < 2) q &= 0xf3f;                // MOV: no LMSW fields
          else q &= 0xffff007f;                          // LMSW: no GPR
        }
        if (reason === 30 && (q & 7) === 2) q &= ~7;     // size code 2 is not defined
        if (reason === 44 && ((q >>> 12) & 0xf) >= 4) q &= ~0xfff; // offset only for linear accesses
        if (reason === 44 && ![0, 1, 2, 3, 10, 15].includes((q >>> 12) & 0xf)) q &= ~0xf000;
        const d = decodeQualification(reason, q >>> 0);
        expect(partsToValue(d.parts).lo, `reason ${reason} q ${q.toString(16)}`).toBe(q >>> 0);
      }
    }
  });
});

describe('VM-instruction errors (SDM 30.4)', () => {
  it('numbers 1-28 except the reserved 14, 21, 27, with vmx.h names', () => {
    expect(VM_INSTRUCTION_ERRORS.map((e) => e.number)).toEqual(Array.from({ length: 28 }, (_, i) => i + 1).filter((n) => ![14, 21, 27].includes(n)));
    expect(new Set(VM_INSTRUCTION_ERRORS.map((e) => e.name)).size).toBe(VM_INSTRUCTION_ERRORS.length);
    expect(vmInstructionError(1)?.description).toBe('VMCALL executed in VMX root operation');
    expect(vmInstructionError(12)?.name).toBe('VMXERR_UNSUPPORTED_VMCS_COMPONENT');
    expect(VMXERR.VMWRITE_READ_ONLY_VMCS_COMPONENT).toBe(13);
    expect(VMXERR.ENTRY_INVALID_CONTROL_FIELD).toBe(7);
    expect(VMXERR.ENTRY_INVALID_HOST_STATE_FIELD).toBe(8);
    expect(VMXERR.INVALID_OPERAND_TO_INVEPT_INVVPID).toBe(28);
    expect(vmInstructionError(14)).toBeUndefined();
  });
});
