/*
 * handler.S — lab g: the VMM counts its VM exits per reason and the cycles it spends on each
 * (built in with -DLAB_EXIT_STATS), and tells the guest through CPUID leaves of its own:
 *   EAX = 0x4FFFFFFC          -> EAX = total exits (low 32 bits)
 *   EAX = 0x4FFFFFFD          -> EBX:ECX = total cycles (EBX the high half)
 *   EAX = 0x4FFFFFFE, ECX = r -> EAX = exits with basic reason r
 *   EAX = 0x4FFFFFFF, ECX = r -> EBX:ECX = cycles spent on reason r
 * (every other output register 0; a reason the SDM does not define gives 0).
 * What is counted: every exit, at its start (exit_stats_begin, before dispatch), except the
 * CPUIDs asking for these leaves: they are how the guest reads the counters, and a guest
 * reading them twice gets the same numbers. Cycles: RDTSC at the start and at the end of
 * the handler (exit_stats_end, just before VMRESUME), so the VMM's own work, not the
 * processor's exit and entry. An exit the VMM never resumes from (the guest's last) has its
 * count but no cycles.
 */
        .text
exit_stats_begin:
        movl    $VM_EXIT_REASON, %edi
        call    vmcs_read
        andl    $EXIT_REASON_BASIC_MASK, %eax
        cmpl    $EXIT_REASON_MAX, %eax
        jae     2f
        cmpl    $EXIT_REASON_CPUID, %eax
        jne     1f
        movl    guest_regs + VCPU_RAX(%rip), %ecx
        cmpl    $EXIT_STATS_LEAF_FIRST, %ecx
        jae     2f                              /* a question about the counters */
1:      movl    %eax, exit_stats_reason(%rip)
        incq    exit_stats_count(,%rax,8)
        incq    exit_stats_total(%rip)
        rdtsc
        shlq    $32, %rdx
        orq     %rdx, %rax
        movq    %rax, exit_stats_start(%rip)
        ret
2:      movl    $-1, exit_stats_reason(%rip)    /* nothing to time */
        ret

exit_stats_end:
        movl    exit_stats_reason(%rip), %ecx
        cmpl    $-1, %ecx
        je      1f
        rdtsc
        shlq    $32, %rdx
        orq     %rdx, %rax
        subq    exit_stats_start(%rip), %rax
        addq    %rax, exit_stats_cycles(,%rcx,8)
        addq    %rax, exit_stats_total_cycles(%rip)
1:      ret

/* exit_stats_cpuid(%eax leaf in 0x4FFFFFFC-0x4FFFFFFF): the answer in guest_regs. */
exit_stats_cpuid:
        movl    guest_regs + VCPU_RCX(%rip), %ecx
        movq    $0, guest_regs + VCPU_RBX(%rip)
        movq    $0, guest_regs + VCPU_RCX(%rip)
        movq    $0, guest_regs + VCPU_RDX(%rip)
        xorl    %edx, %edx                      /* the 64-bit value */
        subl    $EXIT_STATS_LEAF_FIRST, %eax
        jnz     1f
        movq    exit_stats_total(%rip), %rdx
        jmp     4f
1:      decl    %eax
        jnz     2f
        movq    exit_stats_total_cycles(%rip), %rdx
        jmp     5f
2:      cmpl    $EXIT_REASON_MAX, %ecx
        jae     3f
        decl    %eax
        jnz     6f
        movq    exit_stats_count(,%rcx,8), %rdx
3:      testl   %eax, %eax
        jnz     5f
4:      movl    %edx, %edx                      /* EAX: a count */
        movq    %rdx, guest_regs + VCPU_RAX(%rip)
        jmp     skip_emulated_instruction
6:      movq    exit_stats_cycles(,%rcx,8), %rdx
5:      movl    %edx, %eax                      /* EBX:ECX: cycles */
        movq    %rax, guest_regs + VCPU_RCX(%rip)
        shrq    $32, %rdx
        movq    %rdx, guest_regs + VCPU_RBX(%rip)
        movq    $0, guest_regs + VCPU_RAX(%rip)
        jmp     skip_emulated_instruction

        .bss
        .p2align 3
exit_stats_count:        .skip   EXIT_REASON_MAX * 8
exit_stats_cycles:       .skip   EXIT_REASON_MAX * 8
exit_stats_total:        .skip   8
exit_stats_total_cycles: .skip   8
exit_stats_start:        .skip   8
exit_stats_reason:       .skip   4
        .text
