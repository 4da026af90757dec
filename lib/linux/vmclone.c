#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux/vmclone.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

void nvz_clone_vm_stack_done(void *stack, size_t size)
{
#if defined(__SANITIZE_ADDRESS__)
	/* The child's instrumented frames marked their redzones in the shadow
	 * we share and never returned (it exec'd): cleared, or our own later
	 * frames on these bytes read as poisoned. */
	__asan_unpoison_memory_region(stack, size);
#else
	(void)stack;
	(void)size;
#endif
}

/* What the portable child needs, at the top of its own stack: the caller
 * may return (and reuse its frame) before the child has read it. */
struct portable_start {
	int (*fn)(void *);
	nvz_clone_vm_fail_fn *no_cgroup;
	void *arg;
	int cgroup;
};

static int portable_child(void *p)
{
	const struct portable_start *s = p;
	if (s->cgroup >= 0) {
		/* A process of its own (one thread), so it may move itself. */
		int fd = openat(s->cgroup, "cgroup.procs", O_WRONLY | O_CLOEXEC);
		bool moved = fd >= 0 && write(fd, "0", 1) == 1;
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (!moved) {
			if (s->no_cgroup)
				s->no_cgroup(s->arg, e);
			return NVZ_CLONE_VM_NO_CGROUP;
		}
	}
	return s->fn(s->arg);
}

pid_t nvz_clone_vm_portable(struct clone_args *a, int (*fn)(void *), nvz_clone_vm_fail_fn *no_cgroup,
			    void *arg)
{
	/* What glibc's clone() takes (no TLS or tid pointers given here). */
	const uint64_t known = (0xffffffffULL | CLONE_INTO_CGROUP) &
			       ~(uint64_t)(CSIGNAL | CLONE_SETTLS | CLONE_PARENT_SETTID |
					   CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID);
	if (!a->stack || a->stack_size < 8192 || (a->flags & ~known) || a->exit_signal > 0xff) {
		errno = EINVAL;
		return -1;
	}
	uintptr_t top = (uintptr_t)a->stack + a->stack_size;
	struct portable_start *s = (void *)((top - sizeof(*s)) & ~(uintptr_t)15);
	*s = (struct portable_start){ fn, no_cgroup, arg, a->flags & CLONE_INTO_CGROUP ? (int)a->cgroup : -1 };
	int flags = (int)(a->flags & 0xffffffffULL) | CLONE_VM | (int)a->exit_signal;
	/* CLONE_PIDFD: glibc's clone passes the fd back where ptid points. */
	pid_t pid = clone(portable_child, s, flags, s, (pid_t *)(uintptr_t)a->pidfd, NULL, NULL);
	return pid < 0 ? -1 : pid;
}

/* NVZ_PORTABLE_CLONE: the portable way on x86_64 too, for CI's lane that
 * runs the starts of other architectures here (.ci/run). */
#if defined(__x86_64__) && !defined(NVZ_PORTABLE_CLONE)
/* long vmclone_raw(struct clone_args *, size_t, int (*)(void *), void *):
 * the child comes back from the syscall on its new stack, where no frame
 * of ours exists to return to, so it calls fn and exits right here. */
long vmclone_raw(struct clone_args *a, size_t size, int (*fn)(void *), void *arg);
__asm__(".text\n"
	".globl vmclone_raw\n"
	".hidden vmclone_raw\n"
	".type vmclone_raw,@function\n"
	"vmclone_raw:\n"
	"	mov %rdx, %r8\n"   /* fn: r8 and r9 survive the syscall */
	"	mov %rcx, %r9\n"   /* arg */
	"	mov $435, %eax\n"  /* __NR_clone3 */
	"	syscall\n"
	"	test %rax, %rax\n"
	"	jz 1f\n"
	"	ret\n"             /* the caller: pid, or -errno */
	"1:	xor %ebp, %ebp\n"  /* the child: no frame above this one */
	"	mov %r9, %rdi\n"
	"	call *%r8\n"
	"	mov %eax, %edi\n"
	"	mov $60, %eax\n"   /* __NR_exit */
	"	syscall\n"
	"	hlt\n"
	".size vmclone_raw, .-vmclone_raw\n");

