/*
 * Host-CPU oracle for the emulator's user-mode integer instructions (DESIGN.md, Tests).
 * Reads test cases on stdin, runs each natively, writes results on stdout.
 *
 * Input, all little-endian:  u32 count, then per case:
 *   u64 gpr[16], u64 rflags, u32 code_len, u8 code[code_len], u8 mem[MEM_SIZE]
 * Output per case:
 *   u32 signal (0 = ran to the end), u64 gpr[16], u64 rflags, u8 mem[MEM_SIZE]
 *
 * The data page lives at MEM_BASE (fixed, so sequences can address it absolutely and
 * through registers); the emulator side maps the same page at the same address.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_BASE 0x10000000UL
#define MEM_SIZE 4096
#define CODE_MAX 4096

struct native_state { uint64_t gpr[16]; uint64_t rflags; };
void native_run(struct native_state *s, void *code);
extern char native_exit[];

static sigjmp_buf recover;
static volatile sig_atomic_t caught;

static void on_fault(int sig) { caught = sig; siglongjmp(recover, 1); }

static void read_exact(void *p, size_t n) {
  if (fread(p, 1, n, stdin) != n) { fprintf(stderr, "harness: short input\n"); exit(2); }
}

int main(void) {
  uint8_t *mem = mmap((void *)MEM_BASE, MEM_SIZE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  uint8_t *code = mmap(NULL, CODE_MAX + 16, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem != (uint8_t *)MEM_BASE || code == MAP_FAILED) { perror("harness: mmap"); return 2; }

  /* Faults arrive on an alternate stack: RSP belongs to the code under test. */
  static uint8_t altstack[65536];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_ONSTACK | SA_NODEFER;
  int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);

  uint32_t count;
  read_exact(&count, 4);
  for (uint32_t c = 0; c < count; c++) {
    struct native_state st;
    uint32_t len;
    read_exact(st.gpr, sizeof st.gpr);
    read_exact(&st.rflags, 8);
    read_exact(&len, 4);
    if (len > CODE_MAX) { fprintf(stderr, "harness: code too long\n"); return 2; }
    read_exact(code, len);
    read_exact(mem, MEM_SIZE);
    /* jmp *0(%rip) ; .quad native_exit */
    uint8_t tail[14] = { 0xff, 0x25, 0, 0, 0, 0 };
    uint64_t target = (uint64_t)native_exit;
    memcpy(tail + 6, &target, 8);
    memcpy(code + len, tail, sizeof tail);
    __builtin___clear_cache((char *)code, (char *)code + len + sizeof tail);

    caught = 0;
    if (sigsetjmp(recover, 1) == 0) native_run(&st, code);
    uint32_t sig = (uint32_t)caught;
    fwrite(&sig, 4, 1, stdout);
    fwrite(st.gpr, sizeof st.gpr, 1, stdout);
    fwrite(&st.rflags, 8, 1, stdout);
    fwrite(mem, MEM_SIZE, 1, stdout);
  }
  fflush(stdout);
  return 0;
}
