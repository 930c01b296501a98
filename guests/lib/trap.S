/*
 * trap.S — the IDT, one entry stub per vector 0..63, and a common path that saves the
 * general registers, calls trap_dispatch(frame) and returns with iretq.
 *   idt_set_gate(%edi vector, %rsi handler, %edx type, %ecx ist)   type: GATE_INTR/GATE_TRAP
 *                                                                  (+ GATE_DPL3), ist: 0-7
 *   trap_init                 every vector 0..63 -> its stub as a ring-0 interrupt gate; lidt
 *   trap_clear                forget the last trap (trap_vector = trap_error = -1, CR2 = 0)
 * What happens to a trap:
 *   1. trap_hooks[vector] set: that function is called with %rdi = frame (FRAME_* offsets).
 *   2. otherwise it is recorded (trap_vector, trap_error, trap_rip, trap_cs, trap_rflags,
 *      trap_rsp, trap_ss, trap_cr2, trap_frame, trap_count) and then
 *      - from ring 3: the running user_call (lib/user.S) returns -1;
 *      - from ring 0 with trap_fixup set (macro arm_fixup): execution goes on at trap_fixup;
 *      - otherwise it is unexpected: a message, and the run ends with status 7.
 */
#define TRAP_STUBS 64

/* trap_stub VEC: push a zero where the CPU pushes no error code (SDM Vol. 3A, 6.13), then
 * the vector. Each stub takes one 16-byte slot, so stub V is at trap_stubs + 16 * V. */
.macro trap_stub vec
        .p2align 4
        .if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
        .else
        pushq   $0
        .endif
        pushq   $\vec
        jmp     trap_common
.endm

/* arm_fixup LABEL: the next exception in ring 0 resumes at LABEL instead of retrying. */
.macro arm_fixup label
        movq    $\label, trap_fixup(%rip)
.endm

        .text
        .p2align 4
trap_stubs:
        .irp    v, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
        trap_stub \v
        .endr
        .irp    v, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
        trap_stub \v
        .endr
        .irp    v, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47
        trap_stub \v
        .endr
        .irp    v, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63
        trap_stub \v
        .endr

/* The frame: 15 general registers (r15 lowest), vector, error code, then RIP, CS, RFLAGS,
 * RSP, SS as the CPU pushed them (SDM Vol. 3A, 6.14.2). Offsets are FRAME_* in defs.h. */
trap_common:
        pushq   %rax
        pushq   %rbx
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        pushq   %rbp
        pushq   %r8
        pushq   %r9
        pushq   %r10
        pushq   %r11
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        cld
        movq    %rsp, %rdi
        call    trap_dispatch
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %r11
        popq    %r10
        popq    %r9
        popq    %r8
        popq    %rbp
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        popq    %rbx
        popq    %rax
        addq    $16, %rsp               /* vector and error code */
        iretq

trap_dispatch:
        movq    FRAME_VECTOR(%rdi), %rax
        movq    trap_hooks(,%rax,8), %rcx
        testq   %rcx, %rcx
        jz      1f
        jmp     *%rcx                   /* the hook returns to trap_common for us */
1:      movq    %rax, trap_vector(%rip)
        movq    FRAME_ERROR(%rdi), %rax
        movq    %rax, trap_error(%rip)
        movq    FRAME_RIP(%rdi), %rax
        movq    %rax, trap_rip(%rip)
        movq    FRAME_CS(%rdi), %rax
        movq    %rax, trap_cs(%rip)
        movq    FRAME_RFLAGS(%rdi), %rax
        movq    %rax, trap_rflags(%rip)
        movq    FRAME_RSP(%rdi), %rax
        movq    %rax, trap_rsp(%rip)
        movq    FRAME_SS(%rdi), %rax
        movq    %rax, trap_ss(%rip)
        movq    %cr2, %rax
        movq    %rax, trap_cr2(%rip)
        movq    %rdi, trap_frame(%rip)
        incq    trap_count(%rip)
        testb   $3, FRAME_CS(%rdi)
        jz      2f
        cmpq    $0, user_call_rsp(%rip)
        je      3f
        movq    $-1, FRAME_RAX(%rdi)
        jmp     user_return_hook
