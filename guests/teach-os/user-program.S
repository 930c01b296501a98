/*
 * user-program.S — the program that runs in ring 3. It is copied to a user page before it
 * runs (lib/user.S), so it must not use absolute addresses of its own labels.
 */
        .text
user_program:
        movl    $SYS_HELLO, %eax
        movl    $86, %edi
        syscall
        movl    $SYS_BYE, %eax
        movl    $64, %edi
        syscall
        movl    $SYS_EXIT, %eax
        xorl    %edi, %edi
        syscall
1:      jmp     1b                      /* SYS_EXIT does not return */
user_program_end:
