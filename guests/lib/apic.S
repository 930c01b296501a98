/*
 * apic.S — the local APIC's registers (xAPIC MMIO at APIC_BASE_ADDR, Intel SDM Vol. 3A,
 * 12.4.1). The page is identity-mapped by lib/boot.S. An address above 2 GiB does not fit
 * a sign-extended disp32, so every access goes through a zero-extended base register.
 *   apic_read(%edi reg) -> %eax         apic_write(%edi reg, %esi value)
 * Macros (keep every register except %eax for apic_get):
 *   apic_get REG                        %eax = register REG
 *   apic_set REG, VALUE                 VALUE: an immediate ($...) or a 32-bit register
 *   apic_eoi                            end of interrupt (write 0 to the EOI register)
 */
.macro apic_get reg
        pushq   %rdi
        movl    $(\reg), %edi
        call    apic_read
        popq    %rdi
.endm

.macro apic_set reg, value
        pushq   %rdi
        pushq   %rsi
        movl    \value, %esi
        movl    $(\reg), %edi
        call    apic_write
        popq    %rsi
        popq    %rdi
.endm

.macro apic_eoi
        apic_set APIC_EOI, $0
.endm

        .text
apic_read:
        movl    $APIC_BASE_ADDR, %eax
        addl    %edi, %eax
        movl    (%rax), %eax
        ret

apic_write:
        pushq   %rax
        movl    $APIC_BASE_ADDR, %eax
        addl    %edi, %eax
        movl    %esi, (%rax)
        popq    %rax
        ret
