/*
 * timers.S — timer interrupts: PIT channel 0 through the 8259A PIC pair (remapped to
 * vectors 0x20-0x2F) in periodic mode 2 and one-shot mode 0, and the local APIC timer
 * one-shot, periodic and (when CPUID advertises it) TSC-deadline (Intel SDM Vol. 3A,
 * 12.5.4), with the spurious-interrupt vector register's software enable (12.9 and
 * 12.4.7.2). References for the PIC and PIT are the Intel 8259A and 8254 datasheets.
 *
 * Time is measured with PIT channel 2 (lib/pit.S). QEMU's clocks follow the host's, ours
 * follow the instruction count, so only what holds on any machine is asserted: interrupts
 * arrive, stop when masked or not acknowledged, counts fall within generous bounds, the
 * current count goes down.
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/test.S"
#include "../lib/pit.S"
#include "../lib/apic.S"

#define VEC_IRQ0      0x20              /* PIC master remapped to 0x20-0x27, slave 0x28-0x2F */
#define VEC_TIMER     0x30              /* LVT timer */
#define VEC_SPURIOUS  0x3F              /* SVR vector: needs no EOI */
#define PIT_1KHZ      (PIT_HZ / 1000)   /* channel 0 reload value for 1 ms */
#define APIC_DIV_16   0x3               /* divide configuration: bits 3, 1:0 = 0b011 (12.5.4) */
#define APIC_DIV_128  0xA               /* 0b1010 */
#define ONE_SHOT_COUNT 0x100000         /* QEMU's timer runs at 1 GHz / 16: about 17 ms */
#define PERIOD_COUNT  0x20000           /* about 2 ms there */

/* pic_read_reg VALUE: OCW3 selects what a read of the master's command port returns (0x0A IRR,
 * 0x0B ISR); the value is read into %al. */
.macro pic_read_reg value
        movb    $\value, %al
        outb    %al, $PIC1_CMD
        inb     $PIC1_CMD, %al
.endm

/* pit_ch0 MODE_CMD, COUNT: program channel 0 (low then high byte, binary). */
.macro pit_ch0 cmd, count
        movb    $\cmd, %al
        outb    %al, $PIT_CMD
        movb    $((\count) & 0xFF), %al
        outb    %al, $PIT_CH0
        movb    $((\count) >> 8), %al
        outb    %al, $PIT_CH0
.endm

/* sti_wait MS: wait MS milliseconds with interrupts enabled, then disable them again. */
.macro sti_wait ms
        movl    $\ms, %edi
        sti
        call    pit_wait_ms
        cli
.endm

/* sti_wait_for COUNTER, MIN, MS: with interrupts on, wait until COUNTER >= MIN (an operand
 * such as $3 or %rbx) for at most MS milliseconds; %rax = the counter. */
.macro sti_wait_for counter, min, ms
        leaq    \counter(%rip), %rdi
        movq    \min, %rsi
        movl    $\ms, %edx
        sti
        call    pit_wait_for
        cli
.endm

        .text
