/*
 * handler.S — lab b: MOV to CR3 exits (CPU_BASED_CR3_LOAD_EXITING, exit reason 28
 * CR_ACCESS; SDM Vol. 3C 25.1.3), and the VMM logs every value the guest loads:
 *     [vmm] [    0.100805] cr3: 0x102000
 * then does the load for the guest: GUEST_CR3, and the TLB flush MOV to CR3 implies.
 *
 * The exit qualification for control-register accesses (SDM Vol. 3C 27.2.1, table 27-3):
 * bits 3:0 the CR number, 5:4 the access type (0 = MOV to CR), 11:8 the source register in
 * the order of guest_regs (VCPU_*: RAX RCX RDX RBX RSP RBP RSI RDI R8-R15). RSP is not in
 * guest_regs: the processor saved it in GUEST_RSP. Outside 64-bit mode the operand is 32 bits.
 * With only CR3-load exiting on, nothing else lands here; anything else is reported.
 */
#define CR_QUAL_CR_MASK         0xF
#define CR_QUAL_TYPE_MASK       0x30            /* 0: MOV to CR */
#define CR_QUAL_REG_SHIFT       8
#define AR_L                    (1 << 13)       /* CS.L in the access-rights format (SDM 24.4.1) */
#define VPID_HI_SINGLE_CONTEXT  (1 << 9)        /* IA32_VMX_EPT_VPID_CAP[41] (SDM A.10) */
#define INVVPID_SINGLE_CONTEXT  1
#define INVVPID_ALL_CONTEXT     2

        .text
handle_cr_access:
        pushq   %rbx
        movl    $EXIT_QUALIFICATION, %edi
        call    vmcs_read
        movl    %eax, %ecx
        andl    $CR_QUAL_CR_MASK | CR_QUAL_TYPE_MASK, %ecx
        cmpl    $3, %ecx                        /* MOV to CR3 */
        jne     2f
        shrl    $CR_QUAL_REG_SHIFT, %eax
        andl    $0xF, %eax
        cmpl    $VCPU_RSP / 8, %eax
        je      1f
        movq    guest_regs(,%rax,8), %rbx
        jmp     3f
1:      movl    $GUEST_RSP, %edi
        call    vmcs_read
        movq    %rax, %rbx
3:      movl    $GUEST_CS_AR_BYTES, %edi
        call    vmcs_read
        testl   $AR_L, %eax
        jnz     4f
        movl    %ebx, %ebx                      /* 32-bit operand outside 64-bit mode */
4:      call    vmm_line
        vmm_say "cr3: "
        movq    %rbx, %rdi
        call    vmm_put_hex
        call    vmm_newline
        vmw     GUEST_CR3, %rbx
        /* MOV to CR3 flushes the guest's (non-global) TLB entries; with VPID they outlive
         * VM exits and entries, so the VMM flushes the guest's VPID (SDM Vol. 3C 28.3.3.3). */
        testl   $SECONDARY_EXEC_ENABLE_VPID, vmcs_config_cpu2(%rip)
        jz      5f
        movl    $INVVPID_SINGLE_CONTEXT, %eax
        testl   $VPID_HI_SINGLE_CONTEXT, vmx_vpid_cap(%rip)
        jnz     6f
        movl    $INVVPID_ALL_CONTEXT, %eax
6:      invvpid cr3_invvpid_descriptor(%rip), %rax
5:      popq    %rbx
        jmp     skip_emulated_instruction
2:      popq    %rbx
        jmp     vmx_unexpected_exit

        .section .rodata
        .p2align 4
cr3_invvpid_descriptor:                         /* SDM Vol. 3C 30.3 INVVPID: VPID, linear address */
        .quad   1, 0                            /* the guest's VPID (vmcs.S) */
        .text
