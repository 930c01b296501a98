/*
 * user.S — run a small program in ring 3 and get back to the kernel.
 *   user_run(%rdi start, %rsi end) -> %rax
 * copies the position-independent code in [start, end) to USER_BASE, a 2 MiB page marked
 * user-accessible (U/S = 1), and enters it at USER_BASE in ring 3 with iretq (RFLAGS = 0x2,
 * stack at the top of that page). The program returns with `int $USER_RETURN_VECTOR`, %rax
 * being the result; an exception in ring 3 returns -1 (lib/trap.S records it).
 * Needs trap_init (lib/trap.S) and the TSS (lib/boot.S: RSP0 is where ring 3 traps land).
 */
#define USER_BASE          0x800000
#define USER_STACK_TOP     (USER_BASE + LARGE_PAGE_SIZE)
#define USER_RETURN_VECTOR 0x3F

        .text
user_run:
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        /* PD entry of USER_BASE: user-accessible from now on (upper levels already are). */
        orq     $PTE_US, boot_pd + (USER_BASE >> LARGE_PAGE_SHIFT) * 8(%rip)
        invlpg  USER_BASE
        movq    %rsi, %rcx
        subq    %rdi, %rcx
        movq    %rdi, %rsi
        movq    $USER_BASE, %rdi
        rep movsb
        /* The way back: a DPL-3 interrupt gate whose hook resumes user_call_return. */
        movl    $USER_RETURN_VECTOR, %edi
        movq    $trap_stubs + USER_RETURN_VECTOR * 16, %rsi
        movl    $GATE_INTR + GATE_DPL3, %edx
        xorl    %ecx, %ecx
        call    idt_set_gate
        movq    $user_return_hook, trap_hooks + USER_RETURN_VECTOR * 8(%rip)
        movq    $user_call_return, user_call_resume(%rip)
        movq    %rsp, user_call_rsp(%rip)
        /* iretq to ring 3 (SDM Vol. 3A, 6.14.3): SS, RSP, RFLAGS, CS, RIP. */
        pushq   $USER_DS
        pushq   $USER_STACK_TOP
        pushq   $0x2
        pushq   $USER_CS
        pushq   $USER_BASE
        iretq
user_call_return:
        movq    $0, user_call_rsp(%rip)
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        ret

