/*
 * integer.S — the integer instructions, in ring 0 and ring 3 (Intel SDM Vol. 2): MUL/IMUL
 * in all forms and sizes, DIV/IDIV with the #DE cases, shifts and rotates with counts 0, 1
 * and n, BT/BTS/BTR/BTC, BSF/BSR, POPCNT/LZCNT/TZCNT (where CPUID has them), string
 * instructions with REP and DF=1, CMPXCHG/XADD/XCHG, SETcc/CMOVcc, sign extensions, and
 * 16-bit operand-size forms. Only the flags each instruction defines are compared.
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/user.S"
#include "../lib/test.S"

/* Arithmetic flags (SDM Vol. 1, 3.4.3.1). */
#define F_CF      0x1
#define F_PF      0x4
#define F_AF      0x10
#define F_ZF      0x40
#define F_SF      0x80
#define F_OF      0x800
#define F_ARITH   0x8D5                 /* OF SF ZF AF PF CF */
#define F_SZPC    0xC5                  /* SF ZF PF CF */
#define RESULTS   (USER_BASE + 0x100000) /* where the ring-3 programs leave values */

/* getf: %r15 = RFLAGS. Neither PUSHFQ nor POPQ changes a flag. */
.macro getf
        pushfq
        popq    %r15
.endm

/* setf FLAGS: load RFLAGS with FLAGS (bit 1 is always 1; IF and DF stay 0). */
.macro setf flags
        pushq   $((\flags) | 2)
        popfq
.endm

/* expect_rf VALUE, EXPECTED, FMASK, FEXPECTED, "text": passes when VALUE (a register other
 * than %r11/%r15, or memory not relative to %rsp) equals the 64-bit constant EXPECTED and
 * the flags saved by getf, ANDed with FMASK, equal FEXPECTED. */
.macro expect_rf value, expected, fmask, fexp, desc
        pushq   %r11
        movabsq $(\expected), %r11
        cmpq    %r11, \value
        jne     .Lrf\@
        movq    %r15, %r11
        andq    $(\fmask), %r11
        cmpq    $(\fexp), %r11
.Lrf\@:
        popq    %r11
        check   e, "\desc"
.endm

/* expect_v VALUE, EXPECTED, "text": expect_rf without flags. */
.macro expect_v value, expected, desc
        expect_rf \value, \expected, 0, 0, "\desc"
.endm

/* expect_de LABEL, "text": the instruction at LABEL raised #DE (a fault: RIP = LABEL). */
.macro expect_de label, desc
        pushq   %rax
        movq    trap_vector(%rip), %rax
        cmpq    $0, %rax
        jne     .Lde\@
        movq    trap_rip(%rip), %rax
        cmpq    $\label, %rax
.Lde\@:
        popq    %rax
        check   e, "\desc"
.endm

        .text
kmain:
        call    trap_init
        movb    $0xFF, %al
        outb    %al, $PIC1_DATA
        outb    %al, $PIC2_DATA
        call    test_mul
        call    test_div
        call    test_shift
        call    test_bits
        call    test_string
        call    test_atomic
        call    test_cc
        call    test_extend
        call    test_word
        call    test_ring3
        call    test_finish
        ret

/* ---- MUL and IMUL: one operand (AX / DX:AX / EDX:EAX / RDX:RAX), two and three operands.
 * CF = OF = 1 when the upper half is significant; SF ZF AF PF are undefined. */
