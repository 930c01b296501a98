/*
 * pcpus.S — lab k: the hypervisor's physical CPUs (pCPUs). Built into the reference
 * hypervisor with -DLAB_VCPU_MIGRATION, run with `vmx-lab run --smp N`.
 *   pcpus_start     on the bootstrap processor, after its own VMXON and VMCS set-up: counts
 *                   the processors in the MADT (ACPI 6.5, 5.2.12), starts the application
 *                   processors with INIT-SIPI-SIPI (SDM Vol. 3A 9.4.4.1), waits until each one
 *                   has entered VMX operation, and reports them
 * An AP starts in real mode at AP_TRAMPOLINE (CS = vector << 8, IP = 0), goes to protected
 * mode on boot.S's GDT, then to long mode on boot.S's page tables, takes its own stack
 * (pcpu_stack_top[APIC ID]), enables its local APIC, does VMXON with its own VMXON region
 * (SDM Vol. 3C 24.11.5: one per logical processor), checks in and sleeps in pcpu_idle
 * (scheduler.S) until the scheduler hands it the vCPU.
 * Per-pCPU data is indexed by the APIC ID, so the lab needs the IDs 0..N-1 that QEMU, Bochs
 * and VMX Lab give; with other IDs, or one processor, the vCPU stays on the bootstrap one.
 */
#include "../../lib/apic.S"
#include "../../lib/pit.S"
#include "../../lib/ap-boot.S"

#define PCPU_MAX                8               /* APIC IDs 0..7 */
#define PCPU_STACK_SIZE         (4 * PAGE_SIZE)
#define AP_TRAMPOLINE           0x8000          /* below 1 MiB, 4-KiB aligned: a SIPI vector */
#define AP_SIPI_VECTOR          (AP_TRAMPOLINE >> 12)
#define VEC_PCPU_WAKE           0x30            /* the scheduler's IPI: "the vCPU is yours" */
#define ICR_FIXED               0x0000          /* ICR delivery modes, bits 10:8 (SDM Vol. 3A 12.6.1) */
#define ICR_INIT                0x0500
#define ICR_STARTUP             0x0600
#define ICR_ASSERT              (1 << 14)
#define ICR_ALL_BUT_SELF        (3 << 18)

/* pcpu_self R (ax, bx, cx...): %eR = the APIC ID of the processor running this (local APIC
 * ID register, bits 31:24, SDM Vol. 3A 12.4.6), zero-extended to %rR; needs no stack. */
.macro pcpu_self r
        movl    $APIC_BASE_ADDR + APIC_ID, %e\r
        movl    (%r\r), %e\r
        shrl    $24, %e\r
.endm

/* send_ipi DEST (APIC ID in a 32-bit register or $imm), LOW: the ICR's high half, then the low half, which sends. */
.macro send_ipi dest, low
        pushq   %rax
        movl    \dest, %eax
        shll    $24, %eax
        apic_set APIC_ICR_HI, %eax
        apic_set APIC_ICR_LO, \low
        popq    %rax
.endm

        .text
pcpus_start:
        pushq   %rbx
        pushq   %r12
        /* Idle pCPUs sleep with interrupts on: only the scheduler's IPI may wake them. */
        movb    $0xFF, %al
        outb    %al, $PIC1_DATA
        outb    %al, $PIC2_DATA
        movq    $pcpu_wake, trap_hooks + VEC_PCPU_WAKE * 8(%rip)
        apic_set APIC_SVR, $(APIC_SVR_ENABLE | 0xFF)
        /* pCPU 0 keeps what vmcs_setup wrote: HOST_RSP = vmm_stack_top, HOST_TR_BASE = tss. */
        movq    $vmm_stack_top, pcpu_stack_top(%rip)
        movq    $tss, pcpu_tss_base(%rip)
        movq    $1, pcpu_count(%rip)
        call    madt_processors                 /* %rax = count, %rdx = their APIC IDs as bits */
        movq    %rax, %r12
        call    vmm_line
        vmm_say "smp: the MADT lists "
        movq    %r12, %rdi
        call    serial_put_dec
        vmm_say " processor(s)"
        call    vmm_newline
        cmpq    $2, %r12
        jb      9f
        cmpq    $PCPU_MAX, %r12
        ja      8f
        movq    %r12, %rcx
        movl    $1, %eax
        shlq    %cl, %rax
        decq    %rax
        cmpq    %rax, %rdx                      /* APIC IDs 0..N-1? */
        jne     8f

        /* Each AP's stack and TSS (the host state that differs per pCPU), before it starts. */
        movl    $1, %ebx
