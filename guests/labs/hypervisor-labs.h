/*
 * hypervisor-labs.h — the lab switches of the reference hypervisor (guests/labs/README.md).
 * Each lab is a -D switch of `vmx-lab run guests/hypervisor/hypervisor.S`; without any, every
 * macro here is 0 and the hypervisor is byte for byte the one in guests/hypervisor.
 *   LAB_RDTSC_EXITING      RDTSC exits (reason 16); no handler: the VMM reports it and stops
 *   LAB_RDTSC_HANDLER      ... and handle_rdtsc (rdtsc-exiting/handler.S) answers it, changed by
 *     LAB_RDTSC_SCALE=K      multiply the value by K
 *     LAB_RDTSC_SKIP=N       leave the guest's first N RDTSCs alone (its TSC calibration)
 *     LAB_RDTSC_NEGATE       negate the value
 *   LAB_CR3_EXITING        MOV to CR3 exits (reason 28); handle_cr_access logs the value
 *   LAB_HYPERCALLS         the hypercall table is teach-os's system calls (hypercalls/)
 *   LAB_PREEMPTION_TIMER=T the VMX-preemption timer, T ticks per entry (reason 52), with a
 *     LAB_HEARTBEAT=N        heartbeat line every N timer exits, and the run ended after
 *     LAB_HEARTBEATS=M       M heartbeats
 *   LAB_SYSCALL_EMULATION  a VMCALL becomes a SYSCALL into the guest's kernel (syscall-emulation/)
 *   LAB_SYSCALL_INTERCEPT  EFER.SCE hidden, #UD and EFER accesses exit, SYSCALL/SYSRET emulated
 *                          (syscall-intercept/)
 *   LAB_DESC_EXITING       descriptor-table exiting (reasons 46, 47): each SGDT/SIDT/SLDT/STR/
 *                          LGDT/LIDT/LLDT/LTR logged, then run by the guest itself (sensitive/)
 *   LAB_EXIT_STATS         exits and cycles per reason, told by CPUID 0x4FFFFFFC-F (exit-stats/)
 *   LAB_JOS_SERVICES       hypercalls 10-12: the memory map, disk sectors by ATA PIO (jos-services/)
 *   LAB_VCPU_MIGRATION     `vmx-lab run --smp N`: the APs in VMX operation, the vCPU moved to the
 *                          next pCPU at every preemption-timer exit (a slice: LAB_PREEMPTION_TIMER
 *                          ticks), hypercall 3 HC_HOST_CPUID answers the pCPU (vcpu-migration/)
 */
#ifndef GUESTS_LABS_HYPERVISOR_LABS_H
#define GUESTS_LABS_HYPERVISOR_LABS_H

/* Lab k's time slice is lab j's timer: 300000 ticks of 2^IA32_VMX_MISC[4:0] TSC cycles, 4.8 ms
 * at VMX Lab's 2 GHz. */
#if defined(LAB_VCPU_MIGRATION) && !defined(LAB_PREEMPTION_TIMER)
#define LAB_PREEMPTION_TIMER 300000
#endif

#if defined(LAB_RDTSC_HANDLER) && !defined(LAB_RDTSC_EXITING)
#define LAB_RDTSC_EXITING 1
#endif

#ifdef LAB_RDTSC_EXITING
#define LAB_RDTSC_MIN CPU_BASED_RDTSC_EXITING
#else
#define LAB_RDTSC_MIN 0
#endif
#ifdef LAB_CR3_EXITING
#define LAB_CR3_MIN CPU_BASED_CR3_LOAD_EXITING
#else
#define LAB_CR3_MIN 0
#endif
/* Extra `min` bits of the primary processor-based controls (setup_vmcs_config, discover.S). */
#define LAB_CPU_BASED_MIN (LAB_RDTSC_MIN | LAB_CR3_MIN)

/* Extra `min` bits of the VM-exit controls: lab k's slice goes on across the other exits. */
#ifdef LAB_VCPU_MIGRATION
#define LAB_EXIT_MIN VM_EXIT_SAVE_VMX_PREEMPTION_TIMER
#else
#define LAB_EXIT_MIN 0
#endif

#ifdef LAB_DESC_EXITING
#define LAB_SECONDARY_MIN SECONDARY_EXEC_DESC
#else
#define LAB_SECONDARY_MIN 0
#endif

/* The first of the CPUID leaves of lab g (exit-stats/handler.S). */
#define EXIT_STATS_LEAF_FIRST 0x4FFFFFFC

#endif