test_mul:
        movl    $0x80, %eax
        movb    $2, %cl
        mulb    %cl
        getf
        expect_rf %rax, 0x100, (F_CF|F_OF), (F_CF|F_OF), "mulb 0x80*2 = 0x100 in AX, CF=OF=1"
        movl    $0x10, %eax
        movb    $0x0F, %cl
        mulb    %cl
        getf
        expect_rf %rax, 0xF0, (F_CF|F_OF), 0, "mulb 0x10*0xf = 0xf0, CF=OF=0"
        movl    $0xFFFF, %eax
        movl    $0xFFFF, %ecx
        xorl    %edx, %edx
        mulw    %cx
        getf
        expect_rf %rax, 0x0001, (F_CF|F_OF), (F_CF|F_OF), "mulw 0xffff*0xffff: AX = 1"
        expect_v %rdx, 0xFFFE, "mulw: DX = 0xfffe"
        movq    $-1, %rdx
        movl    $0x80000000, %eax
        movl    $4, %ecx
        mull    %ecx
        getf
        expect_rf %rax, 0, (F_CF|F_OF), (F_CF|F_OF), "mull 0x80000000*4: EAX = 0"
        expect_v %rdx, 2, "mull: EDX = 2, upper half of RDX cleared"
        movq    $-1, %rax
        movq    $-1, %rcx
        mulq    %rcx
        getf
        expect_rf %rax, 1, (F_CF|F_OF), (F_CF|F_OF), "mulq (2^64-1)^2: RAX = 1"
        expect_v %rdx, 0xFFFFFFFFFFFFFFFE, "mulq: RDX = 2^64-2"
        movabsq $0x100000000, %rax
        movq    %rax, mul_mem(%rip)
        mulq    mul_mem(%rip)
        expect_v %rdx, 1, "mulq memory: 2^32*2^32 = RDX 1"
        expect_v %rax, 0, "mulq memory: RAX 0"

        movl    $0x80, %eax
        movb    $0xFF, %cl
        imulb   %cl
        getf
        expect_rf %rax, 0x0080, (F_CF|F_OF), (F_CF|F_OF), "imulb -128*-1 = 128 in AX, CF=OF=1"
        movl    $0xFE, %eax
        movb    $3, %cl
        imulb   %cl
        getf
        expect_rf %rax, 0xFFFA, (F_CF|F_OF), 0, "imulb -2*3 = -6 in AX, CF=OF=0"
        movl    $0x7FFF, %eax
        movl    $2, %ecx
        movl    $0x5555, %edx
        imulw   %cx
        getf
        expect_rf %rax, 0xFFFE, (F_CF|F_OF), (F_CF|F_OF), "imulw 0x7fff*2: AX = 0xfffe, CF=OF=1"
        expect_v %rdx, 0, "imulw: DX = 0"
        movl    $-1, %eax
        movl    $-1, %ecx
        imull   %ecx
        getf
        expect_rf %rax, 1, (F_CF|F_OF), 0, "imull -1*-1 = 1, CF=OF=0"
        expect_v %rdx, 0, "imull: EDX = 0"
        movabsq $0x8000000000000000, %rax
        movl    $2, %ecx
        imulq   %rcx
        getf
        expect_rf %rax, 0, (F_CF|F_OF), (F_CF|F_OF), "imulq -2^63*2: RAX = 0, CF=OF=1"
        expect_v %rdx, 0xFFFFFFFFFFFFFFFF, "imulq: RDX = -1"

        movabsq $0x1111111111114000, %rax
        movl    $4, %ecx
        imulw   %cx, %ax
        getf
        expect_rf %rax, 0x1111111111110000, (F_CF|F_OF), (F_CF|F_OF), "imulw %cx,%ax truncates, keeps RAX[63:16]"
        movl    $0x10000, %eax
        movl    $0x10000, %ecx
        imull   %ecx, %eax
        getf
        expect_rf %rax, 0, (F_CF|F_OF), (F_CF|F_OF), "imull 2^16*2^16 truncates to 0, CF=OF=1"
        movq    $-3, %rax
        movq    $7, %rcx
        imulq   %rcx, %rax
        getf
        expect_rf %rax, -21, (F_CF|F_OF), 0, "imulq -3*7 = -21"
        movq    $-1, %rax
        movl    $5, %ecx
        imull   $-3, %ecx, %eax
        getf
        expect_rf %rax, 0xFFFFFFF1, (F_CF|F_OF), 0, "imull $-3 (imm8), 5: -15 zero-extended into RAX"
        movq    $0x1000, mul_mem(%rip)
        imulq   $0x12345, mul_mem(%rip), %rax
        expect_v %rax, 0x12345000, "imulq $imm32, memory"
        xorl    %eax, %eax
        movl    $300, %ecx
        imulw   $300, %cx, %ax
        getf
        expect_rf %rax, 0x5F90, (F_CF|F_OF), (F_CF|F_OF), "imulw $300*300 = 0x15f90 truncated to 0x5f90"
        movabsq $0x100000000, %rcx
        imulq   $0x7FFFFFFF, %rcx, %rax
        getf
        expect_rf %rax, 0x7FFFFFFF00000000, (F_CF|F_OF), 0, "imulq $0x7fffffff * 2^32 fits"
        ret

/* ---- DIV and IDIV: quotient and remainder; #DE for a zero divisor or a quotient that
 * does not fit, with RIP at the instruction and the registers untouched (a fault). */
test_div:
        movl    $0x0103, %eax
        movb    $2, %cl
        divb    %cl
        expect_v %rax, 0x0181, "divb 259/2: AL = 0x81, AH = 1"
        movl    $0, %eax
        movl    $1, %edx
        movl    $0x100, %ecx
        divw    %cx
        expect_v %rax, 0x100, "divw 0x10000/0x100 = 0x100"
        expect_v %rdx, 0, "divw: DX = 0"
        movl    $5, %eax
        movl    $1, %edx
        movl    $2, %ecx
        divl    %ecx
        expect_v %rax, 0x80000002, "divl 0x100000005/2 = 0x80000002"
        expect_v %rdx, 1, "divl: remainder 1"
        xorl    %eax, %eax
        movl    $1, %edx
        movl    $16, %ecx
        divq    %rcx
        expect_v %rax, 0x1000000000000000, "divq 2^64/16 = 2^60"
        movl    $0xFFF9, %eax
        movb    $2, %cl
        idivb   %cl
        expect_v %rax, 0xFFFD, "idivb -7/2: AL = -3, AH = -1 (toward zero)"
        movl    $0xFF00, %eax
        movb    $2, %cl
        idivb   %cl
        expect_v %rax, 0x0080, "idivb -256/2 = -128 fits in AL"
        movl    $7, %eax
        cltd
        movl    $-2, %ecx
        idivl   %ecx
        expect_v %rax, 0xFFFFFFFD, "idivl 7/-2 = -3"
        expect_v %rdx, 1, "idivl: remainder 1 (sign of the dividend)"
        movq    $-9, %rax
        cqto
        movq    $4, %rcx
        idivq   %rcx
        expect_v %rax, -2, "idivq -9/4 = -2"
        expect_v %rdx, -1, "idivq: remainder -1"

        call    trap_clear
        arm_fixup 1f
        movl    $1234, %eax
        xorl    %edx, %edx
        xorl    %ecx, %ecx
