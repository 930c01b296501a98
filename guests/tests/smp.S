/*
 * smp.S — several logical processors (run with QEMU -smp N / vmx-lab run --smp N, 2 <= N <= 8):
 * the MADT's processor entries (ACPI 6.5, 5.2.12.2) against fw_cfg's processor count, the
 * MP start-up algorithm INIT-SIPI-SIPI (Intel SDM Vol. 3A, 9.4.4: the application
 * processors wait for a SIPI and start in real mode at CS = vector << 8, IP = 0), each AP
 * checking in through shared memory with its APIC ID, and interprocessor interrupts through
 * the ICR (12.6): fixed IPIs to one processor (a ping-pong with every AP), a broadcast with
 * the "all excluding self" shorthand, logical destination mode in the flat model (12.6.2.2),
 * an NMI, and INIT followed by a SIPI again to restart an AP that runs.
 *
 * Only the bootstrap processor prints, after the APs have done their part, so the
 * transcript does not depend on how the processors interleave.
 */
#include "../lib/defs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/test.S"
#include "../lib/pit.S"
#include "../lib/apic.S"
#include "../lib/ap-boot.S"

#define APIC_LDR        0xD0            /* logical destination register (12.6.2.2) */
#define APIC_DFR        0xE0            /* destination format: 0xFFFFFFFF = flat model */
#define ICR_FIXED       0x0000          /* delivery modes, ICR bits 10:8 (12.6.1) */
#define ICR_NMI         0x0400
#define ICR_INIT        0x0500
#define ICR_STARTUP     0x0600
#define ICR_LOGICAL     (1 << 11)
#define ICR_ASSERT      (1 << 14)
#define ICR_ALL_BUT_SELF (3 << 18)
#define VEC_PING        0x30            /* BSP -> one AP */
#define VEC_PONG        0x31            /* the AP's answer */
#define VEC_BCAST       0x32            /* all excluding self */
#define VEC_LOGICAL     0x33            /* logical destination */
#define ROUNDS          5               /* pings per AP */
#define FW_CFG_SELECT   0x510           /* QEMU fw_cfg: 16-bit selector, 8-bit data port */
#define FW_CFG_DATA     0x511
#define FW_CFG_NB_CPUS  0x05
#define TRAMPOLINE      0x8000          /* below the Multiboot information at 0x9000 */
#define SIPI_VECTOR     (TRAMPOLINE >> 12)
#define TRAMP_CS        (TRAMPOLINE + 0xF00)   /* what the real-mode code saw: CS, then IP */
#define TRAMP_IP        (TRAMPOLINE + 0xF02)
#define MAX_APS         7               /* flat logical IDs are 8 bits: at most 8 processors */

/* send_ipi DEST_APIC_ID_FIELD, LOW: the ICR's high half (destination << 24), then the low half. */
.macro send_ipi dest, low
        apic_set APIC_ICR_HI, \dest
        apic_set APIC_ICR_LO, \low
.endm

        .text