2:      movq    trap_fixup(%rip), %rax
        testq   %rax, %rax
        jz      3f
        movq    %rax, FRAME_RIP(%rdi)
        movq    $0, trap_fixup(%rip)
        ret
3:      movq    %rdi, %rcx
        leaq    trap_msg_unexpected(%rip), %rdi
        call    serial_puts
        movq    FRAME_VECTOR(%rcx), %rdi
        call    serial_put_dec
        leaq    trap_msg_error(%rip), %rdi
        call    serial_puts
        movq    FRAME_ERROR(%rcx), %rdi
        movl    $4, %esi
        call    serial_put_hex
        leaq    trap_msg_rip(%rip), %rdi
        call    serial_puts
        movq    FRAME_RIP(%rcx), %rdi
        movl    $16, %esi
        call    serial_put_hex
        movl    $'\n', %edi
        call    serial_putc
        movl    $7, %edi
        call    debug_exit

/* trap_clear: forget the last trap (vector and error code -1, CR2 0) before a test. */
trap_clear:
        pushq   %rax
        movq    $-1, trap_vector(%rip)
        movq    $-1, trap_error(%rip)
        xorl    %eax, %eax
        movq    %rax, %cr2
        popq    %rax
        ret

/* user_return_hook(%rdi frame): turn the trap frame into a return to ring 0 at
 * user_call_resume on the stack user_call_rsp (both set by lib/user.S), keeping %rax. */
user_return_hook:
        movq    user_call_resume(%rip), %rax
        movq    %rax, FRAME_RIP(%rdi)
        movq    $KERNEL_CS, FRAME_CS(%rdi)
        movq    $0x2, FRAME_RFLAGS(%rdi)
        movq    user_call_rsp(%rip), %rax
        movq    %rax, FRAME_RSP(%rdi)
        movq    $KERNEL_DS, FRAME_SS(%rdi)
        ret

idt_set_gate:
        pushq   %rax
        pushq   %rdi
        shll    $4, %edi
        addq    $idt, %rdi              /* the 16-byte gate (SDM Vol. 3A, figure 6-8) */
        movq    %rsi, %rax
        movw    %ax, (%rdi)             /* offset 15:0 */
        movw    $KERNEL_CS, 2(%rdi)
        movb    %cl, 4(%rdi)            /* IST index */
        movb    %dl, 5(%rdi)            /* type, DPL, P */
        shrq    $16, %rax
        movw    %ax, 6(%rdi)            /* offset 31:16 */
        shrq    $16, %rax
        movl    %eax, 8(%rdi)           /* offset 63:32 */
        movl    $0, 12(%rdi)
        popq    %rdi
        popq    %rax
        ret

trap_init:
        pushq   %rcx
        pushq   %rdx
        pushq   %rsi
        pushq   %rdi
        xorl    %edi, %edi
        movq    $trap_stubs, %rsi
        movl    $GATE_INTR, %edx
        xorl    %ecx, %ecx
1:      call    idt_set_gate
        addq    $16, %rsi
        incl    %edi
        cmpl    $TRAP_STUBS, %edi
        jb      1b
        lidt    idt_pointer(%rip)
        popq    %rdi
        popq    %rsi
        popq    %rdx
        popq    %rcx
        ret

        .section .rodata
idt_pointer:
        .word   256 * 16 - 1
        .quad   idt
trap_msg_unexpected:
        .asciz  "unexpected trap: vector "
trap_msg_error:
        .asciz  " error "
trap_msg_rip:
        .asciz  " rip "

        .bss
        .p2align 12
idt:            .skip   256 * 16
trap_hooks:     .skip   TRAP_STUBS * 8
trap_vector:    .skip   8
trap_error:     .skip   8
trap_rip:       .skip   8
trap_cs:        .skip   8
trap_rflags:    .skip   8
trap_rsp:       .skip   8
trap_ss:        .skip   8
trap_cr2:       .skip   8
trap_frame:     .skip   8
trap_count:     .skip   8
trap_fixup:     .skip   8
user_call_rsp:  .skip   8               /* non-zero while lib/user.S runs ring-3 code */
user_call_resume: .skip 8
        .text