de_zero:
        divl    %ecx
1:      expect_de de_zero, "divl by 0 raises #DE at the DIV"
        expect_v %rax, 1234, "#DE is a fault: EAX unchanged"
        call    trap_clear
        arm_fixup 1f
        movl    $0x0200, %eax
        movb    $2, %cl
de_byte:
        divb    %cl
1:      expect_de de_byte, "divb 0x200/2: quotient 0x100 does not fit, #DE"
        call    trap_clear
        arm_fixup 1f
        movl    $0x8000, %eax
        movl    $0xFFFF, %edx
        movw    $-1, %cx
de_word:
        idivw   %cx
1:      expect_de de_word, "idivw -32768/-1 overflows, #DE"
        call    trap_clear
        arm_fixup 1f
        movl    $0x80000000, %eax
        movl    $-1, %edx
        movl    $-1, %ecx
de_long:
        idivl   %ecx
1:      expect_de de_long, "idivl INT32_MIN/-1 overflows, #DE"
        call    trap_clear
        arm_fixup 1f
        movabsq $0x8000000000000000, %rax
        cqto
        movq    $-1, %rcx
de_quad:
        idivq   %rcx
1:      expect_de de_quad, "idivq INT64_MIN/-1 overflows, #DE"
        expect_v %rdx, -1, "#DE: RDX unchanged"
        ret

/* ---- Shifts and rotates. Count 0 (after masking to 5 or 6 bits) changes no flag; OF is
 * defined for count 1 only; AF is undefined; rotates touch only CF and OF. */
test_shift:
        movl    $0x81, %eax
        shlb    $1, %al
        getf
        expect_rf %rax, 0x02, (F_SZPC|F_OF), (F_CF|F_OF), "shlb $1 0x81 = 0x02, CF=1, OF=1"
        movl    $0x12345678, %eax
        movl    $32, %ecx
        setf    (F_CF|F_ZF|F_PF|F_AF)
        shll    %cl, %eax
        getf
        expect_rf %rax, 0x12345678, F_ARITH, (F_CF|F_ZF|F_PF|F_AF), "shll %cl=32 masks to 0: no change, flags kept"
        movabsq $0x123456789, %rax
        movl    $64, %ecx
        setf    (F_SF|F_OF)
        shlq    %cl, %rax
        getf
        expect_rf %rax, 0x123456789, F_ARITH, (F_SF|F_OF), "shlq %cl=64 masks to 0: no change, flags kept"
        movl    $0x1238, %eax
        shrw    $4, %ax
        getf
        expect_rf %rax, 0x0123, F_SZPC, F_CF, "shrw $4 0x1238 = 0x123, CF = bit 3"
        movl    $0x80000001, %eax
        sarl    $1, %eax
        getf
        expect_rf %rax, 0xC0000000, (F_SZPC|F_OF), (F_CF|F_SF|F_PF), "sarl $1 0x80000001 = 0xc0000000, CF=1, OF=0"
        movabsq $0x8000000000000000, %rax
        movb    $63, %cl
        sarq    %cl, %rax
        getf
        expect_rf %rax, -1, F_SZPC, (F_SF|F_PF), "sarq 63 of 2^63 = -1, CF = bit 62 = 0"
        movl    $0x80, %eax
        shrb    $1, %al
        getf
        expect_rf %rax, 0x40, (F_SZPC|F_OF), F_OF, "shrb $1 0x80 = 0x40, OF = old MSB = 1"
        movl    $1, %eax
        movb    $8, %cl
        shlb    %cl, %al
        getf
        expect_rf %rax, 0, (F_SF|F_ZF|F_PF), (F_ZF|F_PF), "shlb 8 of 1 = 0, ZF=1 (count = width, CF undefined)"
        movl    $0x81, %eax
        rolb    $1, %al
        getf
        expect_rf %rax, 0x03, (F_CF|F_OF), (F_CF|F_OF), "rolb $1 0x81 = 0x03, CF=1, OF=1"
        movl    $0x1234, %eax
        movb    $4, %cl
        setf    (F_ZF|F_CF)
        rorw    %cl, %ax
        getf
        expect_rf %rax, 0x4123, (F_CF|F_ZF|F_SF), F_ZF, "rorw 4 of 0x1234 = 0x4123, CF=0, ZF untouched"
        movl    $0x80000000, %eax
        stc
        rcll    $1, %eax
        getf
        expect_rf %rax, 1, (F_CF|F_OF), (F_CF|F_OF), "rcll $1 with CF=1: 0x80000000 -> 1, CF=1, OF=1"
        movl    $0x5A, %eax
        movb    $9, %cl
        stc
        rcrb    %cl, %al
        getf
        expect_rf %rax, 0x5A, F_CF, F_CF, "rcrb 9 = 0 mod 9: no change, CF kept"
        movl    $1, %eax
        clc
        rcrq    $1, %rax
        getf
        expect_rf %rax, 0, (F_CF|F_OF), F_CF, "rcrq $1 of 1 = 0, CF=1, OF=0"
        movl    $0x12345678, %eax
        movl    $0x9ABCDEF0, %edx
        shldl   $4, %edx, %eax
        getf
        expect_rf %rax, 0x23456789, F_SZPC, F_CF, "shldl $4: 0x23456789, CF = bit 28"
        movabsq $0x1122334455667788, %rax
        movl    $0xAA, %edx
        movb    $8, %cl
        shrdq   %cl, %rdx, %rax
        getf
        expect_rf %rax, 0xAA11223344556677, F_SZPC, (F_CF|F_SF|F_PF), "shrdq 8: 0xaa11223344556677, CF=1"
        movl    $0xBEEF, %eax
        movl    $0x1234, %edx
        xorl    %ecx, %ecx
        setf    F_OF
        shldw   %cl, %dx, %ax
        getf
        expect_rf %rax, 0xBEEF, F_ARITH, F_OF, "shldw 0: no change, flags kept"
        ret