kmain:
        call    trap_init
        movb    $0xFF, %al              /* the PICs stay quiet */
        outb    %al, $PIC1_DATA
        outb    %al, $PIC2_DATA
        movq    $ap_ping, trap_hooks + VEC_PING * 8(%rip)
        movq    $bsp_pong, trap_hooks + VEC_PONG * 8(%rip)
        movq    $mark_bcast, trap_hooks + VEC_BCAST * 8(%rip)
        movq    $mark_logical, trap_hooks + VEC_LOGICAL * 8(%rip)
        movq    $mark_nmi, trap_hooks + 2 * 8(%rip)
        apic_set APIC_SVR, $(APIC_SVR_ENABLE | 0xFF)

        /* 1-2: how many processors: the MADT's enabled local-APIC entries, and fw_cfg. */
        call    madt_processors
        movq    %rax, ncpus(%rip)
        movq    %rdx, madt_ids(%rip)
        call    fwcfg_cpus
        expect_eq ncpus(%rip), %rax, "the MADT lists as many enabled processors as fw_cfg counts"
        movq    madt_ids(%rip), %rax
        movq    ncpus(%rip), %rcx
        movl    $1, %edx
        shlq    %cl, %rdx
        decq    %rdx                    /* APIC IDs 0..N-1 */
        expect_eq %rax, %rdx, "their APIC IDs are 0..N-1"
        movq    ncpus(%rip), %rax
        cmpq    $2, %rax
        jb      no_aps
        cmpq    $MAX_APS + 1, %rax
        ja      no_aps
        leaq    msg_cpus(%rip), %rdi
        call    serial_puts
        movq    ncpus(%rip), %rdi
        call    serial_put_dec
        movl    $'\n', %edi
        call    serial_putc
        movq    ncpus(%rip), %rax
        decq    %rax
        movq    %rax, naps(%rip)
        movq    ncpus(%rip), %rcx
        movl    $1, %edx
        shlq    %cl, %rdx
        subq    $2, %rdx                /* bits 1..N-1 */
        movq    %rdx, ap_mask(%rip)

        /* 3: CPUID.01H: HTT and EBX[23:16] count at least the package's processors. */
        movl    $1, %eax
        cpuid
        shrl    $16, %ebx
        movzbl  %bl, %ebx
        andl    $(1 << 28), %edx
        expect_eq %rdx, $(1 << 28), "CPUID.01H:EDX.HTT is set with several logical processors"
        cmpq    ncpus(%rip), %rbx
        check   ae, "CPUID.01H:EBX[23:16] counts them all"

        /* 4-8: INIT-SIPI-SIPI (9.4.4.1) to every AP, with the trampoline at 0x8000. */
        movq    $ap_trampoline, %rsi
        movq    $TRAMPOLINE, %rdi
        movq    $ap_trampoline_end - ap_trampoline, %rcx
        rep movsb
        send_ipi $0, $(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT)
        movl    $10, %edi
        call    pit_wait_ms
        send_ipi $0, $(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | SIPI_VECTOR)
        movl    $1, %edi
        call    pit_wait_ms
        send_ipi $0, $(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | SIPI_VECTOR)
        leaq    ap_count(%rip), %rdi
        movq    naps(%rip), %rsi
        movl    $1000, %edx
        call    pit_wait_for
        expect_eq %rax, naps(%rip), "every application processor started after INIT-SIPI-SIPI"
        movq    ap_seen(%rip), %rax
        expect_eq %rax, ap_mask(%rip), "each one checked in with its own APIC ID (1..N-1)"
        expect_eq id_mismatch(%rip), $0, "each AP's APIC ID register equals its CPUID initial APIC ID"
        movzwl  TRAMP_CS, %eax
        expect_eq %rax, $(SIPI_VECTOR << 8), "the SIPI started them in real mode with CS = vector << 8"
        movzwl  TRAMP_IP, %eax
        expect_eq %rax, $(tramp_here - ap_trampoline), "and IP = 0 (call/pop sees the trampoline's own offsets)"

        /* 9-10: a ping-pong: a fixed IPI to each AP in turn, answered by one to the BSP. */
        movl    $1, %ebx
1:      movl    $ROUNDS, %r12d
2:      movq    pongs(%rip), %rsi
        incq    %rsi
        movl    %ebx, %eax
        shll    $24, %eax
        send_ipi %eax, $(ICR_ASSERT | ICR_FIXED | VEC_PING)
        leaq    pongs(%rip), %rdi
        movl    $100, %edx
        sti
        call    pit_wait_for
        cli
        decl    %r12d
        jnz     2b
        incl    %ebx
        cmpq    naps(%rip), %rbx
        jbe     1b
        movq    naps(%rip), %rax
        imulq   $ROUNDS, %rax
        expect_eq pongs(%rip), %rax, "ping-pong: every fixed IPI to an AP was answered by one to the BSP"
        xorl    %eax, %eax              /* APs whose ping count is not ROUNDS */
        movl    $1, %ecx
