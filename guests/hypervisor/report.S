/*
 * report.S — what the VMM says when it cannot go on: an exit it has no handler for (lvisor's
 * "unexpected exit reason N"), a VM entry that failed, and the VMCS dump that comes with both.
 * All of these end the run with VMM_FAILURE.
 *   vmx_unexpected_exit        the exit reason and its name, the exit information, the dump
 *   vmx_entry_failure_exit     a VM exit with bit 31 set: reason 33 (invalid guest state) or
 *                              34 (MSR loading), SDM 26.8
 *   vmx_entry_failed(%rsi name; flags of VMLAUNCH/VMRESUME)   VMfailInvalid / VMfailValid
 *                              with its VM-instruction error (SDM 30.2, 30.4)
 *   vmcs_dump                  the fields worth looking at first, and the guest's registers
 */
/* dump_field FIELD, "NAME": one line of the dump (the encoding, then the name). */
.macro dump_field field, name
        .long   \field
        .asciz  "\name"
.endm
#define DUMP_END        0xFFFFFFFF
#define DUMP_NAME_WIDTH 30

/* exit_name REASON, "NAME": exit_reason_names[REASON] (in increasing order). */
.macro exit_name reason, name
        .org    exit_reason_names + (\reason) * 8
        .quad   .Lexit_name\@
        .pushsection .text                      /* not .rodata: the table is being laid out there */
.Lexit_name\@:
        .asciz  "\name"
        .popsection
.endm

        .text
vmx_unexpected_exit:
        call    vmm_line
        vmm_say "unexpected exit reason "
        movl    vmx_exit_reason(%rip), %edi
        andl    $EXIT_REASON_BASIC_MASK, %edi
        call    serial_put_dec
        vmm_say " ("
        call    put_exit_name
        vmm_say ")"
        call    vmm_newline
        call    vmx_exit_info
        call    vmcs_dump
        jmp     vmm_fail

vmx_entry_failure_exit:
        call    vmm_line
        vmm_say "vmx: VM entry failed: exit reason "
        movl    vmx_exit_reason(%rip), %edi
        andl    $EXIT_REASON_BASIC_MASK, %edi
        call    serial_put_dec
        vmm_say " ("
        call    put_exit_name
        vmm_say "), exit qualification "
        movl    $EXIT_QUALIFICATION, %edi
        call    vmcs_read
        movq    %rax, %rdi
        call    serial_put_dec
        call    vmm_newline
        call    vmcs_dump
        jmp     vmm_fail

vmx_entry_failed:
        jc      1f
        call    vmm_line
        vmm_say "vmx: "
        movq    %rsi, %rdi
        call    serial_puts
        vmm_say " failed"
        call    vmx_instruction_error_report
        call    vmcs_dump
        jmp     vmm_fail
1:      call    vmm_line
        vmm_say "vmx: "
        movq    %rsi, %rdi
        call    serial_puts
        vmm_say " failed: VMfailInvalid (no current VMCS)"
        call    vmm_newline
        jmp     vmm_fail

/* put_exit_name(%edi basic reason): its vmx.h name without EXIT_REASON_. */
put_exit_name:
        pushq   %rdi
        cmpl    $EXIT_REASON_MAX, %edi
        jae     1f
        movq    exit_reason_names(,%rdi,8), %rdi
        testq   %rdi, %rdi
        jz      1f
        call    serial_puts
        popq    %rdi
        ret
1:      vmm_say "not a defined exit reason"
        popq    %rdi
        ret

