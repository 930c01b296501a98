/*
 * realmode.S — from long mode down to real mode and back (Intel SDM Vol. 3A, 10.8.5.4
 * leaving IA-32e mode, 10.9.2 switching back to real-address mode, 10.9.1 and 10.8.5
 * switching up again): 64-bit -> compatibility mode -> paging off, EFER.LME off -> 16-bit
 * protected mode (segments with 64 KiB limits) -> CR0.PE off and a far jump -> real mode.
 * The real-mode program exercises segment arithmetic (base = selector << 4), a 16-bit
 * string copy forwards and backwards, INT through an IVT entry we install (there is no
 * BIOS to call), and 16-bit push/pop/call/ret, far calls included. It leaves its results
 * in low memory and climbs back to long mode, where they are checked.
 *
 * Real-mode code must sit below 1 MiB: the piece between rm_blob and rm_blob_end is copied
 * to RM_CODE and runs with CS = RM_SEG (offsets relative to rm_blob), except pm16_entry,
 * which runs in 16-bit protected mode with CS base 0 (offsets = RM_CODE + ...).
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/test.S"

/* Low memory used here (below the Multiboot information our machine puts at 0x9000). */
#define RM_STACK_TOP  0x5000            /* SS = 0, SP = 0x5000 */
#define RM_RESULTS    0x5000            /* what the real-mode program found, R_* below */
#define RM_CODE       0x6000            /* the copied blob */
#define RM_SEG        (RM_CODE >> 4)
#define RM_DATA_SEG   0x0700            /* segment arithmetic: 0x0700:0x0010 = 0x0701:0 = 0x7010 */
#define RM_COPY_SEG   0x0780            /* string copies land at 0x7800 and 0x7900 */
#define RM_VECTOR     0x40              /* the IVT entry at 0:0x100 */
#define RM_ALIAS_SEG  (RM_SEG - 0x100)  /* RM_ALIAS_SEG:(x + 0x1000) is RM_SEG:x */

/* Results (offsets from RM_RESULTS), 16-bit unless noted. */
#define R_CS          0x00
#define R_IP          0x02
#define R_MSW         0x04
#define R_ALIAS       0x06
#define R_FLAGS       0x08
#define R_INT_IP      0x0A
#define R_INT_CS      0x0C
#define R_INT_FLAGS   0x0E
#define R_IN_FLAGS    0x10
#define R_INT_AX      0x12
#define R_AFTER_FLAGS 0x14
#define R_PUSH_SP     0x16
#define R_PUSH_WORD   0x18
#define R_PUSHL_SP    0x1A
#define R_POP         0x1C              /* 32-bit */
#define R_CALL_AX     0x20
#define R_CALL_SP     0x22
#define R_FAR_CS      0x24
#define R_FAR_RET_CS  0x26
#define R_ALIAS_CS    0x28
#define R_ALIAS_IP    0x2A
#define R_EAX32       0x2C              /* 32-bit */
#define R_FINAL_SP    0x30
#define R_SI_BACK     0x32
#define R_DI_BACK     0x34
#define R_PM_CR0      0x38              /* 32-bit, from protected mode with paging off */
#define R_PM_EFER     0x3C              /* 32-bit */
#define R_SIZE        0x40

#define STR_LEN       16                /* rm_string: 16 bytes, copied as bytes and as words */

        .text
