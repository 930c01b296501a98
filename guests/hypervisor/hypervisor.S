/*
 * hypervisor.S — VMX Lab's reference hypervisor: a Multiboot kernel (like lvisor) that runs
 * one guest kernel, given as Multiboot module 0, in VMX non-root operation. See README.md.
 *
 * In order: boot into long mode (lib/boot.S), calibrate the TSC (teach-os/tsc.S: the same
 * code the guest runs, hence the two "tsc:" lines), discover VT-x (discover.S), choose the
 * guest's memory and load its ELF there (ept.S, guest-boot.S), enter VMX operation and fill
 * the VMCS (vmcs.S), then VMLAUNCH and serve the guest's VM exits (exits.S) until it ends the
 * run. Anything the VMM cannot handle is reported with a VMCS dump (report.S).
 * Every line the VMM prints starts with "[vmm] " (log.S); the guest's lines do not.
 */
#include "../lib/defs.h"
#include "vmx.h"
#include "vmm.h"
#include "../labs/hypervisor-labs.h"
#include "../lib/boot.S"
#include "../lib/serial.S"
#include "../lib/trap.S"
#include "../teach-os/printk.S"
#include "../teach-os/tsc.S"
#include "log.S"
#include "discover.S"
#include "ept.S"
#include "guest-boot.S"
#include "vmcs.S"
#include "exits.S"
#include "report.S"
/* The labs' handlers (guests/labs/README.md), each only with its -D switch. */
#ifdef LAB_RDTSC_HANDLER
#include "../labs/rdtsc-exiting/handler.S"
#endif
#ifdef LAB_CR3_EXITING
#include "../labs/cr3-exiting/handler.S"
#endif
#ifdef LAB_HYPERCALLS
#include "../labs/hypercalls/handler.S"
#endif
#ifdef LAB_PREEMPTION_TIMER
#include "../labs/preemption-timer/handler.S"
#endif
#if defined(LAB_SYSCALL_EMULATION) || defined(LAB_SYSCALL_INTERCEPT)
#include "../labs/syscall-emulation/syscall.S"
#endif
#ifdef LAB_SYSCALL_EMULATION
#include "../labs/syscall-emulation/handler.S"
#endif
#ifdef LAB_SYSCALL_INTERCEPT
#include "../labs/syscall-intercept/handler.S"
#endif
#ifdef LAB_DESC_EXITING
#include "../labs/sensitive/handler.S"
#endif
#ifdef LAB_EXIT_STATS
#include "../labs/exit-stats/handler.S"
#endif
#ifdef LAB_JOS_SERVICES
#include "../labs/jos-services/handler.S"
#endif
#ifdef LAB_VCPU_MIGRATION
#include "../labs/vcpu-migration/pcpus.S"
#include "../labs/vcpu-migration/scheduler.S"
#endif

        .text
kmain:
        call    trap_init               /* an exception in the VMM prints itself and stops */
        call    vmm_prefix              /* the VMM's own TSC calibration, with its prefix */
        call    tsc_init
        call    vmx_discover
        call    setup_vmcs_config
        call    guest_memory_init
        call    guest_load
        call    guest_boot_info
        call    vmx_enable
        call    vmcs_load
        call    vmcs_setup
#ifdef LAB_PREEMPTION_TIMER
        call    preemption_timer_setup  /* guests/labs/preemption-timer */
#endif
#ifdef LAB_SYSCALL_INTERCEPT
        call    syscall_intercept_setup /* guests/labs/syscall-intercept */
#endif
#ifdef LAB_VCPU_MIGRATION
        call    pcpus_start             /* guests/labs/vcpu-migration: the other pCPUs */
#endif
        jmp     vmx_run                 /* from now on the VMM runs only on VM exits */

#include "../lib/end.S"