/* vmx_exit_info: the exit-information fields (SDM 24.9) and where the guest was. */
vmx_exit_info:
        call    vmm_line
        vmm_say "  exit qualification "
        movl    $EXIT_QUALIFICATION, %edi
        call    print_field
        vmm_say ", guest RIP "
        movl    $GUEST_RIP, %edi
        call    print_field
        vmm_say ", guest RSP "
        movl    $GUEST_RSP, %edi
        call    print_field
        call    vmm_newline
        call    vmm_line
        vmm_say "  instruction length "
        movl    $VM_EXIT_INSTRUCTION_LEN, %edi
        call    print_field
        vmm_say ", instruction information "
        movl    $VMX_INSTRUCTION_INFO, %edi
        call    print_field
        call    vmm_newline
        call    vmm_line
        vmm_say "  interruption information "
        movl    $VM_EXIT_INTR_INFO, %edi
        call    print_field
        vmm_say ", error code "
        movl    $VM_EXIT_INTR_ERROR_CODE, %edi
        call    print_field
        vmm_say ", IDT-vectoring information "
        movl    $IDT_VECTORING_INFO_FIELD, %edi
        call    print_field
        call    vmm_newline
        ret

/* print_field(%edi field): its value in hex, or "unsupported" when VMREAD fails. */
print_field:
        pushq   %rax
        pushq   %rdi
        vmread  %rdi, %rax
        jbe     1f
        movq    %rax, %rdi
        call    vmm_put_hex
        jmp     2f
1:      vmm_say "unsupported"
2:      popq    %rdi
        popq    %rax
        ret

vmcs_dump:
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        vmm_log "VMCS dump:"
        leaq    vmcs_dump_fields(%rip), %rbx    /* entry: encoding (4 bytes), then the name */
1:      cmpl    $DUMP_END, (%rbx)
        je      4f
        call    vmm_line
        vmm_say "  "
        leaq    4(%rbx), %rdi
        call    serial_puts
        xorl    %edx, %edx                      /* the name's length */
2:      cmpb    $0, 4(%rbx,%rdx)
        je      3f
        incl    %edx
        jmp     2b
3:      movl    $' ', %edi                      /* pad the name to a column */
        call    serial_putc
        incl    %edx
        cmpl    $DUMP_NAME_WIDTH, %edx
        jb      3b
        movl    (%rbx), %edi
        call    print_field
        call    vmm_newline
        leaq    4(%rbx), %rdi                   /* the next entry: past the name's NUL */
5:      incq    %rdi
        cmpb    $0, -1(%rdi)
        jne     5b
        movq    %rdi, %rbx
        jmp     1b
4:      call    dump_guest_regs
        popq    %rdx
        popq    %rcx
        popq    %rbx
        ret

/* dump_guest_regs: the guest's general registers as saved at the exit, four to a line. */
dump_guest_regs:
        pushq   %rbx
        pushq   %rcx
        xorl    %ebx, %ebx                      /* register number */
        leaq    guest_reg_names(%rip), %rcx
1:      movl    %ebx, %eax
        andl    $3, %eax
        jnz     2f
        call    vmm_line
        vmm_say " "
2:      vmm_say " "
        movq    %rcx, %rdi
        call    serial_puts
        vmm_say " "
        cmpl    $VCPU_RSP / 8, %ebx
        jne     3f
        movl    $GUEST_RSP, %edi
        call    print_field
        jmp     4f
3:      movq    guest_regs(,%rbx,8), %rdi
        call    vmm_put_hex
4:      addq    $4, %rcx
        incl    %ebx
        movl    %ebx, %eax
        andl    $3, %eax
        jnz     5f
        call    vmm_newline
5:      cmpl    $16, %ebx
        jb      1b
        popq    %rcx
        popq    %rbx
        ret

        .section .rodata
/* Register names in VCPU_* order, 4 bytes each. */
guest_reg_names:
        .asciz  "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI"
        .asciz  "R8 ", "R9 ", "R10", "R11", "R12", "R13", "R14", "R15"