kmain:
        call    trap_init
        movb    $0xFF, %al              /* no external interrupts */
        outb    %al, $PIC1_DATA
        outb    %al, $PIC2_DATA

        /* The blob to RM_CODE, the results and copy targets cleared. */
        movq    $rm_blob, %rsi
        movq    $RM_CODE, %rdi
        movq    $rm_blob_end - rm_blob, %rcx
        rep movsb
        movq    $RM_RESULTS, %rdi
        movq    $R_SIZE, %rcx
        xorl    %eax, %eax
        rep stosb
        movq    $(RM_COPY_SEG << 4), %rdi
        movq    $0x200, %rcx
        rep stosb
        movl    $0, (RM_DATA_SEG << 4) + 0x10

        call    real_mode_trip

        /* 1-3: back in long mode. */
        movl    $MSR_EFER, %ecx
        rdmsr
        andl    $0x500, %eax
        expect_eq %rax, $0x500, "back in long mode: EFER.LME and EFER.LMA are set"
        movl    RM_RESULTS + R_PM_CR0, %eax
        andl    $CR0_PG | CR0_PE, %eax
        expect_eq %rax, $CR0_PE, "on the way down: protected mode with CR0.PG=0"
        movl    RM_RESULTS + R_PM_EFER, %eax
        andl    $0x500, %eax
        expect_eq %rax, $0, "and EFER.LME=0, LMA=0 (IA-32e mode left)"

        /* 4-7: what real mode looked like. */
        movzwl  RM_RESULTS + R_MSW, %eax
        andl    $CR0_PE, %eax
        expect_eq %rax, $0, "real mode: SMSW shows PE=0"
        movzwl  RM_RESULTS + R_CS, %eax
        expect_eq %rax, $RM_SEG, "real mode: CS is the segment of the far jump"
        movzwl  RM_RESULTS + R_IP, %eax
        expect_eq %rax, $(rm_here - rm_blob), "real mode: call/pop sees IP as the offset in the segment"
        movzwl  RM_RESULTS + R_FLAGS, %eax
        andl    $RFLAGS_IF | RFLAGS_DF, %eax
        expect_eq %rax, $0, "real mode: FLAGS has IF=0 and DF=0"

        /* 8-9: segment arithmetic. */
        movzwl  RM_RESULTS + R_ALIAS, %eax
        expect_eq %rax, $0xBEEF, "0x0700:0x0010 and 0x0701:0x0000 are the same byte"
        movzwl  (RM_DATA_SEG << 4) + 0x10, %eax
        expect_eq %rax, $0xBEEF, "the write landed at linear 0x7010 (segment << 4 + offset)"

        /* 10-13: string copies. */
        movq    $rm_string, %rsi
        movq    $(RM_COPY_SEG << 4), %rdi
        movl    $STR_LEN, %ecx
        repe cmpsb
        check   e, "rep movsb (DF=0) copied the string to ES:DI = 0x0780:0"
        movq    $rm_string, %rsi
        movq    $(RM_COPY_SEG << 4) + 0x100, %rdi
        movl    $STR_LEN, %ecx
        repe cmpsb
        check   e, "rep movsw with DF=1 copied it backwards word by word to 0x0780:0x100"
        movzwl  RM_RESULTS + R_SI_BACK, %eax
        expect_eq %rax, $(rm_string - rm_blob - 2), "DF=1: SI ends one word below the string"
        movzwl  RM_RESULTS + R_DI_BACK, %eax
        expect_eq %rax, $(0x100 - 2), "DF=1: DI ends one word below the target"

        /* 14-19: INT through our IVT entry. */
        movzwl  RM_RESULTS + R_INT_IP, %eax
        expect_eq %rax, $(rm_after_int - rm_blob), "INT pushes the IP of the next instruction"
        movzwl  RM_RESULTS + R_INT_CS, %eax
        expect_eq %rax, $RM_SEG, "INT pushes CS"
        movzwl  RM_RESULTS + R_INT_FLAGS, %eax
        andl    $RFLAGS_IF | 1, %eax
        expect_eq %rax, $(RFLAGS_IF | 1), "INT pushes FLAGS (IF=1 and CF=1 before it)"
        movzwl  RM_RESULTS + R_IN_FLAGS, %eax
        andl    $RFLAGS_IF | RFLAGS_TF, %eax
        expect_eq %rax, $0, "the handler runs with IF=0, TF=0"
        movzwl  RM_RESULTS + R_INT_AX, %eax
        expect_eq %rax, $0x4242, "the handler's AX comes back"
        movzwl  RM_RESULTS + R_AFTER_FLAGS, %eax
        andl    $RFLAGS_IF | 1, %eax
        expect_eq %rax, $(RFLAGS_IF | 1), "IRET restores FLAGS (IF=1, CF=1)"

        /* 20-31: the 16-bit stack, far calls, a 32-bit operand. */
        movzwl  RM_RESULTS + R_PUSH_SP, %eax
        expect_eq %rax, $(RM_STACK_TOP - 2), "pushw: SP goes down by 2"
        movzwl  RM_RESULTS + R_PUSH_WORD, %eax
        expect_eq %rax, $0x1234, "pushw stored the word at SS:SP"
        movzwl  RM_RESULTS + R_PUSHL_SP, %eax
        expect_eq %rax, $(RM_STACK_TOP - 6), "pushl (operand-size prefix): SP goes down by 4"
        movl    RM_RESULTS + R_POP, %eax
        expect_eq %rax, $0x89ABCDEF, "popl gets the 32-bit value back"
        movzwl  RM_RESULTS + R_CALL_AX, %eax
        expect_eq %rax, $8, "near call with an argument on the stack: the callee saw it"
        movzwl  RM_RESULTS + R_CALL_SP, %eax
        expect_eq %rax, $RM_STACK_TOP, "ret $2 popped the return address and the argument"
        movzwl  RM_RESULTS + R_FAR_CS, %eax
        expect_eq %rax, $RM_SEG, "lcall: the callee found the caller's CS on the stack"
        movzwl  RM_RESULTS + R_FAR_RET_CS, %eax
        expect_eq %rax, $RM_SEG, "lret: back in the caller's segment"
        movzwl  RM_RESULTS + R_ALIAS_CS, %eax
        expect_eq %rax, $RM_ALIAS_SEG, "lcall to another CS:IP for the same code: CS is the new one"
        movzwl  RM_RESULTS + R_ALIAS_IP, %eax
        expect_eq %rax, $(rm_far_here - rm_blob + 0x1000), "and IP is offset by 0x1000"
        movl    RM_RESULTS + R_EAX32, %eax
        expect_eq %rax, $0x12345678, "a 32-bit operand (0x66 prefix) in real mode"
        movzwl  RM_RESULTS + R_FINAL_SP, %eax
        expect_eq %rax, $RM_STACK_TOP, "the real-mode stack is balanced at the end"

        call    test_finish
        ret

