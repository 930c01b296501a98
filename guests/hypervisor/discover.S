/*
 * discover.S — what VT-x this processor offers, found the way a VMM must find it (SDM Vol. 3C
 * 23.6 "Discovering support for VMX", 23.7 "Enabling and entering VMX operation", Vol. 3D
 * appendix A "VMX capability reporting facility"), and the control words the VMM asks for.
 *   vmx_discover          CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL (locked here when the firmware
 *                         did not), IA32_VMX_BASIC, EPT / VPID / unrestricted guest; prints
 *                         what it found and stops when something the VMM needs is missing
 *   setup_vmcs_config     the five control words, each from a min/opt pair (below)
 *   adjust_vmx_controls(%edi min, %esi opt, %edx msr, %rcx name) -> %eax
 *       the control word for capability MSR %edx: every `min` bit must be allowed to be 1
 *       (else the VMM reports which are not and stops), `opt` bits are taken where allowed,
 *       and the bits the MSR says must be 1 are set. The shape of Linux's and lvisor's
 *       adjust_vmx_controls().
 * Both keep %rbx, %rbp and %r12-%r15.
 */
        .text
vmx_discover:
        pushq   %rbx
        pushq   %r12
        /* The vendor string: CPUID.0 gives it in EBX, EDX, ECX. */
        xorl    %eax, %eax
        cpuid
        movl    %ebx, cpu_vendor(%rip)
        movl    %edx, cpu_vendor + 4(%rip)
        movl    %ecx, cpu_vendor + 8(%rip)
        call    vmm_line
        vmm_say "cpu: "
        leaq    cpu_vendor(%rip), %rdi
        call    serial_puts
        call    vmm_newline

        movl    $1, %eax
        cpuid
        testl   $CPUID_1_ECX_VMX, %ecx
        jnz     1f
        vmm_log "vmx: not supported (CPUID.1:ECX.VMX = 0)"
        jmp     vmm_fail
1:      vmm_log "vmx: supported (CPUID.1:ECX.VMX = 1)"

        /* IA32_FEATURE_CONTROL (SDM 23.7): VMXON needs it locked with bit 2 set. Firmware
         * normally does that; when it is still unlocked, the OS may (Linux does too). */
        movl    $MSR_IA32_FEATURE_CONTROL, %ecx
        rdmsr
        testl   $FEATURE_CONTROL_LOCKED, %eax
        jnz     2f
        orl     $FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX, %eax
        wrmsr
        call    vmm_line
        vmm_say "vmx: IA32_FEATURE_CONTROL was unlocked: now "
        movl    %eax, %edi
        call    vmm_put_hex
        vmm_say " (locked, VMXON outside SMX allowed)"
        call    vmm_newline
        jmp     3f
2:      call    vmm_line
        vmm_say "vmx: IA32_FEATURE_CONTROL = "
        movl    %eax, %edi
        call    vmm_put_hex
        call    vmm_newline
        testl   $FEATURE_CONTROL_VMXON_OUTSIDE_SMX, %eax
        jnz     3f
        vmm_log "vmx: disabled by the firmware (IA32_FEATURE_CONTROL locked with bit 2 clear)"
        jmp     vmm_fail

        /* IA32_VMX_BASIC (SDM A.1). */
3:      movl    $MSR_IA32_VMX_BASIC, %ecx
        rdmsr
        andl    $VMX_BASIC_REVISION_MASK, %eax
        movl    %eax, vmx_revision(%rip)
        movl    %edx, %ecx
        andl    $VMX_BASIC_HI_TRUE_CTLS, %ecx
        movl    %ecx, vmx_true_ctls(%rip)
        call    vmm_line
        vmm_say "vmx: IA32_VMX_BASIC: VMCS revision id "
        movl    %eax, %edi
        call    vmm_put_hex
        vmm_say ", region size "
        movl    %edx, %edi
        andl    $VMX_BASIC_HI_VMCS_SIZE_MASK, %edi
        call    serial_put_dec
        vmm_say " bytes, TRUE controls "
        movl    vmx_true_ctls(%rip), %edi
        call    vmm_put_yes_no
        call    vmm_newline

        /* Secondary controls, then what they may turn on (SDM A.3.2, A.3.3). */
        xorl    %r12d, %r12d                    /* allowed-1 of the secondary controls */
        movl    $MSR_IA32_VMX_PROCBASED_CTLS, %ecx
        rdmsr
        testl   $CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, %edx
        jz      4f
        movl    $MSR_IA32_VMX_PROCBASED_CTLS2, %ecx
        rdmsr
        movl    %edx, %r12d
        /* IA32_VMX_EPT_VPID_CAP exists only when EPT or VPID may be enabled (SDM A.10). */
        testl   $SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID, %r12d
        jz      4f
        movl    $MSR_IA32_VMX_EPT_VPID_CAP, %ecx
        rdmsr
        movl    %eax, vmx_ept_cap(%rip)
        movl    %edx, vmx_vpid_cap(%rip)