vmcs_dump_fields:
        dump_field VM_INSTRUCTION_ERROR, "VM_INSTRUCTION_ERROR"
        dump_field VM_EXIT_REASON, "VM_EXIT_REASON"
        dump_field EXIT_QUALIFICATION, "EXIT_QUALIFICATION"
        dump_field GUEST_LINEAR_ADDRESS, "GUEST_LINEAR_ADDRESS"
        dump_field GUEST_PHYSICAL_ADDRESS, "GUEST_PHYSICAL_ADDRESS"
        dump_field VM_EXIT_INTR_INFO, "VM_EXIT_INTR_INFO"
        dump_field VM_EXIT_INTR_ERROR_CODE, "VM_EXIT_INTR_ERROR_CODE"
        dump_field IDT_VECTORING_INFO_FIELD, "IDT_VECTORING_INFO_FIELD"
        dump_field VM_EXIT_INSTRUCTION_LEN, "VM_EXIT_INSTRUCTION_LEN"
        dump_field VMX_INSTRUCTION_INFO, "VMX_INSTRUCTION_INFO"
        dump_field PIN_BASED_VM_EXEC_CONTROL, "PIN_BASED_VM_EXEC_CONTROL"
        dump_field CPU_BASED_VM_EXEC_CONTROL, "CPU_BASED_VM_EXEC_CONTROL"
        dump_field SECONDARY_VM_EXEC_CONTROL, "SECONDARY_VM_EXEC_CONTROL"
        dump_field VM_EXIT_CONTROLS, "VM_EXIT_CONTROLS"
        dump_field VM_ENTRY_CONTROLS, "VM_ENTRY_CONTROLS"
        dump_field EXCEPTION_BITMAP, "EXCEPTION_BITMAP"
        dump_field CR0_GUEST_HOST_MASK, "CR0_GUEST_HOST_MASK"
        dump_field CR0_READ_SHADOW, "CR0_READ_SHADOW"
        dump_field CR4_GUEST_HOST_MASK, "CR4_GUEST_HOST_MASK"
        dump_field CR4_READ_SHADOW, "CR4_READ_SHADOW"
        dump_field EPT_POINTER, "EPT_POINTER"
        dump_field GUEST_RIP, "GUEST_RIP"
        dump_field GUEST_RSP, "GUEST_RSP"
        dump_field GUEST_RFLAGS, "GUEST_RFLAGS"
        dump_field GUEST_CR0, "GUEST_CR0"
        dump_field GUEST_CR3, "GUEST_CR3"
        dump_field GUEST_CR4, "GUEST_CR4"
        dump_field GUEST_IA32_EFER, "GUEST_IA32_EFER"
        dump_field GUEST_CS_SELECTOR, "GUEST_CS_SELECTOR"
        dump_field GUEST_CS_BASE, "GUEST_CS_BASE"
        dump_field GUEST_CS_LIMIT, "GUEST_CS_LIMIT"
        dump_field GUEST_CS_AR_BYTES, "GUEST_CS_AR_BYTES"
        dump_field GUEST_SS_SELECTOR, "GUEST_SS_SELECTOR"
        dump_field GUEST_SS_AR_BYTES, "GUEST_SS_AR_BYTES"
        dump_field GUEST_DS_SELECTOR, "GUEST_DS_SELECTOR"
        dump_field GUEST_DS_AR_BYTES, "GUEST_DS_AR_BYTES"
        dump_field GUEST_TR_SELECTOR, "GUEST_TR_SELECTOR"
        dump_field GUEST_TR_AR_BYTES, "GUEST_TR_AR_BYTES"
        dump_field GUEST_GDTR_BASE, "GUEST_GDTR_BASE"
        dump_field GUEST_GDTR_LIMIT, "GUEST_GDTR_LIMIT"
        dump_field GUEST_IDTR_BASE, "GUEST_IDTR_BASE"
        dump_field GUEST_IDTR_LIMIT, "GUEST_IDTR_LIMIT"
        dump_field GUEST_INTERRUPTIBILITY_INFO, "GUEST_INTERRUPTIBILITY_INFO"
        dump_field GUEST_ACTIVITY_STATE, "GUEST_ACTIVITY_STATE"
        dump_field HOST_RIP, "HOST_RIP"
        dump_field HOST_RSP, "HOST_RSP"
        dump_field HOST_CR0, "HOST_CR0"
        dump_field HOST_CR3, "HOST_CR3"
        dump_field HOST_CR4, "HOST_CR4"
        .long   DUMP_END

        .p2align 3