3:      leaq    pings(%rip), %rdx
        cmpq    $ROUNDS, (%rdx,%rcx,8)
        je      4f
        incl    %eax
4:      incl    %ecx
        cmpq    naps(%rip), %rcx
        jbe     3b
        expect_eq %rax, $0, "each AP took exactly its own pings (physical destination)"

        /* 11: a broadcast to all excluding self. */
        send_ipi $0, $(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_FIXED | VEC_BCAST)
        leaq    bcast_count(%rip), %rdi
        movq    naps(%rip), %rsi
        movl    $100, %edx
        call    pit_wait_for
        movq    bcast_seen(%rip), %rax
        expect_eq %rax, ap_mask(%rip), "\"all excluding self\" reached every AP and not the BSP"

        /* 12: logical destination, flat model: each AP's LDR has bit (APIC ID) set. */
        movq    ap_mask(%rip), %rax
        shll    $24, %eax
        send_ipi %eax, $(ICR_LOGICAL | ICR_ASSERT | ICR_FIXED | VEC_LOGICAL)
        leaq    logical_count(%rip), %rdi
        movq    naps(%rip), %rsi
        movl    $100, %edx
        call    pit_wait_for
        movq    logical_seen(%rip), %rax
        expect_eq %rax, ap_mask(%rip), "a logical destination (flat model) reached the APs its mask names"

        /* 13: an NMI to the last AP. */
        movq    naps(%rip), %rcx
        movl    %ecx, %eax
        shll    $24, %eax
        send_ipi %eax, $(ICR_ASSERT | ICR_NMI)
        leaq    nmi_count(%rip), %rdi
        movl    $1, %esi
        movl    $100, %edx
        call    pit_wait_for
        movq    naps(%rip), %rcx
        movl    $1, %edx
        shlq    %cl, %rdx
        expect_eq nmi_seen(%rip), %rdx, "an NMI IPI reached that AP only"

        /* 14-15: INIT puts AP 1 back to wait-for-SIPI; a SIPI restarts it; one more is ignored. */
        send_ipi $(1 << 24), $(ICR_ASSERT | ICR_INIT)
        movl    $10, %edi
        call    pit_wait_ms
        send_ipi $(1 << 24), $(ICR_ASSERT | ICR_STARTUP | SIPI_VECTOR)
        leaq    ap_count(%rip), %rdi
        movq    ncpus(%rip), %rsi
        movl    $100, %edx
        call    pit_wait_for
        expect_eq %rax, ncpus(%rip), "after INIT and a SIPI, AP 1 started over and checked in again"
        send_ipi $(1 << 24), $(ICR_ASSERT | ICR_STARTUP | SIPI_VECTOR)
        movl    $10, %edi
        call    pit_wait_ms
        movq    ap_count(%rip), %rax
        expect_eq %rax, ncpus(%rip), "a SIPI to a processor that is not waiting for one is ignored"
        jmp     done

no_aps:
        note    "fewer than 2 or more than 8 processors: run with -smp 2 to 8"
done:
        call    test_finish
        ret

/* fwcfg_cpus -> %rax: fw_cfg item NB_CPUS (16-bit little-endian). */
fwcfg_cpus:
        movw    $FW_CFG_SELECT, %dx
        movw    $FW_CFG_NB_CPUS, %ax
        outw    %ax, %dx
        movw    $FW_CFG_DATA, %dx
        inb     %dx, %al
        movzbl  %al, %ecx
        inb     %dx, %al
        movzbl  %al, %eax
        shll    $8, %eax
        orl     %ecx, %eax
        ret

/* my_id -> %rax: this processor's initial APIC ID (CPUID.01H:EBX[31:24]); keeps the rest but %rdx/%rcx/%rbx. */
my_id:
        movl    $1, %eax
        cpuid
        shrl    $24, %ebx
        movl    %ebx, %eax
        ret