kmain:
        call    trap_init
        movq    $pit_tick, trap_hooks + VEC_IRQ0 * 8(%rip)
        movq    $apic_tick, trap_hooks + VEC_TIMER * 8(%rip)
        movq    $spurious, trap_hooks + VEC_SPURIOUS * 8(%rip)
        call    pic_remap
        /* The APIC passes the PIC's INTR on through LINT0 in ExtINT mode ("virtual wire",
         * what firmware sets up); it must be software-enabled to unmask an LVT entry. */
        apic_set APIC_SVR, $(APIC_SVR_ENABLE | VEC_SPURIOUS)
        apic_set APIC_LVT_LINT0, $APIC_DM_EXTINT
        apic_set APIC_TIMER_INIT, $0

        /* 1: OCW1 writes the master's interrupt mask register, a read of port 0x21 returns it. */
        movb    $0xFE, %al
        outb    %al, $PIC1_DATA
        inb     $PIC1_DATA, %al
        movzbl  %al, %eax
        expect_eq %rax, $0xFE, "PIC: the master's IMR reads back 0xfe (only IRQ 0 open)"

        /* 2-3: channel 0 in mode 2 (rate generator) at 1 kHz. */
        pit_ch0 0x34, PIT_1KHZ
        sti_wait_for pit_ticks, $1, 200
        cmpq    $1, %rax
        check   ae, "PIT mode 2: IRQ 0 arrives at the remapped vector 0x20"
        movq    $0, pit_ticks(%rip)
        sti_wait 50
        expect_range pit_ticks(%rip), 15, 100, "1 kHz ticks over 50 ms of channel 2: 15..100"

        /* 4-6: with IF = 0 the request waits in the IRR and nothing is delivered. */
        movq    pit_ticks(%rip), %rbx
        movl    $5, %edi
        call    pit_wait_ms
        expect_eq pit_ticks(%rip), %rbx, "IF=0 for 5 ms: no tick delivered"
        pic_read_reg 0x0A
        andl    $1, %eax
        expect_eq %rax, $1, "IRQ 0 waits in the IRR (OCW3 read IRR)"
        incq    %rbx
        sti_wait_for pit_ticks, %rbx, 20
        cmpq    %rbx, %rax
        check   ae, "sti: the pending tick is delivered"

        /* 7-9: masked in the IMR: no tick even with IF = 1, then unmasked: ticks again. */
        movb    $0xFF, %al
        outb    %al, $PIC1_DATA
        sti_wait 1                      /* let a tick already on its way in land */
        movq    pit_ticks(%rip), %rbx
        sti_wait 5
        expect_eq pit_ticks(%rip), %rbx, "IRQ 0 masked in the IMR: no tick for 5 ms with IF=1"
        pic_read_reg 0x0A
        andl    $1, %eax
        expect_eq %rax, $1, "a masked IRQ 0 is still latched in the IRR"
        movb    $0xFE, %al
        outb    %al, $PIC1_DATA
        incq    %rbx
        sti_wait_for pit_ticks, %rbx, 20
        cmpq    %rbx, %rax
        check   ae, "unmasked again: ticks resume"

        /* 10-12: without an EOI the in-service IRQ 0 blocks itself and lower priorities. */
        sti_wait 1                      /* deliver (and acknowledge) what is pending */
        movq    $0, pit_ticks(%rip)
        movb    $1, pit_no_eoi(%rip)
        sti_wait 10
        expect_eq pit_ticks(%rip), $1, "no EOI: exactly one tick in 10 ms"
        pic_read_reg 0x0B
        andl    $1, %eax
        expect_eq %rax, $1, "IRQ 0 stays in service (ISR bit 0)"
        movb    $0x20, %al              /* OCW2: non-specific EOI */
        outb    %al, $PIC1_CMD
        pic_read_reg 0x0B
        movzbl  %al, %eax
        expect_eq %rax, $0, "a non-specific EOI clears the ISR"
        pic_read_reg 0x0A               /* reads of port 0x20 return the IRR again */
        movb    $0, pit_no_eoi(%rip)

        /* 13-16: channel 0 in mode 0 (interrupt on terminal count): one interrupt. Mode 0
         * holds OUT low until the count ends; the first 2 ms deliver a mode-2 edge still
         * latched in the IRR, then the count is written again, which restarts it. */
        pit_ch0 0x30, 0xFFFF
        sti_wait 2
        movq    $0, pit_ticks(%rip)
        pit_ch0 0x30, 0xFFFF            /* about 55 ms */
        call    pit_latch_ch0
        movq    %rax, %rbx
        movl    $2, %edi
        sti
        call    pit_wait_ms
        cli
        call    pit_latch_ch0
        expect_range %rbx, 1, 0xFFFF, "mode 0: the latched count starts at most at the initial count"
        cmpq    %rbx, %rax
        check   b, "mode 0: the latched count decreases"
        expect_eq pit_ticks(%rip), $0, "mode 0: no interrupt before the count runs out"
        sti_wait_for pit_ticks, $1, 500
        sti_wait 20
        expect_eq pit_ticks(%rip), $1, "mode 0: exactly one interrupt, at terminal count"
        movb    $0xFF, %al
        outb    %al, $PIC1_DATA

        /* 17-19: the SVR's software-enable bit and vector read back; with it set, an LVT
         * entry can be unmasked. (While it is clear the SDM, 12.4.7.2, masks every LVT entry
         * and ignores unmasking; QEMU 7.2 does neither, so that is not tested here.) */
        apic_set APIC_SVR, $VEC_SPURIOUS
        apic_get APIC_SVR
        andl    $0x1FF, %eax
        expect_eq %rax, $VEC_SPURIOUS, "SVR reads back software-disabled, spurious vector 0x3f"
        apic_set APIC_SVR, $(APIC_SVR_ENABLE | VEC_SPURIOUS)
        apic_get APIC_SVR
        andl    $0x1FF, %eax
        expect_eq %rax, $(APIC_SVR_ENABLE | VEC_SPURIOUS), "SVR reads back enable and the spurious vector"
        apic_set APIC_TIMER_INIT, $0
        apic_set APIC_LVT_TIMER, $VEC_TIMER
        apic_get APIC_LVT_TIMER
        expect_eq %rax, $VEC_TIMER, "software-enabled: the LVT timer entry unmasks (one-shot, vector 0x30)"

        /* 20-21: the divide configuration register keeps bits 3 and 1:0. */
        apic_set APIC_TIMER_DIV, $APIC_DIV_128
        apic_get APIC_TIMER_DIV
        andl    $0xB, %eax
        expect_eq %rax, $APIC_DIV_128, "divide configuration reads back 0xa (divide by 128)"
        apic_set APIC_TIMER_DIV, $APIC_DIV_16
        apic_get APIC_TIMER_DIV
        andl    $0xB, %eax
        expect_eq %rax, $APIC_DIV_16, "divide configuration reads back 0x3 (divide by 16)"

        /* 22-26: one-shot. */
        movq    $0, apic_ticks(%rip)
        apic_set APIC_TIMER_INIT, $ONE_SHOT_COUNT
        apic_get APIC_TIMER_CUR
        movl    %eax, %ebx
        movl    $10000, %ecx
