/*
 * vmx.h — the VT-x constants the reference hypervisor uses, under the names Linux gives them
 * (arch/x86/include/asm/vmx.h, msr-index.h), so the code reads like lvisor's and KVM's.
 * The numbers are facts of the Intel SDM: Vol. 3C chapter 24 (controls), Vol. 3D appendix A
 * (capability MSRs), B (VMCS field encodings), C (exit reasons), Vol. 3C 30.4 (VM-instruction
 * errors), 28.3 (EPT). Only what the hypervisor needs is here.
 */
#ifndef GUESTS_HYPERVISOR_VMX_H
#define GUESTS_HYPERVISOR_VMX_H

/* CPUID.1:ECX.VMX[bit 5] (SDM Vol. 3C, 23.6). */
#define CPUID_1_ECX_VMX                 (1 << 5)

/* Control registers (SDM Vol. 3A, 2.5). */
#define CR0_ET                          (1 << 4)
#define CR0_NE                          (1 << 5)
#define CR4_VMXE                        (1 << 13)

/* MSRs (SDM Vol. 4, table 2-2; Vol. 3D appendix A). */
#define MSR_IA32_FEATURE_CONTROL        0x3A
#define FEATURE_CONTROL_LOCKED          (1 << 0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1 << 2)
#define MSR_IA32_VMX_BASIC              0x480
#define MSR_IA32_VMX_PINBASED_CTLS      0x481
#define MSR_IA32_VMX_PROCBASED_CTLS     0x482
#define MSR_IA32_VMX_EXIT_CTLS          0x483
#define MSR_IA32_VMX_ENTRY_CTLS         0x484
#define MSR_IA32_VMX_MISC               0x485
#define MSR_IA32_VMX_CR0_FIXED0         0x486
#define MSR_IA32_VMX_CR0_FIXED1         0x487
#define MSR_IA32_VMX_CR4_FIXED0         0x488
#define MSR_IA32_VMX_CR4_FIXED1         0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2    0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP       0x48C
/* The TRUE_ variants are 0x481..0x484 + 0xC (SDM A.3.1, A.3.2, A.4.1, A.5). */
#define MSR_IA32_VMX_TRUE_CTLS_DELTA    0xC

/* IA32_VMX_BASIC fields (SDM A.1): bits 30:0 revision, 44:32 region size, 55 TRUE controls.
 * The high-dword forms are for the EDX half of RDMSR. */
#define VMX_BASIC_REVISION_MASK         0x7FFFFFFF
#define VMX_BASIC_HI_VMCS_SIZE_MASK     0x1FFF
#define VMX_BASIC_HI_TRUE_CTLS          (1 << 23)

/* IA32_VMX_EPT_VPID_CAP (SDM A.10): EPT bits in the low dword, VPID bits in the high one. */
#define VMX_EPT_PAGE_WALK_4_BIT         (1 << 6)
#define VMX_EPTP_WB_BIT                 (1 << 14)
#define VMX_EPT_2MB_PAGE_BIT            (1 << 16)
#define VMX_EPT_HI_INVVPID_BIT          (1 << 0)

/* Pin-based VM-execution controls (SDM 24.6.1). */
#define PIN_BASED_EXT_INTR_MASK         (1 << 0)
#define PIN_BASED_NMI_EXITING           (1 << 3)
#define PIN_BASED_VIRTUAL_NMIS          (1 << 5)
#define PIN_BASED_VMX_PREEMPTION_TIMER  (1 << 6)

/* Primary processor-based VM-execution controls (SDM 24.6.2, table 24-6). */
#define CPU_BASED_INTR_WINDOW_EXITING   (1 << 2)
#define CPU_BASED_USE_TSC_OFFSETTING    (1 << 3)
#define CPU_BASED_HLT_EXITING           (1 << 7)
#define CPU_BASED_INVLPG_EXITING        (1 << 9)
#define CPU_BASED_MWAIT_EXITING         (1 << 10)
#define CPU_BASED_RDPMC_EXITING         (1 << 11)
#define CPU_BASED_RDTSC_EXITING         (1 << 12)
#define CPU_BASED_CR3_LOAD_EXITING      (1 << 15)
#define CPU_BASED_CR3_STORE_EXITING     (1 << 16)
#define CPU_BASED_CR8_LOAD_EXITING      (1 << 19)
#define CPU_BASED_CR8_STORE_EXITING     (1 << 20)
#define CPU_BASED_MOV_DR_EXITING        (1 << 23)
#define CPU_BASED_UNCOND_IO_EXITING     (1 << 24)
#define CPU_BASED_USE_IO_BITMAPS        (1 << 25)
#define CPU_BASED_MONITOR_TRAP_FLAG     (1 << 27)
#define CPU_BASED_USE_MSR_BITMAPS       (1 << 28)
#define CPU_BASED_MONITOR_EXITING       (1 << 29)
#define CPU_BASED_PAUSE_EXITING         (1 << 30)
#define CPU_BASED_ACTIVATE_SECONDARY_CONTROLS (1 << 31)

