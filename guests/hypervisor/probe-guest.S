/*
 * probe-guest.S — a guest for the reference hypervisor that checks what the VMM promises it
 * (README.md): CPUID does not show VMX, the hypercalls answer as documented from ring 0 and
 * from ring 3 and keep the other registers, and it ends the run with HC_EXIT. With "invd" in
 * its command line it then executes INVD, an exit the VMM has no handler for (reason 13), to
 * show the VMM's report. It prints TAP lines (lib/test.S). Run it as the hypervisor's module 0:
 *     vmx-lab asm guests/hypervisor/probe-guest.S -o probe.elf
 *     vmx-lab run guests/hypervisor/hypervisor.S --module probe.elf
 */
#include "../lib/defs.h"
#include "vmx.h"
#include "vmm.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../lib/user.S"
#include "../lib/test.S"

#define INVD_WORD 0x64766E69            /* "invd" as a little-endian dword */

        .text
kmain:
        call    trap_init
        movl    $1, %eax
        cpuid
        testl   $CPUID_1_ECX_VMX, %ecx
        check   z, "CPUID.1:ECX.VMX is 0 in the guest"

        movl    $HC_PING, %eax
        vmcall
        expect_eq %rax, $HC_SIGNATURE, "HC_PING returns the signature"

        /* An unknown number: -1, and every other register as it was. */
        movq    $0x1111, %rbx
        movq    $0x2222, %rcx
        movq    $0x3333, %rdx
        movq    $0x4444, %rsi
        movq    $0x5555, %rdi
        movq    $0x6666, %r8
        movq    $0x7777, %r15
        movq    $99, %rax
        vmcall
        expect_eq %rax, $HC_ENOSYS, "an unknown hypercall returns -1"
        expect_eq %rbx, $0x1111, "the hypercall keeps RBX"
        expect_eq %rcx, $0x2222, "the hypercall keeps RCX"
        expect_eq %rdx, $0x3333, "the hypercall keeps RDX"
        expect_eq %rsi, $0x4444, "the hypercall keeps RSI"
        expect_eq %rdi, $0x5555, "the hypercall keeps RDI"
        expect_eq %r8, $0x6666, "the hypercall keeps R8"
        expect_eq %r15, $0x7777, "the hypercall keeps R15"

        leaq    msg_putc(%rip), %rsi
1:      movzbl  (%rsi), %edi
        testl   %edi, %edi
        jz      2f
        movl    $HC_PUTC, %eax
        vmcall
        incq    %rsi
        jmp     1b
2:      expect_eq %rax, $0, "HC_PUTC returns 0"

        movq    $ring3_ping, %rdi
        movq    $ring3_ping_end, %rsi
        call    user_run
        expect_eq %rax, $HC_SIGNATURE, "HC_PING from ring 3 returns the signature"

        call    test_finish
        movl    %eax, %ebx
        call    cmdline_has_invd
        testl   %eax, %eax
        jz      3f
        invd                                    /* reason 13: no handler in the VMM */
3:      movl    %ebx, %edi
        movl    $HC_EXIT, %eax
        vmcall
        ud2                                     /* HC_EXIT does not return */

/* cmdline_has_invd -> %eax: 1 when the command line contains "invd". */
cmdline_has_invd:
        movl    mb_info(%rip), %eax
        testl   $MBI_FLAG_CMDLINE, MBI_FLAGS(%rax)
        jz      3f
        movl    MBI_CMDLINE(%rax), %eax
1:      cmpb    $0, (%rax)
        je      3f
        cmpl    $INVD_WORD, (%rax)
        je      2f
        incq    %rax
        jmp     1b
2:      movl    $1, %eax
        ret
3:      xorl    %eax, %eax
        ret

/* Copied to a user page and run in ring 3 (lib/user.S): position-independent. */
ring3_ping:
        movl    $HC_PING, %eax
        vmcall
        int     $USER_RETURN_VECTOR
ring3_ping_end:

        .section .rodata
msg_putc:       .asciz "# this line came through HC_PUTC\n"
        .text

#include "../lib/end.S"