4:      call    vmm_line
        vmm_say "vmx: EPT "
        movl    %r12d, %edi
        andl    $SECONDARY_EXEC_ENABLE_EPT, %edi
        call    vmm_put_yes_no
        vmm_say ", VPID "
        movl    %r12d, %edi
        andl    $SECONDARY_EXEC_ENABLE_VPID, %edi
        call    vmm_put_yes_no
        vmm_say ", unrestricted guest "
        movl    %r12d, %edi
        andl    $SECONDARY_EXEC_UNRESTRICTED_GUEST, %edi
        call    vmm_put_yes_no
        call    vmm_newline
        testl   $SECONDARY_EXEC_ENABLE_EPT, %r12d
        jz      5f
        call    vmm_line
        vmm_say "vmx: EPT_VPID_CAP: 4-level walks "
        movl    vmx_ept_cap(%rip), %edi
        andl    $VMX_EPT_PAGE_WALK_4_BIT, %edi
        call    vmm_put_yes_no
        vmm_say ", write-back "
        movl    vmx_ept_cap(%rip), %edi
        andl    $VMX_EPTP_WB_BIT, %edi
        call    vmm_put_yes_no
        vmm_say ", 2 MiB pages "
        movl    vmx_ept_cap(%rip), %edi
        andl    $VMX_EPT_2MB_PAGE_BIT, %edi
        call    vmm_put_yes_no
        vmm_say ", INVVPID "
        movl    vmx_vpid_cap(%rip), %edi
        andl    $VMX_EPT_HI_INVVPID_BIT, %edi
        call    vmm_put_yes_no
        call    vmm_newline
        /* Our EPT (ept.S) is a 4-level, write-back table of 2 MiB pages. */
        movl    vmx_ept_cap(%rip), %eax
        andl    $VMX_EPT_PAGE_WALK_4_BIT | VMX_EPTP_WB_BIT | VMX_EPT_2MB_PAGE_BIT, %eax
        cmpl    $VMX_EPT_PAGE_WALK_4_BIT | VMX_EPTP_WB_BIT | VMX_EPT_2MB_PAGE_BIT, %eax
        je      5f
        vmm_log "vmx: this VMM needs EPT with 4-level walks, write-back memory and 2 MiB pages"
        jmp     vmm_fail
5:      popq    %r12
        popq    %rbx
        ret

/* The controls this VMM needs (min) and would like (opt), as in lvisor's setup_vmcs_config.
 * To trap one more kind of event, add its control to a `min`: e.g. CPU_BASED_RDTSC_EXITING
 * (then every RDTSC of the guest exits with reason 16, EXIT_REASON_RDTSC). */
setup_vmcs_config:
#ifdef LAB_PREEMPTION_TIMER
        movl    $PIN_BASED_VMX_PREEMPTION_TIMER, %edi   /* guests/labs/preemption-timer */
#else
        xorl    %edi, %edi
