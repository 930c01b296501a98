/*
 * handler.S — lab h: descriptor-table exiting (SECONDARY_EXEC_DESC, built in with
 * -DLAB_DESC_EXITING; SDM Vol. 3C 25.1.3). SGDT, SIDT, LGDT, LIDT exit with reason 46
 * (GDTR_IDTR), SLDT, STR, LLDT, LTR with reason 47 (LDTR_TR), at any privilege level. The
 * exit qualification holds the memory operand's displacement, and VMX_INSTRUCTION_INFO the
 * rest of the operand and, in bits 29:28, which of the four instructions it was (SDM 27.2.5,
 * the tables for "LIDT, LGDT, SIDT, or SGDT" and "LLDT, LTR, SLDT, or STR"). The VMM logs
 *     [vmm] [    0.100805] desc: SGDT at 0x100134 in ring 0 (instruction info 0x...)
 * and then lets the guest execute the instruction itself, on its own state: it turns
 * descriptor-table exiting off and the monitor trap flag on (SDM 25.5.2), so the guest runs
 * exactly that one instruction and exits again with reason 37 (MONITOR_TRAP_FLAG), where the
 * VMM turns them back. No operand decoding, no emulation: the guest sees its own values.
 */
#define DESC_INFO_IDENTITY_SHIFT        28
#define AR_DPL_SHIFT                    5

        .text
handle_desc:
        pushq   %rbx
        call    vmm_line
        vmm_say "desc: "
        movl    $VMX_INSTRUCTION_INFO, %edi
        call    vmcs_read
        movq    %rax, %rbx
        shrl    $DESC_INFO_IDENTITY_SHIFT, %eax
        andl    $3, %eax
        cmpl    $EXIT_REASON_LDTR_TR, vmx_exit_reason(%rip)
        jne     1f
        addl    $4, %eax
1:      movq    desc_names(,%rax,8), %rdi
        call    serial_puts
        vmm_say " at "
        movl    $GUEST_RIP, %edi
        call    vmcs_read
        movq    %rax, %rdi
        call    vmm_put_hex
        vmm_say " in ring "
        movl    $GUEST_SS_AR_BYTES, %edi        /* the CPL is SS.DPL (SDM 24.4.1) */
        call    vmcs_read
        shrl    $AR_DPL_SHIFT, %eax
        andl    $3, %eax
        movl    %eax, %edi
        call    serial_put_dec
        vmm_say " (instruction info "
        movq    %rbx, %rdi
        call    vmm_put_hex
        vmm_say ")"
        call    vmm_newline
        /* One instruction of the guest's own, then back here (handle_desc_stepped). */
        movl    $SECONDARY_VM_EXEC_CONTROL, %edi
        call    vmcs_read
        andl    $~SECONDARY_EXEC_DESC, %eax
        vmw     SECONDARY_VM_EXEC_CONTROL, %rax
        movl    $CPU_BASED_VM_EXEC_CONTROL, %edi
        call    vmcs_read
        orl     $CPU_BASED_MONITOR_TRAP_FLAG, %eax
        vmw     CPU_BASED_VM_EXEC_CONTROL, %rax
        popq    %rbx
        ret

/* MTF (reason 37): the guest executed the instruction; descriptor-table exiting again. */
handle_desc_stepped:
        movl    $CPU_BASED_VM_EXEC_CONTROL, %edi
        call    vmcs_read
        andl    $~CPU_BASED_MONITOR_TRAP_FLAG, %eax
        vmw     CPU_BASED_VM_EXEC_CONTROL, %rax
        vmw     SECONDARY_VM_EXEC_CONTROL, vmcs_config_cpu2(%rip)
        ret

        .section .rodata
        .p2align 3
desc_names:     .quad   desc_sgdt, desc_sidt, desc_lgdt, desc_lidt, desc_sldt, desc_str, desc_lldt, desc_ltr
desc_sgdt:      .asciz  "SGDT"
desc_sidt:      .asciz  "SIDT"
desc_lgdt:      .asciz  "LGDT"
desc_lidt:      .asciz  "LIDT"
desc_sldt:      .asciz  "SLDT"
desc_str:       .asciz  "STR"
desc_lldt:      .asciz  "LLDT"
desc_ltr:       .asciz  "LTR"
        .text
