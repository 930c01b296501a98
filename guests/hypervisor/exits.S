/*
 * exits.S — running the guest and handling its VM exits (SDM Vol. 3C chapters 25-27).
 *   vmx_run                loads the guest's registers and VMLAUNCHes; never returns
 *   vmx_exit_entry         HOST_RIP: every VM exit lands here on vmm_stack. It saves the
 *                          guest's registers in guest_regs, calls vmx_handle_exit, loads them
 *                          back and VMRESUMEs
 *   vmx_handle_exit        reads the exit reason and calls vmx_exit_handlers[reason]; reasons
 *                          without a handler are reported (report.S) and stop the VMM
 * A handler runs with the guest's registers in guest_regs (VCPU_* offsets, Linux's order, so a
 * register number from an exit qualification indexes it) and returns to resume the guest.
 * The processor keeps the guest's RSP and RIP in the VMCS (GUEST_RSP, GUEST_RIP).
 *
 * Hypercalls (VMCALL, exit reason 18): the number in RAX, arguments in RDI, RSI, RDX, the result
 * in RAX; other registers are kept. From any privilege level (see README.md).
 */
.macro save_guest_regs
        movq    %rax, guest_regs + VCPU_RAX(%rip)
        movq    %rcx, guest_regs + VCPU_RCX(%rip)
        movq    %rdx, guest_regs + VCPU_RDX(%rip)
        movq    %rbx, guest_regs + VCPU_RBX(%rip)
        movq    %rbp, guest_regs + VCPU_RBP(%rip)
        movq    %rsi, guest_regs + VCPU_RSI(%rip)
        movq    %rdi, guest_regs + VCPU_RDI(%rip)
        movq    %r8, guest_regs + VCPU_R8(%rip)
        movq    %r9, guest_regs + VCPU_R8 + 8(%rip)
        movq    %r10, guest_regs + VCPU_R8 + 16(%rip)
        movq    %r11, guest_regs + VCPU_R8 + 24(%rip)
        movq    %r12, guest_regs + VCPU_R8 + 32(%rip)
        movq    %r13, guest_regs + VCPU_R8 + 40(%rip)
        movq    %r14, guest_regs + VCPU_R8 + 48(%rip)
        movq    %r15, guest_regs + VCPU_R8 + 56(%rip)
.endm

.macro load_guest_regs
        movq    guest_regs + VCPU_RCX(%rip), %rcx
        movq    guest_regs + VCPU_RDX(%rip), %rdx
        movq    guest_regs + VCPU_RBX(%rip), %rbx
        movq    guest_regs + VCPU_RBP(%rip), %rbp
        movq    guest_regs + VCPU_RSI(%rip), %rsi
        movq    guest_regs + VCPU_RDI(%rip), %rdi
        movq    guest_regs + VCPU_R8(%rip), %r8
        movq    guest_regs + VCPU_R8 + 8(%rip), %r9
        movq    guest_regs + VCPU_R8 + 16(%rip), %r10
        movq    guest_regs + VCPU_R8 + 24(%rip), %r11
        movq    guest_regs + VCPU_R8 + 32(%rip), %r12
        movq    guest_regs + VCPU_R8 + 40(%rip), %r13
        movq    guest_regs + VCPU_R8 + 48(%rip), %r14
        movq    guest_regs + VCPU_R8 + 56(%rip), %r15
        movq    guest_regs + VCPU_RAX(%rip), %rax
.endm

/* exit_handler REASON, FUNCTION: vmx_exit_handlers[REASON] = FUNCTION (in increasing order). */
.macro exit_handler reason, function
        .org    vmx_exit_handlers + (\reason) * 8
        .quad   \function
.endm

        .text
vmx_run:
        vmm_log "vmx: launching the guest"
        load_guest_regs
        vmlaunch
        leaq    msg_vmlaunch(%rip), %rsi        /* lea and jmp keep the flags VMLAUNCH set */
        jmp     vmx_entry_failed

vmx_exit_entry:
        save_guest_regs
        cld
#ifdef LAB_EXIT_STATS
        call    exit_stats_begin                /* guests/labs/exit-stats */
#endif
        call    vmx_handle_exit
#ifdef LAB_EXIT_STATS
        call    exit_stats_end
#endif
        load_guest_regs
        vmresume
        leaq    msg_vmresume(%rip), %rsi
        jmp     vmx_entry_failed

vmx_handle_exit:
        incq    vmx_exit_count(%rip)
        movl    $VM_EXIT_REASON, %edi
        call    vmcs_read
        movl    %eax, vmx_exit_reason(%rip)
        testl   $VMX_EXIT_REASONS_FAILED_VMENTRY, %eax
        jnz     vmx_entry_failure_exit
        andl    $EXIT_REASON_BASIC_MASK, %eax
        cmpl    $EXIT_REASON_MAX, %eax
        jae     vmx_unexpected_exit
        movq    vmx_exit_handlers(,%rax,8), %rax
        testq   %rax, %rax
        jz      vmx_unexpected_exit
        jmp     *%rax