/* real_mode_trip: down to real mode, run the program, back up. Everything but RSP and the
 * callee-saved registers is clobbered. */
real_mode_trip:
        pushq   %rbx
        pushq   %rbp
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, saved_rsp(%rip)
        /* To compatibility mode: a far return to the 32-bit code segment. */
        pushq   $KERNEL_CS32
        pushq   $pm32_down
        lretq

        .code32
pm32_down:
        /* Leave IA-32e mode: paging off (this code is identity-mapped), then EFER.LME. */
        movl    %cr0, %eax
        andl    $~CR0_PG, %eax
        movl    %eax, %cr0
        movl    $MSR_EFER, %ecx
        rdmsr
        andl    $~EFER_LME, %eax
        wrmsr
        movl    %cr0, %eax
        movl    %eax, RM_RESULTS + R_PM_CR0
        rdmsr
        movl    %eax, RM_RESULTS + R_PM_EFER
        /* To 16-bit protected mode, below 64 KiB. */
        ljmp    $CODE16_SEL, $(RM_CODE + pm16_entry - rm_blob)

/* Back from real mode with PE=1: 32-bit protected mode, then long mode again. */
pm32_up:
        movw    $KERNEL_DS, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movl    $MSR_EFER, %ecx
        rdmsr
        orl     $EFER_LME, %eax
        wrmsr
        movl    %cr0, %eax              /* CR3 and CR4.PAE were kept */
        orl     $CR0_PG, %eax
        movl    %eax, %cr0
        ljmp    $KERNEL_CS, $lm_up

        .code64
lm_up:
        movw    $KERNEL_DS, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        xorl    %eax, %eax
        movw    %ax, %fs
        movw    %ax, %gs
        movq    saved_rsp(%rip), %rsp
        lidt    idt_pointer(%rip)
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbp
        popq    %rbx
        ret

/* ---- copied to RM_CODE ---- */
        .code16
rm_blob:
pm16_entry:
        /* Segment registers with 64 KiB limits, as real mode expects (10.9.2), then PE off. */
        movw    $DATA16_SEL, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %fs
        movw    %ax, %gs
        movw    %ax, %ss
        lidt    RM_CODE + rm_ivt_pointer - rm_blob
        movl    %cr0, %eax
        andl    $~CR0_PE, %eax
        movl    %eax, %cr0
        ljmp    $RM_SEG, $(rm_entry - rm_blob)

rm_entry:
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %ax, %ss
        movw    $RM_STACK_TOP, %sp
        movw    %cs, %ax
        movw    %ax, RM_RESULTS + R_CS
        smsw    %ax
        movw    %ax, RM_RESULTS + R_MSW
        call    rm_here
