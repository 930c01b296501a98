/*
 * fpu.S — the x87 FPU and SSE state (Intel SDM Vol. 1 chapters 8 and 10; Vol. 3A 2.5 and
 * 13.1): FNINIT defaults, exact loads and stores between the 80-bit format and memory
 * formats, the device-not-available rules of CR0.EM/TS/MP (#NM) and CR4.OSFXSR (#UD for
 * SSE), alignment #GPs, the FXSAVE image layout (Vol. 1 Table 10-2),
 * FXRSTOR, a few SSE2 integer operations, and floating-point arithmetic: SSE/SSE2 rounding,
 * MXCSR flags and conversions, x87 arithmetic with its precision control and the condition
 * codes of the compares, FPREM and FXAM.
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/test.S"

#define CR0_MP      (1 << 1)
#define CR0_EM      (1 << 2)
#define CR0_TS      (1 << 3)
#define CR0_NE      (1 << 5)
#define CR4_OSFXSR  (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)

/* expect_trap VECTOR, "text": the instruction armed with arm_fixup raised VECTOR. */
.macro expect_trap vec, desc
        expect_eq trap_vector(%rip), $\vec, "\desc"
.endm

/* cr0_set BITS / cr0_clear BITS (and the same for CR4), through %rax. */
.macro cr_set cr, bits
        movq    %\cr, %rax
        orq     $(\bits), %rax
        movq    %rax, %\cr
.endm
.macro cr_clear cr, bits
        movq    %\cr, %rax
        andq    $~(\bits), %rax
        movq    %rax, %\cr
.endm

        .text
kmain:
        call    trap_init
        cr_set  cr0, CR0_MP | CR0_NE
        cr_clear cr0, CR0_EM | CR0_TS
        cr_set  cr4, CR4_OSFXSR | CR4_OSXMMEXCPT
        call    test_x87_init
        call    test_x87_moves
        call    test_nm
        call    test_sse_enable
        call    test_mxcsr
        call    test_fxsave
        call    test_sse_int
        call    test_sse_arith
        call    test_x87_arith
        call    test_finish
        ret

/* ---- FNINIT (SDM Vol. 2 FINIT/FNINIT): FCW 037FH, FSW 0, all tags empty. */
test_x87_init:
        fninit
        movq    $-1, %rax
        fnstsw  %ax
        expect_eq %rax, $0xFFFFFFFFFFFF0000, "fnstsw %ax after fninit: 0 in AX only"
        fnstcw  scratch(%rip)
        movzwl  scratch(%rip), %eax
        expect_eq %rax, $0x37F, "fnstcw after fninit: 0x37f"
        fnstenv env(%rip)
        movzwl  env + 8(%rip), %eax
        expect_eq %rax, $0xFFFF, "fnstenv after fninit: tag word 0xffff (all empty)"
        fld1
        fnstenv env(%rip)
        movzwl  env + 8(%rip), %eax
        expect_eq %rax, $0x3FFF, "after fld1: R7 valid (tag 00), the others empty"
        movzwl  env + 4(%rip), %eax
        expect_eq %rax, $0x3800, "after fld1: TOP = 7"
        fnop
        ffree   %st(0)
        fincstp
        fnstsw  %ax
        andl    $0x3800, %eax
        expect_eq %rax, $0, "ffree and fincstp: TOP back to 0"
        ret

