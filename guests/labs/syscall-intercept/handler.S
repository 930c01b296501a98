/*
 * handler.S — lab e: SYSCALL and SYSRET of an unmodified guest, caught and emulated by the VMM
 * (built in with -DLAB_SYSCALL_INTERCEPT). Nothing makes SYSCALL exit directly, but it raises
 * #UD when IA32_EFER.SCE is 0 (SDM Vol. 2B SYSCALL), and an exception can exit (exception
 * bitmap, SDM Vol. 3C 25.2). So:
 *   - the guest's real EFER (GUEST_IA32_EFER, loaded on VM entry with VM_ENTRY_LOAD_IA32_EFER)
 *     always has SCE = 0;
 *   - its RDMSR/WRMSR of EFER exit (MSR bitmap, SDM 24.6.9; reasons 31 and 32): WRMSR records
 *     the SCE the guest wants in efer_sce_wish, RDMSR returns the real EFER with that SCE;
 *   - #UD exits (EXCEPTION_BITMAP bit 6; reason 0 EXCEPTION_NMI, the vector in bits 7:0 of
 *     VM_EXIT_INTR_INFO, SDM 27.2.2); the VMM reads the instruction at the guest's RIP and
 *     emulates it if it is SYSCALL (0F 05) or SYSRET (0F 07, REX.W 48 0F 07: SYSRETQ), when
 *     the guest's wished SCE allows it. Any other #UD goes back to the guest, as an event
 *     injected on the next VM entry (SDM 26.6).
 * A #UD exit does not give an instruction length (SDM 27.2.5: only for instruction exits),
 * so the VMM decodes the bytes itself, reading them through the guest's page tables
 * (guest_linear_byte) and the EPT (gpa_to_hva).
 */
#define MSR_BITMAP_READ_HIGH    1024    /* MSRs C0000000H-C0001FFFH, one bit each (SDM 24.6.9) */
#define MSR_BITMAP_WRITE_HIGH   3072
#define INTR_INFO_VECTOR_MASK   0xFF
#define INTR_INFO_TYPE_MASK     (7 << 8)
#define INTR_TYPE_HW_EXCEPTION  (3 << 8)
#define EFER_LMA                (1 << 10)
#define REX_W                   0x48
#define PTE_ADDR_MASK           0x000FFFFFFFFFF000

        .text
syscall_intercept_setup:
        vmwl    EXCEPTION_BITMAP, 1 << VECTOR_UD
        orb     $1 << (MSR_EFER & 7), msr_bitmap + MSR_BITMAP_READ_HIGH + ((MSR_EFER & 0x1FFF) >> 3)(%rip)
        orb     $1 << (MSR_EFER & 7), msr_bitmap + MSR_BITMAP_WRITE_HIGH + ((MSR_EFER & 0x1FFF) >> 3)(%rip)
        ret

/* RDMSR (reason 31): only EFER is in the bitmap. EDX:EAX, upper halves cleared (Vol. 2B RDMSR). */
handle_msr_read:
        cmpl    $MSR_EFER, guest_regs + VCPU_RCX(%rip)
        jne     vmx_unexpected_exit
        movl    $GUEST_IA32_EFER, %edi
        call    vmcs_read
        andq    $~EFER_SCE, %rax
        orq     efer_sce_wish(%rip), %rax
        movq    %rax, %rdx
        shrq    $32, %rdx
        movl    %eax, %eax
        movq    %rax, guest_regs + VCPU_RAX(%rip)
        movq    %rdx, guest_regs + VCPU_RDX(%rip)
        jmp     skip_emulated_instruction

/* WRMSR (reason 32) of EFER: the guest's SCE is kept aside, the rest written to the real EFER.
 * LMA is not writable (the processor sets it from LME and CR0.PG): the real one is kept. */
handle_msr_write:
        cmpl    $MSR_EFER, guest_regs + VCPU_RCX(%rip)
        jne     vmx_unexpected_exit
        movl    guest_regs + VCPU_RAX(%rip), %eax
        movl    guest_regs + VCPU_RDX(%rip), %edx
        shlq    $32, %rdx
        orq     %rdx, %rax
        movq    %rax, %rdx
        andl    $EFER_SCE, %edx
        movq    %rdx, efer_sce_wish(%rip)
        andq    $~(EFER_SCE | EFER_LMA), %rax
        movq    %rax, %rdx
        movl    $GUEST_IA32_EFER, %edi
        call    vmcs_read
        andl    $EFER_LMA, %eax
        orq     %rax, %rdx
        vmw     GUEST_IA32_EFER, %rdx
        jmp     skip_emulated_instruction

