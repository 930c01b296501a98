/*
 * vmm.h — the reference hypervisor's own constants (vmx.h holds the architecture's).
 */
#ifndef GUESTS_HYPERVISOR_VMM_H
#define GUESTS_HYPERVISOR_VMM_H

/* Where the guest's registers are kept while the VMM runs (guest_regs, exits.S): Linux's
 * VCPU_REGS_* order, which is the register numbering of exit qualifications (SDM table 27-3). */
#define VCPU_RAX        0
#define VCPU_RCX        8
#define VCPU_RDX        16
#define VCPU_RBX        24
#define VCPU_RSP        32      /* unused: GUEST_RSP holds it */
#define VCPU_RBP        40
#define VCPU_RSI        48
#define VCPU_RDI        56
#define VCPU_R8         64
#define VCPU_REGS_SIZE  128

/* Hypercalls (README.md): VMCALL with the number in RAX, arguments in RDI, RSI, RDX. */
#define HC_PING         0       /* -> RAX = HC_SIGNATURE: "a VMM is there" */
#define HC_PUTC         1       /* RDI = a character for the console */
#define HC_EXIT         2       /* RDI = a value: ends the run as the debug-exit port would */
#define HC_HOST_CPUID   3       /* -> RAX = the APIC ID of the pCPU serving the call (lab k) */
#ifdef LAB_JOS_SERVICES
#define NR_HYPERCALLS   13      /* and 10-12, guests/labs/jos-services/handler.S */
#elif defined(LAB_VCPU_MIGRATION)
#define NR_HYPERCALLS   4       /* and HC_HOST_CPUID, guests/labs/vcpu-migration/scheduler.S */
#else
#define NR_HYPERCALLS   3
#endif
#define HC_SIGNATURE    0x4C584D56      /* "VMXL" */
#define HC_ENOSYS       -1

#endif