/* ---- Bit instructions. */
test_bits:
        movl    $0x20, %eax
        btl     $5, %eax
        getf
        expect_rf %rax, 0x20, F_CF, F_CF, "btl $5 of 0x20: CF=1"
        movq    $0, bit_mem(%rip)
        movq    $0x40, bit_mem + 8(%rip)
        movl    $70, %ecx
        btq     %rcx, bit_mem(%rip)
        getf
        expect_rf %rcx, 70, F_CF, F_CF, "btq %rcx=70, memory: bit 6 of the next qword"
        xorl    %eax, %eax
        btsl    $31, %eax
        getf
        expect_rf %rax, 0x80000000, F_CF, 0, "btsl $31: sets the bit, CF=0"
        movl    $1, %eax
        btrq    $0, %rax
        getf
        expect_rf %rax, 0, F_CF, F_CF, "btrq $0: clears it, CF=1"
        movl    $0x8000, %eax
        btcw    $15, %ax
        getf
        expect_rf %rax, 0, F_CF, F_CF, "btcw $15: complements it, CF=1"
        movq    $0, bit_mem(%rip)
        movq    $-1, %rcx
        btsq    %rcx, bit_mem + 8(%rip)
        expect_v bit_mem(%rip), 0x8000000000000000, "btsq %rcx=-1 sets bit 63 of the qword before"
        movl    $0x18000, %ecx
        bsfl    %ecx, %eax
        getf
        expect_rf %rax, 15, F_ZF, 0, "bsfl 0x18000 = 15, ZF=0"
        movabsq $0x0000800000000001, %rcx
        bsrq    %rcx, %rax
        getf
        expect_rf %rax, 47, F_ZF, 0, "bsrq = 47"
        xorl    %ecx, %ecx
        bsfq    %rcx, %rax
        getf
        expect_rf %rcx, 0, F_ZF, F_ZF, "bsfq 0: ZF=1"

        movl    $1, %eax
        cpuid
        btl     $23, %ecx
        jc      1f
        note    "skip: popcnt (CPUID.01H:ECX[23] = 0)"
        jmp     2f
1:      movabsq $0xF0F0F0F0F0F0F0F1, %rcx
        popcntq %rcx, %rax
        getf
        expect_rf %rax, 33, F_ARITH, 0, "popcntq = 33, all flags 0"
        xorl    %ecx, %ecx
        popcntw %cx, %ax
        getf
        expect_rf %rax, 0, F_ARITH, F_ZF, "popcntw 0 = 0, ZF=1"
2:
        movl    $0x80000001, %eax
        cpuid
        btl     $5, %ecx
        jc      1f
        note    "skip: lzcnt (CPUID.80000001H:ECX[5] = 0)"
        jmp     2f
