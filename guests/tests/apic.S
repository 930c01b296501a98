/*
 * apic.S — local APIC basics that kvm-unit-tests' apic tests also poke at (Intel SDM
 * Vol. 3A, chapter 12): IA32_APIC_BASE (12.4.4), the ID and version registers (12.4.6,
 * 12.4.8), clearing and re-setting the global enable bit (12.4.3: CPUID's APIC flag follows
 * it, the APIC comes back software-disabled and works once re-enabled), self-IPIs through
 * the ICR (12.6), interrupt priority and the TPR (12.8.3), ISR and EOI (12.8.4-5), and CR8
 * as the TPR's upper nibble (12.8.6).
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/test.S"
#include "../lib/pit.S"
#include "../lib/apic.S"

#define VEC_LOW       0x24              /* priority class 2 */
#define VEC_IPI       0x31              /* class 3 */
#define VEC_TPR       0x32              /* class 3 */
#define VEC_HIGH      0x38              /* class 3, above the others */
#define VEC_SPURIOUS  0x3F
#define ICR_SELF      (1 << 18)         /* destination shorthand 01: self (12.6.1) */
#define ICR_BUSY      (1 << 12)         /* delivery status: send pending */
#define CPUID_APIC    (1 << 9)          /* CPUID.01H:EDX */

/* self_ipi VECTOR: a fixed, edge-triggered IPI to ourselves. */
.macro self_ipi vector
        apic_set APIC_ICR_HI, $0
        apic_set APIC_ICR_LO, $(ICR_SELF | (\vector))
.endm

/* open_window: let interrupts in for up to 10 ms, until VEC_IPI's hook has run once more. */
.macro open_window
        leaq    ipi_count(%rip), %rdi
        movq    ipi_count(%rip), %rsi
        incq    %rsi
        movl    $10, %edx
        sti
        call    pit_wait_for
        cli
.endm

        .text