rm_here:
        popw    %ax
        movw    %ax, RM_RESULTS + R_IP
        pushfw
        popw    %ax
        movw    %ax, RM_RESULTS + R_FLAGS

        /* Segment arithmetic. */
        movw    $RM_DATA_SEG, %ax
        movw    %ax, %ds
        movw    $0xBEEF, 0x10
        movw    $RM_DATA_SEG + 1, %ax
        movw    %ax, %ds
        movw    0, %bx
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %bx, RM_RESULTS + R_ALIAS

        /* rep movsb forwards from CS:rm_string, rep movsw backwards. */
        movw    %cs, %ax
        movw    %ax, %ds
        movw    $RM_COPY_SEG, %ax
        movw    %ax, %es
        movw    $(rm_string - rm_blob), %si
        xorw    %di, %di
        movw    $STR_LEN, %cx
        cld
        rep movsb
        movw    $(rm_string - rm_blob + STR_LEN - 2), %si
        movw    $0x100 + STR_LEN - 2, %di
        movw    $STR_LEN / 2, %cx
        std
        rep movsw
        cld
        xorw    %ax, %ax
        movw    %ax, %ds
        movw    %ax, %es
        movw    %si, RM_RESULTS + R_SI_BACK
        movw    %di, RM_RESULTS + R_DI_BACK

        /* INT through the IVT: entry RM_VECTOR = RM_SEG:rm_int_handler. */
        movw    $(rm_int_handler - rm_blob), RM_VECTOR * 4
        movw    $RM_SEG, RM_VECTOR * 4 + 2
        xorw    %ax, %ax
        stc
        sti
        int     $RM_VECTOR
rm_after_int:
        pushfw
        cli
        popw    RM_RESULTS + R_AFTER_FLAGS
        movw    %ax, RM_RESULTS + R_INT_AX

        /* The stack. */
        pushw   $0x1234
        movw    %sp, RM_RESULTS + R_PUSH_SP
        movw    %sp, %bp
        movw    (%bp), %ax
        movw    %ax, RM_RESULTS + R_PUSH_WORD
        pushl   $0x89ABCDEF
        movw    %sp, RM_RESULTS + R_PUSHL_SP
        popl    %eax
        movl    %eax, RM_RESULTS + R_POP
        popw    %ax
        pushw   $7
        call    rm_add_one
        movw    %ax, RM_RESULTS + R_CALL_AX
        movw    %sp, RM_RESULTS + R_CALL_SP
        lcall   $RM_SEG, $(rm_far - rm_blob)
        movw    %cs, %ax
        movw    %ax, RM_RESULTS + R_FAR_RET_CS
        lcall   $RM_ALIAS_SEG, $(rm_far - rm_blob + 0x1000)
        movl    $0x12345678, %eax
        movl    %eax, RM_RESULTS + R_EAX32
        movw    %sp, RM_RESULTS + R_FINAL_SP

        /* Back up: PE on, a far jump to 32-bit code (32-bit offset: operand-size prefix). */
        movl    %cr0, %eax
        orl     $CR0_PE, %eax
        movl    %eax, %cr0
        ljmpl   $KERNEL_CS32, $pm32_up

/* rm_add_one(word on the stack) -> AX = word + 1; pops its argument (ret $2). */
rm_add_one:
        pushw   %bp
        movw    %sp, %bp
        movw    4(%bp), %ax
        incw    %ax
        popw    %bp
        ret     $2

/* A far procedure: records the caller's CS (its own CS and IP when called through the
 * alias segment); only relative jumps, so it runs at either address. */
rm_far:
        pushw   %bp
        movw    %sp, %bp
        movw    %cs, %ax
        cmpw    $RM_SEG, %ax
        jne     1f
        movw    4(%bp), %ax
        movw    %ax, RM_RESULTS + R_FAR_CS
        popw    %bp
        lret
1:      movw    %ax, RM_RESULTS + R_ALIAS_CS
        call    rm_far_here
rm_far_here:
        popw    %ax
        movw    %ax, RM_RESULTS + R_ALIAS_IP
        popw    %bp
        lret

/* The IVT handler: the frame is IP, CS, FLAGS (SDM Vol. 3A, 21.1.4). */
rm_int_handler:
        pushw   %bp
        movw    %sp, %bp
        movw    2(%bp), %ax
        movw    %ax, RM_RESULTS + R_INT_IP
        movw    4(%bp), %ax
        movw    %ax, RM_RESULTS + R_INT_CS
        movw    6(%bp), %ax
        movw    %ax, RM_RESULTS + R_INT_FLAGS
        pushfw
        popw    %ax
        movw    %ax, RM_RESULTS + R_IN_FLAGS
        movw    $0x4242, %ax
        popw    %bp
        iret

rm_ivt_pointer:
        .word   0x3FF                   /* 256 vectors of 4 bytes at 0 */
        .long   0
rm_string:
        .ascii  "real mode, 16b!!"
rm_blob_end:
        .code64

        .bss
        .p2align 3
saved_rsp:      .skip 8
        .text
#include "../lib/end.S"
