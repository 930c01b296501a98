/*
 * Host-CPU oracle for alignment checking (#AC, SDM Vol. 3A 6.15) in user mode: Linux runs
 * with CR0.AM = 1, so a process that sets RFLAGS.AC gets SIGBUS for a misaligned access.
 *
 * The test generates alignment-cases.S: `cases`, a table of `ncases` code pointers. Each case
 * loads its registers, sets RFLAGS.AC, runs its instructions (which may point RSP into the
 * data page), restores RSP from case_rsp, clears AC and returns. A fault lands in
 * fault_landing with AC cleared by the signal handler (through the saved context, so the
 * handler's return restores a clean state). Output: one line per case, the signal number
 * (0 when the case ran to its end).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define MEM_BASE 0x10000000UL
#define MEM_SIZE 8192

extern void (*cases[])(void);
extern const uint64_t ncases;
extern uint64_t run_case(void (*fn)(void));
extern char fault_landing[];
volatile uint64_t fault_sig;

static void on_fault(int sig, siginfo_t *si, void *ctx) {
  (void)si;
  ucontext_t *uc = ctx;
  fault_sig = (uint64_t)sig;
  uc->uc_mcontext.gregs[REG_EFL] &= ~0x40000LL;
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)fault_landing;
}

int main(void) {
  void *mem = mmap((void *)MEM_BASE, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (mem != (void *)MEM_BASE) { perror("alignment-harness: mmap"); return 2; }
  static uint8_t altstack[1 << 16];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  for (uint64_t i = 0; i < ncases; i++) {
    memset(mem, 0x5a, MEM_SIZE);
    printf("%llu\n", (unsigned long long)run_case(cases[i]));
  }
  return 0;
}