/* skip_emulated_instruction: the guest goes on after the instruction that exited. RIP moves
 * by the length the processor reported (SDM 27.2.5), and blocking by STI or MOV SS ends, as
 * it would have after that instruction (SDM 24.4.2). */
skip_emulated_instruction:
        pushq   %rdx
        movl    $VM_EXIT_INSTRUCTION_LEN, %edi
        call    vmcs_read
        movq    %rax, %rdx
        movl    $GUEST_RIP, %edi
        call    vmcs_read
        addq    %rax, %rdx
        vmw     GUEST_RIP, %rdx
        movl    $GUEST_INTERRUPTIBILITY_INFO, %edi
        call    vmcs_read
        testl   $GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS, %eax
        jz      1f
        andl    $~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS), %eax
        vmw     GUEST_INTERRUPTIBILITY_INFO, %rax
1:      popq    %rdx
        ret

/* CPUID (reason 10, exits unconditionally: SDM 25.1.2): the processor's answer, except that
 * the guest is not told about VMX (CPUID.1:ECX.VMX = 0), as JOS's VMM and KVM without nested
 * virtualization do. CPUID writes EAX, EBX, ECX, EDX and clears their upper halves. */
handle_cpuid:
#ifdef LAB_EXIT_STATS
        movl    guest_regs + VCPU_RAX(%rip), %eax
        cmpl    $EXIT_STATS_LEAF_FIRST, %eax    /* guests/labs/exit-stats */
        jae     exit_stats_cpuid
#endif
        pushq   %rbx
        movq    guest_regs + VCPU_RAX(%rip), %rax
        movq    guest_regs + VCPU_RCX(%rip), %rcx
        movl    %eax, %esi
        cpuid
        cmpl    $1, %esi
        jne     1f
        andl    $~CPUID_1_ECX_VMX, %ecx
#ifdef LAB_VCPU_MIGRATION
        andl    $0x00FFFFFF, %ebx               /* EBX[31:24], the initial APIC ID: vCPU 0's, */
#endif                                          /* whichever pCPU runs it (guests/labs/vcpu-migration) */
1:      movl    %eax, %eax
        movq    %rax, guest_regs + VCPU_RAX(%rip)
        movl    %ebx, %ebx
        movq    %rbx, guest_regs + VCPU_RBX(%rip)
        movl    %ecx, %ecx
        movq    %rcx, guest_regs + VCPU_RCX(%rip)
        movl    %edx, %edx
        movq    %rdx, guest_regs + VCPU_RDX(%rip)
        popq    %rbx
        jmp     skip_emulated_instruction

/* VMCALL (reason 18): hypercall number in RAX, result in RAX. */
handle_vmcall:
        movq    guest_regs + VCPU_RAX(%rip), %rax
        cmpq    $NR_HYPERCALLS, %rax
        jae     1f
        call    *hypercall_table(,%rax,8)
        jmp     2f
1:      movq    $HC_ENOSYS, %rax
2:      movq    %rax, guest_regs + VCPU_RAX(%rip)
        jmp     skip_emulated_instruction

hc_ping:
        movl    $HC_SIGNATURE, %eax
        ret

hc_putc:
        movq    guest_regs + VCPU_RDI(%rip), %rdi
        call    serial_putc
        xorl    %eax, %eax
        ret

hc_exit:
        call    vmm_line
        vmm_say "guest: exit hypercall with value "
        movq    guest_regs + VCPU_RDI(%rip), %rdi
        call    serial_put_dec
        jmp     vmx_guest_done

/* HLT (reason 12, with CPU_BASED_HLT_EXITING): this VMM delivers no interrupts to its guest,
 * so a halted guest would never wake up: the run ends. */
handle_hlt:
        call    vmm_line
        vmm_say "guest: HLT at "
        movl    $GUEST_RIP, %edi
        call    vmcs_read
        movq    %rax, %rdi
        call    vmm_put_hex
        vmm_say ": this VMM injects no interrupts, so the guest would sleep forever"
        call    vmm_newline
        jmp     vmm_fail

/* I/O instructions (reason 30) on the ports set in the I/O bitmaps: only the debug-exit
 * port. An OUT to it is the guest ending the run: the VMM ends it with the same value. */
handle_io:
        movl    $EXIT_QUALIFICATION, %edi
        call    vmcs_read
        movq    %rax, %rdx
        shrq    $IO_QUAL_PORT_SHIFT, %rdx
        andl    $0xFFFF, %edx
        cmpl    $DEBUG_EXIT_PORT, %edx
        jne     vmx_unexpected_exit
        testl   $IO_QUAL_IN | IO_QUAL_STRING, %eax
        jnz     vmx_unexpected_exit
        /* The value: AL, AX or EAX by the access size (qualification bits 2:0 = size - 1). */
        andl    $IO_QUAL_SIZE_MASK, %eax
        leal    8(,%rax,8), %ecx                /* bits: 8, 16 or 32 */
        movq    $1, %rdi
        shlq    %cl, %rdi
        decq    %rdi
        andq    guest_regs + VCPU_RAX(%rip), %rdi
        call    vmm_line
        vmm_say "guest: wrote "
        call    serial_put_dec
        vmm_say " to the debug-exit port"
        /* vmx_guest_done: ends the line and the run with the guest's value (%rdi). */
