/*
 * handler.S — lab a: the VMM answers the guest's RDTSC (exit reason 16, with
 * CPU_BASED_RDTSC_EXITING; SDM Vol. 3C 25.1.3). RDTSC writes the time-stamp counter to
 * EDX:EAX and clears the upper halves of RAX and RDX (SDM Vol. 2B RDTSC); the VMM does the
 * same to the guest's saved registers and skips the instruction, as lvisor's handle_rdtsc
 * (kvm_write_edx_eax) does. The value can be changed on its way (hypervisor-labs.h):
 * LAB_RDTSC_NEGATE, LAB_RDTSC_SCALE=K, LAB_RDTSC_SKIP=N.
 */
        .text
handle_rdtsc:
        rdtsc                                   /* the host's TSC: no TSC offsetting here */
        shlq    $32, %rdx
        orq     %rdx, %rax
#ifdef LAB_RDTSC_SKIP
        /* The guest's first N RDTSCs are its calibration against the PIT: left alone, the
         * guest believes the TSC runs at its real rate, and every later value is changed. */
        incq    rdtsc_exits(%rip)
        cmpq    $LAB_RDTSC_SKIP, rdtsc_exits(%rip)
        jbe     1f
#endif
#ifdef LAB_RDTSC_NEGATE
        negq    %rax
#endif
#ifdef LAB_RDTSC_SCALE
        imulq   $LAB_RDTSC_SCALE, %rax, %rax
#endif
1:      movq    %rax, %rdx
        shrq    $32, %rdx
        movl    %eax, %eax
        movq    %rax, guest_regs + VCPU_RAX(%rip)
        movq    %rdx, guest_regs + VCPU_RDX(%rip)
        jmp     skip_emulated_instruction

#ifdef LAB_RDTSC_SKIP
        .bss
        .p2align 3
rdtsc_exits:    .skip   8
        .text
#endif
