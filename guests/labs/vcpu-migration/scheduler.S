/*
 * scheduler.S — lab k: one vCPU scheduled on several pCPUs (pcpus.S), and the hypercall
 * HC_HOST_CPUID that tells the guest which pCPU serves it. With -DLAB_VCPU_MIGRATION.
 *
 * The time slice is lab j's VMX-preemption timer (LAB_PREEMPTION_TIMER ticks, SDM Vol. 3C
 * 25.5.1), with the VM-exit control "save VMX-preemption timer value": the other exits (the
 * guest's CPUIDs and VMCALLs) store what is left of the slice (27.3.4), so the next entry goes
 * on counting down from there instead of starting a new slice (26.7.4), and time in root
 * operation does not count. When the slice runs out (exit reason 52, the saved value is 0),
 * the handler gives the vCPU a new one and moves it to the next pCPU, round robin:
 *   old pCPU   VMCLEAR: the processor writes the VMCS's data back to its region in memory
 *              and the launch state becomes "clear" (SDM 24.11.3, 30.3 VMCLEAR). A VMCS must
 *              not be current on two processors, so it is cleared before another one loads
 *              it (24.11.1)
 *              vcpu_pcpu = the new pCPU (the hand-over, in shared memory), a fixed IPI to wake
 *              it, and then it sleeps in pcpu_idle
 *   new pCPU   wakes, finds vcpu_pcpu = itself: VMPTRLD; the host state that differs per pCPU
 *              is rewritten (HOST_RSP: its own stack, HOST_TR_BASE: its own TSS; the rest of
 *              the host state, CR0/CR3/CR4, GDT, IDT, segments, EFER, is the same on every
 *              pCPU); VMLAUNCH, not VMRESUME, since the launch state is clear (30.3 VMRESUME
 *              would fail with VM-instruction error 5)
 * The VMCS does not hold all of the vCPU: the guest's general registers are in guest_regs
 * (exits.S), shared memory that only the pCPU running the vCPU touches, and some state stays in
 * the processor across VM exits and entries because neither the VMCS nor this VMM switches it:
 * the SYSCALL MSRs, KERNEL_GS_BASE and TSC_AUX, CR2, and the x87/SSE registers. vcpu_put saves
 * them on the old pCPU and vcpu_load puts them into the new one (KVM's vcpu_put/vcpu_load do
 * the same). Without them the guest's next SYSCALL would jump to the new pCPU's LSTAR.
 * With one pCPU the vCPU just goes on (VMRESUME).
 */
#define MSR_CSTAR               0xC0000083
#define MSR_KERNEL_GS_BASE      0xC0000102
#define MSR_TSC_AUX             0xC0000103
#define VCPU_NR_MSRS            6
        .text
/* Reason 52: the vCPU's slice is over. Not caused by an instruction: nothing to skip. */
handle_vcpu_preempted:
        incq    vcpu_slices(%rip)
        vmwl    VMX_PREEMPTION_TIMER_VALUE, LAB_PREEMPTION_TIMER        /* a new slice */
        cmpq    $2, pcpu_count(%rip)
        jb      2f
        pcpu_self bx
        leaq    1(%rbx), %r12
        cmpq    pcpu_count(%rip), %r12
        jb      1f
        xorl    %r12d, %r12d
1:      call    vmm_line
        vmm_say "sched: slice "
        movq    vcpu_slices(%rip), %rdi
        call    serial_put_dec
        vmm_say " of vcpu 0 over on pcpu "
        movq    %rbx, %rdi
        call    serial_put_dec
        vmm_say ": VMCLEAR, hand it to pcpu "
        movq    %r12, %rdi
        call    serial_put_dec
        call    vmm_newline
        call    vcpu_put
        vmclear vmcs_region_pa(%rip)
        jbe     3f
        movq    %r12, vcpu_pcpu(%rip)           /* after VMCLEAR: the region is up to date */
        send_ipi %r12d, $(ICR_ASSERT | ICR_FIXED | VEC_PCPU_WAKE)
        movq    pcpu_stack_top(,%rbx,8), %rsp   /* nothing on this stack is needed any more */
        jmp     pcpu_idle
2:      ret
3:      vmm_log "sched: VMCLEAR failed"
        jmp     vmm_fail

/* pcpu_idle: a pCPU without the vCPU sleeps here (on its own stack, interrupts on) until
 * vcpu_pcpu names it. CLI before the test and STI;HLT after it: an IPI that arrives in
 * between is held until STI's shadow ends, which is after HLT, so HLT cannot miss it. */
pcpu_idle:
        cli
        pcpu_self bx
        cmpq    %rbx, vcpu_pcpu(%rip)
        je      vcpu_run_here
        sti
        hlt
        jmp     pcpu_idle

vcpu_run_here:
        call    vcpu_load
        vmptrld vmcs_region_pa(%rip)
        jbe     1f
        movq    pcpu_stack_top(,%rbx,8), %rax
        vmw     HOST_RSP, %rax
        movq    pcpu_tss_base(,%rbx,8), %rax
        vmw     HOST_TR_BASE, %rax
        load_guest_regs
        vmlaunch
        leaq    msg_vmlaunch(%rip), %rsi
        jmp     vmx_entry_failed
1:      vmm_log "sched: VMPTRLD failed"
        jmp     vmm_fail

/* vcpu_put: the guest's state that this pCPU holds outside the VMCS, to vcpu_msrs, vcpu_cr2
 * and vcpu_fpu. */
vcpu_put:
        xorl    %esi, %esi
1:      movl    vcpu_msr_list(,%rsi,4), %ecx
        rdmsr
        movl    %eax, vcpu_msrs(,%rsi,8)
        movl    %edx, vcpu_msrs + 4(,%rsi,8)
        incl    %esi
        cmpl    $VCPU_NR_MSRS, %esi
        jb      1b
        movq    %cr2, %rax
        movq    %rax, vcpu_cr2(%rip)
        fxsave64 vcpu_fpu(%rip)
        ret

/* vcpu_load: the same state into this pCPU, before the VMLAUNCH. */
vcpu_load:
        xorl    %esi, %esi
1:      movl    vcpu_msr_list(,%rsi,4), %ecx
        movl    vcpu_msrs(,%rsi,8), %eax
        movl    vcpu_msrs + 4(,%rsi,8), %edx
        wrmsr
        incl    %esi
        cmpl    $VCPU_NR_MSRS, %esi
        jb      1b
        movq    vcpu_cr2(%rip), %rax
        movq    %rax, %cr2
        fxrstor64 vcpu_fpu(%rip)
        ret

/* HC_HOST_CPUID: the APIC ID of the pCPU handling this VM exit, read in VMX root operation
 * from its local APIC (the guest cannot read it: its CPUID answers vCPU 0, exits.S). */
hc_host_cpuid:
        pcpu_self ax
        ret

        .section .rodata
        .p2align 2
vcpu_msr_list:  .long   MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_FMASK, MSR_KERNEL_GS_BASE, MSR_TSC_AUX

        .bss
        .p2align 4
vcpu_fpu:       .skip   512                     /* FXSAVE's area (SDM Vol. 1 10.5.1) */
vcpu_msrs:      .skip   8 * VCPU_NR_MSRS
vcpu_cr2:       .skip   8
vcpu_pcpu:      .skip   8                       /* the pCPU that runs the vCPU (0 at start) */
vcpu_slices:    .skip   8                       /* preemption-timer exits */
        .text