1:      movq    %rbx, %rax
        imulq   $PCPU_STACK_SIZE, %rax
        addq    $pcpu_stacks, %rax              /* AP i's stack: the (i-1)-th, ending here */
        movq    %rax, pcpu_stack_top(,%rbx,8)
        leaq    -1(%rbx), %rax
        imulq   $TSS_SIZE, %rax
        addq    $pcpu_tss, %rax                 /* AP i's TSS: the (i-1)-th */
        movw    $TSS_SIZE, 102(%rax)            /* I/O map base past the limit: no bitmap */
        movq    %rax, pcpu_tss_base(,%rbx,8)
        incl    %ebx
        cmpq    %r12, %rbx
        jb      1b

        /* INIT-SIPI-SIPI to all but ourselves (SDM Vol. 3A 9.4.4.1), the trampoline in place. */
        movq    $ap_trampoline, %rsi
        movq    $AP_TRAMPOLINE, %rdi
        movq    $ap_trampoline_end - ap_trampoline, %rcx
        rep movsb
        send_ipi $0, $(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT)
        movl    $10, %edi
        call    pit_wait_ms
        send_ipi $0, $(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | AP_SIPI_VECTOR)
        movl    $1, %edi
        call    pit_wait_ms
        send_ipi $0, $(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_STARTUP | AP_SIPI_VECTOR)
        leaq    pcpus_up(%rip), %rdi
        leaq    -1(%r12), %rsi
        movl    $1000, %edx
        call    pit_wait_for
        leaq    -1(%r12), %rsi
        cmpq    %rsi, %rax
        jne     7f
        movq    pcpu_vmx_failed(%rip), %rax
        testq   %rax, %rax
        jnz     6f

        /* Every AP is in VMX root operation, asleep in pcpu_idle. */
        movl    $1, %ebx
2:      call    vmm_line
        vmm_say "smp: pcpu "
        movq    %rbx, %rdi
        call    serial_put_dec
        vmm_say ": long mode, VMXON done, region at "
        movq    pcpu_vmxon_pa(,%rbx,8), %rdi
        call    vmm_put_hex
        vmm_say ", host stack "
        movq    pcpu_stack_top(,%rbx,8), %rdi
        call    vmm_put_hex
        vmm_say ", idle"
        call    vmm_newline
        incl    %ebx
        cmpq    %r12, %rbx
        jb      2b
        movq    %r12, pcpu_count(%rip)
        popq    %r12
        popq    %rbx
        ret

6:      vmm_log "smp: VMXON failed on an application processor"
        jmp     vmm_fail
7:      vmm_log "smp: not every application processor checked in after INIT-SIPI-SIPI"
        jmp     vmm_fail
8:      vmm_log "smp: this lab needs APIC IDs 0..N-1, N <= 8: the vCPU stays on pcpu 0"
        jmp     10f
9:      vmm_log "smp: one processor (run with --smp 2 or more): the vCPU stays on pcpu 0"
10:     popq    %r12
        popq    %rbx
        ret

/* The scheduler's IPI: it only wakes pcpu_idle from HLT. */
pcpu_wake:
        apic_eoi
        ret

/* ---- the application processors ---- */