/* ---- Loads and stores: the 80-bit format holds every binary32/binary64/int64 exactly. */
test_x87_moves:
        fninit
        fld1
        fstpl   scratch(%rip)
        expect_eq scratch(%rip), $0x3FF0000000000000, "fld1; fstpl: 1.0"
        fldpi
        fstpl   scratch(%rip)
        movabsq $0x400921FB54442D18, %rax
        expect_eq scratch(%rip), %rax, "fldpi; fstpl: pi rounded to nearest binary64"
        fldpi
        fstpt   ext(%rip)
        movabsq $0xC90FDAA22168C235, %rax
        expect_eq ext(%rip), %rax, "fldpi; fstpt: 64-bit significand, rounded to nearest"
        movzwl  ext + 8(%rip), %eax
        expect_eq %rax, $0x4000, "fldpi; fstpt: exponent 0x4000"
        movl    $0x3FC00000, scratch(%rip)
        flds    scratch(%rip)
        fstpl   scratch(%rip)
        expect_eq scratch(%rip), $0x3FF8000000000000, "flds 1.5; fstpl: 1.5"
        movw    $-5, scratch(%rip)
        filds   scratch(%rip)
        fistpl  scratch(%rip)
        movl    scratch(%rip), %eax
        expect_eq %rax, $0xFFFFFFFB, "filds -5; fistpl: -5"
        movabsq $0x7FFFFFFFFFFFFC01, %rax
        movq    %rax, scratch(%rip)
        fildll  scratch(%rip)
        fistpll scratch(%rip)
        expect_eq scratch(%rip), %rax, "fildll; fistpll: a 63-bit integer survives"
        movabsq $0x4000000000000001, %rax
        movq    %rax, scratch(%rip)
        fildll  scratch(%rip)
        fstpl   scratch(%rip)
        movabsq $0x43D0000000000000, %rax
        expect_eq scratch(%rip), %rax, "fildll 2^62+1; fstpl: rounded to 2^62"
        fnstsw  %ax
        andl    $0x20, %eax
        expect_eq %rax, $0x20, "the inexact store set PE"
        movq    $0x3FF8000000000000, %rax
        movq    %rax, scratch(%rip)
        fldl    scratch(%rip)
        fchs
        fistps  scratch(%rip)
        movzwl  scratch(%rip), %eax
        expect_eq %rax, $0xFFFE, "fldl 1.5; fchs; fistps: -2 (round to nearest even)"
        fld1
        fldz
        fxch    %st(1)
        fstpl   scratch(%rip)
        expect_eq scratch(%rip), $0x3FF0000000000000, "fxch: 1.0 on top"
        fstpl   scratch(%rip)
        expect_eq scratch(%rip), $0, "fxch: 0.0 below"
        ret

/* ---- #NM (SDM Vol. 3A 2.5, Table 2-2): x87 with TS or EM, WAIT with MP and TS, SSE with TS. */
test_nm:
        cr_set  cr0, CR0_TS
        call    trap_clear
        arm_fixup 1f
        fnop
1:      expect_trap 7, "fnop with CR0.TS=1: #NM"
        call    trap_clear
        arm_fixup 1f
        fwait
1:      expect_trap 7, "fwait with CR0.MP=1, TS=1: #NM"
        call    trap_clear
        arm_fixup 1f
        movdqa  %xmm0, %xmm1
1:      expect_trap 7, "movdqa with CR0.TS=1: #NM"
        call    trap_clear
        arm_fixup 1f
        fxsave  fxarea(%rip)
1:      expect_trap 7, "fxsave with CR0.TS=1: #NM"
        cr_clear cr0, CR0_MP
        call    trap_clear
        fwait
        expect_eq trap_vector(%rip), $-1, "fwait with CR0.MP=0, TS=1: no fault"
        cr_set  cr0, CR0_MP
        clts
        call    trap_clear
        fnop
        movdqa  %xmm0, %xmm1
        expect_eq trap_vector(%rip), $-1, "after clts: fnop and movdqa run"
        cr_set  cr0, CR0_EM
        call    trap_clear
        arm_fixup 1f
        fld1
1:      expect_trap 7, "fld1 with CR0.EM=1: #NM"
        call    trap_clear
        arm_fixup 1f
        pxor    %xmm0, %xmm0
1:      expect_trap 6, "pxor with CR0.EM=1: #UD"
        cr_clear cr0, CR0_EM
        ret

/* ---- CR4.OSFXSR = 0: SSE instructions raise #UD (SDM Vol. 3A 13.1.3). */
test_sse_enable:
        cr_clear cr4, CR4_OSFXSR
        call    trap_clear
        arm_fixup 1f
        movdqa  %xmm0, %xmm1
