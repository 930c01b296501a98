/*
 * syscall.S — SYSCALL/SYSRET (Intel SDM Vol. 2B) and ring 3 -> ring 0 through interrupt
 * gates with the TSS's RSP0 (Vol. 3A, 6.12.1 and 6.14.5): selectors, saved RIP/RFLAGS,
 * FMASK, EFER.SCE, and the #GP a ring-3 program earns with privileged instructions.
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/user.S"
#include "../lib/test.S"

#define VEC_USER  0x30                  /* DPL-3 interrupt gate */
#define VEC_KERN  0x31                  /* DPL-0 gate: ring 3 may not use it */
#define RESULTS   (USER_BASE + 0x100000) /* where the ring-3 programs leave values */

        .text
kmain:
        call    trap_init
        movb    $0xFF, %al
        outb    %al, $PIC1_DATA
        outb    %al, $PIC2_DATA

        /* 1: SYSCALL with EFER.SCE = 0 is #UD. */
        call    trap_clear
        arm_fixup 1f
        syscall
1:      expect_eq trap_vector(%rip), $6, "syscall with EFER.SCE=0 raises #UD"

        /* 2-10: a ring-3 program calls the kernel with SYSCALL. */
        movl    $MSR_EFER, %ecx
        rdmsr
        orl     $EFER_SCE, %eax
        wrmsr
        movl    $MSR_STAR, %ecx
        xorl    %eax, %eax
        movl    $(KERNEL_DS << 16) | KERNEL_CS, %edx
        wrmsr
        movl    $MSR_LSTAR, %ecx
        movl    $syscall_entry, %eax
        xorl    %edx, %edx
        wrmsr
        movl    $MSR_FMASK, %ecx
        movl    $RFLAGS_DF | RFLAGS_IF, %eax
        wrmsr
        movq    $user_syscall, %rdi
        movq    $user_syscall_end, %rsi
        call    user_run
        expect_eq %rax, $0x600D, "the ring-3 program ran to its end"
        expect_eq seen_cs(%rip), $KERNEL_CS, "in the kernel: CS = STAR[47:32]"
        expect_eq seen_ss(%rip), $KERNEL_DS, "in the kernel: SS = STAR[47:32] + 8"
        expect_eq seen_rcx(%rip), $(USER_BASE + user_after_syscall - user_syscall), "RCX = the user RIP after SYSCALL"
        movq    seen_r11(%rip), %rax
        andl    $RFLAGS_DF | 1, %eax
        expect_eq %rax, $RFLAGS_DF | 1, "R11 = the user RFLAGS (DF and CF set)"
        movq    seen_rflags(%rip), %rax
        andl    $RFLAGS_DF, %eax
        expect_eq %rax, $0, "FMASK cleared DF in the kernel"
        expect_eq RESULTS, $(42 * 2), "the kernel's RAX came back to ring 3"
        expect_eq RESULTS + 8, $USER_CS, "after SYSRET: CS = STAR[63:48] + 16, RPL 3"
        expect_eq RESULTS + 16, $USER_DS, "after SYSRET: SS = STAR[63:48] + 8, RPL 3"
        movq    RESULTS + 24, %rax
        andl    $RFLAGS_DF | 1, %eax
        expect_eq %rax, $RFLAGS_DF | 1, "after SYSRET: RFLAGS restored from R11"

        /* 12-17: INT n from ring 3 through a DPL-3 gate: stack switch to TSS.RSP0. */
        movl    $VEC_USER, %edi
        movq    $trap_stubs + VEC_USER * 16, %rsi
        movl    $GATE_INTR + GATE_DPL3, %edx
        xorl    %ecx, %ecx
        call    idt_set_gate
        call    trap_clear
        movq    $user_int, %rdi
        movq    $user_int_end, %rsi
        call    user_run
        expect_eq trap_vector(%rip), $VEC_USER, "ring 3 reaches a DPL-3 gate with INT n"
        expect_eq trap_cs(%rip), $USER_CS, "the frame holds the user CS"
        expect_eq trap_rsp(%rip), $USER_STACK_TOP, "the frame holds the user RSP"
        expect_eq trap_ss(%rip), $USER_DS, "the frame holds the user SS"
        movq    trap_frame(%rip), %rax
        addq    $FRAME_SS + 8, %rax
        expect_eq %rax, $ring0_stack_top, "the frame is at the top of TSS.RSP0's stack"
        expect_eq trap_rip(%rip), $(USER_BASE + user_int_after - user_int), "saved RIP follows the INT"

        /* 18-19: ring 3 and a DPL-0 gate: #GP; the SDM's error code is vector * 8 + 2
         * (6.12.1.1); QEMU 7.2 under TCG gives vector * 16 + 2 in 64-bit mode, so only the
         * IDT and EXT bits are checked. */
        call    trap_clear
        movq    $user_int_kern, %rdi
        movq    $user_int_kern_end, %rsi
        call    user_run
        expect_eq trap_vector(%rip), $13, "INT n to a DPL-0 gate from ring 3 raises #GP"
        movq    trap_error(%rip), %rax
        andl    $3, %eax
        expect_eq %rax, $2, "its error code has IDT=1, EXT=0"

        /* 20-22: privileged instructions in ring 3 are #GP(0). */
        call    trap_clear
        movq    $user_cli, %rdi
        movq    $user_cli_end, %rsi
        call    user_run
        expect_eq trap_vector(%rip), $13, "cli in ring 3 (IOPL 0) raises #GP"
        call    trap_clear
        movq    $user_out, %rdi
        movq    $user_out_end, %rsi
        call    user_run
        expect_eq trap_vector(%rip), $13, "out in ring 3 (IOPL 0, no I/O bitmap) raises #GP"
        call    trap_clear
        movq    $user_cr3, %rdi
        movq    $user_cr3_end, %rsi
        call    user_run
        expect_eq trap_error(%rip), $0, "mov %cr3 in ring 3 raises #GP(0)"

        call    test_finish
        ret

/* The kernel side of SYSCALL: records what it sees, returns RDI * 2. Interrupts are off
 * (FMASK), and it runs on the user's stack for these few instructions: it pushes nothing. */
syscall_entry:
        movq    %rcx, seen_rcx(%rip)
        movq    %r11, seen_r11(%rip)
        movw    %cs, seen_cs(%rip)
        movw    %ss, seen_ss(%rip)
        pushfq
        popq    seen_rflags(%rip)
        leaq    (%rdi,%rdi), %rax
        sysretq

/* Ring-3 programs (copied to USER_BASE; absolute addresses only for data). */
user_syscall:
        movl    $42, %edi
        std
        stc
        syscall
user_after_syscall:
        movq    %rax, RESULTS
        movw    %cs, %ax
        movzwq  %ax, %rax
        movq    %rax, RESULTS + 8
        movw    %ss, %ax
        movzwq  %ax, %rax
        movq    %rax, RESULTS + 16
        pushfq
        popq    %rax
        movq    %rax, RESULTS + 24
        cld
        movl    $0x600D, %eax
        int     $USER_RETURN_VECTOR
user_syscall_end:
user_int:
        int     $VEC_USER
user_int_after:
user_int_end:
user_int_kern:
        int     $VEC_KERN
user_int_kern_end:
user_cli:
        cli
user_cli_end:
user_out:
        outb    %al, $0x80
user_out_end:
user_cr3:
        movq    %cr3, %rax
user_cr3_end:

        .bss
        .p2align 3
seen_rcx:    .skip 8
seen_r11:    .skip 8
seen_cs:     .skip 8
seen_ss:     .skip 8
seen_rflags: .skip 8
        .text
#include "../lib/end.S"