/* Exception (reason 0): with only #UD in the bitmap, a #UD. */
handle_exception:
        pushq   %rbx
        pushq   %r12
        movl    $VM_EXIT_INTR_INFO, %edi
        call    vmcs_read
        andl    $INTR_INFO_TYPE_MASK | INTR_INFO_VECTOR_MASK, %eax
        cmpl    $INTR_TYPE_HW_EXCEPTION | VECTOR_UD, %eax
        jne     vmx_unexpected_exit
        movl    $GUEST_RIP, %edi
        call    vmcs_read
        movq    %rax, %rbx                      /* the faulting instruction */
        xorl    %r12d, %r12d                    /* its REX prefix, if any */
        movq    %rbx, %rdi
        call    guest_linear_byte
        jc      4f
        movl    %eax, %ecx
        andl    $0xF0, %ecx
        cmpl    $0x40, %ecx                     /* REX (64-bit mode only; checked below) */
        jne     1f
        movl    %eax, %r12d
        incq    %rbx
        movq    %rbx, %rdi
        call    guest_linear_byte
        jc      4f
1:      cmpl    $0x0F, %eax
        jne     4f
        leaq    1(%rbx), %rdi
        call    guest_linear_byte
        jc      4f
        movl    %eax, %ebx                      /* 05: SYSCALL, 07: SYSRET */
        cmpl    $0x05, %eax
        je      2f
        cmpl    $0x07, %eax
        jne     4f
2:      movl    efer_sce_wish(%rip), %edi       /* the instructions' own #UD checks */
        call    syscall_enabled
        jz      4f
        movl    $GUEST_RIP, %edi
        call    vmcs_read
        cmpl    $0x05, %ebx
        jne     3f
        leaq    2(%rax), %rdi                   /* RIP of the next instruction */
        testl   %r12d, %r12d
        jz      5f
        incq    %rdi
5:      call    emulate_syscall
        jmp     6f
3:      xorl    %edi, %edi                      /* SYSRET: REX.W returns to 64-bit code */
        testl   $REX_W & 0x0F, %r12d
        setnz   %dil
        call    emulate_sysret
        jmp     6f
4:      call    inject_ud                       /* a #UD of the guest's own */
6:      popq    %r12
        popq    %rbx
        ret

/* guest_linear_byte(%rdi linear) -> %eax the byte, CF set when the guest's paging does not map
 * it (or maps it outside its RAM). A 4-level walk of the guest's tables (SDM Vol. 3A 4.5) from GUEST_CR3, 1 GiB and 2 MiB
 * pages included; each table and the byte itself are guest-physical (gpa_to_hva). Paging off:
 * the linear address is physical. */
guest_linear_byte:
        pushq   %rbx
        pushq   %rcx
        pushq   %r8
        movabsq $PTE_ADDR_MASK, %r8
        movq    %rdi, %rbx
        movl    $GUEST_CR0, %edi
        call    vmcs_read
        testl   $CR0_PG, %eax
        jz      3f
        movl    $GUEST_CR3, %edi
        call    vmcs_read
        movq    %rax, %rdx                      /* the current table (guest-physical) */
        movl    $39, %ecx                       /* PML4 index: bits 47:39 */
1:      andq    %r8, %rdx
        movq    %rbx, %rax
        shrq    %cl, %rax
        andl    $0x1FF, %eax
        leaq    (%rdx,%rax,8), %rdi
        cmpq    $GUEST_MEM_SIZE, %rdi           /* outside the guest's RAM: not mapped */
        jae     5f
        call    gpa_to_hva
        movq    (%rax), %rdx                    /* the entry */
        testl   $PTE_P, %edx
        jz      5f
        cmpl    $12, %ecx
        je      2f                              /* a page-table entry: a 4 KiB page */
        testl   $PTE_PS, %edx
        jnz     2f                              /* a 1 GiB or 2 MiB page (PDPTE, PDE) */
        subl    $9, %ecx
        jmp     1b
2:      andq    %r8, %rdx                       /* page base, then the offset in the page */
        movq    $-1, %rax
        shlq    %cl, %rax
        andq    %rax, %rdx
        notq    %rax
        andq    %rax, %rbx
        orq     %rdx, %rbx
3:      movq    %rbx, %rdi
        cmpq    $GUEST_MEM_SIZE, %rdi
        jae     5f
        call    gpa_to_hva
        movzbl  (%rax), %eax
        clc
4:      popq    %r8
        popq    %rcx
        popq    %rbx
        ret
5:      stc
        jmp     4b

        .bss
        .p2align 3
efer_sce_wish:  .skip   8               /* EFER.SCE as the guest last wrote it */
        .text