#endif
        xorl    %esi, %esi
        movl    $MSR_IA32_VMX_PINBASED_CTLS, %edx
        leaq    name_pin_based(%rip), %rcx
        call    adjust_vmx_controls
        movl    %eax, vmcs_config_pin(%rip)

        /* HLT and the debug-exit port exit; the MSR bitmap (all zeros) lets the guest's
         * RDMSR/WRMSR run without exits. CR3 accesses need no exits: EPT isolates the guest. */
        movl    $CPU_BASED_HLT_EXITING | CPU_BASED_USE_IO_BITMAPS | CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS | LAB_CPU_BASED_MIN, %edi
        xorl    %esi, %esi
        movl    $MSR_IA32_VMX_PROCBASED_CTLS, %edx
        leaq    name_cpu_based(%rip), %rcx
        call    adjust_vmx_controls
        movl    %eax, vmcs_config_cpu(%rip)

        /* The guest starts as its boot loader would leave it: 32-bit protected mode with
         * paging off, which only the unrestricted-guest control allows under EPT. */
        movl    $SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST | LAB_SECONDARY_MIN, %edi
        movl    $SECONDARY_EXEC_ENABLE_VPID | SECONDARY_EXEC_ENABLE_RDTSCP | SECONDARY_EXEC_ENABLE_INVPCID, %esi
        movl    $MSR_IA32_VMX_PROCBASED_CTLS2, %edx
        leaq    name_secondary(%rip), %rcx
        call    adjust_vmx_controls
        movl    %eax, vmcs_config_cpu2(%rip)

        /* A 64-bit host; the guest's EFER saved and the host's loaded on every exit. */
        movl    $VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER | LAB_EXIT_MIN, %edi
        xorl    %esi, %esi
        movl    $MSR_IA32_VMX_EXIT_CTLS, %edx
        leaq    name_exit(%rip), %rcx
        call    adjust_vmx_controls
        movl    %eax, vmcs_config_exit(%rip)

        movl    $VM_ENTRY_LOAD_IA32_EFER, %edi
        xorl    %esi, %esi
        movl    $MSR_IA32_VMX_ENTRY_CTLS, %edx
        leaq    name_entry(%rip), %rcx
        call    adjust_vmx_controls
        movl    %eax, vmcs_config_entry(%rip)
        ret

adjust_vmx_controls:
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rdi
        pushq   %r8
        movq    %rcx, %r8                       /* the field's name */
        movl    %edx, %ecx
        /* With IA32_VMX_BASIC[55], the TRUE_ MSRs tell which default1 bits may be 0 (SDM A.2). */
        cmpl    $0, vmx_true_ctls(%rip)
        je      1f
        cmpl    $MSR_IA32_VMX_ENTRY_CTLS, %ecx
        ja      1f
        addl    $MSR_IA32_VMX_TRUE_CTLS_DELTA, %ecx
1:      rdmsr                                   /* %eax: allowed-0 settings, %edx: allowed-1 */
        movl    %edx, %ebx
        notl    %ebx
        andl    %edi, %ebx                      /* required but not allowed */
        jnz     2f
        orl     %esi, %edi
        andl    %edx, %edi
        orl     %edi, %eax
        call    vmm_line
        vmm_say "vmx: "
        movq    %r8, %rdi
        call    serial_puts
        vmm_say " = "
        movl    %eax, %edi
        call    vmm_put_hex
        call    vmm_newline
        popq    %r8
        popq    %rdi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        ret
2:      call    vmm_line
        vmm_say "vmx: "
        movq    %r8, %rdi
        call    serial_puts
        vmm_say ": required controls "
        movl    %ebx, %edi
        call    vmm_put_hex
        vmm_say " are not supported (allowed-1 settings "
        movl    %edx, %edi
        call    vmm_put_hex
        vmm_say ")"
        call    vmm_newline
        jmp     vmm_fail

        .section .rodata
name_pin_based: .asciz "PIN_BASED_VM_EXEC_CONTROL"
name_cpu_based: .asciz "CPU_BASED_VM_EXEC_CONTROL"
name_secondary: .asciz "SECONDARY_VM_EXEC_CONTROL"
name_exit:      .asciz "VM_EXIT_CONTROLS"
name_entry:     .asciz "VM_ENTRY_CONTROLS"

        .bss
        .p2align 3
cpu_vendor:        .skip   16           /* 12 characters and a NUL */
vmx_revision:      .skip   4
vmx_true_ctls:     .skip   4
vmx_ept_cap:       .skip   4
vmx_vpid_cap:      .skip   4
vmcs_config_pin:   .skip   4
vmcs_config_cpu:   .skip   4
vmcs_config_cpu2:  .skip   4
vmcs_config_exit:  .skip   4
vmcs_config_entry: .skip   4
        .text