1:      decl    %ecx
        jnz     1b
        apic_get APIC_TIMER_CUR
        expect_range %rbx, 1, ONE_SHOT_COUNT, "one-shot: the current count starts at most at the initial count"
        cmpl    %ebx, %eax
        check   b, "one-shot: the current count decreases"
        sti_wait_for apic_ticks, $1, 500
        expect_eq %rax, $1, "one-shot: the timer interrupt arrives at vector 0x30"
        sti_wait 20
        expect_eq apic_ticks(%rip), $1, "one-shot: it fires once"
        apic_get APIC_TIMER_CUR
        expect_eq %rax, $0, "one-shot: the expired timer's current count reads 0"

        /* 27-31: periodic, then masked, then stopped by an initial count of 0. */
        movq    $0, apic_ticks(%rip)
        apic_set APIC_LVT_TIMER, $(APIC_TIMER_PERIODIC | VEC_TIMER)
        apic_set APIC_TIMER_INIT, $PERIOD_COUNT
        sti_wait_for apic_ticks, $3, 500
        cmpq    $3, %rax
        check   ae, "periodic: the timer keeps firing (3 interrupts)"
        apic_get APIC_TIMER_CUR
        expect_range %rax, 0, PERIOD_COUNT, "periodic: the current count stays within the initial count"
        apic_set APIC_LVT_TIMER, $(APIC_LVT_MASKED | APIC_TIMER_PERIODIC | VEC_TIMER)
        sti_wait 1
        movq    apic_ticks(%rip), %rbx
        sti_wait 10
        expect_eq apic_ticks(%rip), %rbx, "periodic, masked in the LVT: no interrupt for 10 ms"
        apic_set APIC_LVT_TIMER, $(APIC_TIMER_PERIODIC | VEC_TIMER)
        apic_set APIC_TIMER_INIT, $0
        sti_wait 1
        movq    apic_ticks(%rip), %rbx
        sti_wait 10
        expect_eq apic_ticks(%rip), %rbx, "periodic, initial count 0: the timer stops"
        apic_get APIC_TIMER_CUR
        expect_eq %rax, $0, "stopped: the current count reads 0"

        /* TSC-deadline mode (12.5.4.1), only where CPUID.01H:ECX[24] says it exists. */
        movl    $1, %eax
        cpuid
        btl     $24, %ecx
        jc      1f
        note    "skip: TSC-deadline mode (CPUID.01H:ECX[24] = 0)"
        jmp     2f