/* Secondary processor-based VM-execution controls (SDM 24.6.2, table 24-7). */
#define SECONDARY_EXEC_ENABLE_EPT       (1 << 1)
#define SECONDARY_EXEC_DESC             (1 << 2)
#define SECONDARY_EXEC_ENABLE_RDTSCP    (1 << 3)
#define SECONDARY_EXEC_ENABLE_VPID      (1 << 5)
#define SECONDARY_EXEC_WBINVD_EXITING   (1 << 6)
#define SECONDARY_EXEC_UNRESTRICTED_GUEST (1 << 7)
#define SECONDARY_EXEC_ENABLE_INVPCID   (1 << 12)

/* VM-exit controls (SDM 24.7.1). */
#define VM_EXIT_SAVE_DEBUG_CONTROLS     (1 << 2)
#define VM_EXIT_HOST_ADDR_SPACE_SIZE    (1 << 9)
#define VM_EXIT_ACK_INTR_ON_EXIT        (1 << 15)
#define VM_EXIT_SAVE_IA32_PAT           (1 << 18)
#define VM_EXIT_LOAD_IA32_PAT           (1 << 19)
#define VM_EXIT_SAVE_IA32_EFER          (1 << 20)
#define VM_EXIT_LOAD_IA32_EFER          (1 << 21)
#define VM_EXIT_SAVE_VMX_PREEMPTION_TIMER (1 << 22)

/* VM-entry controls (SDM 24.8.1). */
#define VM_ENTRY_LOAD_DEBUG_CONTROLS    (1 << 2)
#define VM_ENTRY_IA32E_MODE             (1 << 9)
#define VM_ENTRY_LOAD_IA32_PAT          (1 << 14)
#define VM_ENTRY_LOAD_IA32_EFER         (1 << 15)