1:      expect_trap 6, "movdqa with CR4.OSFXSR=0: #UD"
        call    trap_clear
        arm_fixup 1f
        stmxcsr scratch(%rip)
1:      expect_trap 6, "stmxcsr with CR4.OSFXSR=0: #UD"
        cr_set  cr4, CR4_OSFXSR
        ret

/* ---- LDMXCSR / STMXCSR (SDM Vol. 2). Their #GP(0) for reserved MXCSR bits is not here:
 * QEMU's TCG does not raise it (test/emu/cpu/fpu.test.ts checks it against the SDM). */
test_mxcsr:
        stmxcsr scratch(%rip)
        movl    scratch(%rip), %eax
        expect_eq %rax, $0x1F80, "MXCSR after reset: 0x1f80"
        movl    $0x3F80, scratch(%rip)
        ldmxcsr scratch(%rip)
        movl    $0, scratch(%rip)
        stmxcsr scratch(%rip)
        movl    scratch(%rip), %eax
        expect_eq %rax, $0x3F80, "ldmxcsr 0x3f80; stmxcsr: 0x3f80"
        call    trap_clear
        arm_fixup 1f
        movaps  misaligned(%rip), %xmm0
1:      expect_trap 13, "movaps from a misaligned address: #GP"
        ret

/* ---- FXSAVE image (SDM Vol. 1 10.5.1, Table 10-2) and FXRSTOR. */
test_fxsave:
        fninit
        fld1
        fldz
        movabsq $0x1122334455667788, %rax
        movq    %rax, %xmm0
        movabsq $0x99AABBCCDDEEFF00, %rax
        movq    %rax, %xmm2
        punpcklqdq %xmm2, %xmm0
        fxsave  fxarea(%rip)
        movzwl  fxarea(%rip), %eax
        expect_eq %rax, $0x37F, "fxsave: FCW at offset 0"
        movzwl  fxarea + 2(%rip), %eax
        expect_eq %rax, $0x3000, "fxsave: FSW at offset 2 (TOP = 6)"
        movzbl  fxarea + 4(%rip), %eax
        expect_eq %rax, $0xC0, "fxsave: abridged tag at 4 (R6, R7 valid)"
        movl    fxarea + 24(%rip), %eax
        expect_eq %rax, $0x3F80, "fxsave: MXCSR at 24"
        expect_eq fxarea + 32(%rip), $0, "fxsave: ST(0) = 0.0 at 32"
        movabsq $0x8000000000000000, %rax
        expect_eq fxarea + 48(%rip), %rax, "fxsave: ST(1) significand at 48"
        movzwl  fxarea + 56(%rip), %eax
        expect_eq %rax, $0x3FFF, "fxsave: ST(1) exponent at 56"
        movabsq $0x1122334455667788, %rax
        expect_eq fxarea + 160(%rip), %rax, "fxsave: XMM0 low qword at 160"
        movabsq $0x99AABBCCDDEEFF00, %rax
        expect_eq fxarea + 168(%rip), %rax, "fxsave: XMM0 high qword at 168"
        call    trap_clear
        arm_fixup 1f
        fxsave  fxarea + 8(%rip)
1:      expect_trap 13, "fxsave to a misaligned area: #GP"
        fninit
        pxor    %xmm0, %xmm0
        fxrstor fxarea(%rip)
        fnstsw  %ax
        andl    $0x3800, %eax
        expect_eq %rax, $0x3000, "fxrstor: TOP = 6 again"
        fstpl   scratch(%rip)
        fstpl   scratch + 8(%rip)
        expect_eq scratch + 8(%rip), $0x3FF0000000000000, "fxrstor: ST(1) = 1.0 again"
        movq    %xmm0, %rax
        movabsq $0x1122334455667788, %rcx
        cmpq    %rcx, %rax
        check   e, "fxrstor: XMM0 restored"
        ret