vmx_guest_done:
        movq    %rdi, vmx_guest_exit_value(%rip)
        vmm_say " after "
        movq    vmx_exit_count(%rip), %rdi
        call    serial_put_dec
        vmm_say " VM exits: ending the run with that value"
        call    vmm_newline
        movq    vmx_guest_exit_value(%rip), %rdi
        call    debug_exit

/* EPT violation (reason 48): the guest touched guest-physical memory the EPT does not map. */
handle_ept_violation:
        call    vmm_line
        vmm_say "guest: EPT violation at guest-physical "
        movl    $GUEST_PHYSICAL_ADDRESS, %edi
        call    vmcs_read
        movq    %rax, %rdi
        call    vmm_put_hex
        vmm_say " (outside the guest's "
        movl    $GUEST_MEM_SIZE >> 20, %edi
        call    serial_put_dec
        vmm_say " MiB)"
        call    vmm_newline
        jmp     vmx_unexpected_exit

/* Triple fault (reason 2): the guest's processor would have shut down. */
handle_triple_fault:
        vmm_log "guest: triple fault (an exception while delivering a double fault)"
        jmp     vmx_unexpected_exit

        .section .rodata
        .p2align 3
/* Indexed by the basic exit reason (SDM appendix C), as lvisor's and KVM's tables are. */
vmx_exit_handlers:
#ifdef LAB_SYSCALL_INTERCEPT
        exit_handler EXIT_REASON_EXCEPTION_NMI, handle_exception /* guests/labs/syscall-intercept */
#endif
        exit_handler EXIT_REASON_TRIPLE_FAULT, handle_triple_fault
        exit_handler EXIT_REASON_CPUID, handle_cpuid
        exit_handler EXIT_REASON_HLT, handle_hlt
#ifdef LAB_RDTSC_HANDLER
        exit_handler EXIT_REASON_RDTSC, handle_rdtsc            /* guests/labs/rdtsc-exiting */
#endif
#ifdef LAB_SYSCALL_EMULATION
        exit_handler EXIT_REASON_VMCALL, handle_vmcall_as_syscall /* guests/labs/syscall-emulation */
#else
        exit_handler EXIT_REASON_VMCALL, handle_vmcall
#endif
#ifdef LAB_CR3_EXITING
        exit_handler EXIT_REASON_CR_ACCESS, handle_cr_access    /* guests/labs/cr3-exiting */
#endif
        exit_handler EXIT_REASON_IO_INSTRUCTION, handle_io
#ifdef LAB_SYSCALL_INTERCEPT
        exit_handler EXIT_REASON_MSR_READ, handle_msr_read      /* guests/labs/syscall-intercept */
        exit_handler EXIT_REASON_MSR_WRITE, handle_msr_write
#endif
#ifdef LAB_DESC_EXITING
        exit_handler EXIT_REASON_MONITOR_TRAP_FLAG, handle_desc_stepped /* guests/labs/sensitive */
        exit_handler EXIT_REASON_GDTR_IDTR, handle_desc
        exit_handler EXIT_REASON_LDTR_TR, handle_desc
#endif
        exit_handler EXIT_REASON_EPT_VIOLATION, handle_ept_violation
#ifdef LAB_VCPU_MIGRATION
        exit_handler EXIT_REASON_PREEMPTION_TIMER, handle_vcpu_preempted /* guests/labs/vcpu-migration */
#elif defined(LAB_PREEMPTION_TIMER)
        exit_handler EXIT_REASON_PREEMPTION_TIMER, handle_preemption_timer /* guests/labs/preemption-timer */
#endif
        .org    vmx_exit_handlers + EXIT_REASON_MAX * 8

hypercall_table:
#ifdef LAB_HYPERCALLS
        .quad   hc_sys_hello, hc_sys_bye, hc_sys_exit   /* teach-os's calls (guests/labs/hypercalls) */
#elif defined(LAB_JOS_SERVICES)
        .quad   hc_ping, hc_putc, hc_exit               /* and guests/labs/jos-services' 10-12 */
        .quad   hc_enosys, hc_enosys, hc_enosys, hc_enosys, hc_enosys, hc_enosys, hc_enosys
        .quad   hc_memory_map, hc_read_sector, hc_write_sector
#elif defined(LAB_VCPU_MIGRATION)
        .quad   hc_ping, hc_putc, hc_exit, hc_host_cpuid /* and guests/labs/vcpu-migration's 3 */
#else
        .quad   hc_ping, hc_putc, hc_exit
#endif
msg_vmlaunch:   .asciz "VMLAUNCH"
msg_vmresume:   .asciz "VMRESUME"

        .bss
        .p2align 3
guest_regs:             .skip   VCPU_REGS_SIZE
vmx_exit_count:         .skip   8
vmx_exit_reason:        .skip   8
vmx_guest_exit_value:   .skip   8
        .text