/* VMCS field encodings (SDM Vol. 3D appendix B). 16-bit fields (B.1). */
#define VIRTUAL_PROCESSOR_ID            0x0000
#define GUEST_ES_SELECTOR               0x0800
#define GUEST_CS_SELECTOR               0x0802
#define GUEST_SS_SELECTOR               0x0804
#define GUEST_DS_SELECTOR               0x0806
#define GUEST_FS_SELECTOR               0x0808
#define GUEST_GS_SELECTOR               0x080A
#define GUEST_LDTR_SELECTOR             0x080C
#define GUEST_TR_SELECTOR               0x080E
#define HOST_ES_SELECTOR                0x0C00
#define HOST_CS_SELECTOR                0x0C02
#define HOST_SS_SELECTOR                0x0C04
#define HOST_DS_SELECTOR                0x0C06
#define HOST_FS_SELECTOR                0x0C08
#define HOST_GS_SELECTOR                0x0C0A
#define HOST_TR_SELECTOR                0x0C0C
/* 64-bit fields (B.2). */
#define IO_BITMAP_A                     0x2000
#define IO_BITMAP_B                     0x2002
#define MSR_BITMAP                      0x2004
#define VM_EXIT_MSR_STORE_ADDR          0x2006
#define VM_EXIT_MSR_LOAD_ADDR           0x2008
#define VM_ENTRY_MSR_LOAD_ADDR          0x200A
#define TSC_OFFSET                      0x2010
#define EPT_POINTER                     0x201A
#define GUEST_PHYSICAL_ADDRESS          0x2400
#define VMCS_LINK_POINTER               0x2800
#define GUEST_IA32_DEBUGCTL             0x2802
#define GUEST_IA32_PAT                  0x2804
#define GUEST_IA32_EFER                 0x2806
#define HOST_IA32_PAT                   0x2C00
#define HOST_IA32_EFER                  0x2C02
/* 32-bit fields (B.3). */
#define PIN_BASED_VM_EXEC_CONTROL       0x4000
#define CPU_BASED_VM_EXEC_CONTROL       0x4002
#define EXCEPTION_BITMAP                0x4004
#define PAGE_FAULT_ERROR_CODE_MASK      0x4006
#define PAGE_FAULT_ERROR_CODE_MATCH     0x4008
#define CR3_TARGET_COUNT                0x400A
#define VM_EXIT_CONTROLS                0x400C
#define VM_EXIT_MSR_STORE_COUNT         0x400E
#define VM_EXIT_MSR_LOAD_COUNT          0x4010
#define VM_ENTRY_CONTROLS               0x4012
#define VM_ENTRY_MSR_LOAD_COUNT         0x4014
#define VM_ENTRY_INTR_INFO_FIELD        0x4016
#define VM_ENTRY_EXCEPTION_ERROR_CODE   0x4018
#define VM_ENTRY_INSTRUCTION_LEN        0x401A
#define SECONDARY_VM_EXEC_CONTROL       0x401E
#define VM_INSTRUCTION_ERROR            0x4400
#define VM_EXIT_REASON                  0x4402
#define VM_EXIT_INTR_INFO               0x4404
#define VM_EXIT_INTR_ERROR_CODE         0x4406
#define IDT_VECTORING_INFO_FIELD        0x4408
#define IDT_VECTORING_ERROR_CODE        0x440A
#define VM_EXIT_INSTRUCTION_LEN         0x440C
#define VMX_INSTRUCTION_INFO            0x440E
#define GUEST_ES_LIMIT                  0x4800
#define GUEST_CS_LIMIT                  0x4802
#define GUEST_SS_LIMIT                  0x4804
#define GUEST_DS_LIMIT                  0x4806
#define GUEST_FS_LIMIT                  0x4808
#define GUEST_GS_LIMIT                  0x480A
#define GUEST_LDTR_LIMIT                0x480C
#define GUEST_TR_LIMIT                  0x480E
#define GUEST_GDTR_LIMIT                0x4810
#define GUEST_IDTR_LIMIT                0x4812
#define GUEST_ES_AR_BYTES               0x4814
#define GUEST_CS_AR_BYTES               0x4816
#define GUEST_SS_AR_BYTES               0x4818
#define GUEST_DS_AR_BYTES               0x481A
#define GUEST_FS_AR_BYTES               0x481C
#define GUEST_GS_AR_BYTES               0x481E
#define GUEST_LDTR_AR_BYTES             0x4820
#define GUEST_TR_AR_BYTES               0x4822
#define GUEST_INTERRUPTIBILITY_INFO     0x4824
#define GUEST_ACTIVITY_STATE            0x4826
#define GUEST_SYSENTER_CS               0x482A
#define HOST_IA32_SYSENTER_CS           0x4C00
/* Natural-width fields (B.4). */
#define CR0_GUEST_HOST_MASK             0x6000
#define CR4_GUEST_HOST_MASK             0x6002
#define CR0_READ_SHADOW                 0x6004
#define CR4_READ_SHADOW                 0x6006
#define EXIT_QUALIFICATION              0x6400
#define GUEST_LINEAR_ADDRESS            0x640A
#define GUEST_CR0                       0x6800
#define GUEST_CR3                       0x6802
#define GUEST_CR4                       0x6804
#define GUEST_ES_BASE                   0x6806
#define GUEST_CS_BASE                   0x6808
#define GUEST_SS_BASE                   0x680A
#define GUEST_DS_BASE                   0x680C
#define GUEST_FS_BASE                   0x680E
#define GUEST_GS_BASE                   0x6810
#define GUEST_LDTR_BASE                 0x6812
#define GUEST_TR_BASE                   0x6814
#define GUEST_GDTR_BASE                 0x6816
#define GUEST_IDTR_BASE                 0x6818
#define GUEST_DR7                       0x681A
#define GUEST_RSP                       0x681C
#define GUEST_RIP                       0x681E
#define GUEST_RFLAGS                    0x6820
#define GUEST_PENDING_DBG_EXCEPTIONS    0x6822
#define GUEST_SYSENTER_ESP              0x6824
#define GUEST_SYSENTER_EIP              0x6826
#define HOST_CR0                        0x6C00
#define HOST_CR3                        0x6C02
#define HOST_CR4                        0x6C04
#define HOST_FS_BASE                    0x6C06
#define HOST_GS_BASE                    0x6C08
#define HOST_TR_BASE                    0x6C0A
#define HOST_GDTR_BASE                  0x6C0C
#define HOST_IDTR_BASE                  0x6C0E
#define HOST_IA32_SYSENTER_ESP          0x6C10
#define HOST_IA32_SYSENTER_EIP          0x6C12
#define HOST_RSP                        0x6C14
#define HOST_RIP                        0x6C16

