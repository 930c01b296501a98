/*
 * interrupts.S — IDT delivery and iretq (Intel SDM Vol. 3A, chapter 6): faults (#DE, #UD,
 * #GP with its error code, #NP for a not-present gate) report the faulting RIP, traps (#BP,
 * INT n) the next one; interrupt gates clear IF, trap gates do not; IST switches stacks;
 * iretq restores RFLAGS.
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/test.S"

#define VEC_SOFT   0x30                 /* plain recorded software interrupt */
#define VEC_INTR   0x31                 /* interrupt gate, hook records RFLAGS */
#define VEC_TRAP   0x32                 /* trap gate, same hook */
#define VEC_IST    0x33                 /* interrupt gate with IST 1 */
#define VEC_CF     0x34                 /* hook sets CF in the saved RFLAGS */
#define VEC_NP     0x35                 /* gate marked not present */

        .text
kmain:
        call    trap_init
        /* Mask the PICs: nothing external may interrupt these tests. */
        movb    $0xFF, %al
        outb    %al, $PIC1_DATA
        outb    %al, $PIC2_DATA

        /* 1-3: #DE is a fault: RIP of the DIV, no error code (the stub's 0). */
        call    trap_clear
        arm_fixup 1f
        xorl    %ecx, %ecx
de_insn:
        divl    %ecx
1:      expect_eq trap_vector(%rip), $0, "divide by zero raises #DE (vector 0)"
        expect_eq trap_rip(%rip), $de_insn, "#DE is a fault: saved RIP is the DIV"
        expect_eq trap_cs(%rip), $KERNEL_CS, "saved CS is the kernel's"

        /* 4-5: #UD. */
        call    trap_clear
        arm_fixup 1f
ud_insn:
        ud2
1:      expect_eq trap_vector(%rip), $6, "ud2 raises #UD (vector 6)"
        expect_eq trap_rip(%rip), $ud_insn, "#UD saved RIP is the UD2"

        /* 6-7: #BP is a trap: saved RIP is after the INT3. */
        call    trap_clear
        arm_fixup bp_after
        int3
bp_after:
        expect_eq trap_vector(%rip), $3, "int3 raises #BP (vector 3)"
        expect_eq trap_rip(%rip), $bp_after, "#BP is a trap: saved RIP follows the INT3"

        /* 8-10: #GP with an error code: a selector beyond the GDT limit, a non-canonical address. */
        call    trap_clear
        arm_fixup 1f
        movw    $0x1000, %ax
gp_insn:
        movw    %ax, %fs
1:      expect_eq trap_vector(%rip), $13, "loading a selector beyond the GDT limit raises #GP"
        expect_eq trap_error(%rip), $0x1000, "error code = the selector (index 0x200, TI=0, EXT=0)"
        call    trap_clear
        arm_fixup 1f
        movabsq $0x8000000000000000, %rax
        movq    (%rax), %rax
1:      expect_eq trap_error(%rip), $0, "a non-canonical address raises #GP(0)"

        /* 11-12: INT n through an interrupt gate. */
        call    trap_clear
        arm_fixup soft_after
        int     $VEC_SOFT
soft_after:
        expect_eq trap_vector(%rip), $VEC_SOFT, "int $0x30 is delivered to vector 0x30"
        expect_eq trap_rip(%rip), $soft_after, "saved RIP follows the INT instruction"

        /* 13-16: IF inside an interrupt gate vs a trap gate (SDM 6.12.1.3). */
        movq    $record_rflags, trap_hooks + VEC_INTR * 8(%rip)
        movq    $record_rflags, trap_hooks + VEC_TRAP * 8(%rip)
        movl    $VEC_TRAP, %edi
        movq    $trap_stubs + VEC_TRAP * 16, %rsi
        movl    $GATE_TRAP, %edx
        xorl    %ecx, %ecx
        call    idt_set_gate
        sti
        int     $VEC_INTR
        cli
        movq    hook_rflags(%rip), %rax
        andl    $RFLAGS_IF, %eax
        expect_eq %rax, $0, "an interrupt gate clears IF"
        movq    hook_saved_rflags(%rip), %rax
        andl    $RFLAGS_IF, %eax
        expect_eq %rax, $RFLAGS_IF, "the saved RFLAGS still has IF=1"
        sti
        int     $VEC_TRAP
        cli
        movq    hook_rflags(%rip), %rax
        andl    $RFLAGS_IF, %eax
        expect_eq %rax, $RFLAGS_IF, "a trap gate leaves IF set"
        pushfq
        popq    %rax
        andl    $RFLAGS_IF, %eax
        expect_eq %rax, $0, "cli after the handler: iretq did not leave IF on"

        /* 17-18: IST 1: the frame is on the IST stack, not on ours (SDM 6.14.5). */
        movq    $record_rsp, trap_hooks + VEC_IST * 8(%rip)
        movl    $VEC_IST, %edi
        movq    $trap_stubs + VEC_IST * 16, %rsi
        movl    $GATE_INTR, %edx
        movl    $1, %ecx
        call    idt_set_gate
        int     $VEC_IST
        movq    hook_frame(%rip), %rax
        movq    $ist1_stack_top - 8 * 22, %rcx   /* 5 CPU words + 2 + 15 registers */
        expect_eq %rax, %rcx, "IST 1: the frame sits at the top of the IST stack"
        movq    hook_frame(%rip), %rax
        movq    FRAME_RSP(%rax), %rax
        movq    %rsp, %rcx
        expect_eq %rax, %rcx, "the saved RSP is the interrupted stack"

        /* 19: iretq restores RFLAGS from the frame. */
        movq    $set_cf, trap_hooks + VEC_CF * 8(%rip)
        clc
        int     $VEC_CF
        check   c, "iretq loads RFLAGS from the frame (CF set by the handler)"

        /* 20-21: a not-present gate raises #NP; the SDM's error code is vector * 8 + 2 (IDT
         * bit set, 6.13). QEMU 7.2 under TCG gives vector * 16 + 2 in 64-bit mode, so only
         * the IDT and EXT bits are checked. */
        movl    $VEC_NP, %edi
        movq    $trap_stubs + VEC_NP * 16, %rsi
        movl    $GATE_INTR & 0x7F, %edx
        xorl    %ecx, %ecx
        call    idt_set_gate
        call    trap_clear
        arm_fixup 1f
        int     $VEC_NP
1:      expect_eq trap_vector(%rip), $11, "INT n through a not-present gate raises #NP"
        movq    trap_error(%rip), %rax
        andl    $3, %eax
        expect_eq %rax, $2, "its error code has IDT=1, EXT=0"

        call    test_finish
        ret

/* Hooks (called with %rdi = frame, see lib/trap.S). */
record_rflags:
        pushfq
        popq    hook_rflags(%rip)
        movq    FRAME_RFLAGS(%rdi), %rax
        movq    %rax, hook_saved_rflags(%rip)
        ret
record_rsp:
        movq    %rdi, hook_frame(%rip)
        ret
set_cf:
        orq     $1, FRAME_RFLAGS(%rdi)
        ret

        .bss
        .p2align 3
hook_rflags:       .skip 8
hook_saved_rflags: .skip 8
hook_frame:        .skip 8
        .text
#include "../lib/end.S"
