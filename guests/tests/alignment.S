/*
 * alignment.S — alignment checking (#AC, vector 17; Intel SDM Vol. 3A 6.15 and Table 6-7):
 * with CR0.AM = 1 and RFLAGS.AC = 1, a ring-3 data access to a misaligned word, doubleword
 * or quadword (explicit operand, stack, string operand) faults with error code 0 and the
 * faulting instruction's RIP saved; aligned accesses, byte accesses, ring 0, CR0.AM = 0 and
 * RFLAGS.AC = 0 never fault.
 * Each ring-3 program (lib/user.S) sets AC with POPF, makes its access, and returns 0x600D.
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/user.S"
#include "../lib/test.S"

#define CR0_AM      (1 << 18)
#define RFLAGS_AC   (1 << 18)
#define DATA        (USER_BASE + 0x100000)  /* user-accessible, 2 MiB page of lib/user.S */

/* ac_on: POPF sets RFLAGS.AC (ring 3, on the aligned user stack). */
.macro ac_on
        pushfq
        orl     $RFLAGS_AC, (%rsp)
        popfq
.endm
/* user_done: back to the kernel with 0x600D in %rax. */
.macro user_done
        movl    $0x600D, %eax
        int     $USER_RETURN_VECTOR
.endm

/* run_user START, END: trap_clear, then the ring-3 program [START, END) (clobbers %rdi %rsi). */
.macro run_user start, end
        call    trap_clear
        movq    $\start, %rdi
        movq    $\end, %rsi
        call    user_run
.endm

/* expect_ac START, END, FAULT, "what": the program faults with #AC(0) at label FAULT. */
.macro expect_ac start, end, fault, desc
        run_user \start, \end
        expect_eq trap_vector(%rip), $17, "\desc raises #AC"
        expect_eq trap_error(%rip), $0, "  its error code is 0"
        expect_eq trap_rip(%rip), $(USER_BASE + \fault - \start), "  the saved RIP is the faulting instruction's"
.endm

/* expect_ok START, END, "what": the program runs to its end. */
.macro expect_ok start, end, desc
        run_user \start, \end
        expect_eq %rax, $0x600D, "\desc does not fault"
.endm

        .text
kmain:
        call    trap_init
        movb    $0xFF, %al
        outb    %al, $PIC1_DATA
        outb    %al, $PIC2_DATA

        /* CR0.AM = 0: RFLAGS.AC alone checks nothing. */
        expect_ok u_movl2, u_movl2_end, "CR0.AM = 0, AC = 1: misaligned dword load"

        movq    %cr0, %rax
        orl     $CR0_AM, %eax
        movq    %rax, %cr0

        /* Ring 0 with AC = 1: never checked. */
        pushfq
        orl     $RFLAGS_AC, (%rsp)
        popfq
        movl    $DATA + 2, %esi
        movl    (%rsi), %eax
        movq    (%rsi), %rax
        pushfq
        andl    $~RFLAGS_AC, (%rsp)
        popfq
        note    "ring 0 with CR0.AM = AC = 1: misaligned loads did not fault"

        expect_ok u_noac, u_noac_end, "ring 3, AC = 0: misaligned dword load"
        expect_ok u_aligned, u_aligned_end, "ring 3, AC = 1: aligned word, dword, quadword and byte accesses"
        expect_ac u_movw1, u_movw1_end, u_movw1_f, "word load at an odd address"
        expect_ac u_movl2, u_movl2_end, u_movl2_f, "dword load at 4n+2"
        expect_ac u_movq4, u_movq4_end, u_movq4_f, "qword load at 8n+4"
        expect_ac u_stl1, u_stl1_end, u_stl1_f, "dword store at 4n+1"
        expect_ac u_add2, u_add2_end, u_add2_f, "read-modify-write dword at 4n+2"
        expect_ac u_push, u_push_end, u_push_f, "pushq with RSP = 8n+4"
        expect_ac u_pop, u_pop_end, u_pop_f, "popq with RSP = 8n+4"
        expect_ac u_call, u_call_end, u_call_f, "call with RSP = 8n+4"
        expect_ac u_movsl, u_movsl_end, u_movsl_f, "movsl from 4n+2"
        expect_ac u_stosw, u_stosw_end, u_stosw_f, "stosw to an odd address"
        expect_ac u_cx8, u_cx8_end, u_cx8_f, "cmpxchg8b at 8n+4"
        expect_ac u_lgs, u_lgs_end, u_lgs_f, "lgs of a 48-bit far pointer at 4n+2"
        expect_ac u_fld, u_fld_end, u_fld_f, "fldl at 8n+4"
        expect_ac u_movups, u_movups_end, u_movups_f, "movups at 8n+4"

        call    test_finish
        ret

/* Ring-3 programs (copied to USER_BASE; absolute addresses only for data). */
u_noac:
        movl    $DATA + 2, %esi
        movl    (%rsi), %eax
        user_done
u_noac_end:
u_aligned:
        ac_on
        movl    $DATA, %esi
        movw    2(%rsi), %ax
        movl    4(%rsi), %eax
        movq    8(%rsi), %rax
        movb    3(%rsi), %al
        movq    %rax, 16(%rsi)
        pushq   %rax
        popq    %rax
        user_done
u_aligned_end:
u_movw1:
        ac_on
        movl    $DATA + 1, %esi
u_movw1_f:
        movw    (%rsi), %ax
        user_done
u_movw1_end:
u_movl2:
        ac_on
        movl    $DATA + 2, %esi
u_movl2_f:
        movl    (%rsi), %eax
        user_done
u_movl2_end:
u_movq4:
        ac_on
        movl    $DATA + 4, %esi
u_movq4_f:
        movq    (%rsi), %rax
        user_done
u_movq4_end:
u_stl1:
        ac_on
        movl    $DATA + 1, %esi
u_stl1_f:
        movl    %eax, (%rsi)
        user_done
u_stl1_end:
u_add2:
        ac_on
        movl    $DATA + 2, %esi
u_add2_f:
        addl    %eax, (%rsi)
        user_done
u_add2_end:
u_push:
        ac_on
        movl    $DATA + 0x104, %esp
u_push_f:
        pushq   %rax
        user_done
u_push_end:
u_pop:
        ac_on
        movl    $DATA + 0x104, %esp
u_pop_f:
        popq    %rax
        user_done
u_pop_end:
u_call:
        ac_on
        movl    $DATA + 0x104, %esp
u_call_f:
        call    1f
1:      user_done
u_call_end:
u_movsl:
        ac_on
        movl    $DATA + 2, %esi
        movl    $DATA + 0x100, %edi
u_movsl_f:
        movsl
        user_done
u_movsl_end:
u_stosw:
        ac_on
        movl    $DATA + 0x101, %edi
u_stosw_f:
        stosw
        user_done
u_stosw_end:
u_cx8:
        ac_on
        movl    $DATA + 4, %esi
u_cx8_f:
        cmpxchg8b (%rsi)
        user_done
u_cx8_end:
u_lgs:
        ac_on
        movl    $DATA + 0x202, %esi
        movb    $0, 4(%rsi)
        movb    $0, 5(%rsi)
u_lgs_f:
        lgs     (%rsi), %eax
        user_done
u_lgs_end:
u_fld:
        ac_on
        movl    $DATA + 4, %esi
u_fld_f:
        fldl    (%rsi)
        user_done
u_fld_end:
u_movups:
        ac_on
        movl    $DATA + 4, %esi
u_movups_f:
        movups  (%rsi), %xmm0
        user_done
u_movups_end:

#include "../lib/end.S"
