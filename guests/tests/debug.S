/*
 * debug.S — debug exceptions (#DB, Intel SDM Vol. 3B chapter 18, Vol. 3A 6.15): DR6/DR7
 * fixed bits, DR4/DR5 aliasing and CR4.DE, single-step traps (RFLAGS.TF) with their
 * one-instruction delay after POPF, over emulated instructions, held back by MOV SS, not
 * taken by INT3, lost when the instruction faults; instruction breakpoints (faults, RF),
 * data breakpoints (traps, R/W and LEN).
 * Every #DB goes to db_hook, which logs its RIP and DR6 (then clears DR6) in db_rip[] and
 * db_dr6[]; db_count counts them. With db_set_rf set, it sets RF in the frame, as a
 * debugger resuming from an instruction breakpoint does (SDM 18.3.1.1).
 * Not here because QEMU 7.2 (the oracle) differs from the SDM: STI does not hold back a
 * single step there, INT1 (ICEBP) exits to QEMU's own debugger, and DR7.GD (general
 * detect) has no effect. kvm-unit-tests' debug.flat and test/emu/cpu cover those.
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/test.S"

#define CR4_DE      (1 << 3)
#define RFLAGS_RF   (1 << 16)
#define DR6_BASE    0xFFFF0FF0          /* DR6 with no condition reported */
#define DR6_BS      (1 << 14)
#define DR7_BASE    0x400
#define DB_MAX      16

/* single_step_on / single_step_off: POPF setting / clearing TF (clobbers %rax). */
.macro single_step_on
        pushfq
        orq     $RFLAGS_TF, (%rsp)
        popfq
.endm
.macro single_step_off
        pushfq
        andq    $~RFLAGS_TF, (%rsp)
        popfq
.endm

        .text
kmain:
        call    trap_init
        movq    $db_hook, trap_hooks + 1 * 8(%rip)

        /* 1-2: DR6 and DR7 read back their fixed bits (SDM 18.2.3, 18.2.4). */
        xorl    %eax, %eax
        movq    %rax, %dr6
        movq    %dr6, %rax
        expect_eq %rax, $DR6_BASE, "DR6 = FFFF0FF0H after writing 0"
        xorl    %eax, %eax
        movq    %rax, %dr7
        movq    %dr7, %rax
        expect_eq %rax, $DR7_BASE, "DR7 = 400H after writing 0"

        /* 3-4: with CR4.DE = 0, DR4 and DR5 are DR6 and DR7; with CR4.DE = 1 they are #UD (18.2.2). */
        movq    $DR6_BASE | DR6_BS | 2, %rax
        movq    %rax, %dr6
        movq    %dr4, %rax
        expect_eq %rax, $DR6_BASE | DR6_BS | 2, "DR4 reads DR6 with CR4.DE = 0"
        movq    %cr4, %rax
        orq     $CR4_DE, %rax
        movq    %rax, %cr4
        call    trap_clear
        arm_fixup 1f
        movq    %dr5, %rax
1:      expect_eq trap_vector(%rip), $6, "DR5 is #UD with CR4.DE = 1"
        movq    %cr4, %rax
        andq    $~CR4_DE, %rax
        movq    %rax, %cr4

        /* 5-8: single step. POPF setting TF traps only after the next instruction; the POPF
         * clearing it is itself trapped (18.3.1.4). single_step_off is PUSHF, AND, POPF. */
        call    db_clear
        single_step_on
ss1:    nop
ss2:    nop
ss3:    single_step_off
ss4:    expect_eq db_count(%rip), $5, "five single-step traps: NOP, NOP, PUSHF, AND, POPF"
        expect_eq db_rip(%rip), $ss2, "the first after the instruction following POPF"
        expect_eq db_rip + 32(%rip), $ss4, "the last after the POPF that clears TF"
        expect_eq db_dr6(%rip), $DR6_BASE | DR6_BS, "DR6 reports BS"

        /* 9-10: stepping instructions an emulator handles specially (CPUID, IN). */
        call    db_clear
        single_step_on
        xorl    %eax, %eax
em1:    cpuid
em2:    movw    $0x3F8 + 5, %dx
em3:    inb     %dx, %al
em4:    single_step_off
        expect_eq db_count(%rip), $7, "seven traps over XOR, CPUID, MOV, IN and the three to clear TF"
        expect_eq db_rip + 24(%rip), $em4, "the trap after IN returns before the POPF"

        /* 11-12: MOV SS holds the trap back for one instruction (6.8.3): one #DB after both. */
        call    db_clear
        movw    %ss, %cx
        single_step_on