pid_t nvz_clone_vm_or(struct clone_args *a, int (*fn)(void *), nvz_clone_vm_fail_fn *no_cgroup, void *arg)
{
	if (!a->stack || a->stack_size < 4096) {
		errno = EINVAL;
		return -1;
	}
	a->flags |= CLONE_VM;
	long r = vmclone_raw(a, sizeof(*a), fn, arg);
	/* clone3 refused (a kernel before 5.3, or a seccomp profile: Docker's
	 * says ENOSYS since 20.10, EPERM before; a real EPERM fails again), or
	 * without CLONE_INTO_CGROUP (5.3 to 5.6: its field is past what they
	 * know): the portable way. */
	if (r == -ENOSYS || r == -EPERM || (r == -E2BIG && (a->flags & CLONE_INTO_CGROUP)))
		return nvz_clone_vm_portable(a, fn, no_cgroup, arg);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (pid_t)r;
}
#else
pid_t nvz_clone_vm_or(struct clone_args *a, int (*fn)(void *), nvz_clone_vm_fail_fn *no_cgroup, void *arg)
{
	return nvz_clone_vm_portable(a, fn, no_cgroup, arg);
}
#endif

pid_t nvz_clone_vm(struct clone_args *a, int (*fn)(void *), void *arg)
{
	return nvz_clone_vm_or(a, fn, NULL, arg);
}

void *nvz_stack_new(size_t size, size_t warm)
{
	long page = sysconf(_SC_PAGESIZE);
	char *base = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	if (mprotect(base, (size_t)page, PROT_NONE) < 0) {
		int e = errno;
		munmap(base, size);
		errno = e;
		return NULL;
	}
	for (size_t off = (size_t)page; off <= warm && off < size; off += (size_t)page)
		base[size - off] = 0;
	return base;
}

void nvz_stack_free(void *stack, size_t size)
{
	if (stack)
		munmap(stack, size);
}

/* Stacks given back, kept for the next child: what the last one touched
 * stays faulted in (a page fault costs ~13 us on this guest), and an
 * munmap in a threaded process (the hub) flushes the TLB of every CPU
 * that runs one of its threads. Two: starts in a row reuse one, two side
 * by side both. */
#define STACK_POOL 2
static struct {
	void *stack;
	size_t size;
} stack_pool[STACK_POOL];
static pthread_mutex_t stack_pool_lock = PTHREAD_MUTEX_INITIALIZER;

void *nvz_stack_get(size_t size, size_t warm)
{
	void *stack = NULL;
	pthread_mutex_lock(&stack_pool_lock);
	for (size_t i = 0; i < STACK_POOL && !stack; i++)
		if (stack_pool[i].stack && stack_pool[i].size == size) {
			stack = stack_pool[i].stack;
			stack_pool[i].stack = NULL;
		}
	pthread_mutex_unlock(&stack_pool_lock);
	return stack ? stack : nvz_stack_new(size, warm);
}

void nvz_stack_put(void *stack, size_t size)
{
	if (!stack)
		return;
	nvz_clone_vm_stack_done(stack, size);
	pthread_mutex_lock(&stack_pool_lock);
	for (size_t i = 0; i < STACK_POOL && stack; i++)
		if (!stack_pool[i].stack) {
			stack_pool[i].stack = stack;
			stack_pool[i].size = size;
			stack = NULL;
		}
	pthread_mutex_unlock(&stack_pool_lock);
	nvz_stack_free(stack, size);
}

/* The probe runs in a forked child (this process may have threads, and a
 * time namespace for children cannot be undone in one): it makes one,
 * vforks, and says on a pipe whether that worked. Not by its exit status:
 * the hub reaps every child it has. Only async-signal-safe calls after
 * the fork. */
bool nvz_clone_vm_timens_ok(void)
{
	static int known; /* 0 not yet, 1 yes, -1 no; threads agree on it */
	int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (k)
		return k > 0;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return false;
	pid_t probe = fork();
	if (probe == 0) {
		pid_t child = unshare(CLONE_NEWTIME) < 0 ? -1 : vfork();
		if (child == 0)
			_exit(0);
		if (child > 0 && (waitpid(child, NULL, 0) < 0 || write(p[1], "y", 1) < 0))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	char c = 0;
	ssize_t n;
	while (probe > 0 && (n = read(p[0], &c, 1)) < 0 && errno == EINTR)
		;
	close(p[0]);
	if (probe > 0)
		waitpid(probe, NULL, 0); /* unless the caller's reaper was first */
	k = c == 'y' ? 1 : -1;
	__atomic_store_n(&known, k, __ATOMIC_RELAXED);
	return k > 0;
}