/* Interrupt hooks (%rdi = frame); they run on every processor. */
ap_ping:
        call    my_id
        leaq    pings(%rip), %rdx
        lock incq (%rdx,%rax,8)
        send_ipi $0, $(ICR_ASSERT | ICR_FIXED | VEC_PONG)
        apic_eoi
        ret

bsp_pong:
        lock incq pongs(%rip)
        apic_eoi
        ret

mark_bcast:
        call    my_id
        movl    %eax, %ecx
        movl    $1, %eax
        shlq    %cl, %rax
        lock orq %rax, bcast_seen(%rip)
        lock incq bcast_count(%rip)
        apic_eoi
        ret

mark_logical:
        call    my_id
        movl    %eax, %ecx
        movl    $1, %eax
        shlq    %cl, %rax
        lock orq %rax, logical_seen(%rip)
        lock incq logical_count(%rip)
        apic_eoi
        ret

mark_nmi:
        call    my_id
        movl    %eax, %ecx
        movl    $1, %eax
        shlq    %cl, %rax
        lock orq %rax, nmi_seen(%rip)
        lock incq nmi_count(%rip)
        ret

/* ---- the application processors ---- */

/* This application processor, in long mode (lib/ap-boot.S ap_start64). */
ap_main64:
        movl    $1, %eax                /* this AP's stack, from its initial APIC ID */
        cpuid
        shrl    $24, %ebx
        leal    1(%ebx), %eax
        shll    $12, %eax
        addq    $ap_stacks, %rax
        movq    %rax, %rsp
        lidt    idt_pointer(%rip)
        apic_get APIC_ID
        shrl    $24, %eax
        cmpl    %eax, %ebx
        je      1f
        lock incq id_mismatch(%rip)
1:      apic_set APIC_SVR, $(APIC_SVR_ENABLE | 0xFF)
        apic_set APIC_DFR, $0xFFFFFFFF  /* flat model */
        movl    $1, %eax
        movl    %ebx, %ecx
        shll    %cl, %eax
        shll    $24, %eax
        apic_set APIC_LDR, %eax         /* logical ID: bit (APIC ID) */
        movl    $1, %eax
        shlq    %cl, %rax
        lock orq %rax, ap_seen(%rip)
        lock incq ap_count(%rip)
        sti
2:      hlt
        jmp     2b

/* ---- the real-mode trampoline, copied to TRAMPOLINE (CS = SIPI_VECTOR << 8, IP = 0) ---- */
        .code16
ap_trampoline:
        cli
        movw    %cs, %ax
        movw    %ax, %ds
        movw    %ax, %ss
        movw    $0xE00, %sp             /* every AP pushes the same word here: no harm shared */
        call    tramp_here
tramp_here:
        popw    %bx
        movw    %ax, TRAMP_CS - TRAMPOLINE
        movw    %bx, TRAMP_IP - TRAMPOLINE
        lgdtl   tramp_gdt_pointer - ap_trampoline
        movl    %cr0, %eax
        orl     $CR0_PE, %eax
        movl    %eax, %cr0
        ljmpl   $KERNEL_CS32, $ap_start32
        .p2align 2
tramp_gdt_pointer:
        .word   gdt_end - gdt - 1
        .long   gdt
ap_trampoline_end:
        .code64

        .section .rodata
msg_cpus:       .asciz  "# processors: "

        .bss
        .p2align 3
ncpus:          .skip   8
naps:           .skip   8
ap_mask:        .skip   8
madt_ids:       .skip   8
ap_count:       .skip   8
ap_seen:        .skip   8
id_mismatch:    .skip   8
pongs:          .skip   8
pings:          .skip   8 * (MAX_APS + 1)
bcast_count:    .skip   8
bcast_seen:     .skip   8
logical_count:  .skip   8
logical_seen:   .skip   8
nmi_count:      .skip   8
nmi_seen:       .skip   8
        .p2align 12
ap_stacks:      .skip   PAGE_SIZE * (MAX_APS + 1)

#include "../lib/end.S"
