/* A child that shares our memory until it execs, on a stack of its own. */
#ifndef NVZ_LINUX_VMCLONE_H
#define NVZ_LINUX_VMCLONE_H

#include <linux/sched.h>
#include <stddef.h>
#include <sys/types.h>

/* clone3(a) with CLONE_VM added: the child runs fn(arg) on the stack
 * a->stack..a->stack + a->stack_size and _exits with its return value; it
 * shares every page with the caller, so no page table is copied and no
 * page the caller already faulted in faults again in the child (fork costs
 * both, and on a paravirtualised guest each fault is ~10 us). Until the
 * child execs, the caller must not allocate, free or write what the child
 * uses: it should only report the pid and exit, or wait. Returns the
 * child's pid, or -1 with errno. On x86_64 one clone3; elsewhere, or where
 * clone3 is refused, nvz_clone_vm_portable. */
pid_t nvz_clone_vm(struct clone_args *a, int (*fn)(void *), void *arg);
/* What a portable child calls (instead of fn) when it cannot move into its
 * cgroup, with the errno: it may tell its caller why (in our memory,
 * as fn would), then exits with NVZ_CLONE_VM_NO_CGROUP. */
typedef void nvz_clone_vm_fail_fn(void *arg, int err);
/* nvz_clone_vm, with what the child calls if it takes the portable way
 * and cannot enter its cgroup (NULL: nothing). */
pid_t nvz_clone_vm_or(struct clone_args *a, int (*fn)(void *), nvz_clone_vm_fail_fn *no_cgroup, void *arg);
/* The same with glibc's clone() (every architecture). Of clone3's own
 * flags it knows CLONE_INTO_CGROUP only, done by the child moving itself
 * there before fn: for a moment it is in our cgroup, and if the move
 * fails it calls no_cgroup (if given) and exits with NVZ_CLONE_VM_NO_CGROUP
 * without calling fn. Its stack's top 32 bytes hold what the child starts
 * from. */
pid_t nvz_clone_vm_portable(struct clone_args *a, int (*fn)(void *), nvz_clone_vm_fail_fn *no_cgroup,
			    void *arg);
#define NVZ_CLONE_VM_NO_CGROUP 126
/* Once the child has exec'd or exited: its stack is ours again (for the
 * address sanitizer, whose marks the child left there; nothing otherwise). */
void nvz_clone_vm_stack_done(void *stack, size_t size);
/* Can a child cloned with CLONE_VM be born while its parent has a time
 * namespace for its children, entering it at its exec? Kernels before
 * 6.2 refuse that clone (EINVAL). Asked once per process, by a probe in a
 * forked child. */
bool nvz_clone_vm_timens_ok(void);

/* A stack for nvz_clone_vm: size bytes with a guard page below, its top
 * `warm` bytes faulted in now. NULL with errno on failure. */
void *nvz_stack_new(size_t size, size_t warm);
void nvz_stack_free(void *stack, size_t size);
/* The same, from (and back to) a small pool kept by the process: a stack
 * that was put back is the next one got, as the last child left it (its
 * used pages still faulted in). For children that never run at the same
 * time as the one before them on the same stack: put only once the child
 * has exec'd or exited. Thread-safe. */
void *nvz_stack_get(size_t size, size_t warm);
void nvz_stack_put(void *stack, size_t size);

#endif