/* Basic exit reasons (SDM appendix C), by their Linux vmx.h names without EXIT_REASON_. */
exit_reason_names:
        exit_name 0, "EXCEPTION_NMI"
        exit_name 1, "EXTERNAL_INTERRUPT"
        exit_name 2, "TRIPLE_FAULT"
        exit_name 3, "INIT_SIGNAL"
        exit_name 4, "SIPI_SIGNAL"
        exit_name 5, "IO_SMI"
        exit_name 6, "OTHER_SMI"
        exit_name 7, "INTERRUPT_WINDOW"
        exit_name 8, "NMI_WINDOW"
        exit_name 9, "TASK_SWITCH"
        exit_name 10, "CPUID"
        exit_name 11, "GETSEC"
        exit_name 12, "HLT"
        exit_name 13, "INVD"
        exit_name 14, "INVLPG"
        exit_name 15, "RDPMC"
        exit_name 16, "RDTSC"
        exit_name 17, "RSM"
        exit_name 18, "VMCALL"
        exit_name 19, "VMCLEAR"
        exit_name 20, "VMLAUNCH"
        exit_name 21, "VMPTRLD"
        exit_name 22, "VMPTRST"
        exit_name 23, "VMREAD"
        exit_name 24, "VMRESUME"
        exit_name 25, "VMWRITE"
        exit_name 26, "VMOFF"
        exit_name 27, "VMON"
        exit_name 28, "CR_ACCESS"
        exit_name 29, "DR_ACCESS"
        exit_name 30, "IO_INSTRUCTION"
        exit_name 31, "MSR_READ"
        exit_name 32, "MSR_WRITE"
        exit_name 33, "INVALID_STATE"
        exit_name 34, "MSR_LOAD_FAIL"
        exit_name 36, "MWAIT_INSTRUCTION"
        exit_name 37, "MONITOR_TRAP_FLAG"
        exit_name 39, "MONITOR_INSTRUCTION"
        exit_name 40, "PAUSE_INSTRUCTION"
        exit_name 41, "MCE_DURING_VMENTRY"
        exit_name 43, "TPR_BELOW_THRESHOLD"
        exit_name 44, "APIC_ACCESS"
        exit_name 45, "EOI_INDUCED"
        exit_name 46, "GDTR_IDTR"
        exit_name 47, "LDTR_TR"
        exit_name 48, "EPT_VIOLATION"
        exit_name 49, "EPT_MISCONFIG"
        exit_name 50, "INVEPT"
        exit_name 51, "RDTSCP"
        exit_name 52, "PREEMPTION_TIMER"
        exit_name 53, "INVVPID"
        exit_name 54, "WBINVD"
        exit_name 55, "XSETBV"
        exit_name 56, "APIC_WRITE"
        exit_name 57, "RDRAND"
        exit_name 58, "INVPCID"
        exit_name 59, "VMFUNC"
        exit_name 60, "ENCLS"
        exit_name 61, "RDSEED"
        exit_name 62, "PML_FULL"
        exit_name 63, "XSAVES"
        exit_name 64, "XRSTORS"
        exit_name 65, "PCONFIG"
        exit_name 66, "SPP"
        exit_name 67, "UMWAIT"
        exit_name 68, "TPAUSE"
        exit_name 69, "LOADIWKEY"
        exit_name 70, "ENCLV"
        exit_name 72, "ENQCMD_PASID_FAIL"
        exit_name 73, "ENQCMDS_PASID_FAIL"
        exit_name 74, "BUS_LOCK"
        exit_name 75, "NOTIFY"
        exit_name 76, "SEAMCALL"
        exit_name 77, "TDCALL"
        exit_name 78, "RDMSRLIST"
        exit_name 79, "WRMSRLIST"
        exit_name 80, "URDMSR"
        exit_name 81, "UWRMSR"
        exit_name 84, "MSR_READ_IMM"
        exit_name 85, "MSR_WRITE_IMM"
        .org    exit_reason_names + EXIT_REASON_MAX * 8
        .text