1:      call    tsc_deadline_tests
2:
        apic_set APIC_LVT_TIMER, $(APIC_LVT_MASKED | VEC_TIMER)
        call    test_finish
        ret

/* TSC-deadline: the timer fires once the TSC reaches IA32_TSC_DEADLINE, which then reads 0;
 * the initial-count register is ignored and the current count reads 0. */
tsc_deadline_tests:
        movq    $0, apic_ticks(%rip)
        apic_set APIC_LVT_TIMER, $(APIC_TIMER_TSC_DEADLINE | VEC_TIMER)
        mfence                          /* the SDM asks for it between the LVT and MSR writes */
        rdtsc
        shlq    $32, %rdx
        orq     %rax, %rdx
        addq    $1000000, %rdx
        movl    %edx, %eax
        shrq    $32, %rdx
        movl    $MSR_TSC_DEADLINE, %ecx
        wrmsr
        apic_get APIC_TIMER_CUR
        expect_eq %rax, $0, "TSC-deadline: the current count reads 0"
        sti_wait_for apic_ticks, $1, 500
        sti_wait 5
        expect_eq apic_ticks(%rip), $1, "TSC-deadline: one interrupt once the TSC passes the deadline"
        movl    $MSR_TSC_DEADLINE, %ecx
        rdmsr
        shlq    $32, %rdx
        orq     %rax, %rdx
        expect_eq %rdx, $0, "TSC-deadline: IA32_TSC_DEADLINE reads 0 after it fired"
        ret

/* pic_remap: ICW1-4 for both 8259As (edge-triggered, cascaded on IRQ 2, 8086 mode), master
 * at vectors 0x20-0x27, slave at 0x28-0x2F, away from the exceptions; everything masked. */
pic_remap:
        movb    $0x11, %al              /* ICW1: edge, cascade, ICW4 follows */
        outb    %al, $PIC1_CMD
        outb    %al, $PIC2_CMD
        movb    $VEC_IRQ0, %al          /* ICW2: vector base */
        outb    %al, $PIC1_DATA
        movb    $VEC_IRQ0 + 8, %al
        outb    %al, $PIC2_DATA
        movb    $0x04, %al              /* ICW3: slave on the master's IRQ 2 */
        outb    %al, $PIC1_DATA
        movb    $0x02, %al              /* ICW3: the slave's cascade identity */
        outb    %al, $PIC2_DATA
        movb    $0x01, %al              /* ICW4: 8086/88 mode, normal EOI */
        outb    %al, $PIC1_DATA
        outb    %al, $PIC2_DATA
        movb    $0xFF, %al              /* OCW1: mask all */
        outb    %al, $PIC1_DATA
        outb    %al, $PIC2_DATA
        ret

/* pit_latch_ch0 -> %rax: channel 0's count, through a counter-latch command. */
pit_latch_ch0:
        movb    $0x00, %al              /* channel 0, counter latch */
        outb    %al, $PIT_CMD
        inb     $PIT_CH0, %al
        movb    %al, %ah
        inb     $PIT_CH0, %al
        xchgb   %al, %ah
        movzwl  %ax, %eax
        ret

/* Hooks (%rdi = frame, lib/trap.S). */
pit_tick:
        incq    pit_ticks(%rip)
        cmpb    $0, pit_no_eoi(%rip)
        jne     1f
        movb    $0x20, %al              /* OCW2: non-specific EOI */
        outb    %al, $PIC1_CMD
1:      ret
apic_tick:
        incq    apic_ticks(%rip)
        apic_eoi
        ret
spurious:
        incq    spurious_count(%rip)
        ret

        .bss
        .p2align 3
pit_ticks:      .skip 8
apic_ticks:     .skip 8
spurious_count: .skip 8
pit_no_eoi:     .skip 1
        .text
#include "../lib/end.S"
