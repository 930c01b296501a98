/*
 * test.S — TAP-style reporting for the self-checking kernels in guests/tests.
 *   test_report(%edi passed, %rsi description)   prints "ok N - ..." or "not ok N - ..."
 *   test_finish -> %eax                          prints the plan "1..N" and a summary;
 *                                                %eax = 0 when every test passed, else 1
 * Macros (they keep every register except as noted, but not the flags):
 *   check CC, "text"                 passes when condition code CC holds (e, ne, b, ...)
 *   expect_eq VALUE, EXPECTED, "text"  64-bit compare; VALUE a register (not %r11) or memory
 *                                    not relative to %rsp, EXPECTED anything movq accepts
 *   expect_range VALUE, LO, HI, "text" passes when LO <= VALUE <= HI (unsigned); VALUE as
 *                                    for expect_eq, LO and HI constant expressions
 *   note "text"                      prints "# text" (a TAP comment: e.g. why a test is
 *                                    skipped); counts as no test
 */
.macro check cc, desc
        pushq   %rdi
        pushq   %rsi
        movl    $0, %edi                /* mov leaves the flags alone */
        set\cc  %dil
        leaq    .Lcheck_desc\@(%rip), %rsi
        call    test_report
        popq    %rsi
        popq    %rdi
        .pushsection .rodata
.Lcheck_desc\@:
        .asciz  "\desc"
        .popsection
.endm

.macro expect_eq value, expected, desc
        pushq   %r11
        movq    \expected, %r11
        cmpq    %r11, \value
        popq    %r11
        check   e, "\desc"
.endm

.macro expect_range value, lo, hi, desc
        pushq   %r11
        movq    \value, %r11
        subq    $(\lo), %r11
        cmpq    $((\hi) - (\lo)), %r11
        popq    %r11
        check   be, "\desc"
.endm

.macro note desc
        pushq   %rdi
        leaq    .Lnote_desc\@(%rip), %rdi
        call    test_note
        popq    %rdi
        .pushsection .rodata
.Lnote_desc\@:
        .asciz  "\desc"
        .popsection
.endm

        .text
/* test_note(%rdi text): "# text" on a line of its own. */
test_note:
        pushq   %rdi
        leaq    test_msg_note(%rip), %rdi
        call    serial_puts
        popq    %rdi
        call    serial_puts
        pushq   %rdi
        movl    $'\n', %edi
        call    serial_putc
        popq    %rdi
        ret

test_report:
        pushq   %rdi
        incq    test_count(%rip)
        testl   %edi, %edi
        jnz     1f
        incq    test_failed(%rip)
        leaq    test_msg_not(%rip), %rdi
        call    serial_puts
1:      leaq    test_msg_ok(%rip), %rdi
        call    serial_puts
        movq    test_count(%rip), %rdi
        call    serial_put_dec
        leaq    test_msg_dash(%rip), %rdi
        call    serial_puts
        movq    %rsi, %rdi
        call    serial_puts
        movl    $'\n', %edi
        call    serial_putc
        popq    %rdi
        ret

test_finish:
        pushq   %rdi
        leaq    test_msg_plan(%rip), %rdi
        call    serial_puts
        movq    test_count(%rip), %rdi
        call    serial_put_dec
        leaq    test_msg_summary(%rip), %rdi
        call    serial_puts
        movq    test_failed(%rip), %rdi
        call    serial_put_dec
        leaq    test_msg_failed(%rip), %rdi
        call    serial_puts
        xorl    %eax, %eax
        cmpq    $0, test_failed(%rip)
        setne   %al
        popq    %rdi
        ret

        .section .rodata
test_msg_not:     .asciz "not "
test_msg_ok:      .asciz "ok "
test_msg_dash:    .asciz " - "
test_msg_plan:    .asciz "1.."
test_msg_summary: .asciz "\n# failed: "
test_msg_failed:  .asciz "\n"
test_msg_note:    .asciz "# "

        .bss
        .p2align 3
test_count:     .skip   8
test_failed:    .skip   8
        .text