/* ---- SSE2 integer operations. */
test_sse_int:
        movl    $0x01020304, %eax
        movd    %eax, %xmm1
        pshufd  $0, %xmm1, %xmm1
        movdqa  %xmm1, %xmm2
        paddd   %xmm1, %xmm2
        movd    %xmm2, %eax
        expect_eq %rax, $0x02040608, "movd; pshufd; paddd"
        pcmpeqb %xmm3, %xmm3
        pxor    %xmm4, %xmm4
        psubb   %xmm3, %xmm4
        pmovmskb %xmm3, %eax
        expect_eq %rax, $0xFFFF, "pcmpeqb x,x: all ones; pmovmskb 0xffff"
        movq    %xmm4, %rax
        movabsq $0x0101010101010101, %rcx
        cmpq    %rcx, %rax
        check   e, "0 - (-1) per byte: psubb gives 1s"
        pslldq  $8, %xmm4
        movq    %xmm4, %rax
        expect_eq %rax, $0, "pslldq 8: low qword 0"
        movdqu  %xmm1, unaligned(%rip)
        movl    unaligned(%rip), %eax
        expect_eq %rax, $0x01020304, "movdqu to an unaligned address"
        ret

/* expect_q VALUE, IMM64, "text": a 64-bit constant compare (through %rcx). */
.macro expect_q value, imm, desc
        movabsq $\imm, %rcx
        expect_eq \value, %rcx, "\desc"
.endm

/* mxcsr_flags: %rax = MXCSR exception flags (bits 5:0), then clears them. */
mxcsr_flags:
        stmxcsr scratch(%rip)
        movl    scratch(%rip), %eax
        andl    $~0x3F, scratch(%rip)
        ldmxcsr scratch(%rip)
        andl    $0x3F, %eax
        ret

/* ---- SSE/SSE2 floating point (SDM Vol. 2 ADDSD, DIVSS, SQRTSD, CVTSD2SI, UCOMISD, MINSD). */
test_sse_arith:
        movl    $0x1F80, scratch(%rip)
        ldmxcsr scratch(%rip)
        movsd   dbl_one(%rip), %xmm0
        addsd   dbl_half_ulp(%rip), %xmm0
        movq    %xmm0, %rax
        expect_q %rax, 0x3FF0000000000000, "addsd 1 + 2^-53: a tie, to even: 1.0"
        call    mxcsr_flags
        expect_eq %rax, $0x20, "addsd inexact: MXCSR.PE"
        movl    $0x5F80, scratch(%rip)          /* RC = up */
        ldmxcsr scratch(%rip)
        movsd   dbl_one(%rip), %xmm0
        addsd   dbl_half_ulp(%rip), %xmm0
        movq    %xmm0, %rax
        expect_q %rax, 0x3FF0000000000001, "addsd 1 + 2^-53 rounded up: 1 + 2^-52"
        movl    $0x1F80, scratch(%rip)
        ldmxcsr scratch(%rip)
        movss   flt_one(%rip), %xmm1
        divss   flt_three(%rip), %xmm1
        movd    %xmm1, %eax
        expect_eq %rax, $0x3EAAAAAB, "divss 1/3"
        sqrtsd  dbl_two(%rip), %xmm2
        movq    %xmm2, %rax
        expect_q %rax, 0x3FF6A09E667F3BCD, "sqrtsd 2"
        cvtsd2si dbl_2_5(%rip), %eax
        expect_eq %rax, $2, "cvtsd2si 2.5: to even, 2"
        cvttsd2si dbl_m2_5(%rip), %rax
        expect_eq %rax, $-2, "cvttsd2si -2.5: truncated, -2"
        call    mxcsr_flags
        cvtsd2si dbl_big(%rip), %eax
        expect_eq %rax, $0x80000000, "cvtsd2si 1e300: the integer indefinite"
        call    mxcsr_flags
        expect_eq %rax, $0x01, "cvtsd2si out of range: MXCSR.IE"
        movsd   dbl_nan(%rip), %xmm3
        ucomisd dbl_one(%rip), %xmm3
        check   p, "ucomisd with a NaN: unordered (PF=1)"
        minsd   dbl_two(%rip), %xmm3
        movq    %xmm3, %rax
        expect_q %rax, 0x4000000000000000, "minsd NaN, 2.0: the second operand"
        call    mxcsr_flags
        movl    $7, %eax
        cvtsi2sd %eax, %xmm4
        cvtsd2ss %xmm4, %xmm4
        movd    %xmm4, %eax
        expect_eq %rax, $0x40E00000, "cvtsi2sd 7; cvtsd2ss: 7.0f"
        ret

