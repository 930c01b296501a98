/*
 * syscall.S — labs d and e: SYSCALL and SYSRET done by the VMM on the guest's state in the
 * VMCS, step by step as the "Operation" sections of SDM Vol. 2B SYSCALL and SYSRET say.
 *   emulate_syscall(%rdi = RIP of the next instruction)
 *   emulate_sysret(%edi = 1 for REX.W SYSRET, 0 for the 32-bit form)
 *   inject_ud, inject_gp0      the exception the instruction would have raised (SDM 26.6)
 * The guest's IA32_STAR, IA32_LSTAR and IA32_FMASK are not in the VMCS. This VMM does not
 * switch them on VM exits (no MSR-load lists, and the MSR bitmap lets the guest's WRMSRs to
 * them through), so the values the guest wrote are still in the processor in VMX root
 * operation: a RDMSR here reads the guest's own (see README.md). The general-purpose
 * registers are in guest_regs; RIP, RFLAGS, CS and SS are guest-state fields (SDM 24.4.1).
 * The segment caches are written in the VMCS access-rights format (SDM 24.4.1, table 24-2):
 * type in 3:0, S 4, DPL 6:5, P 7, L 13, D/B 14, G 15.
 */
#define VCPU_R11                (VCPU_R8 + 24)
#define AR_SYSCALL_CS           0xA09B  /* type 11, S, DPL 0, P, L, G */
#define AR_SYSCALL_SS           0xC093  /* type 3, S, DPL 0, P, B, G */
#define AR_SYSRET_CS64          0xA0FB  /* type 11, S, DPL 3, P, L, G */
#define AR_SYSRET_CS32          0xC0FB  /* type 11, S, DPL 3, P, D, G */
#define AR_SYSRET_SS            0xC0F3  /* type 3, S, DPL 3, P, B, G */
#define SYSRET_RFLAGS_MASK      0x3C7FD7        /* RFLAGS ← (R11 & 3C7FD7H) | 2 */
#define RFLAGS_FIXED            0x2
/* VM-entry interruption information (SDM 24.8.3): vector, type 3 (hardware exception), valid. */
#define INTR_INFO_HW_EXCEPTION  ((3 << 8) | (1 << 31))
#define INTR_INFO_DELIVER_CODE  (1 << 11)
#define VECTOR_UD               6
#define VECTOR_GP               13

        .text
emulate_syscall:
        pushq   %rbx
        movq    %rdi, guest_regs + VCPU_RCX(%rip)       /* RCX ← RIP (next instruction) */
        movl    $GUEST_RFLAGS, %edi
        call    vmcs_read
        movq    %rax, guest_regs + VCPU_R11(%rip)       /* R11 ← RFLAGS */
        movq    %rax, %rbx
        movl    $MSR_FMASK, %ecx
        rdmsr
        notq    %rax
        andq    %rax, %rbx                              /* RFLAGS ← RFLAGS AND NOT(IA32_FMASK) */
        orq     $RFLAGS_FIXED, %rbx                     /* bit 1 reads as 1 whatever FMASK says */
        vmw     GUEST_RFLAGS, %rbx
        movl    $MSR_LSTAR, %ecx                        /* RIP ← IA32_LSTAR */
        rdmsr
        shlq    $32, %rdx
        orq     %rdx, %rax
        vmw     GUEST_RIP, %rax
        movl    $MSR_STAR, %ecx
        rdmsr
        movzwl  %dx, %ebx                               /* IA32_STAR[47:32] */
        movl    %ebx, %eax
        andl    $0xFFFC, %eax                           /* CS.Selector ← STAR[47:32] AND FFFCH */
        vmw     GUEST_CS_SELECTOR, %rax
        vmwl    GUEST_CS_BASE, 0
        vmwl    GUEST_CS_LIMIT, 0xFFFFFFFF              /* FFFFFH in 4-KiB units (G = 1) */
        vmwl    GUEST_CS_AR_BYTES, AR_SYSCALL_CS
        leal    8(%rbx), %eax                           /* SS.Selector ← STAR[47:32] + 8 */
        vmw     GUEST_SS_SELECTOR, %rax
        vmwl    GUEST_SS_BASE, 0
        vmwl    GUEST_SS_LIMIT, 0xFFFFFFFF
        vmwl    GUEST_SS_AR_BYTES, AR_SYSCALL_SS        /* CPL ← 0: the CPL is SS.DPL (SDM 24.4.1) */
        popq    %rbx
        ret

emulate_sysret:
        pushq   %rbx
        movl    %edi, %ebx
        movl    $GUEST_SS_AR_BYTES, %edi                /* IF CPL ≠ 0 THEN #GP(0) */
        call    vmcs_read
        testl   $0x60, %eax
        jnz     inject_gp0_pop
        movq    guest_regs + VCPU_RCX(%rip), %rax
        testl   %ebx, %ebx
        jz      1f
        movq    %rax, %rdx                              /* 64-bit: RCX canonical, else #GP(0) */
        shlq    $16, %rdx
        sarq    $16, %rdx
        cmpq    %rax, %rdx
        jne     inject_gp0_pop
        jmp     2f
1:      movl    %eax, %eax                              /* RIP ← ZeroExtend(ECX) */
2:      vmw     GUEST_RIP, %rax
        movq    guest_regs + VCPU_R11(%rip), %rax
        andl    $SYSRET_RFLAGS_MASK, %eax
        orl     $RFLAGS_FIXED, %eax
        vmw     GUEST_RFLAGS, %rax
        movl    $MSR_STAR, %ecx
        rdmsr
        shrl    $16, %edx                               /* IA32_STAR[63:48] */
        leal    16(%rdx), %eax                          /* CS: +16 for a 64-bit return */
        movl    $AR_SYSRET_CS64, %ecx
        testl   %ebx, %ebx
        jnz     3f
        movl    %edx, %eax
        movl    $AR_SYSRET_CS32, %ecx
3:      orl     $3, %eax                                /* CS.Selector OR 3 */
        vmw     GUEST_CS_SELECTOR, %rax
        vmw     GUEST_CS_AR_BYTES, %rcx
        vmwl    GUEST_CS_BASE, 0
        vmwl    GUEST_CS_LIMIT, 0xFFFFFFFF
        leal    8(%rdx), %eax                           /* SS.Selector ← (STAR[63:48] + 8) OR 3 */
        orl     $3, %eax
        vmw     GUEST_SS_SELECTOR, %rax
        vmwl    GUEST_SS_BASE, 0
        vmwl    GUEST_SS_LIMIT, 0xFFFFFFFF
        vmwl    GUEST_SS_AR_BYTES, AR_SYSRET_SS         /* CPL ← 3 */
        popq    %rbx
        ret
inject_gp0_pop:
        popq    %rbx
inject_gp0:
        vmwl    VM_ENTRY_EXCEPTION_ERROR_CODE, 0
        vmwl    VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_HW_EXCEPTION | INTR_INFO_DELIVER_CODE | VECTOR_GP
        ret

inject_ud:
        vmwl    VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_HW_EXCEPTION | VECTOR_UD
        ret

/* syscall_enabled -> ZF clear when SYSCALL/SYSRET may run: 64-bit code (CS.L, which needs
 * IA32_EFER.LMA) and SCE = %edi (the EFER the guest believes in: the first check of both
 * instructions' Operation). */
#define AR_L_BIT                (1 << 13)
syscall_enabled:
        testl   $EFER_SCE, %edi
        jz      1f
        movl    $GUEST_CS_AR_BYTES, %edi
        call    vmcs_read
        testl   $AR_L_BIT, %eax
1:      ret
