/*
 * alignment.S — when alignment checking (Intel SDM Vol. 3A 6.15, #AC) must NOT fault: ring 3
 * with CR0.AM = 0, or with RFLAGS.AC = 0 (never set, or cleared again by POPF); ring 0 with
 * CR0.AM = AC = 1, also in an interrupt handler entered from ring 3 with AC = 1 (a 64-bit
 * interrupt gate leaves AC alone: SDM 6.14.2 clears only TF, NT, RF, VM and IF); aligned
 * words, doublewords and quadwords and bytes at any address in ring 3 with AC = 1.
 * The faults themselves (misaligned accesses in ring 3 with CR0.AM = AC = 1: #AC(0) at the
 * faulting instruction) are not here: QEMU 7.2 under TCG, the oracle of this kernel, raises
 * no #AC at all. test/emu/cpu/alignment.test.ts checks them against the host CPU instead.
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/user.S"
#include "../lib/test.S"

#define CR0_AM      (1 << 18)
#define RFLAGS_AC   (1 << 18)
#define VEC_PROBE   0x30                    /* DPL-3 interrupt gate to probe_hook */
#define DATA        (USER_BASE + 0x100000)  /* user-accessible (the 2 MiB page of lib/user.S) */

/* ac_on / ac_off: POPF sets / clears RFLAGS.AC (on an aligned stack). */
.macro ac_on
        pushfq
        orl     $RFLAGS_AC, (%rsp)
        popfq
.endm
.macro ac_off
        pushfq
        andl    $~RFLAGS_AC, (%rsp)
        popfq
.endm
/* user_done: back to the kernel with 0x600D in %rax. */
.macro user_done
        movl    $0x600D, %eax
        int     $USER_RETURN_VECTOR
.endm
/* misaligned: a word, a dword and a qword load and a dword store at misaligned addresses. */
.macro misaligned
        movl    $DATA + 0x41, %esi
        movw    (%rsi), %ax
        movl    1(%rsi), %eax
        movq    3(%rsi), %rax
        movl    %eax, 5(%rsi)
.endm

/* expect_ok START, END, "what": the ring-3 program [START, END) runs to its end. */
.macro expect_ok start, end, desc
        call    trap_clear
        movq    $\start, %rdi
        movq    $\end, %rsi
        call    user_run
        expect_eq %rax, $0x600D, "\desc"
.endm

        .text
kmain:
        call    trap_init
        movb    $0xFF, %al
        outb    %al, $PIC1_DATA
        outb    %al, $PIC2_DATA

        expect_ok u_misaligned_ac, u_misaligned_ac_end, "ring 3, CR0.AM = 0, AC = 1: misaligned accesses do not fault"

        movq    %cr0, %rax
        orl     $CR0_AM, %eax
        movq    %rax, %cr0

        /* Ring 0 with AC = 1: never checked. */
        call    trap_clear
        arm_fixup 1f
        ac_on
        misaligned
        movq    %rsp, %rbx
        subq    $4, %rsp
        pushq   %rax
        popq    %rax
        movq    %rbx, %rsp
1:      ac_off
        expect_eq trap_vector(%rip), $-1, "ring 0, CR0.AM = AC = 1: misaligned accesses and stack do not fault"

        expect_ok u_misaligned, u_misaligned_end, "ring 3, AC = 0: misaligned accesses do not fault"
        expect_ok u_aligned, u_aligned_end, "ring 3, AC = 1: aligned accesses and bytes do not fault"
        expect_ok u_ac_cleared, u_ac_cleared_end, "ring 3, AC set then cleared by POPF: misaligned accesses do not fault"

        /* Ring 3 with AC = 1 interrupts into ring 0, whose handler makes misaligned accesses. */
        movl    $VEC_PROBE, %edi
        movq    $trap_stubs + VEC_PROBE * 16, %rsi
        movl    $GATE_INTR + GATE_DPL3, %edx
        xorl    %ecx, %ecx
        call    idt_set_gate
        movq    $probe_hook, trap_hooks + VEC_PROBE * 8(%rip)
        expect_ok u_int, u_int_end, "ring 3, AC = 1: INT n into ring 0 and back"
        expect_eq probe_count(%rip), $1, "the ring-0 handler ran its misaligned accesses"
        movq    probe_rflags(%rip), %rax
        andl    $RFLAGS_AC, %eax
        expect_eq %rax, $RFLAGS_AC, "the handler ran with RFLAGS.AC = 1 (the gate keeps AC)"

        call    test_finish
        ret

/* probe_hook(%rdi frame): in ring 0 with the interrupted RFLAGS.AC; misaligned accesses. */
probe_hook:
        pushfq
        popq    probe_rflags(%rip)
        misaligned
        incq    probe_count(%rip)
        ret

/* Ring-3 programs (copied to USER_BASE; absolute addresses only for data). */
u_misaligned_ac:
        ac_on
        misaligned
        user_done
u_misaligned_ac_end:
u_misaligned:
        misaligned
        user_done
u_misaligned_end:
u_aligned:
        ac_on
        movl    $DATA, %esi
        movw    2(%rsi), %ax
        movl    4(%rsi), %eax
        movq    8(%rsi), %rax
        movq    %rax, 16(%rsi)
        addl    %eax, 20(%rsi)
        movb    3(%rsi), %al
        movb    %al, 5(%rsi)
        movl    $DATA + 0x21, %esi
        movl    $DATA + 0x33, %edi
        movl    $5, %ecx
        rep movsb
        pushq   %rax
        popq    %rax
        call    1f
1:      popq    %rax
        user_done
u_aligned_end:
u_ac_cleared:
        ac_on
        ac_off
        misaligned
        user_done
u_ac_cleared_end:
u_int:
        ac_on
        int     $VEC_PROBE
        movl    $DATA, %esi
        movq    8(%rsi), %rax
        user_done
u_int_end:

        .bss
        .p2align 3
probe_count:  .skip 8
probe_rflags: .skip 8
        .text
#include "../lib/end.S"