/* ---- x87 arithmetic (SDM Vol. 2 FDIV, FSQRT, FPREM, FXAM, FCOMPP, FCOMIP, FRNDINT; Vol. 1 8.1.5 PC). */
test_x87_arith:
        fninit
        fld1
        fdivl   dbl_three(%rip)
        fstpt   ext(%rip)
        expect_q ext(%rip), 0xAAAAAAAAAAAAAAAB, "fdiv 1/3: 64-bit significand, rounded"
        movzwl  ext + 8(%rip), %eax
        expect_eq %rax, $0x3FFD, "fdiv 1/3: exponent"
        fldcw   cw_pc53(%rip)
        fld1
        fdivl   dbl_three(%rip)
        fstpt   ext(%rip)
        fldcw   cw_default(%rip)
        expect_q ext(%rip), 0xAAAAAAAAAAAAA800, "fdiv 1/3 with PC = 53 bits"
        fldl    dbl_two(%rip)
        fsqrt
        fstpt   ext(%rip)
        expect_q ext(%rip), 0xB504F333F9DE6484, "fsqrt 2"
        fldl    dbl_three(%rip)
        fldl    dbl_ten(%rip)
        fprem
        fnstsw  %ax
        andl    $0x4700, %eax
        expect_eq %rax, $0x4200, "fprem 10, 3: quotient 3 in C3 C1, complete (C2 = 0)"
        fstpl   scratch(%rip)
        expect_q scratch(%rip), 0x3FF0000000000000, "fprem 10, 3: remainder 1"
        fstp    %st(0)
        fldz
        fchs
        fxam
        fnstsw  %ax
        andl    $0x4700, %eax
        expect_eq %rax, $0x4200, "fxam -0: zero (C3), negative (C1)"
        fstp    %st(0)
        fldl    dbl_two(%rip)
        fld1
        fcompp
        fnstsw  %ax
        andl    $0x4500, %eax
        expect_eq %rax, $0x0100, "fcompp 1, 2: less (C0)"
        fldl    dbl_two(%rip)
        fld1
        fcomip  %st(1), %st
        check   b, "fcomip 1, 2: CF"
        fstp    %st(0)
        fldl    dbl_2_5(%rip)
        frndint
        fstpl   scratch(%rip)
        expect_q scratch(%rip), 0x4000000000000000, "frndint 2.5: to even, 2.0"
        ret

/* The constants live in .text: the image loads it whole (initialized .data is not used here). */
        .p2align 4
dbl_one:      .quad   0x3FF0000000000000
dbl_two:      .quad   0x4000000000000000
dbl_three:    .quad   0x4008000000000000
dbl_ten:      .quad   0x4024000000000000
dbl_half_ulp: .quad   0x3CA0000000000000
dbl_2_5:      .quad   0x4004000000000000
dbl_m2_5:     .quad   0xC004000000000000
dbl_big:      .quad   0x7E37E43C8800759C
dbl_nan:      .quad   0x7FF8000000000000
flt_one:      .long   0x3F800000
flt_three:    .long   0x40400000
cw_pc53:      .word   0x027F
cw_default:   .word   0x037F

        .data
        .p2align 4
fxarea:     .skip   512
scratch:    .skip   16
ext:        .skip   16
env:        .skip   32
            .skip   1
unaligned:  .skip   16
            .p2align 4
            .skip   4
misaligned: .skip   16
        .text
#include "../lib/end.S"
