# Opened by problems.e2e.mjs: line 5 holds the injected error the Problems view must show.
.text
.globl _start
_start:
    frobnicate %eax
    movq $0x10, %rcx          /* count */
1:  vmread %rax, %rbx
    loop 1b
    vmlaunch
    hlt
msg: .asciz "hello\n"
