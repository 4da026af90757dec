#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
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

#if defined(__x86_64__)
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

pid_t nvz_clone_vm(struct clone_args *a, int (*fn)(void *), void *arg)
{
	if (!a->stack || a->stack_size < 4096) {
		errno = EINVAL;
		return -1;
	}
	a->flags |= CLONE_VM;
	long r = vmclone_raw(a, sizeof(*a), fn, arg);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (pid_t)r;
}
#else
pid_t nvz_clone_vm(struct clone_args *a, int (*fn)(void *), void *arg)
{
	(void)a;
	(void)fn;
	(void)arg;
	errno = ENOSYS;
	return -1;
}
#endif

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