/* Segment access rights as the VMCS holds them (SDM 24.4.1, table 24-2). */
#define VMX_AR_TYPE_ACCESSED            (1 << 0)
#define VMX_AR_UNUSABLE                 (1 << 16)
#define AR_CODE32_FLAT                  0xC09B  /* G, D/B, P, S, execute/read accessed */
#define AR_DATA32_FLAT                  0xC093  /* G, D/B, P, S, read/write accessed */
#define AR_TSS32_BUSY                   0x008B  /* P, busy 32-bit TSS */
#define AR_LDT                          0x0082

/* Guest interruptibility state (SDM 24.4.2, table 24-3). */
#define GUEST_INTR_STATE_STI            (1 << 0)
#define GUEST_INTR_STATE_MOV_SS         (1 << 1)

/* Exit reasons (SDM Vol. 3D appendix C). Bit 31 of the field: the VM entry failed. */
#define EXIT_REASON_EXCEPTION_NMI       0
#define EXIT_REASON_EXTERNAL_INTERRUPT  1
#define EXIT_REASON_TRIPLE_FAULT        2
#define EXIT_REASON_INTERRUPT_WINDOW    7
#define EXIT_REASON_CPUID               10
#define EXIT_REASON_HLT                 12
#define EXIT_REASON_INVLPG              14
#define EXIT_REASON_RDTSC               16
#define EXIT_REASON_VMCALL              18
#define EXIT_REASON_CR_ACCESS           28
#define EXIT_REASON_IO_INSTRUCTION      30
#define EXIT_REASON_MSR_READ            31
#define EXIT_REASON_MSR_WRITE           32
#define EXIT_REASON_INVALID_STATE       33
#define EXIT_REASON_MSR_LOAD_FAIL       34
#define EXIT_REASON_MONITOR_TRAP_FLAG   37
#define EXIT_REASON_GDTR_IDTR           46
#define EXIT_REASON_LDTR_TR             47
#define EXIT_REASON_EPT_VIOLATION       48
#define EXIT_REASON_EPT_MISCONFIG       49
#define EXIT_REASON_PREEMPTION_TIMER    52
#define EXIT_REASON_MAX                 86      /* one past the last (85, WRMSR immediate): table size */
#define VMX_EXIT_REASONS_FAILED_VMENTRY 0x80000000
#define EXIT_REASON_BASIC_MASK          0xFFFF

/* Exit qualification for I/O instructions (SDM 27.2.1, table 27-5). */
#define IO_QUAL_SIZE_MASK               0x7     /* access size - 1 */
#define IO_QUAL_IN                      (1 << 3)
#define IO_QUAL_STRING                  (1 << 4)
#define IO_QUAL_PORT_SHIFT              16
/* Exit qualification for EPT violations (SDM 27.2.1, table 27-7). */
#define EPT_VIOLATION_ACC_READ          (1 << 0)
#define EPT_VIOLATION_ACC_WRITE         (1 << 1)
#define EPT_VIOLATION_ACC_INSTR         (1 << 2)
#define EPT_VIOLATION_GVA_IS_VALID      (1 << 7)

/* EPT paging-structure entries (SDM 28.3.2, tables 28-1 .. 28-6) and the EPTP (24.6.11). */
#define VMX_EPT_READABLE                (1 << 0)
#define VMX_EPT_WRITABLE                (1 << 1)
#define VMX_EPT_EXECUTABLE              (1 << 2)
#define VMX_EPT_RWX                     (VMX_EPT_READABLE | VMX_EPT_WRITABLE | VMX_EPT_EXECUTABLE)
#define VMX_EPT_MT_WB                   (6 << 3)        /* memory type of a page, bits 5:3 */
#define VMX_EPT_LARGE_PAGE              (1 << 7)
#define VMX_EPTP_MT_WB                  6               /* paging-structure memory type, bits 2:0 */
#define VMX_EPTP_PWL_4                  (3 << 3)        /* page-walk length - 1, bits 5:3 */

/* VM-instruction error numbers (SDM 30.4) worth a name here. */
#define VMXERR_ENTRY_INVALID_CONTROL_FIELD    7
#define VMXERR_ENTRY_INVALID_HOST_STATE_FIELD 8
#define VMXERR_MAX                      29      /* one past the last, the size of the table */

#endif