/* This application processor, in long mode (lib/ap-boot.S ap_start64). */
ap_main64:
        pcpu_self bx
        movq    pcpu_stack_top(,%rbx,8), %rsp
        lidt    idt_pointer(%rip)
        apic_set APIC_SVR, $(APIC_SVR_ENABLE | 0xFF)
        call    ap_vmx_on
        lock incq pcpus_up(%rip)
        jmp     pcpu_idle

/* ap_vmx_on(%ebx APIC ID): VMX operation on this AP, as vmx_enable (vmcs.S) does it on the
 * bootstrap processor: IA32_FEATURE_CONTROL (SDM 23.7), CR4.VMXE, the CR0/CR4 fixed bits
 * (23.8), and VMXON with this processor's own region, which starts with the revision id. A
 * failure is a bit in pcpu_vmx_failed, reported by the bootstrap processor. */
ap_vmx_on:
        movl    $MSR_IA32_FEATURE_CONTROL, %ecx
        rdmsr
        testl   $FEATURE_CONTROL_LOCKED, %eax
        jnz     1f
        orl     $FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX, %eax
        wrmsr
1:      testl   $FEATURE_CONTROL_VMXON_OUTSIDE_SMX, %eax
        jz      2f
        movq    %cr4, %rax
        orq     $CR4_VMXE, %rax
        movq    %rax, %cr4
        movl    $MSR_IA32_VMX_CR0_FIXED0, %edi
        movq    %cr0, %rax
        call    apply_fixed_bits
        movq    %rax, %cr0
        movl    $MSR_IA32_VMX_CR4_FIXED0, %edi
        movq    %cr4, %rax
        call    apply_fixed_bits
        movq    %rax, %cr4
        leaq    -1(%rbx), %rax
        shlq    $12, %rax
        addq    $pcpu_vmxon_regions, %rax       /* AP i's region: the (i-1)-th page */
        movl    vmx_revision(%rip), %ecx
        movl    %ecx, (%rax)
        movq    %rax, pcpu_vmxon_pa(,%rbx,8)    /* identity-mapped: physical = linear */
        vmxon   pcpu_vmxon_pa(,%rbx,8)
        jbe     2f
        ret
2:      lock btsq %rbx, pcpu_vmx_failed(%rip)
        ret

/* ---- the real-mode trampoline, copied to AP_TRAMPOLINE (CS = AP_SIPI_VECTOR << 8, IP = 0) ---- */
        .code16
ap_trampoline:
        cli
        movw    %cs, %ax
        movw    %ax, %ds
        lgdtl   ap_gdt_pointer - ap_trampoline  /* boot.S's GDT */
        movl    %cr0, %eax
        orl     $CR0_PE, %eax
        movl    %eax, %cr0
        ljmpl   $KERNEL_CS32, $ap_start32
        .p2align 2
ap_gdt_pointer:
        .word   gdt_end - gdt - 1
        .long   gdt
ap_trampoline_end:
        .code64

        .bss
        .p2align 3
pcpu_count:             .skip   8                       /* pCPUs the scheduler uses (1: no migration) */
pcpus_up:               .skip   8                       /* APs in VMX operation */
pcpu_vmx_failed:        .skip   8                       /* APs whose VMXON failed, as bits */
pcpu_stack_top:         .skip   8 * PCPU_MAX            /* HOST_RSP of each pCPU */
pcpu_tss_base:          .skip   8 * PCPU_MAX            /* HOST_TR_BASE of each pCPU */
pcpu_vmxon_pa:          .skip   8 * PCPU_MAX            /* VMXON's operand */
        .p2align 4
pcpu_tss:               .skip   TSS_SIZE * (PCPU_MAX - 1) /* pCPU 0 has boot.S's tss */
        .p2align 12
pcpu_vmxon_regions:     .skip   PAGE_SIZE * (PCPU_MAX - 1)
pcpu_stacks:            .skip   PCPU_STACK_SIZE * (PCPU_MAX - 1)
        .text