ms1:    movw    %cx, %ss
ms2:    nop
ms3:    single_step_off
        expect_eq db_count(%rip), $4, "MOV SS: four traps for five stepped instructions"
        expect_eq db_rip(%rip), $ms3, "the first after the instruction following MOV SS"

        /* 13-14: INT3 clears TF and takes no single step; IRET sets it back, and the trap
         * comes after the instruction following IRET. */
        call    db_clear
        movq    $bp_hook, trap_hooks + 3 * 8(%rip)
        single_step_on
i1:     int3
i2:     nop
i3:     single_step_off
i4:     expect_eq db_count(%rip), $4, "INT3: no trap for it; NOP and the three to clear TF trap"
        expect_eq db_rip(%rip), $i3, "the first trap returns after the NOP"

        /* 15-16: a faulting instruction takes no single-step trap; its handler is not stepped. */
        call    db_clear
        call    trap_clear
        arm_fixup f2
        single_step_on
f1:     ud2
f2:     single_step_off
        expect_eq trap_vector(%rip), $6, "UD2 under TF raises #UD"
        expect_eq db_count(%rip), $3, "no trap for it: only the three instructions clearing TF trap"

        /* 17-20: instruction breakpoint on DR0 (18.3.1.1): a fault before the instruction. */
        call    db_clear
        movq    $bp1, %rax
        movq    %rax, %dr0
        movq    $DR7_BASE | 1, %rax     /* L0, R/W0 = 00 (execution), LEN0 = 00 */
        movq    %rax, %dr7
        movq    $1, db_set_rf(%rip)
        xorl    %ecx, %ecx
bp1:    incl    %ecx
        movq    $DR7_BASE, %rax
        movq    %rax, %dr7
        movq    $0, db_set_rf(%rip)
        expect_eq db_count(%rip), $1, "one #DB for the breakpoint"
        expect_eq db_rip(%rip), $bp1, "a fault: RIP is the breakpoint's instruction"
        expect_eq db_dr6(%rip), $DR6_BASE | 1, "DR6 reports B0"
        expect_eq %rcx, $1, "RF set by the handler: the instruction ran once"

        /* 21-25: data breakpoint on DR1, writes only (R/W1 = 01), 4 bytes (LEN1 = 11). */
        call    db_clear
        movq    $watched, %rax
        movq    %rax, %dr1
        movq    $DR7_BASE | (1 << 3) | (0xD << 20), %rax /* G1 */
        movq    %rax, %dr7
        movl    watched(%rip), %eax     /* a read: no #DB */
dw1:    movl    $7, watched(%rip)
dw2:    movb    $1, watched + 3(%rip)   /* the last byte of the range */
dw3:    movb    $1, watched + 4(%rip)   /* just past it */
        expect_eq db_count(%rip), $2, "two #DBs: the two writes inside the 4 bytes"
        expect_eq db_rip(%rip), $dw2, "a trap: RIP after the write"
        expect_eq db_dr6(%rip), $DR6_BASE | 2, "DR6 reports B1"
        expect_eq db_rip + 8(%rip), $dw3, "the one-byte write to its last byte hits too"

        /* 26-27: the same as R/W1 = 11: reads hit as well. */
        call    db_clear
        movq    $DR7_BASE | (1 << 3) | (0xF << 20), %rax
        movq    %rax, %dr7
dr1:    movl    watched(%rip), %eax
dr2:    movq    $DR7_BASE, %rax
        movq    %rax, %dr7
        expect_eq db_count(%rip), $1, "R/W = 11: a read hits"
        expect_eq db_rip(%rip), $dr2, "after the read"

        call    test_finish
        ret

/* db_hook(%rdi = frame): log RIP and DR6, clear DR6; set RF in the frame if db_set_rf. */
db_hook:
        movq    db_count(%rip), %rcx
        cmpq    $DB_MAX, %rcx
        jae     1f
        movq    FRAME_RIP(%rdi), %rax
        movq    %rax, db_rip(,%rcx,8)
        movq    %dr6, %rax
        movq    %rax, db_dr6(,%rcx,8)
1:      incq    db_count(%rip)
        xorl    %eax, %eax
        movq    %rax, %dr6
        cmpq    $0, db_set_rf(%rip)
        je      2f
        orq     $RFLAGS_RF, FRAME_RFLAGS(%rdi)
2:      ret

/* bp_hook: #BP is expected (the INT3 test). */
bp_hook:
        ret

/* db_clear: forget the logged #DBs and clear DR6. */
db_clear:
        movq    $0, db_count(%rip)
        xorl    %eax, %eax
        movq    %rax, %dr6
        ret

        .bss
        .p2align 3
watched:    .skip 8
db_count:   .skip 8
db_set_rf:  .skip 8
db_rip:     .skip 8 * DB_MAX
db_dr6:     .skip 8 * DB_MAX
        .text
#include "../lib/end.S"