kmain:
        call    trap_init
        movb    $0xFF, %al              /* the PICs stay quiet */
        outb    %al, $PIC1_DATA
        outb    %al, $PIC2_DATA
        movq    $record_vector, trap_hooks + VEC_LOW * 8(%rip)
        movq    $record_vector, trap_hooks + VEC_IPI * 8(%rip)
        movq    $record_vector, trap_hooks + VEC_TPR * 8(%rip)
        movq    $record_vector, trap_hooks + VEC_HIGH * 8(%rip)
        movq    $spurious, trap_hooks + VEC_SPURIOUS * 8(%rip)

        /* 1-3: IA32_APIC_BASE after reset: enabled, bootstrap processor, at 0xFEE00000. */
        movl    $MSR_APIC_BASE, %ecx
        rdmsr
        movl    %eax, %ebx
        andl    $APIC_BASE_ENABLE, %eax
        expect_eq %rax, $APIC_BASE_ENABLE, "IA32_APIC_BASE: global enable (bit 11) is set"
        movl    %ebx, %eax
        andl    $APIC_BASE_BSP, %eax
        expect_eq %rax, $APIC_BASE_BSP, "IA32_APIC_BASE: BSP (bit 8) is set"
        movl    %ebx, %eax
        andl    $0xFFFFF000, %eax
        orl     %edx, %eax              /* bits 35:32 are in EDX: must be 0 */
        expect_eq %rax, $APIC_BASE_ADDR, "IA32_APIC_BASE: the registers are at 0xfee00000"

        /* 4-6: ID and version. */
        movl    $1, %eax
        cpuid
        shrl    $24, %ebx               /* initial APIC ID */
        apic_get APIC_ID
        shrl    $24, %eax
        expect_eq %rax, %rbx, "APIC ID register = CPUID.01H:EBX[31:24]"
        apic_get APIC_VERSION
        movzbl  %al, %ecx
        expect_range %rcx, 0x10, 0x15, "version register: an integrated APIC (0x1X)"
        shrl    $16, %eax
        movzbl  %al, %ecx
        expect_range %rcx, 4, 6, "version register: Max LVT Entry 4..6"

        /* 7-8: software enable, then a self-IPI. */
        apic_set APIC_SVR, $(APIC_SVR_ENABLE | VEC_SPURIOUS)
        apic_set APIC_TPR, $0
        self_ipi VEC_IPI
        open_window
        expect_eq last_vector(%rip), $VEC_IPI, "a self-IPI through the ICR is delivered"
        apic_get APIC_ICR_LO
        andl    $ICR_BUSY, %eax
        expect_eq %rax, $0, "the ICR's delivery status is idle after it"

        /* 9-11: the ISR while the handler runs, and EOI. */
        expect_eq isr_seen(%rip), $1, "in the handler the vector's ISR bit is set"
        movl    $APIC_ISR + (VEC_IPI / 32) * 0x10, %edi
        call    apic_read
        btl     $VEC_IPI % 32, %eax
        check   nc, "after EOI it is clear"
        movq    %cr8, %rax
        expect_eq %rax, $0, "CR8 = 0 with TPR = 0"

        /* 12-16: TPR and CR8: a vector whose class is not above the TPR's waits in the IRR. */
        apic_set APIC_TPR, $0x40
        movq    %cr8, %rax
        expect_eq %rax, $4, "CR8 reads TPR[7:4] (TPR 0x40 -> CR8 4)"
        movq    $0, last_vector(%rip)
        self_ipi VEC_TPR
        sti
        movl    $5, %edi
        call    pit_wait_ms
        cli
        expect_eq last_vector(%rip), $0, "TPR 0x40 holds back vector 0x32 (class 3)"
        movl    $APIC_IRR + (VEC_TPR / 32) * 0x10, %edi
        call    apic_read
        btl     $VEC_TPR % 32, %eax
        check   c, "it waits in the IRR"
        movl    $2, %eax
        movq    %rax, %cr8
        apic_get APIC_TPR
        andl    $0xF0, %eax
        expect_eq %rax, $0x20, "a write to CR8 sets TPR[7:4]"
        open_window
        expect_eq last_vector(%rip), $VEC_TPR, "TPR lowered to class 2: vector 0x32 is delivered"
        xorl    %eax, %eax
        movq    %rax, %cr8

        /* 17-18: two pending vectors: the higher one first. */
        movq    $0, order(%rip)
        self_ipi VEC_LOW
        self_ipi VEC_HIGH
        sti
        movl    $5, %edi
        call    pit_wait_ms
        cli
        expect_eq order(%rip), $(VEC_HIGH << 8 | VEC_LOW), "two pending: vector 0x38 before 0x24"
        apic_get APIC_PPR
        expect_eq %rax, $0, "nothing in service: PPR = 0"

        /* 19-21: global disable (12.4.3: the CPUID flag follows bit 11) and re-enable. Prior
         * set-up "may be lost", so the APIC is software-enabled again before the self-IPI.
         * QEMU 7.2 cannot re-enable (its apic_set_base ignores a set bit 11 once cleared), so
         * the MSR and the CPUID flag after the re-enable are not asserted: there is no oracle
         * for them here. */
        movl    $MSR_APIC_BASE, %ecx
        rdmsr
        andl    $~APIC_BASE_ENABLE, %eax
        wrmsr
        rdmsr
        andl    $APIC_BASE_ENABLE, %eax
        expect_eq %rax, $0, "IA32_APIC_BASE[11] cleared: the APIC is off"
        movl    $1, %eax
        cpuid
        andl    $CPUID_APIC, %edx
        expect_eq %rdx, $0, "and CPUID.01H:EDX.APIC reads 0"
        movl    $MSR_APIC_BASE, %ecx
        rdmsr
        orl     $APIC_BASE_ENABLE, %eax
        wrmsr
        apic_set APIC_SVR, $(APIC_SVR_ENABLE | VEC_SPURIOUS)
        movq    $0, last_vector(%rip)
        self_ipi VEC_IPI
        open_window
        expect_eq last_vector(%rip), $VEC_IPI, "globally and software-enabled again: a self-IPI is delivered"

        call    test_finish
        ret

/* Hooks (%rdi = frame). record_vector notes the vector, appends it to `order` (a byte
 * each), checks its own ISR bit, and ends the interrupt with an EOI. */
record_vector:
        movq    FRAME_VECTOR(%rdi), %rbx
        movq    %rbx, last_vector(%rip)
        shlq    $8, order(%rip)
        orq     %rbx, order(%rip)
        incq    ipi_count(%rip)
        movl    %ebx, %ecx
        shrl    $5, %ecx
        shll    $4, %ecx
        leal    APIC_ISR(%rcx), %edi
        call    apic_read
        movl    %ebx, %ecx
        andl    $31, %ecx
        shrl    %cl, %eax
        andl    $1, %eax
        movq    %rax, isr_seen(%rip)
        apic_eoi
        ret
spurious:
        incq    spurious_count(%rip)
        ret

        .bss
        .p2align 3
last_vector:    .skip 8
order:          .skip 8
ipi_count:      .skip 8
isr_seen:       .skip 8
spurious_count: .skip 8
        .text
#include "../lib/end.S"
