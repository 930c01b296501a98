/*
 * Native half of the host-CPU differential test: load a register state, run a byte
 * sequence on the real CPU, store the resulting state. The sequence is followed by an
 * absolute `jmp *0(%rip)` back to native_exit (appended by harness.c), so no register
 * under test is needed to come back.
 *
 *   void native_run(struct native_state *in_out, void *code);
 *   struct native_state { uint64_t gpr[16]; uint64_t rflags; };   (gpr in encoding order)
 */
	.text
	.globl native_run
	.type native_run, @function
native_run:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, saved_rsp(%rip)
	mov %rdi, state_ptr(%rip)
	mov %rsi, code_ptr(%rip)
	/* RFLAGS first, while a stack is still ours. */
	pushq 128(%rdi)
	popfq
	mov 0(%rdi), %rax
	mov 8(%rdi), %rcx
	mov 16(%rdi), %rdx
	mov 24(%rdi), %rbx
	mov 32(%rdi), %rsp
	mov 40(%rdi), %rbp
	mov 48(%rdi), %rsi
	mov 64(%rdi), %r8
	mov 72(%rdi), %r9
	mov 80(%rdi), %r10
	mov 88(%rdi), %r11
	mov 96(%rdi), %r12
	mov 104(%rdi), %r13
	mov 112(%rdi), %r14
	mov 120(%rdi), %r15
	mov 56(%rdi), %rdi
	jmp *code_ptr(%rip)

	.globl native_exit
native_exit:
	/* Save RDI through a RIP-relative slot, then use it as the state pointer. */
	mov %rdi, tmp_rdi(%rip)
	mov state_ptr(%rip), %rdi
	mov %rax, 0(%rdi)
	mov %rcx, 8(%rdi)
	mov %rdx, 16(%rdi)
	mov %rbx, 24(%rdi)
	mov %rsp, 32(%rdi)
	mov %rbp, 40(%rdi)
	mov %rsi, 48(%rdi)
	mov %r8, 64(%rdi)
	mov %r9, 72(%rdi)
	mov %r10, 80(%rdi)
	mov %r11, 88(%rdi)
	mov %r12, 96(%rdi)
	mov %r13, 104(%rdi)
	mov %r14, 112(%rdi)
	mov %r15, 120(%rdi)
	mov tmp_rdi(%rip), %rax
	mov %rax, 56(%rdi)
	/* RFLAGS: back on our own stack before pushfq. */
	mov saved_rsp(%rip), %rsp
	pushfq
	pop %rax
	mov %rax, 128(%rdi)
	cld
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

	.bss
	.align 8
saved_rsp: .quad 0
state_ptr: .quad 0
code_ptr: .quad 0
tmp_rdi: .quad 0
	.section .note.GNU-stack,"",@progbits