1:      movl    $0x10000, %ecx
        lzcntl  %ecx, %eax
        getf
        expect_rf %rax, 15, (F_CF|F_ZF), 0, "lzcntl 0x10000 = 15"
        xorl    %ecx, %ecx
        lzcntl  %ecx, %eax
        getf
        expect_rf %rax, 32, (F_CF|F_ZF), F_CF, "lzcntl 0 = 32, CF=1"
        movl    $1, %ecx
        lzcntq  %rcx, %rax
        getf
        expect_rf %rax, 63, (F_CF|F_ZF), 0, "lzcntq 1 = 63"
        movabsq $0x8000000000000000, %rcx
        lzcntq  %rcx, %rax
        getf
        expect_rf %rax, 0, (F_CF|F_ZF), F_ZF, "lzcntq 2^63 = 0, ZF=1"
2:
        movl    $7, %eax
        xorl    %ecx, %ecx
        cpuid
        btl     $3, %ebx
        jc      1f
        note    "skip: tzcnt (CPUID.(07H,0):EBX[3] = 0)"
        jmp     2f
1:      xorl    %eax, %eax
        movl    $0x0100, %ecx
        tzcntw  %cx, %ax
        getf
        expect_rf %rax, 8, (F_CF|F_ZF), 0, "tzcntw 0x100 = 8"
        xorl    %ecx, %ecx
        tzcntq  %rcx, %rax
        getf
        expect_rf %rax, 64, (F_CF|F_ZF), F_CF, "tzcntq 0 = 64, CF=1"
        movl    $1, %ecx
        tzcntl  %ecx, %eax
        getf
        expect_rf %rax, 0, (F_CF|F_ZF), F_ZF, "tzcntl 1 = 0, ZF=1"
2:      ret

/* ---- String instructions (SDM Vol. 2, MOVS/STOS/SCAS/CMPS/LODS and REP). */
test_string:
        leaq    str_buf(%rip), %rdi
        movl    $16, %ecx
        movb    $0xAB, %al
        rep stosb
        leaq    str_buf + 16(%rip), %rax
        expect_eq %rdi, %rax, "rep stosb: RDI advanced by 16"
        expect_v %rcx, 0, "rep stosb: RCX = 0"
        expect_v str_buf + 8(%rip), 0xABABABABABABABAB, "rep stosb: filled"

        /* An overlapping move one qword up, done backwards as memmove does. */
        movq    $1, str_buf(%rip)
        movq    $2, str_buf + 8(%rip)
        movq    $3, str_buf + 16(%rip)
        movq    $4, str_buf + 24(%rip)
        leaq    str_buf + 24(%rip), %rsi
        leaq    str_buf + 32(%rip), %rdi
        movl    $4, %ecx
        std
        rep movsq
        cld
        expect_v str_buf + 32(%rip), 4, "rep movsq DF=1: last qword moved up"
        expect_v str_buf + 8(%rip), 1, "rep movsq DF=1: first qword moved up (overlap handled)"
        leaq    str_buf - 8(%rip), %rax
        expect_eq %rsi, %rax, "DF=1: RSI ends one qword below the source"
        leaq    str_buf(%rip), %rax
        expect_eq %rdi, %rax, "DF=1: RDI ends one qword below the target"

        leaq    str_hello(%rip), %rdi
        movl    $100, %ecx
        xorl    %eax, %eax
        repne scasb
        getf
        expect_rf %rcx, 94, F_ZF, F_ZF, "repne scasb finds the NUL of hello: RCX 100 -> 94, ZF=1"
        leaq    str_hello + 6(%rip), %rax
        expect_eq %rdi, %rax, "repne scasb: RDI past the NUL"
        leaq    str_abcx(%rip), %rsi
        leaq    str_abcy(%rip), %rdi
        movl    $10, %ecx
        repe cmpsb
        getf
        expect_rf %rcx, 6, (F_ZF|F_CF|F_SF), (F_CF|F_SF), "repe cmpsb stops at 'X' vs 'Y': RCX 6, CF=1"
        leaq    str_hello + 4(%rip), %rsi
        std
        lodsw
        cld
        leaq    str_hello + 2(%rip), %rdx
        expect_eq %rsi, %rdx, "lodsw DF=1: RSI - 2"
        movzwl  %ax, %eax
        expect_v %rax, 0x006F, "lodsw: AX = 0x006f (o, NUL)"
        leaq    str_buf(%rip), %rdi
        movq    %rdi, %rdx
        xorl    %ecx, %ecx
        setf    (F_ZF|F_CF)
        repne scasb
        getf
        expect_rf %rdi, str_buf, (F_ZF|F_CF), (F_ZF|F_CF), "rep with RCX=0: nothing done, flags kept"
        ret

/* ---- CMPXCHG, CMPXCHG8B/16B, XADD, XCHG. */
test_atomic:
        movl    $5, %eax
        movq    $5, atom_mem(%rip)
        movl    $9, %ecx
        lock cmpxchgl %ecx, atom_mem(%rip)
        getf
        expect_rf atom_mem(%rip), 9, F_ZF, F_ZF, "cmpxchgl equal: stores the source, ZF=1"
        movl    $5, %eax
        movq    $7, atom_mem(%rip)
        movl    $9, %ecx
        cmpxchgq %rcx, atom_mem(%rip)
        getf
        expect_rf %rax, 7, F_ZF, 0, "cmpxchgq not equal: RAX = memory, ZF=0"
        expect_v atom_mem(%rip), 7, "cmpxchgq not equal: memory unchanged"
        movl    $0x10, %eax
        movl    $0x10, %ebx
        movl    $0x20, %ecx
        cmpxchgb %cl, %bl
        getf
        expect_rf %rbx, 0x20, F_ZF, F_ZF, "cmpxchgb register: equal, BL = CL"

        movabsq $0x1111111122222222, %rax
        movq    %rax, atom_mem(%rip)
        movl    $0x22222222, %eax
        movl    $0x11111111, %edx
        movl    $0x44444444, %ebx
        movl    $0x33333333, %ecx
        lock cmpxchg8b atom_mem(%rip)
        getf
        expect_rf atom_mem(%rip), 0x3333333344444444, F_ZF, F_ZF, "cmpxchg8b equal: ECX:EBX stored"
        xorl    %eax, %eax
        xorl    %edx, %edx
        cmpxchg8b atom_mem(%rip)
        getf
        expect_rf %rax, 0x44444444, F_ZF, 0, "cmpxchg8b not equal: EDX:EAX loaded, ZF=0"
        expect_v %rdx, 0x33333333, "cmpxchg8b: EDX"
        movl    $1, %eax
        cpuid
        btl     $13, %ecx
        jc      1f
        note    "skip: cmpxchg16b (CPUID.01H:ECX[13] = 0)"
        jmp     2f
1:      movq    $1, atom16(%rip)
        movq    $2, atom16 + 8(%rip)
        movl    $1, %eax
        movl    $2, %edx
        movl    $3, %ebx
        movl    $4, %ecx
        lock cmpxchg16b atom16(%rip)
        getf
        expect_rf atom16 + 8(%rip), 4, F_ZF, F_ZF, "cmpxchg16b equal: RCX:RBX stored"
        expect_v atom16(%rip), 3, "cmpxchg16b: low qword = RBX"
2:
        movl    $3, %eax
        movq    $10, atom_mem(%rip)
        lock xaddq %rax, atom_mem(%rip)
        expect_v atom_mem(%rip), 13, "xaddq: memory = sum"
        expect_v %rax, 10, "xaddq: RAX = old memory"
        movl    $0xFF, %eax
        movl    $0x01, %ebx
        xaddb   %al, %bl
        getf
        expect_rf %rbx, 0, F_ARITH, (F_CF|F_ZF|F_AF|F_PF), "xaddb 0x01+0xff = 0: CF ZF AF PF like ADD"
        expect_v %rax, 1, "xaddb: AL = old BL"
        movabsq $0x1111111111112222, %rax
        movabsq $0x3333333333334444, %rbx
        xchgw   %ax, %bx
        expect_v %rax, 0x1111111111114444, "xchgw: only the low words swap"
        expect_v %rbx, 0x3333333333332222, "xchgw: RBX"
        movabsq $0x1234567800000001, %rax
        xchgl   %eax, %eax
        expect_v %rax, 1, "xchgl %eax,%eax (87 /r) clears RAX[63:32]"
        movq    $0x55, atom_mem(%rip)
        movl    $0x66, %eax
        xchgq   %rax, atom_mem(%rip)
        expect_v %rax, 0x55, "xchgq with memory: RAX = old memory"
        expect_v atom_mem(%rip), 0x66, "xchgq with memory: memory = old RAX"
        ret

/* ---- SETcc and CMOVcc for all 16 conditions, after three comparisons. cc_masks collects
 * bit i = condition i (o no b ae e ne be a s ns p np l ge le g) into %r8 (SETcc) and %r9
 * (CMOVcc). */
test_cc:
        movl    $3, %eax
        cmpl    $5, %eax                /* -2: CF=1 SF=1 */
        call    cc_masks
        expect_v %r8, 0x5966, "setcc after cmp 3,5 (CF SF): mask 0x5966"
        expect_eq %r9, %r8, "cmovcc agrees with setcc"
        movl    $0x80000000, %eax
        cmpl    $1, %eax                /* 0x7fffffff: OF=1 PF=1 */
        call    cc_masks
        expect_v %r8, 0x56A9, "setcc after cmp 0x80000000,1 (OF PF): mask 0x56a9"
        expect_eq %r9, %r8, "cmovcc agrees with setcc"
        movl    $5, %eax
        cmpl    $5, %eax                /* 0: ZF=1 PF=1 */
        call    cc_masks
        expect_v %r8, 0x665A, "setcc after cmp 5,5 (ZF PF): mask 0x665a"
        expect_eq %r9, %r8, "cmovcc agrees with setcc"
        movq    $-1, %rax
        movl    $7, %ecx
        testl   %ecx, %ecx              /* ZF=0: the move does not happen */
        cmovel  %ecx, %eax
        expect_v %rax, 0xFFFFFFFF, "cmovel not taken still clears RAX[63:32]"
        ret

