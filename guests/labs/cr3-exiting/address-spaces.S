/*
 * address-spaces.S — lab b's teach-os variant (-DADDRESS_SPACES): like xv6, the kernel moves
 * from its boot page table to a page table of its own (xv6's kpgdir), and switches to the
 * process's page table before it enters user mode (xv6's switchuvm). So the guest loads CR3
 * three times: boot_pml4 (lib/boot.S), kernel_pml4, user_pml4.
 * Unlike xv6's, the three tables map the same memory: PML4 entry 0 of each points to
 * boot_pdpt (the identity map of 4 GiB). Only their addresses differ, which is what the lab
 * looks at.
 */
        .text
/* address_spaces_init: the kernel's and the process's top-level tables; loads the kernel's. */
address_spaces_init:
        pushq   %rax
        movq    boot_pml4(%rip), %rax
        movq    %rax, kernel_pml4(%rip)
        movq    %rax, user_pml4(%rip)
        movq    $kernel_pml4, %rax
        movq    %rax, %cr3
        popq    %rax
        ret

/* switch_to_user_space: the process's table, before entering ring 3. */
switch_to_user_space:
        pushq   %rax
        movq    $user_pml4, %rax
        movq    %rax, %cr3
        popq    %rax
        ret

        .bss
        .p2align 12
kernel_pml4:    .skip   PAGE_SIZE
user_pml4:      .skip   PAGE_SIZE
        .text