/* cc_masks: see test_cc. Only flag-preserving instructions until the flags are used up. */
.macro cc_one cc, bit
        set\cc  cc_set + \bit(%rip)
        movl    $0, %eax
        cmov\cc %esi, %eax
        movb    %al, cc_mov + \bit(%rip)
.endm
cc_masks:
        movl    $1, %esi
        cc_one  o, 0
        cc_one  no, 1
        cc_one  b, 2
        cc_one  ae, 3
        cc_one  e, 4
        cc_one  ne, 5
        cc_one  be, 6
        cc_one  a, 7
        cc_one  s, 8
        cc_one  ns, 9
        cc_one  p, 10
        cc_one  np, 11
        cc_one  l, 12
        cc_one  ge, 13
        cc_one  le, 14
        cc_one  g, 15
        xorl    %r8d, %r8d
        xorl    %r9d, %r9d
        movl    $15, %ecx
1:      shll    $1, %r8d
        shll    $1, %r9d
        movzbl  cc_set(%rcx), %eax
        orl     %eax, %r8d
        movzbl  cc_mov(%rcx), %eax
        orl     %eax, %r9d
        decl    %ecx
        jns     1b
        ret

/* ---- Sign and zero extension. */
test_extend:
        movl    $0x80, %ecx
        movsbq  %cl, %rax
        expect_v %rax, 0xFFFFFFFFFFFFFF80, "movsbq 0x80"
        movl    $0x8000, %ecx
        movq    $-1, %rax
        movswl  %cx, %eax
        expect_v %rax, 0xFFFF8000, "movswl 0x8000 (RAX[63:32] cleared)"
        movl    $0x80000000, %ecx
        movslq  %ecx, %rax
        expect_v %rax, 0xFFFFFFFF80000000, "movslq 0x80000000"
        movabsq $0x1234567812345678, %rax
        movl    $0xFF, %ecx
        movzbw  %cl, %ax
        expect_v %rax, 0x12345678123400FF, "movzbw keeps RAX[63:16]"
        movabsq $0x1234567812345680, %rax
        cbtw
        expect_v %rax, 0x123456781234FF80, "cbw: AL 0x80 -> AX 0xff80"
        movabsq $0x1234567812348000, %rax
        cwtl
        expect_v %rax, 0xFFFF8000, "cwde: AX 0x8000 -> EAX 0xffff8000, RAX[63:32] cleared"
        movl    $0x80000000, %eax
        cltq
        expect_v %rax, 0xFFFFFFFF80000000, "cdqe"
        movl    $0x8000, %eax
        movabsq $0x1111111111111111, %rdx
        cwtd
        expect_v %rdx, 0x111111111111FFFF, "cwd: DX = 0xffff, RDX[63:16] kept"
        movl    $-1, %eax
        xorl    %edx, %edx
        cltd
        expect_v %rdx, 0xFFFFFFFF, "cdq: EDX = 0xffffffff"
        movabsq $0x8000000000000000, %rax
        cqto
        expect_v %rdx, -1, "cqo: RDX = -1"
        ret

/* ---- 16-bit and 8-bit operand sizes: only the low part is written, flags at that width. */
test_word:
        movabsq $0x1234567890ABFFFF, %rax
        addw    $1, %ax
        getf
        expect_rf %rax, 0x1234567890AB0000, F_ARITH, (F_CF|F_ZF|F_AF|F_PF), "addw 0xffff+1: 0, CF ZF AF PF; RAX[63:16] kept"
        movl    $0x7FFF, %eax
        stc
        incw    %ax
        getf
        expect_rf %rax, 0x8000, F_ARITH, (F_OF|F_SF|F_AF|F_PF|F_CF), "incw 0x7fff: OF SF AF, CF untouched"
        movl    $0x8000, %eax
        negw    %ax
        getf
        expect_rf %rax, 0x8000, (F_CF|F_OF|F_ZF|F_SF), (F_CF|F_OF|F_SF), "negw 0x8000 = 0x8000, CF=OF=1"
        xorl    %eax, %eax
        negw    %ax
        getf
        expect_rf %rax, 0, (F_CF|F_ZF), F_ZF, "negw 0: CF=0"
        /* 0x00010000 - 0x00000001 with 16-bit halves: subw then sbbw. */
        xorl    %eax, %eax
        movl    $1, %edx
        subw    $1, %ax
        sbbw    $0, %dx
        getf
        expect_rf %rax, 0xFFFF, (F_CF|F_ZF), F_ZF, "subw/sbbw: low half 0xffff"
        expect_v %rdx, 0, "subw/sbbw: the borrow reached the high half"
        movl    $0xFFFF, %eax
        movl    $0x0001, %edx
        addw    $1, %ax
        adcw    $0, %dx
        expect_v %rdx, 2, "addw/adcw: the carry reached the high half"
        movq    %rsp, %rbx
        pushw   $0x1234
        movq    %rsp, %rcx
        popw    %ax
        subq    %rcx, %rbx
        expect_v %rbx, 2, "pushw moves RSP by 2"
        movzwl  %ax, %eax
        expect_v %rax, 0x1234, "popw gets the word back"
        movabsq $0x7777777777777777, %rax
        movl    $0xFFF0, %ebx
        movl    $0x20, %ecx
        leaw    (%rbx,%rcx,2), %ax
        expect_v %rax, 0x7777777777770030, "leaw truncates the address to 16 bits"
        movl    $0x1234, %eax
        xchgb   %al, %ah
        expect_v %rax, 0x3412, "xchgb %al,%ah"
        movl    $0x00FF, %eax
        setf    F_CF
        testw   $0x8000, %ax
        getf
        expect_rf %rax, 0xFF, (F_CF|F_ZF|F_SF|F_OF), F_ZF, "testw: ZF=1, CF and OF cleared"
        movabsq $0x123456789ABCDEF0, %rax
        notw    %ax
        expect_v %rax, 0x123456789ABC210F, "notw"
        movabsq $0xFFFFFFFF00000001, %rax
        addl    $0, %eax
        expect_v %rax, 1, "addl clears RAX[63:32]"
        movq    $-1, atom_mem(%rip)
        movw    $0x5678, atom_mem + 2(%rip)
        expect_v atom_mem(%rip), 0xFFFFFFFF5678FFFF, "movw to memory writes 2 bytes"
        ret

/* ---- Ring 3: the same instructions from user mode, and a #DE there. */
test_ring3:
        movq    $user_work, %rdi
        movq    $user_work_end, %rsi
        call    user_run
        expect_v %rax, 0x600D, "the ring-3 program ran to its end"
        expect_v RESULTS, 0xFFFFFFFD, "ring 3: idivl -7/2 = -3"
        expect_v RESULTS + 8, 0xFFFFFFFF, "ring 3: remainder -1"
        expect_v RESULTS + 16, 0xFFFFFFFFFFFFFF85, "ring 3: imulq $-123, 1"
        expect_v RESULTS + 24, 0x12345678, "ring 3: rep movsb with DF=1 copied backwards"
        expect_v RESULTS + 32, 62, "ring 3: bsrq 2^62 = 62"
        expect_v RESULTS + 40, 1, "ring 3: setb after cmp 1,2"
        expect_v RESULTS + 48, 0xFFFE, "ring 3: xaddw"
        call    trap_clear
        movq    $user_de, %rdi
        movq    $user_de_end, %rsi
        call    user_run
        expect_v %rax, -1, "ring 3: divl by 0 ends the program with an exception"
        expect_v trap_vector(%rip), 0, "ring 3: it was #DE"
        expect_v trap_cs(%rip), USER_CS, "ring 3: from CS = USER_CS"
        expect_v trap_rip(%rip), (USER_BASE + user_de_insn - user_de), "ring 3: #DE at the DIV"
        ret

/* Ring-3 programs (copied to USER_BASE; absolute addresses only for data). */
user_work:
        movl    $-7, %eax
        cltd
        movl    $2, %ecx
        idivl   %ecx
        movq    %rax, RESULTS
        movq    %rdx, RESULTS + 8
        movl    $1, %ecx
        imulq   $-123, %rcx, %rax
        movq    %rax, RESULTS + 16
        movl    $0x12345678, RESULTS + 64
        movq    $0, RESULTS + 24
        movq    $RESULTS + 67, %rsi
        movq    $RESULTS + 27, %rdi
        movl    $4, %ecx
        std
        rep movsb
        cld
        movabsq $0x4000000000000000, %rcx
        bsrq    %rcx, %rax
        movq    %rax, RESULTS + 32
        movq    $0, RESULTS + 40
        movl    $1, %eax
        cmpl    $2, %eax
        setb    RESULTS + 40
        movl    $0xFFFF, %eax
        movq    $0xFFFF, RESULTS + 48
        xaddw   %ax, RESULTS + 48
        movl    $0x600D, %eax
        int     $USER_RETURN_VECTOR
user_work_end:
user_de:
        xorl    %ecx, %ecx
user_de_insn:
        divl    %ecx
user_de_end:

        .section .rodata
str_hello:      .asciz  "hello"
str_abcx:       .ascii  "abcXefghij"
str_abcy:       .ascii  "abcYefghij"

        .bss
        .p2align 4
atom16:         .skip 16
mul_mem:        .skip 8
atom_mem:       .skip 8
bit_mem:        .skip 16
cc_set:         .skip 16
cc_mov:         .skip 16
                .skip 8                 /* str_buf - 8 is still ours */
str_buf:        .skip 64
        .text
#include "../lib/end.S"
